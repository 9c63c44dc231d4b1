//! `paycode scan-test`: open the configured scanners and print every scan (masked code, valid
//! or why not, wallet, source, latency) and every status change, live, until Ctrl-C. In a
//! terminal the keyboard wedge is tested too (raw mode; Esc or Ctrl-C ends it).
#![allow(clippy::disallowed_methods)] // IO edge: `paycode scan-test` is a live IO loop.

use super::keyboard::{KeyDecision, Wedge, WedgeKey};
use super::{ScanEvent, ScannerConfig, ScannerMsg};
use crate::authcode::AuthCodeError;
use crate::words::Bilingual;
use std::io::{self, IsTerminal, Write};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// Format a duration as milliseconds with microsecond precision, without floats.
pub fn fmt_ms(d: Duration) -> String {
    let us = d.as_micros();
    format!("{}.{:03} ms", us / 1000, us % 1000)
}

/// One line for a scan (masked; never the full code). `now` is when it was printed.
pub fn describe_scan(ev: &ScanEvent, now: Instant) -> String {
    let verdict = match &ev.result {
        Ok(code) => format!("{code}  VALID  wallet: WeChat Pay"),
        Err(e) => {
            let wallet = match e.reason {
                AuthCodeError::Alipay { .. } => "Alipay",
                AuthCodeError::UnionPay => "UnionPay",
                _ => "unknown",
            };
            format!(
                "({} chars)  NOT VALID  wallet: {wallet}: {} / {}",
                e.raw_len,
                e.reason,
                e.reason.zh()
            )
        }
    };
    format!(
        "scan via {}: {verdict}  [frame {}, delivered after {}]",
        ev.source,
        fmt_ms(ev.at.saturating_duration_since(ev.started)),
        fmt_ms(now.saturating_duration_since(ev.at)),
    )
}

/// No serial or HID scanner configured, and no terminal for a keyboard-wedge one.
const NOTHING_TO_TEST: &str = "no scanner to test: neither [scanner.serial] nor [scanner.hid] is \
     configured, and stdin is not a terminal, so a keyboard-wedge scanner cannot be read either. \
     Run `paycode scan-test` in the terminal the scanner types into, or configure the scanner \
     (paycode scanners lists what is plugged in) / 没有可测试的扫码枪:未配置 [scanner.serial] 或 \
     [scanner.hid],且标准输入不是终端,也无法读取键盘模式扫码枪。请在扫码枪输入的终端中运行 \
     `paycode scan-test`,或配置扫码枪(paycode scanners 列出已连接的设备)";

enum Input {
    Scanner(ScannerMsg),
    Key(WedgeKey, Instant),
    Quit,
}

struct RawMode;

