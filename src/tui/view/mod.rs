//! Drawing: `view(&App, &mut Frame)` lays out the banner, the screen, the notice, the key hints
//! and the status line, then any overlay. Reads the app only; never changes it.

mod bigtext;
mod diagnostics;
mod history;
mod overlay;
mod pending;
mod reconcile;
mod refund;
mod result;
mod sale;
mod shift;
mod status;
mod waiting;

use super::app::{App, Level, Screen, Stage, WaitPhase};
use super::i18n::{T, tr};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// Draw the whole screen.
pub fn view(app: &App, f: &mut Frame) {
    let sim = app.settings.simulator.is_some();
    let top = sim || app.journal_error.is_some();
    let [banner, body, notice, keys, status_line] = Layout::vertical([
        Constraint::Length(u16::from(top)),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Length(1),
    ])
    .areas(f.area());
    if let Some(e) = &app.journal_error {
        // Payments are off: this outranks the simulator banner.
        let style = Style::new()
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD);
        f.render_widget(
            Paragraph::new(format!(
                " ✖ {}",
                super::i18n::trf(app.lang, T::JournalDown, &[e.get(app.lang)])
            ))
            .style(style),
            banner,
        );
    } else if sim {
        let style = Style::new()
            .fg(Color::Black)
            .bg(Color::Yellow)
            .add_modifier(Modifier::BOLD);
        f.render_widget(
            Paragraph::new(format!(" ▲ {}", tr(app.lang, T::SimulatorBanner))).style(style),
            banner,
        );
    }
    match app.screen {
        Screen::Sale => match &app.stage {
            Stage::Entry => sale::draw(app, f, body),
            Stage::Waiting(w) => waiting::draw(app, w, f, body),
            Stage::Result(r) => result::draw(app, r, f, body),
        },
        Screen::History => {
            history::draw(app, f, body);
            reconcile::draw(app, f, body);
            shift::draw(app, f, body);
        }
        Screen::Pending => pending::draw(app, f, body),
        Screen::Refund => refund::draw(app, f, body),
        Screen::Diagnostics => diagnostics::draw(app, f, body),
    }
    draw_notice(app, f, notice);
    f.render_widget(
        Paragraph::new(Line::from(tr(app.lang, key_hint(app))).style(Style::new().fg(Color::Gray)))
            .wrap(Wrap { trim: true }),
        keys,
    );
    status::draw(app, f, status_line);
    if app.recovery.is_some() {
        overlay::recovery(app, f);
    } else if app.help {
        overlay::help(app, f);
    } else if app.shift.quit_question {
        shift::quit_question(app, f);
    }
}

fn key_hint(app: &App) -> T {
    match (app.screen, &app.stage) {
        (Screen::Sale, Stage::Entry) => T::KeysSale,
        // Once cancelling (or settling without the customer), Esc does nothing more: say so.
        (Screen::Sale, Stage::Waiting(w))
            if w.cancelling
                || matches!(w.phase, WaitPhase::Reversing { .. } | WaitPhase::Confirming) =>
        {
            T::KeysSettling
        }
        (Screen::Sale, Stage::Waiting(_)) => T::KeysWaiting,
        (Screen::Sale, Stage::Result(r)) if r.rescan() => T::KeysResultRescan,
        (Screen::Sale, Stage::Result(_)) => T::KeysResult,
        (Screen::History, _) => T::KeysHistory,
        (Screen::Pending, _) => T::KeysPending,
        _ => T::KeysBack,
    }
}

fn draw_notice(app: &App, f: &mut Frame, area: Rect) {
    let notice = match app.screen {
        Screen::Refund => app.refund.notice.as_ref().or(app.notice.as_ref()),
        _ => app.notice.as_ref(),
    };
    let Some(n) = notice else { return };
    let (mark, color) = match n.level {
        Level::Info => ("• ", Color::Cyan),
        Level::Warn => ("▲ ", Color::Yellow),
        Level::Error => ("✖ ", Color::LightRed),
    };
    let line = Line::from(vec![
        Span::styled(mark, Style::new().fg(color).add_modifier(Modifier::BOLD)),
        Span::styled(n.text.render(app.lang), Style::new().fg(color)),
    ]);
    f.render_widget(Paragraph::new(line), area);
}

/// A popup of `h` rows centred vertically in `area`, as wide as `area`. Full width on purpose:
/// a popup edge inside a row would split double-width (Chinese) characters under it.
/// The first row to draw so that the selected rows `first..=last` are visible in `rows` rows
/// (a list longer than the screen scrolls with its selection; the top of a selection taller
/// than the screen wins).
pub(crate) fn scroll_for(first: usize, last: usize, rows: u16) -> u16 {
    let rows = usize::from(rows.max(1));
    let offset = (last + 1).saturating_sub(rows).min(first);
    u16::try_from(offset).unwrap_or(u16::MAX)
}

pub(crate) fn band(area: Rect, h: u16) -> Rect {
    let h = h.min(area.height);
    Rect::new(area.x, area.y + (area.height - h) / 2, area.width, h)
}

/// The big-font lines of `text` if they fit in `width`, else one bold line.
pub(crate) fn big_or_plain(text: &str, width: u16, style: Style) -> Vec<Line<'static>> {
    if bigtext::width(text) <= usize::from(width) {
        bigtext::lines(text)
            .into_iter()
            .map(|l| l.style(style))
            .collect()
    } else {
        vec![Line::styled(
            text.to_string(),
            style.add_modifier(Modifier::BOLD),
        )]
    }
}

/// The word for a journal state.
/// A sale's word with its refunds counted (history): refunded in full or in part.
pub(crate) fn standing_word(s: crate::journal::Standing) -> T {
    use crate::journal::Standing;
    match s {
        Standing::State(state) => state_word(state),
        Standing::PartlyRefunded => T::StatePartlyRefunded,
        Standing::Refunded => T::StateRefunded,
    }
}

pub(crate) fn state_word(s: crate::journal::SaleState) -> T {
    use crate::journal::SaleState as S;
    match s {
        S::Paid => T::StatePaid,
        S::Failed => T::StateFailed,
        S::Reversed => T::StateReversed,
        S::Unresolved => T::StateUnresolved,
        S::Intent | S::Submitted | S::Reversing => T::StateOpen,
    }
}
