//! The reconciliation panel over the history screen (F8): WeChat's statement against the journal
//! for the day on screen, differences first, each with what to do.

use crate::checkout::reconcile::Surface;
use crate::config::Language;
use crate::tui::app::{App, Reconcile};
use crate::tui::i18n::{T, tr, trf};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

/// Draw the panel over `area` when it is open.
pub fn draw(app: &App, f: &mut Frame, area: Rect) {
    let Some(state) = &app.history.reconcile else {
        return;
    };
    let lang = app.lang;
    let (day, lines, colour) = match state {
        Reconcile::Running(day) => (
            day,
            vec![Line::raw(tr(lang, T::ReconcileRunning))],
            Color::Cyan,
        ),
        Reconcile::Done(day, Err(why)) => (
            day,
            vec![Line::styled(
                trf(lang, T::ReconcileFailed, &[why.get(lang)]),
                Style::new().fg(Color::Red),
            )],
            Color::Red,
        ),
        Reconcile::Done(day, Ok(report)) => {
            let diffs = report.differences();
            let n = report.lines.len().to_string();
            let verdict = if diffs == 0 {
                Line::styled(
                    trf(lang, T::ReconcileAgree, &[&n]),
                    Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
                )
            } else {
                Line::styled(
                    trf(lang, T::ReconcileDiffs, &[&diffs.to_string(), &n]),
                    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
                )
            };
            let mut lines = vec![
                verdict,
                Line::raw(trf(
                    lang,
                    T::ReconcileTotals,
                    &[
                        &report.journal_paid.to_string(),
                        &report.journal_refunded.to_string(),
                        &report.wechat_paid.to_string(),
                        &report.wechat_refunded.to_string(),
                    ],
                )),
                Line::raw(""),
            ];
            for l in &report.lines {
                let text = l
                    .finding
                    .words(&l.out_trade_no, Surface::Tui, lang == Language::Zh);
                let style = if l.finding.is_difference() {
                    Style::new().fg(Color::Red)
                } else {
                    Style::new().fg(Color::DarkGray)
                };
                lines.push(Line::styled(text, style));
            }
            let colour = if diffs == 0 { Color::Green } else { Color::Red };
            (day, lines, colour)
        }
    };
    // Room for the lines plus wrapping slack, never taller than the screen body.
    let want = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(4);
    let popup = super::band(area, want.min(area.height.saturating_sub(2)).max(5));
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((app.history.reconcile_scroll, 0))
            .block(
                Block::bordered()
                    .title(format!(
                        " {} ",
                        trf(lang, T::ReconcileTitle, &[&day.to_string()])
                    ))
                    .border_style(Style::new().fg(colour)),
            ),
        popup,
    );
}
