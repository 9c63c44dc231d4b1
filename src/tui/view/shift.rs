//! The shift panel over the history screen (S) and the handover question on quitting.

use crate::tui::app::{App, ShiftPanel};
use crate::tui::i18n::{T, tr, trf};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

/// Draw the panel over `area` when it is open.
pub fn draw(app: &App, f: &mut Frame, area: Rect) {
    let Some(panel) = &app.shift.panel else {
        return;
    };
    let lang = app.lang;
    let (title, lines, colour) = match panel {
        ShiftPanel::Loading => (
            tr(lang, T::ShiftTitle).to_string(),
            vec![Line::raw(tr(lang, T::ShiftLoading))],
            Color::Cyan,
        ),
        ShiftPanel::Closing => (
            tr(lang, T::ShiftTitle).to_string(),
            vec![Line::raw(tr(lang, T::ShiftClosing))],
            Color::Cyan,
        ),
        ShiftPanel::Failed(why) => (
            tr(lang, T::ShiftTitle).to_string(),
            vec![Line::styled(
                trf(lang, T::ShiftFailed, &[why.get(lang)]),
                Style::new().fg(Color::Red),
            )],
            Color::Red,
        ),
        ShiftPanel::Shown { report, confirm } => {
            let title = match report.closed_id {
                Some(id) => trf(lang, T::ShiftClosedTitle, &[&id.to_string()]),
                None => tr(lang, T::ShiftTitle).to_string(),
            };
            let mut lines = Vec::new();
            if *confirm {
                lines.push(Line::styled(
                    tr(lang, T::ShiftConfirm),
                    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
                ));
                lines.push(Line::raw(""));
            }
            // What needs doing first is red, from its heading to the next blank line.
            let mut attention = false;
            for l in crate::shift::text::lines(report, &[lang]) {
                attention = (attention && !l.is_empty()) || l.starts_with("!!");
                let style = if attention {
                    Style::new().fg(Color::Red)
                } else {
                    Style::new()
                };
                lines.push(Line::styled(l, style));
            }
            let colour = if report.attention.is_empty() {
                Color::Green
            } else {
                Color::Red
            };
            (title, lines, colour)
        }
    };
    let want = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(4);
    let popup = super::band(area, want.min(area.height.saturating_sub(2)).max(5));
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((app.shift.scroll, 0))
            .block(
                Block::bordered()
                    .title(format!(" {title} "))
                    .border_style(Style::new().fg(colour)),
            ),
        popup,
    );
}

/// "Hand over the shift before leaving?" over the whole screen.
pub fn quit_question(app: &App, f: &mut Frame) {
    let popup = super::band(f.area(), 5);
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(tr(app.lang, T::QuitHandover))
            .wrap(Wrap { trim: true })
            .style(Style::new().add_modifier(Modifier::BOLD))
            .block(Block::bordered().border_style(Style::new().fg(Color::Yellow))),
        popup,
    );
}
