//! Local WeChat Pay v2 simulator (in progress).
