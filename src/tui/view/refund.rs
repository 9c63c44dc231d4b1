//! The refund screen: pick, amount, reason, PIN, progress.

use crate::tui::app::{App, RefundStep, beijing_clock};
use crate::tui::i18n::{T, tr, trf};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

/// Draw the refund screen into `area`.
pub fn draw(app: &App, f: &mut Frame, area: Rect) {
    let lang = app.lang;
    let r = &app.refund;
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut lines = Vec::new();
    if r.step == RefundStep::Pick {
        if r.candidates.is_empty() {
            lines.push(Line::raw(tr(lang, T::RefundNoSales)));
        } else {
            // The pick list scrolls with its selection under a fixed title line; rows are not
            // wrapped, so one row is one sale.
            let block = Block::bordered().title(format!(" {} ", tr(lang, T::ScreenRefund)));
            let inner = block.inner(area);
            f.render_widget(block, area);
            let [title, list] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
            f.render_widget(
                Paragraph::new(Line::styled(tr(lang, T::RefundPick), bold)),
                title,
            );
            for (i, s) in r.candidates.iter().enumerate() {
                let style = if i == r.selected {
                    Style::new().add_modifier(Modifier::REVERSED)
                } else {
                    Style::new()
                };
                let left = r.left.get(i).copied().unwrap_or(s.total_fee);
                let part = if left == s.total_fee {
                    String::new()
                } else {
                    format!(" ({})", trf(lang, T::RefundLeft, &[&left.to_string()]))
                };
                lines.push(Line::styled(
                    format!(
                        "{}  ¥{:<10} {}  {}{part}",
                        beijing_clock(s.created_ms),
                        s.total_fee.to_string(),
                        s.out_trade_no,
                        s.transaction_id.as_deref().unwrap_or("—")
                    ),
                    style,
                ));
            }
            let top = super::scroll_for(r.selected, r.selected, list.height);
            f.render_widget(Paragraph::new(lines).scroll((top, 0)), list);
            return;
        }
    } else if let Some(s) = r.chosen() {
        lines.push(Line::styled(
            format!("{}  ¥{}", s.out_trade_no, s.total_fee),
            bold,
        ));
        lines.push(Line::raw(""));
        let full = r.chosen_left().to_string();
        let amount = if r.amount.is_empty() {
            full.clone()
        } else {
            r.amount.clone()
        };
        lines.push(Line::raw(format!(
            "{}: ¥{amount}",
            trf(lang, T::RefundAmount, &[&full])
        )));
        if matches!(r.step, RefundStep::Reason) {
            lines.push(Line::styled(tr(lang, T::RefundReason), bold));
        }
        if let Some(reason) = r.reason {
            lines.push(Line::raw(format!("→ {}", tr(lang, reason.text()))));
        }
        match &r.step {
            RefundStep::Confirm => {
                let fee = r.refund_fee(r.chosen_left()).unwrap_or_default();
                lines.push(Line::raw(""));
                lines.push(Line::styled(
                    trf(lang, T::RefundConfirm, &[&fee.to_string(), &s.out_trade_no]),
                    bold.fg(Color::Yellow),
                ));
                lines.push(Line::raw(tr(lang, T::RefundConfirmKeys)));
            }
            RefundStep::Pin => lines.push(Line::styled(
                format!("{}: {}", tr(lang, T::RefundPin), "•".repeat(r.pin.len())),
                bold,
            )),
            RefundStep::Sending { .. } => lines.push(Line::styled(
                tr(lang, T::RefundSending),
                bold.fg(Color::Yellow),
            )),
            RefundStep::Done(Ok(fee)) => lines.push(Line::styled(
                trf(lang, T::RefundDone, &[&fee.to_string()]),
                bold.fg(Color::Green),
            )),
            RefundStep::Done(Err(e)) => lines.push(Line::styled(
                trf(lang, T::RefundFailed, &[e.get(lang)]),
                bold.fg(Color::LightRed),
            )),
            _ => {}
        }
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(format!(" {} ", tr(lang, T::ScreenRefund)))),
        area,
    );
}
