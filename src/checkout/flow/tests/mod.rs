//! Tests of the sale flow on virtual time.
