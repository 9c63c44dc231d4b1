//! The waiting screen: amount, masked code, what is happening, the countdown to the reverse.

use super::{band, big_or_plain};
use crate::tui::app::{App, WaitPhase, Waiting};
use crate::tui::i18n::{T, tr, trf};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Gauge, Paragraph, Wrap};

/// Rows the whole waiting screen needs: amount and phase, gauge, counters and the warning.
const FULL_HEIGHT: u16 = 10 + 3 + 2;

/// Draw the running sale into `area`.
pub fn draw(app: &App, w: &Waiting, f: &mut Frame, area: Rect) {
    let lang = app.lang;
    let block = Block::bordered()
        .title(format!(" {} ", tr(lang, T::WaitingTitle)))
        .border_style(Style::new().fg(Color::Cyan));
    let mut inner = block.inner(area);
    f.render_widget(block, area);
    let warning = Line::styled(
        format!("▲ {}", tr(lang, T::DoNotHandOver)),
        Style::new()
            .fg(Color::LightRed)
            .add_modifier(Modifier::BOLD),
    );
    // A short terminal would cut the warning off the bottom: it gets the last row first.
    let short = inner.height < FULL_HEIGHT;
    if short && inner.height > 0 {
        let row = Rect {
            y: inner.bottom() - 1,
            height: 1,
            ..inner
        };
        f.render_widget(Paragraph::new(warning.clone()), row);
        inner.height -= 1;
    }
    let [top, gauge, bottom] = Layout::vertical([
        Constraint::Length(10),
        Constraint::Length(3),
        Constraint::Min(0),
    ])
    .areas(inner);
    let mut lines = big_or_plain(
        &format!("¥{}", w.amount),
        top.width,
        Style::new().add_modifier(Modifier::BOLD),
    );
    lines.push(Line::raw(format!(
        "{}  {}",
        w.code,
        w.out_trade_no
            .as_deref()
            .map(|n| trf(lang, T::OrderNo, &[n]))
            .unwrap_or_default()
    )));
    lines.push(Line::raw(""));
    let settling = matches!(w.phase, WaitPhase::Reversing { .. } | WaitPhase::Confirming);
    let phase = if w.cancelling && !settling {
        T::Cancelling
    } else {
        match w.phase {
            WaitPhase::Submitting => T::PhaseSubmitting,
            WaitPhase::Password => T::PhaseWaitingPassword,
            WaitPhase::Querying => T::PhaseQuerying,
            WaitPhase::Reversing { .. } => T::PhaseReversing,
            WaitPhase::Confirming => T::PhaseConfirming,
        }
    };
    lines.push(Line::styled(
        format!("… {}", tr(lang, phase)),
        Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
    ));
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), top);

    if let Some(left) = w.remaining(app.now) {
        let label = match w.phase {
            WaitPhase::Confirming => T::ConfirmingIn,
            WaitPhase::Reversing { .. } => T::ReversingIn,
            _ if !w.reverses => T::WaitIn,
            _ => T::ReverseIn,
        };
        let total = app.settings.password_timeout.as_millis().max(1);
        let percent = (left.as_millis().min(total) * 100 / total) as u16;
        // Round up so "0 s" shows only when the deadline has really passed.
        let secs = left.as_millis().div_ceil(1000).to_string();
        f.render_widget(
            Gauge::default()
                .block(Block::bordered())
                .gauge_style(Style::new().fg(Color::Yellow).bg(Color::DarkGray))
                .percent(percent)
                .label(trf(lang, label, &[&secs])),
            gauge,
        );
    }
    let mut info = vec![];
    match w.phase {
        WaitPhase::Reversing { attempt } if attempt > 0 => info.push(Line::raw(trf(
            lang,
            T::ReverseAttempt,
            &[&attempt.to_string()],
        ))),
        _ => info.push(Line::raw(trf(
            lang,
            T::QueriesSoFar,
            &[&w.queries.to_string()],
        ))),
    }
    if !short {
        info.push(warning);
    }
    f.render_widget(Paragraph::new(info), bottom);

    if w.confirm_cancel {
        let popup = band(area, 7);
        f.render_widget(Clear, popup);
        let block = Block::bordered()
            .title(format!(" {} ", tr(lang, T::ConfirmCancelTitle)))
            .border_style(
                Style::new()
                    .fg(Color::LightRed)
                    .add_modifier(Modifier::BOLD),
            );
        f.render_widget(
            Paragraph::new(vec![
                Line::raw(tr(
                    lang,
                    if w.reverses {
                        T::ConfirmCancelBody
                    } else {
                        T::ConfirmCancelBodyUnproven
                    },
                )),
                Line::raw(""),
                Line::styled(
                    tr(lang, T::ConfirmCancelKeys),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
            ])
            .wrap(Wrap { trim: false })
            .block(block),
            popup,
        );
    }
}
