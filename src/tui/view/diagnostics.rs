//! The diagnostics screen: scanners per source, API latency, journal, certificate, clock, mode.

use crate::tui::app::App;
use crate::tui::i18n::{T, tr, trf};
use crate::words::Bilingual;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

/// Draw the diagnostics screen into `area`.
pub fn draw(app: &App, f: &mut Frame, area: Rect) {
    let lang = app.lang;
    let head = Style::new().add_modifier(Modifier::BOLD);
    let unknown = || tr(lang, T::DiagUnknown).to_string();
    let mut lines = vec![Line::styled(tr(lang, T::DiagScanners), head)];
    if app.scanners.is_empty() {
        lines.push(Line::raw(format!("  {}", tr(lang, T::DiagNoScanner))));
    }
    for s in &app.scanners {
        let text = match lang {
            crate::config::Language::En => s.to_string(),
            crate::config::Language::Zh => s.zh(),
        };
        lines.push(Line::raw(format!("  {text}")));
    }
    let mode = if app.settings.simulator.is_some() {
        T::ModeSimulator
    } else {
        T::ModeLive
    };
    lines.push(Line::from(format!("{}: {}", tr(lang, T::DiagMode), tr(lang, mode))).style(head));
    if let Some(p) = &app.printer {
        lines.push(Line::raw(format!(
            "{}: {} ({})",
            tr(lang, T::DiagPrinter),
            p.detail.get(lang),
            trf(lang, T::PrinterQueued, &[&p.queued.to_string()])
        )));
    }
    match &app.diagnostics {
        None => lines.push(Line::raw(tr(lang, T::DiagLoading))),
        Some(d) => {
            let latency = match &d.api_latency {
                None => unknown(),
                Some(Ok(t)) => format!("{} ms", t.as_millis()),
                Some(Err(e)) => e.get(lang).to_string(),
            };
            lines.push(Line::raw(format!(
                "{} ({}): {latency}",
                tr(lang, T::DiagApi),
                d.api_host
            )));
            lines.push(Line::raw(format!(
                "{}: {} ({} KiB)",
                tr(lang, T::DiagJournal),
                d.journal_path,
                d.journal_bytes / 1024
            )));
            let cert = match &d.cert_days {
                None => tr(lang, T::DiagNoCert).to_string(),
                Some(Ok(days)) if *days < 0 => {
                    trf(lang, T::DiagCertExpired, &[&(-days).to_string()])
                }
                Some(Ok(days)) => trf(lang, T::DiagCertDays, &[&days.to_string()]),
                Some(Err(e)) => e.clone(),
            };
            lines.push(Line::raw(format!("{}: {cert}", tr(lang, T::DiagCert))));
            let skew = d
                .clock_skew_secs
                .map_or_else(unknown, |s| format!("{s:+} s"));
            lines.push(Line::raw(format!("{}: {skew}", tr(lang, T::DiagClock))));
        }
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(format!(" {} ", tr(lang, T::ScreenDiagnostics)))),
        area,
    );
}
