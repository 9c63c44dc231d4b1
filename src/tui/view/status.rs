//! The status line: scanner, network, mode and language, always visible.

use crate::tui::app::{App, NetHealth};
use crate::tui::i18n::{T, tr, trf};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Draw the status line into `area`.
pub fn draw(app: &App, f: &mut Frame, area: Rect) {
    let lang = app.lang;
    let ok = Style::new().fg(Color::Black).bg(Color::Green);
    let bad = Style::new()
        .fg(Color::White)
        .bg(Color::Red)
        .add_modifier(Modifier::BOLD);
    let neutral = Style::new().fg(Color::Black).bg(Color::Gray);
    let scanner = if app.scanners.is_empty() {
        Span::styled(format!(" {} ", tr(lang, T::ScannerKeyboardOnly)), neutral)
    } else if app.scanners.iter().any(|s| s.status.is_connected()) {
        Span::styled(format!(" ✔ {} ", tr(lang, T::ScannerOk)), ok)
    } else {
        Span::styled(format!(" ✖ {} ", tr(lang, T::ScannerDown)), bad)
    };
    let network = match app.network {
        NetHealth::Unknown => Span::styled(format!(" {} ", tr(lang, T::NetUnknown)), neutral),
        NetHealth::Ok(d) => Span::styled(
            format!(" ✔ {} ", trf(lang, T::NetOk, &[&d.as_millis().to_string()])),
            ok,
        ),
        NetHealth::Down => Span::styled(format!(" ✖ {} ", tr(lang, T::NetDown)), bad),
    };
    let mode = if app.settings.simulator.is_some() {
        Span::styled(
            format!(" {} ", tr(lang, T::ModeSimulator)),
            Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
        )
    } else {
        Span::styled(format!(" {} ", tr(lang, T::ModeLive)), neutral)
    };
    let mut spans = vec![scanner, Span::raw(" "), network, Span::raw(" "), mode];
    // The printer only when there is one: its state in words, and the slips waiting.
    if let Some(p) = &app.printer {
        let mut text = format!(" {} {} ", if p.ok { "✔" } else { "✖" }, p.text.get(lang));
        if p.queued > 0 {
            text.push_str(&trf(lang, T::PrinterQueued, &[&p.queued.to_string()]));
            text.push(' ');
        }
        spans.push(Span::raw(" "));
        spans.push(Span::styled(text, if p.ok { ok } else { bad }));
    }
    // The POS API only when configured: served (✔), or not (✖, the notice said why).
    if let Some(api) = &app.api {
        let ok_served = api.is_ok();
        let text = format!(
            " {} {} ",
            if ok_served { "✔" } else { "✖" },
            tr(lang, T::StatusApi)
        );
        spans.push(Span::raw(" "));
        spans.push(Span::styled(text, if ok_served { ok } else { bad }));
    }
    // The POS's pole-display port only when one is configured (it reports from the start).
    if let Some(p) = &app.pole.status {
        let (text, style) = if p.is_open() {
            (format!(" ✔ {} ", tr(lang, T::PoleOpen)), ok)
        } else {
            (format!(" ✖ {} ", tr(lang, T::PoleDown)), bad)
        };
        spans.push(Span::raw(" "));
        spans.push(Span::styled(text, style));
    }
    // Unresolved sales are never out of sight: do not hand over their goods; F3 lists them.
    if let Some(n) = app.pending_count.filter(|n| *n > 0) {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            format!(" {} ", trf(lang, T::PendingCount, &[&n.to_string()])),
            Style::new()
                .fg(Color::Black)
                .bg(Color::Magenta)
                .add_modifier(Modifier::BOLD),
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
