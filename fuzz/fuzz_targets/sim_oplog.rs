//! The embedded simulator's shared log on arbitrary bytes: every line is parsed with
//! `oplog::from_line` and whatever parses is applied to a simulator, as a process catching up
//! would. Never panics, and the ledger stays consistent (refunded ≤ charged ≤ amount).
#![no_main]

use libfuzzer_sys::fuzz_target;
use paycode::simulator::oplog::{apply, from_line};
use paycode::simulator::{Sim, SimSettings};

fuzz_target!(|data: &[u8]| {
    let Ok(settings) = SimSettings::demo() else {
        return;
    };
    let mut sim = Sim::new(settings.core(1_795_449_600));
    let mut last = std::time::Duration::ZERO;
    for line in data.split(|b| *b == b'\n') {
        let Ok(text) = std::str::from_utf8(line) else {
            continue;
        };
        if let Some((op, t)) = from_line(text) {
            // The store never goes back in time; neither does this replay.
            last = last.max(t);
            let _ = apply(&mut sim, &op, last);
        }
    }
    let view = sim.ledger(last + std::time::Duration::from_secs(3600));
    for o in &view.orders {
        assert!(o.refunded <= o.charged && o.charged <= o.amount, "{o:?}");
    }
});
