//! The real cashier screen in a tmux server of the test's own (own socket), for end-to-end
//! tests: keys typed by hand, a scanner's burst, and waiting for text on screen.
#![allow(dead_code)] // each test binary uses its own part
#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::time::{Duration, Instant};

use super::checkout_support::Harness;
use paycode::config::SIMULATOR_DEMO_KEY;

/// One tmux server, killed when dropped.
pub struct Tmux {
    socket: String,
}

/// Whether tmux is installed (CI installs it; a test without it says so and skips).
pub fn available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

impl Tmux {
    /// The cashier screen of `h`'s till at `cols`×`rows`; `after` runs in the shell when
    /// paycode exits.
    pub fn start(h: &Harness, name: &str, cols: u16, rows: u16, after: &str) -> Tmux {
        let shell = format!(
            "cd '{dir}' && PAYCODE_CONFIG='{cfg}' PAYCODE_API_KEY='{key}' '{bin}' 2>stderr.txt{after}",
            dir = h.dir.path().display(),
            cfg = h.config_path().display(),
            key = SIMULATOR_DEMO_KEY,
            bin = env!("CARGO_BIN_EXE_paycode"),
        );
        let t = Tmux {
            socket: format!("paycode-{name}-{}", std::process::id()),
        };
        let (cols, rows) = (cols.to_string(), rows.to_string());
        t.cmd(&[
            "new-session",
            "-d",
            "-s",
            "tui",
            "-x",
            &cols,
            "-y",
            &rows,
            "sh",
            "-c",
            &shell,
        ]);
        t
    }

    pub fn cmd(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.cmd(&["capture-pane", "-p", "-t", "tui"])
    }

    /// Keys typed by hand: one tmux call per key, paced well above the wedge gap.
    pub fn type_slowly(&self, keys: &[&str]) {
        for k in keys {
            self.cmd(&["send-keys", "-t", "tui", k]);
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// A scanner's burst: all digits and the Enter in one write.
    pub fn scan(&self, code: &str) {
        self.cmd(&["send-keys", "-t", "tui", code, "Enter"]);
    }

    /// Wait (hang guard: 30 s) until the screen shows `text`.
    pub fn wait_for(&self, text: &str) -> String {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(Instant::now() < until, "no {text:?} on screen:\n{s}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}
