//! The one event loop: terminal keys (input thread), scanner readers (their threads), the till
//! task's results and a timer merge into one channel; each message goes through
//! `App::update(msg, now)`, the returned commands are performed, and the screen is redrawn.
//! With no countdown running and no held wedge keys there is no timer: the loop sleeps until
//! something happens (no busy redraw).
#![allow(clippy::disallowed_methods)] // IO edge: the runtime loop feeds `now` to the pure `update`.

use super::app::{App, Cmd, Key, Msg, Settings, TillCmd};
use super::terminal::TerminalGuard;
use super::worker::{self, Job, Outbox};
use crate::api::contract::Refusal;
use crate::api::job::{Held, TillAnswer};
use crate::api::{Hub, Owner};
use crate::checkout::{CancelToken, Till};
use crate::config::Config;
use crate::scanner::{ScannerMsg, Wedge};
use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{self, UnboundedReceiver};

/// The pause between rings of one result, so two or three rings are heard as such.
const RING_GAP: Duration = Duration::from_millis(300);

/// Ring the terminal bell once. Written by this loop only, between redraws, so the byte never
/// lands inside an escape sequence of a frame.
fn ring() {
    let mut o = std::io::stdout();
    let _ = o.write_all(b"\x07").and_then(|()| o.flush());
}

/// How often the input thread checks whether the program is quitting.
const INPUT_POLL: Duration = Duration::from_millis(250);

/// A crossterm key as the app sees it (`None`: releases and keys the app ignores).
pub fn key_of(ev: &KeyEvent) -> Option<Key> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    Some(match ev.code {
        KeyCode::Char('c') if ctrl => Key::CtrlC,
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Tab => Key::Tab,
        KeyCode::Backspace | KeyCode::Delete => Key::Backspace,
        KeyCode::Esc => Key::Esc,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::F(n) => Key::F(n),
        _ => Key::Other,
    })
}

/// Run the cashier screen on `till` until the cashier quits (start-up recovery first, in the
/// worker). The caller has opened the till and checked that there is a terminal.
pub async fn event_loop(cfg: Config, till: Till, settings: Settings) -> std::io::Result<()> {
    let (tx, rx) = mpsc::unbounded_channel::<(Msg, Instant)>();
    let (job_tx, job_rx) = mpsc::unbounded_channel::<Job>();
    let held = Held::default();
    let owner = Owner {
        config: std::sync::Arc::new(cfg.clone()),
        ceiling: cfg.checkout.max_amount,
        simulated: till.is_simulated(),
        screen: true,
        cors_origins: cfg
            .api
            .as_ref()
            .map(|a| a.cors_origins.clone())
            .unwrap_or_default(),
    };
    // Every sale on this screen is published (the customer display, the POS's event stream).
    let hub = Hub::new(256);
    // Refunds and handed-over commands from the API, done by the worker between sales.
    let (admin_tx, admin_rx) = mpsc::unbounded_channel();
    let _api = super::serving::start(&cfg, owner, (held.clone(), admin_tx), hub.clone(), &tx).await;
    // The till is not `Sync`, so its task runs on this thread beside the UI loop (join, not
    // spawn). The UI loop drops `job_tx` when it ends, which ends the worker.
    let worker = worker::run(
        till,
        (job_rx, admin_rx),
        tx.clone(),
        held.clone(),
        hub.clone(),
    );
    let ui = ui_loop(cfg, settings, tx, rx, job_tx, (held, hub));
    let (out, ()) = tokio::join!(ui, worker);
    out
}

async fn ui_loop(
    cfg: Config,
    settings: Settings,
    tx: Outbox,
    mut rx: UnboundedReceiver<(Msg, Instant)>,
    job_tx: mpsc::UnboundedSender<Job>,
    (held, hub): (Held, Hub),
) -> std::io::Result<()> {
    let _readers = start_scanners(&cfg, &tx);
    let _pole = start_pole(&cfg, &tx);
    let mut guard = TerminalGuard::enter()?;
    let quit = Arc::new(AtomicBool::new(false));
    let input = spawn_input(tx.clone(), quit.clone());
    drop(tx);

    let mut app = App::new(settings, Wedge::from_config(&cfg.scanner), Instant::now());
    let mut cancel: Option<CancelToken> = None;
    let mut out = Ok(());
    // The later rings of a result (`Cmd::Bell(n)`), soonest first.
    let mut rings: Vec<Instant> = Vec::new();
    'main: loop {
        if let Err(e) = guard.terminal.draw(|f| super::view::view(&app, f)) {
            out = Err(e);
            break;
        }
        let wake = match (app.deadline(), rings.first().copied()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let first = match next(&mut rx, wake).await {
            Some(m) => m,
            None => break,
        };
        let now = Instant::now();
        while rings.first().is_some_and(|&at| at <= now) {
            rings.remove(0);
            ring();
        }
        // Everything already queued (a scanner burst is 19 keys) is applied before one redraw.
        let mut cmds = app.update(first.0, first.1);
        while let Ok((msg, at)) = rx.try_recv() {
            cmds.extend(app.update(msg, at));
        }
        for cmd in cmds {
            match cmd {
                Cmd::Quit => break 'main,
                Cmd::Bell(0) => {}
                Cmd::Bell(n) => {
                    ring();
                    let now = Instant::now();
                    rings.extend((1..u32::from(n)).map(|i| now + RING_GAP * i));
                    rings.sort();
                }
                Cmd::Audit(line) => tracing::warn!(target: "audit", "{line}"),
                Cmd::SaveLanguage(lang) => super::prefs::save_language(&cfg, lang),
                Cmd::PosRefuse { pos_ref, why } => {
                    if let Some(o) = held.take(&pos_ref) {
                        // A cancel the stream announced ends there too (the display).
                        if o.cancel.is_cancelled() {
                            hub.withdrawn(&pos_ref, &why);
                        }
                        o.reply
                            .send(TillAnswer::Refused(Refusal::new(409, None, why)));
                    }
                }
                Cmd::CancelSale => {
                    if let Some(c) = &cancel {
                        c.cancel();
                    }
                }
                Cmd::Till(cmd) => {
                    // Only a sale's token is ever cancelled; the others are never kept.
                    let token = CancelToken::new();
                    if matches!(cmd, TillCmd::StartSale { .. }) {
                        cancel = Some(token.clone());
                    }
                    let _ = job_tx.send((cmd, token));
                }
            }
        }
    }
    quit.store(true, Ordering::Relaxed);
    drop(job_tx);
    drop(guard);
    let _ = input.join();
    out
}