impl RawMode {
    fn enable() -> io::Result<RawMode> {
        crossterm::terminal::enable_raw_mode()?;
        Ok(RawMode)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

/// Run the live test until Ctrl-C; returns an error text if nothing could be started.
pub fn run(cfg: &ScannerConfig) -> Result<(), String> {
    cfg.validate()?;
    let interactive = io::stdin().is_terminal();
    if cfg.serial.is_none() && cfg.hid.is_none() && !interactive {
        // Nothing could ever be read: say so instead of waiting for Ctrl-C.
        return Err(NOTHING_TO_TEST.into());
    }
    let (tx, rx) = mpsc::channel::<Input>();
    let (scan_tx, scan_rx) = mpsc::channel::<ScannerMsg>();
    let forward = tx.clone();
    std::thread::spawn(move || {
        for m in scan_rx {
            if forward.send(Input::Scanner(m)).is_err() {
                return;
            }
        }
    });
    let decode = cfg.decode_settings();
    let mut readers = Vec::new();
    if let Some(s) = &cfg.serial {
        readers.push(
            super::serial::spawn(s, decode.clone(), scan_tx.clone()).map_err(|e| e.to_string())?,
        );
    }
    if let Some(h) = &cfg.hid {
        readers.push(
            super::hid::spawn(h, decode.clone(), scan_tx.clone()).map_err(|e| e.to_string())?,
        );
    }
    drop(scan_tx);
    let _raw = if interactive {
        Some(
            RawMode::enable()
                .map_err(|e| format!("cannot switch the terminal to raw mode: {e}"))?,
        )
    } else {
        None
    };
    spawn_quit_watch(tx.clone(), interactive);
    let mut out = io::stdout();
    let mut say = |line: &str| {
        // Raw mode needs explicit CR.
        let _ = write!(out, "{line}\r\n");
        let _ = out.flush();
    };
    say(&format!(
        "paycode scan-test: serial: {}, hid: {}, keyboard wedge: {}. Scan a code; {} ends.",
        cfg.serial
            .as_ref()
            .map_or("off".into(), super::serial::wanted),
        cfg.hid.as_ref().map_or("off".into(), super::hid::wanted),
        if interactive {
            "on"
        } else {
            "off (stdin is not a terminal)"
        },
        if interactive {
            "Esc or Ctrl-C"
        } else {
            "Ctrl-C"
        },
    ));
    let mut wedge = Wedge::from_config(cfg);
    let (mut valid, mut invalid) = (0u64, 0u64);
    let mut count = |ev: &ScanEvent| {
        if ev.result.is_ok() {
            valid += 1
        } else {
            invalid += 1
        }
    };
    loop {
        let wait = wedge.deadline().map_or(Duration::from_secs(3600), |d| {
            d.saturating_duration_since(Instant::now())
        });
        let input = match rx.recv_timeout(wait) {
            Ok(i) => Some(i),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let decision = match input {
            Some(Input::Quit) => break,
            Some(Input::Scanner(ScannerMsg::Scan(ev))) => {
                count(&ev);
                say(&describe_scan(&ev, Instant::now()));
                continue;
            }
            Some(Input::Scanner(ScannerMsg::Status(st))) => {
                say(&format!("status: {st} / {}", st.zh()));
                continue;
            }
            Some(Input::Key(k, at)) => wedge.key(k, at),
            None => KeyDecision::Typed(wedge.poll(Instant::now()).unwrap_or_default()),
        };
        match decision {
            KeyDecision::Scan(ev) => {
                count(&ev);
                say(&describe_scan(&ev, Instant::now()));
            }
            KeyDecision::Typed(keys) if !keys.is_empty() => say(&format!(
                "typed by hand (not a scan): {} key(s)",
                keys.len()
            )),
            KeyDecision::Duplicate => {
                say("repeat of the last scan within the duplicate window: ignored")
            }
            _ => {}
        }
    }
    drop(readers);
    say(&format!(
        "{} scans: {valid} valid, {invalid} not valid",
        valid + invalid
    ));
    Ok(())
}

/// Ctrl-C ends the test: as a key in raw mode, or as SIGINT when stdin is not a terminal.
fn spawn_quit_watch(tx: Sender<Input>, interactive: bool) {
    use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
    if interactive {
        std::thread::spawn(move || {
            while let Ok(ev) = event::read() {
                let at = Instant::now();
                let Event::Key(k) = ev else { continue };
                if k.kind != KeyEventKind::Press {
                    continue;
                }
                let key = match k.code {
                    KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                        let _ = tx.send(Input::Quit);
                        return;
                    }
                    KeyCode::Esc => {
                        let _ = tx.send(Input::Quit);
                        return;
                    }
                    KeyCode::Char(c) => WedgeKey::Char(c),
                    KeyCode::Enter => WedgeKey::Enter,
                    KeyCode::Tab => WedgeKey::Tab,
                    KeyCode::Backspace => WedgeKey::Backspace,
                    _ => WedgeKey::Other,
                };
                if tx.send(Input::Key(key, at)).is_err() {
                    return;
                }
            }
        });
    } else {
        // Register SIGINT/SIGTERM now, before the banner, so an early Ctrl-C is not lost.
        let registered = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .and_then(|rt| {
                use tokio::signal::unix::{SignalKind, signal};
                let sigs = rt.block_on(async {
                    Ok::<_, io::Error>((
                        signal(SignalKind::interrupt())?,
                        signal(SignalKind::terminate())?,
                    ))
                })?;
                Ok((rt, sigs))
            });
        match registered {
            Ok((rt, (mut int, mut term))) => {
                std::thread::spawn(move || {
                    rt.block_on(async {
                        tokio::select! {
                            _ = int.recv() => {}
                            _ = term.recv() => {}
                        }
                    });
                    let _ = tx.send(Input::Quit);
                });
            }
            // Without handlers the default action still ends the process on Ctrl-C.
            Err(e) => tracing::warn!("cannot watch for Ctrl-C: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authcode::AuthCode;
    use crate::scanner::{ScanError, Source};

    #[test]
    fn scan_lines_are_masked_and_say_why() {
        let t = Instant::now();
        let ok = ScanEvent {
            result: Ok(AuthCode::parse("134567890123454321").unwrap()),
            source: Source::Serial,
            started: t,
            at: t + Duration::from_micros(3_250),
        };
        let line = describe_scan(&ok, t + Duration::from_micros(3_250 + 412));
        assert_eq!(
            line,
            "scan via serial: 13************4321  VALID  wallet: WeChat Pay  \
             [frame 3.250 ms, delivered after 0.412 ms]"
        );
        let bad = ScanEvent {
            result: Err(ScanError {
                reason: AuthCode::parse("281234567890123456").unwrap_err(),
                raw_len: 18,
                order_no: None,
            }),
            source: Source::HidPos,
            started: t,
            at: t,
        };
        let line = describe_scan(&bad, t);
        assert!(line.contains("NOT VALID  wallet: Alipay"), "{line}");
        assert!(line.contains("支付宝"), "{line}");
        assert!(!line.contains("1234567890123456"), "{line}");
    }

    #[test]
    fn ms_formatting_is_integer() {
        assert_eq!(fmt_ms(Duration::from_micros(1)), "0.001 ms");
        assert_eq!(fmt_ms(Duration::from_millis(1234)), "1234.000 ms");
    }
}
