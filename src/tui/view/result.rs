//! The result screen: PAID / NOT CHARGED / REVERSED / UNRESOLVED, large, coloured and in words.

use super::big_or_plain;
use crate::checkout::flow::Final;
use crate::checkout::progress::Outcome;
use crate::checkout::reasons::not_charged;
use crate::money::Fen;
use crate::tui::app::App;
use crate::tui::i18n::{T, tr, trf};
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Paragraph, Wrap};

/// `s` with its first letter upper-case: the shared reason table is written to be read
/// mid-sentence, the screen shows each part as its own line.
fn line_case(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Below this many rows the result's lines may not all fit.
const SHORT: u16 = 18;

/// Draw a sale's result into `area`.
pub fn draw(app: &App, r: &Outcome, f: &mut Frame, area: Rect) {
    let lang = app.lang;
    let (word_en, word, color) = match &r.result {
        Final::Paid(_) => ("PAID", T::ResultPaid, Color::Green),
        Final::Failed { .. } => ("NOT CHARGED", T::ResultNotCharged, Color::Red),
        Final::Reversed { .. } => ("REVERSED", T::ResultReversed, Color::Yellow),
        Final::Refunded(_) => ("REFUNDED", T::ResultRefunded, Color::Yellow),
        Final::Unresolved { .. } => ("UNRESOLVED", T::ResultUnresolved, Color::Magenta),
    };
    let block = Block::bordered()
        .border_type(BorderType::Thick)
        .border_style(Style::new().fg(color).add_modifier(Modifier::BOLD));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let big = Style::new().fg(color).add_modifier(Modifier::BOLD);
    let mut lines = vec![Line::raw("")];
    lines.extend(big_or_plain(word_en, inner.width, big));
    lines.push(Line::raw(""));
    // The word again in the screen language, reversed video so it reads without colour too.
    lines.push(Line::styled(
        format!("  {}  ", tr(lang, word)),
        Style::new()
            .fg(Color::Black)
            .bg(color)
            .add_modifier(Modifier::BOLD),
    ));
    lines.push(Line::raw(""));
    let bold = Style::new().add_modifier(Modifier::BOLD);
    match &r.result {
        Final::Paid(p) => {
            lines.push(Line::styled(tr(lang, T::PaidHandOver), bold));
            lines.push(Line::raw(trf(
                lang,
                T::PaidAmount,
                &[&p.total_fee.to_string()],
            )));
            let cash = r.cash_fee.unwrap_or(p.total_fee);
            let coupon = p.total_fee.saturating_sub(cash);
            if coupon > Fen(0) {
                lines.push(Line::raw(trf(
                    lang,
                    T::PaidSplit,
                    &[&cash.to_string(), &coupon.to_string()],
                )));
            }
            lines.push(Line::raw(trf(lang, T::TransactionId, &[&p.transaction_id])));
        }
        Final::Failed { err_code, .. } => {
            let w = not_charged(err_code, lang);
            lines.push(Line::styled(line_case(&w.why), bold));
            lines.push(Line::styled(format!("→ {}", line_case(&w.todo)), bold));
        }
        Final::Reversed { refunded } => {
            let t = if *refunded {
                T::ReversedRefunded
            } else {
                T::ReversedNotCharged
            };
            lines.push(Line::styled(tr(lang, t), bold));
            lines.push(Line::raw(format!("→ {}", tr(lang, T::ReversedWhatToDo))));
        }
        Final::Refunded(_) => {
            lines.push(Line::styled(tr(lang, T::RefundedLate), bold));
            lines.push(Line::raw(format!("→ {}", tr(lang, T::ReversedWhatToDo))));
        }
        Final::Unresolved { why } => {
            lines.push(Line::styled(
                tr(lang, T::UnresolvedBody),
                bold.fg(Color::LightRed),
            ));
            lines.push(Line::raw(tr(lang, T::UnresolvedCheckApp)));
            if !why.is_empty() {
                lines.push(Line::raw(format!("({why})")));
            }
        }
    }
    lines.push(Line::raw(trf(lang, T::OrderNo, &[&r.out_trade_no])));
    let mut inner = inner;
    // On a short terminal the unresolved warning would be cut off the bottom: it keeps the
    // last row whatever else fits.
    if matches!(r.result, Final::Unresolved { .. }) && inner.height < SHORT && inner.height > 0 {
        let row = Rect {
            y: inner.bottom() - 1,
            height: 1,
            ..inner
        };
        f.render_widget(
            Paragraph::new(Line::styled(
                tr(lang, T::UnresolvedBody),
                bold.fg(Color::LightRed),
            ))
            .alignment(Alignment::Center),
            row,
        );
        inner.height -= 1;
    }
    f.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: false }),
        inner,
    );
}
