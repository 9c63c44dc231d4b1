//! The process's own protections, set before anything else runs: what paycode creates is
//! readable by its user only (umask 077: the journal, its WAL, logs, the simulator's ledger,
//! exports, the lock), and the process never writes a core dump — one would hold the API key
//! and, during a sale, a payment code (issue 16).

use nix::sys::resource::{Resource, setrlimit};
use nix::sys::stat::{Mode, umask};

/// Apply them. Each is best effort: a system that refuses one still runs the till (the unit
/// files set the same with `UMask=` and `LimitCORE=`).
pub(crate) fn protect() {
    umask(Mode::from_bits_truncate(0o077));
    if let Err(e) = setrlimit(Resource::RLIMIT_CORE, 0, 0) {
        tracing::warn!(error = %e, "cannot switch core dumps off");
    }
    // Also keeps other processes of the same user from attaching to read memory.
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        tracing::warn!(error = %e, "cannot mark the process not dumpable");
    }
}
