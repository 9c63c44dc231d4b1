//! Overlays: the start-up recovery report and the key help with the simulator scenario table.

use super::band;
use super::pending::final_word;
use crate::config::Language;
use crate::tui::app::App;
use crate::tui::i18n::{T, tr, trf};
use ratatui::Frame;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

/// The start-up recovery report.
pub fn recovery(app: &App, f: &mut Frame) {
    let Some(r) = &app.recovery else { return };
    let lang = app.lang;
    let area = band(f.area(), 14);
    f.render_widget(Clear, area);
    let mut lines = Vec::new();
    if !r.done {
        lines.push(Line::raw(tr(lang, T::RecoveryRunning)));
    } else if r.resolved.is_empty() && r.still_pending == 0 {
        lines.push(Line::raw(tr(lang, T::RecoveryNone)));
    }
    for s in &r.resolved {
        let paid = matches!(s.result, crate::checkout::flow::Final::Paid(_));
        let style = if paid {
            Style::new().fg(Color::Green).add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        lines.push(Line::styled(
            format!(
                "{}  ¥{}  {}",
                s.out_trade_no,
                s.total_fee,
                tr(lang, final_word(&s.result))
            ),
            style,
        ));
        if paid && r.background {
            lines.push(Line::raw(format!("  {}", tr(lang, T::SettledPaidHint))));
        }
    }
    if r.still_pending > 0 {
        lines.push(Line::styled(
            trf(
                lang,
                T::RecoveryStillPending,
                &[&r.still_pending.to_string()],
            ),
            Style::new()
                .fg(Color::LightRed)
                .add_modifier(Modifier::BOLD),
        ));
    }
    if r.done {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            tr(lang, T::PressEnter),
            Style::new().add_modifier(Modifier::BOLD),
        ));
    }
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .title(format!(
                    " {} ",
                    tr(
                        lang,
                        if r.background {
                            T::SettledTitle
                        } else {
                            T::RecoveryTitle
                        }
                    )
                ))
                .border_style(Style::new().fg(Color::Cyan)),
        ),
        area,
    );
}

/// Key help, plus the scenario table in simulator mode.
pub fn help(app: &App, f: &mut Frame) {
    let lang = app.lang;
    let area = band(f.area(), f.area().height.saturating_sub(2));
    f.render_widget(Clear, area);
    // Each line says which screen its keys are for.
    let head = Style::new().add_modifier(Modifier::BOLD);
    let mut lines = Vec::new();
    for (screen, keys) in [
        (T::HelpOnSale, T::KeysSale),
        (T::HelpOnWaiting, T::KeysWaiting),
        (T::HelpOnHistory, T::KeysHistory),
        (T::HelpOnPending, T::KeysPending),
        (T::HelpOnRefund, T::KeysRefund),
    ] {
        lines.push(Line::styled(tr(lang, screen), head));
        lines.push(Line::raw(format!("  {}", tr(lang, keys))));
    }
    if let Some(sim) = &app.settings.simulator {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            tr(lang, T::ScenarioTitle),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ));
        let table = match lang {
            Language::En => &sim.scenarios_en,
            Language::Zh => &sim.scenarios_zh,
        };
        lines.extend(table.iter().map(|l| Line::raw(l.clone())));
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((app.help_scroll, 0))
            .block(
                Block::bordered()
                    .title(format!(" {} ", tr(lang, T::ScreenHelp)))
                    .title_bottom(format!(" {} ", tr(lang, T::HelpScroll))),
            ),
        area,
    );
}
