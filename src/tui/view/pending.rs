//! The pending screen: unresolved sales and the query-now / reverse actions.

use super::{band, state_word};
use crate::checkout::flow::Final;
use crate::tui::app::{App, Ask, PendingAction, beijing_clock};
use crate::tui::i18n::{T, tr, trf};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

/// Draw the pending list into `area`.
pub fn draw(app: &App, f: &mut Frame, area: Rect) {
    let lang = app.lang;
    let p = &app.pending;
    let block = Block::bordered()
        .title(format!(" {} ", tr(lang, T::PendingTitle)))
        .border_style(Style::new().fg(Color::Magenta));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [list, foot] = Layout::vertical([Constraint::Min(0), Constraint::Length(2)]).areas(inner);
    let mut lines = Vec::new();
    let mut chosen = (0, 0);
    match &p.list {
        None => lines.push(Line::raw(tr(lang, T::HistoryLoading))),
        Some(l) if l.is_empty() => lines.push(Line::raw(tr(lang, T::PendingEmpty))),
        Some(l) => {
            for (i, s) in l.iter().enumerate() {
                let style = if i == p.selected {
                    Style::new().add_modifier(Modifier::REVERSED)
                } else {
                    Style::new()
                };
                let first = lines.len();
                lines.push(Line::styled(
                    format!(
                        "{}  ¥{:<10} {:<10} {}  {}",
                        beijing_clock(s.created_ms),
                        s.total_fee.to_string(),
                        tr(lang, state_word(s.state)),
                        s.out_trade_no,
                        s.code_masked
                    ),
                    style,
                ));
                if let Some(why) = s.message.as_deref().or(s.err_code.as_deref()) {
                    lines.push(Line::raw(format!(
                        "    {}",
                        trf(lang, T::PendingWhy, &[why])
                    )));
                }
                if i == p.selected {
                    chosen = (first, lines.len() - 1);
                }
            }
        }
    }
    let top = super::scroll_for(chosen.0, chosen.1, list.height);
    f.render_widget(Paragraph::new(lines).scroll((top, 0)), list);
    let status = match (&p.busy, &p.last) {
        (Some(PendingAction::Querying(no)), _) => trf(lang, T::PendingQuerying, &[no]),
        (Some(PendingAction::Reversing(no)), _) => trf(lang, T::PendingReversing, &[no]),
        (Some(PendingAction::Accepting(no)), _) => trf(lang, T::PendingAccepting, &[no]),
        (None, Some((no, Ok(r)))) => format!("{no}: {}", tr(lang, final_word(&r.result))),
        (None, Some((no, Err(e)))) => format!("{no}: {}", e.get(lang)),
        (None, None) => String::new(),
    };
    f.render_widget(
        Paragraph::new(status)
            .style(Style::new().add_modifier(Modifier::BOLD))
            .wrap(Wrap { trim: false }),
        foot,
    );
    if let Some(c) = &p.confirm {
        let mut text = vec![Line::raw(match c.ask {
            Ask::Reverse => trf(lang, T::ConfirmReverse, &[&c.no]),
            Ask::Accept => trf(lang, T::ConfirmAccept, &[&c.no]),
        })];
        if c.ask == Ask::Accept && app.settings.manager_pin.is_some() {
            let dots = "•".repeat(c.pin.len());
            text.push(Line::raw(trf(lang, T::AcceptPin, &[&dots])));
            if c.pin_wrong {
                text.push(Line::styled(
                    tr(lang, T::RefundPinWrong),
                    Style::new().fg(Color::LightRed),
                ));
            }
        }
        // Tall enough for the wrapped question (a word may wrap early: one line to spare).
        let inner_w = usize::from(area.width.saturating_sub(2)).max(1);
        let rows: usize = text
            .iter()
            .map(|l| l.width().div_ceil(inner_w).max(1))
            .sum();
        let popup = band(area, u16::try_from(rows + 3).unwrap_or(u16::MAX));
        f.render_widget(Clear, popup);
        f.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: false })
                .block(Block::bordered().border_style(Style::new().fg(Color::LightRed))),
            popup,
        );
    }
}

/// The result word of a final state.
pub(crate) fn final_word(f: &Final) -> T {
    match f {
        Final::Paid(_) => T::ResultPaid,
        Final::Failed { .. } => T::ResultNotCharged,
        Final::Reversed { .. } => T::ResultReversed,
        Final::Refunded(_) => T::ResultRefunded,
        Final::Unresolved { .. } => T::ResultUnresolved,
    }
}
