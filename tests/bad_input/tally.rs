//! The suite's bookkeeping: every case of a door is checked (never stopping at the first
//! failure), counted, and the unhandled ones are named together at the end.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::Mutex;

/// The doors of the suite; the overall tally is printed when the last of them finishes.
pub const DOORS: usize = 6;

static FINISHED: Mutex<Vec<(&str, usize, usize)>> = Mutex::new(Vec::new());

/// One door's cases and what became of each.
pub struct Door {
    name: &'static str,
    names: BTreeSet<String>,
    fails: Vec<String>,
}

impl Door {
    pub fn new(name: &'static str) -> Door {
        Door {
            name,
            names: BTreeSet::new(),
            fails: Vec::new(),
        }
    }

    /// Record one case; `Err` says what went wrong (already masked by the check).
    pub fn case(&mut self, name: impl Into<String>, outcome: Result<(), String>) {
        let name = name.into();
        assert!(
            self.names.insert(name.clone()),
            "{}: case {name:?} twice",
            self.name
        );
        if let Err(why) = outcome {
            self.fails.push(format!("{name}: {why}"));
        }
    }

    /// Like `case`, but a panic inside `check` is a failure of this case, not of the door.
    pub fn check(&mut self, name: impl Into<String>, check: impl FnOnce() -> Result<(), String>) {
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).unwrap_or_else(|p| {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Err(format!("panicked: {msg}"))
            });
        self.case(name, outcome);
    }

    /// Print the door's tally (and the whole suite's once every door is done), then fail
    /// naming every unhandled case.
    pub fn finish(self, at_least: usize) {
        let n = self.names.len();
        let handled = n - self.fails.len();
        println!("{}: {n} bad inputs, {handled} handled", self.name);
        for f in &self.fails {
            println!("FAIL {}: {f}", self.name);
        }
        {
            let mut done = FINISHED.lock().unwrap_or_else(|p| p.into_inner());
            done.push((self.name, n, handled));
            if done.len() == DOORS {
                let all: usize = done.iter().map(|d| d.1).sum();
                let ok: usize = done.iter().map(|d| d.2).sum();
                println!("bad-input suite: {all} bad inputs, {ok} handled");
            }
        }
        assert!(
            n >= at_least,
            "{}: only {n} cases, the suite promises {at_least}",
            self.name
        );
        assert!(
            self.fails.is_empty(),
            "{}: {} of {n} bad inputs not handled:\n{}",
            self.name,
            self.fails.len(),
            self.fails.join("\n")
        );
    }
}
