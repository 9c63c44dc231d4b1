//! The history screen: a day's sales, totals by state and by hour, and one sale's detail.

use super::{band, standing_word, state_word};
use crate::tui::app::App;
use crate::tui::app::beijing_clock;
use crate::tui::i18n::{T, tr, trf};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Row, Table, TableState, Wrap};

/// Draw the history screen into `area`.
pub fn draw(app: &App, f: &mut Frame, area: Rect) {
    let lang = app.lang;
    let Some(data) = &app.history.data else {
        f.render_widget(
            Paragraph::new(tr(lang, T::HistoryLoading))
                .block(Block::bordered().title(format!(" {} ", tr(lang, T::ScreenHistory)))),
            area,
        );
        return;
    };
    let totals = data.totals();
    let [list, side] =
        Layout::horizontal([Constraint::Min(46), Constraint::Length(30)]).areas(area);
    // Columns 8 + 11 + 11, three gaps and the borders: the rest is the order number's.
    let order_width = usize::from(list.width).saturating_sub(8 + 11 + 11 + 3 + 2);
    let title = format!(
        " {} ",
        trf(lang, T::HistoryTitle, &[&data.date.to_string()])
    );
    let header = Row::new(vec![
        tr(lang, T::ColTime),
        tr(lang, T::ColAmount),
        tr(lang, T::ColState),
        tr(lang, T::ColOrder),
    ])
    .style(Style::new().add_modifier(Modifier::BOLD));
    let rows: Vec<Row> = data
        .sales
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let style = if i == app.history.selected {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new()
            };
            Row::new(vec![
                beijing_clock(s.created_ms),
                format!("¥{}", s.total_fee),
                tr(lang, standing_word(data.standing(s))).to_string(),
                order_cell(&s.out_trade_no, &s.device_info, order_width),
            ])
            .style(style)
        })
        .collect();
    let mut block = Block::bordered().title(title);
    if let Some(q) = &app.history.find {
        // The find field sits in the list's bottom border while it is typed.
        let text = match app.history.find_missed {
            true => trf(lang, T::FindNone, &[q]),
            false => trf(lang, T::FindPrompt, &[q]),
        };
        block = block.title_bottom(Line::styled(
            format!(" {text} "),
            Style::new().add_modifier(Modifier::BOLD),
        ));
    }
    if rows.is_empty() {
        f.render_widget(Paragraph::new(tr(lang, T::HistoryEmpty)).block(block), list);
    } else {
        let widths = [
            Constraint::Length(8),
            Constraint::Length(11),
            Constraint::Length(11),
            Constraint::Min(10),
        ];
        // Stateful, so a day longer than the screen scrolls with the selection.
        let mut state = TableState::default().with_selected(Some(app.history.selected));
        f.render_stateful_widget(
            Table::new(rows, widths).header(header).block(block),
            list,
            &mut state,
        );
    }

    let [paid_area, by_state, by_hour] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(2 + totals.by_state.len().min(8) as u16),
        Constraint::Min(0),
    ])
    .areas(Block::bordered().inner(side));
    f.render_widget(Block::bordered(), side);
    f.render_widget(
        Paragraph::new(vec![
            Line::styled(
                trf(lang, T::TotalNet, &[&totals.net().to_string()]),
                Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
            ),
            Line::raw(trf(
                lang,
                T::TotalRefunds,
                &[
                    &totals.refund_count.to_string(),
                    &totals.refunded.to_string(),
                ],
            )),
        ]),
        paid_area,
    );
    let widths = [
        Constraint::Length(11),
        Constraint::Length(4),
        Constraint::Min(8),
    ];
    let underline = Style::new().add_modifier(Modifier::UNDERLINED);
    let state_rows = totals.by_state.iter().map(|t| {
        Row::new(vec![
            tr(lang, state_word(t.state)).to_string(),
            t.count.to_string(),
            format!("¥{}", t.total_fee),
        ])
    });
    f.render_widget(
        Table::new(state_rows, widths)
            .block(Block::new().title(Line::styled(tr(lang, T::TotalsByState), underline))),
        by_state,
    );
    let hour_rows = data
        .takings_by_hour()
        .into_iter()
        .enumerate()
        .filter(|(_, (n, net))| *n > 0 || net.0 != 0)
        .map(|(h, (n, fee))| {
            Row::new(vec![format!("{h:02}:00"), n.to_string(), format!("¥{fee}")])
        });
    f.render_widget(
        Table::new(hour_rows, widths)
            .block(Block::new().title(Line::styled(tr(lang, T::TotalsByHour), underline))),
        by_hour,
    );

    if let Some(s) = app.history.selected_sale().filter(|_| app.history.detail) {
        let popup = band(area, 12);
        f.render_widget(Clear, popup);
        let dash = || "—".to_string();
        let lines = vec![
            Line::raw(format!("{}: {}", tr(lang, T::ColOrder), s.out_trade_no)),
            Line::raw(format!(
                "{}: {}",
                tr(lang, T::ColTime),
                beijing_clock(s.created_ms)
            )),
            Line::raw(format!("{}: ¥{}", tr(lang, T::ColAmount), s.total_fee)),
            Line::raw(trf(
                lang,
                T::DetailRefunded,
                &[&data.refunded(s).to_string()],
            )),
            Line::raw(format!(
                "{}: {}",
                tr(lang, T::ColState),
                tr(lang, state_word(s.state))
            )),
            Line::raw(format!("{}: {}", tr(lang, T::ColCode), s.code_masked)),
            Line::raw(trf(
                lang,
                T::TransactionId,
                &[&s.transaction_id.clone().unwrap_or_else(dash)],
            )),
            Line::raw(format!(
                "{}: {} {}",
                tr(lang, T::ColNote),
                s.err_code.clone().unwrap_or_default(),
                s.message.clone().unwrap_or_default()
            )),
        ];
        f.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: false }).block(
                Block::bordered()
                    .title(format!(" {} ", tr(lang, T::DetailTitle)))
                    .border_style(Style::new().fg(Color::Cyan)),
            ),
            popup,
        );
    }
}

/// An order number for the list: the till id apart from its time stamp when the column has
/// room for all of it (what `paycode refund` takes is the two run together), else the stamp's
/// tail — the day's unique part; the detail shows it whole.
fn order_cell(no: &str, device: &str, width: usize) -> String {
    let n = no.chars().count();
    match no
        .strip_prefix(device)
        .filter(|s| !s.is_empty() && !device.is_empty())
    {
        Some(stamp) if n < width => format!("{device} {stamp}"),
        _ if n <= width || n <= 12 => no.to_string(),
        _ => {
            let keep = width.clamp(11, n) - 1;
            format!("…{}", no.chars().skip(n - keep).collect::<String>())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::order_cell;

    #[test]
    fn the_till_id_is_set_apart_when_the_whole_number_fits() {
        let no = "till-120261202135318707";
        assert_eq!(order_cell(no, "till-1", 60), "till-1 20261202135318707");
        // Exactly its length: no room for the space, the number whole.
        assert_eq!(order_cell(no, "till-1", 23), no);
        assert_eq!(order_cell(no, "till-1", 12), "…02135318707");
        assert_eq!(order_cell(no, "other", 60), no);
    }
}