/// The next message, or a tick at `deadline`. Queued messages win over a due tick: a key that
/// arrived before the tick fired must reach the wedge detector first, or a scanner burst
/// delayed by a slow redraw would be released as typed digits.
async fn next(
    rx: &mut UnboundedReceiver<(Msg, Instant)>,
    deadline: Option<Instant>,
) -> Option<(Msg, Instant)> {
    match deadline {
        None => rx.recv().await,
        // Biased: keys already stamped and queued come before the tick, or a loaded machine
        // could split a scanner's burst into "typed" digits.
        Some(d) => tokio::select! {
            biased;
            m = rx.recv() => m,
            _ = tokio::time::sleep_until(d.into()) => Some((Msg::Tick, Instant::now())),
        },
    }
}

/// Terminal keys, timestamped on arrival (the wedge detector needs the gaps).
fn spawn_input(tx: Outbox, quit: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !quit.load(Ordering::Relaxed) {
            match event::poll(INPUT_POLL) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(_) => return,
            }
            let msg = match event::read() {
                Ok(Event::Key(k)) => key_of(&k).map(Msg::Key),
                Ok(Event::Resize(..)) => Some(Msg::Tick),
                Ok(_) => None,
                Err(_) => return,
            };
            if let Some(m) = msg
                && tx.send((m, Instant::now())).is_err()
            {
                return;
            }
        }
    })
}

/// Start the configured serial/HID readers; their messages join the loop's channel.
fn start_scanners(cfg: &Config, tx: &Outbox) -> Vec<crate::scanner::ReaderHandle> {
    let (scan_tx, scan_rx) = std::sync::mpsc::channel::<ScannerMsg>();
    let decode = cfg.scanner.decode_settings();
    let mut readers = Vec::new();
    if let Some(s) = &cfg.scanner.serial {
        match crate::scanner::serial::spawn(s, decode.clone(), scan_tx.clone()) {
            Ok(h) => readers.push(h),
            Err(e) => tracing::error!(error = %e, "cannot start the serial scanner reader"),
        }
    }
    if let Some(h) = &cfg.scanner.hid {
        match crate::scanner::hid::spawn(h, decode.clone(), scan_tx.clone()) {
            Ok(h) => readers.push(h),
            Err(e) => tracing::error!(error = %e, "cannot start the HID scanner reader"),
        }
    }
    drop(scan_tx);
    let forward = tx.clone();
    std::thread::spawn(move || {
        for m in scan_rx {
            let msg = match m {
                ScannerMsg::Scan(ev) => Msg::Scan(ev),
                ScannerMsg::Status(s) => Msg::ScannerStatus(s),
            };
            if forward.send((msg, Instant::now())).is_err() {
                return;
            }
        }
    });
    readers
}

/// Start the pole-display reader when `[pos_display]` is set; its totals join the loop.
fn start_pole(cfg: &Config, tx: &Outbox) -> Option<crate::scanner::ReaderHandle> {
    let p = cfg.pos_display.as_ref()?;
    let (pole_tx, pole_rx) = std::sync::mpsc::channel();
    let handle = match crate::pole::port::spawn(p, cfg.checkout.max_amount, pole_tx) {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the pole-display reader");
            return None;
        }
    };
    let forward = tx.clone();
    std::thread::spawn(move || {
        for m in pole_rx {
            if forward.send((Msg::Pole(m), Instant::now())).is_err() {
                return;
            }
        }
    });
    Some(handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, mods: KeyModifiers, kind: KeyEventKind) -> KeyEvent {
        let mut e = KeyEvent::new(code, mods);
        e.kind = kind;
        e
    }

    #[test]
    fn crossterm_keys_map_to_app_keys() {
        let p = KeyEventKind::Press;
        let none = KeyModifiers::NONE;
        assert_eq!(
            key_of(&ev(KeyCode::Char('7'), none, p)),
            Some(Key::Char('7'))
        );
        assert_eq!(
            key_of(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL, p)),
            Some(Key::CtrlC)
        );
        assert_eq!(key_of(&ev(KeyCode::Enter, none, p)), Some(Key::Enter));
        assert_eq!(key_of(&ev(KeyCode::Delete, none, p)), Some(Key::Backspace));
        assert_eq!(key_of(&ev(KeyCode::F(6), none, p)), Some(Key::F(6)));
        assert_eq!(key_of(&ev(KeyCode::Home, none, p)), Some(Key::Other));
        // Key repeat counts (a held Backspace); releases do not.
        assert_eq!(
            key_of(&ev(KeyCode::Backspace, none, KeyEventKind::Repeat)),
            Some(Key::Backspace)
        );
        assert_eq!(
            key_of(&ev(KeyCode::Char('7'), none, KeyEventKind::Release)),
            None
        );
    }
}
