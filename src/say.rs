//! `outln!` / `errln!`: print a line to stdout / stderr without panicking when the reader has
//! gone (`paycode history | head`, a POS that closed its pipe). A lost line must never crash a
//! command halfway: the journal is the record, and the exit status keeps its meaning.

/// `println!` that ignores a write error (a closed pipe).
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `print!` that ignores a write error.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

/// `eprintln!` that ignores a write error.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
