//! The history screen: a day's sales, totals by state and by hour, and one sale's detail.

use super::{centered, state_word};
use crate::tui::app::beijing_clock;
use crate::tui::app::{App, paid_by_hour};
use crate::tui::i18n::{T, tr, trf};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Row, Table, Wrap};

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
    let [list, side] =
        Layout::horizontal([Constraint::Min(40), Constraint::Length(30)]).areas(area);
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
                tr(lang, state_word(s.state)).to_string(),
                s.out_trade_no.clone(),
            ])
            .style(style)
        })
        .collect();
    let block = Block::bordered().title(title);
    if rows.is_empty() {
        f.render_widget(Paragraph::new(tr(lang, T::HistoryEmpty)).block(block), list);
    } else {
        let widths = [
            Constraint::Length(8),
            Constraint::Length(11),
            Constraint::Length(11),
            Constraint::Min(10),
        ];
        f.render_widget(Table::new(rows, widths).header(header).block(block), list);
    }

    let mut lines = vec![
        Line::styled(
            trf(lang, T::TotalPaid, &[&data.totals.paid().to_string()]),
            Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        ),
        Line::raw(""),
        Line::styled(
            tr(lang, T::TotalsByState),
            Style::new().add_modifier(Modifier::UNDERLINED),
        ),
    ];
    for t in &data.totals.by_state {
        lines.push(Line::raw(format!(
            "{:<8} {:>3}  ¥{}",
            tr(lang, state_word(t.state)),
            t.count,
            t.total_fee
        )));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        tr(lang, T::TotalsByHour),
        Style::new().add_modifier(Modifier::UNDERLINED),
    ));
    for (h, (n, fee)) in paid_by_hour(&data.sales).iter().enumerate() {
        if *n > 0 {
            lines.push(Line::raw(format!("{h:02}:00  {n:>3}  ¥{fee}")));
        }
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered()),
        side,
    );

    if let Some(s) = app.history.selected_sale().filter(|_| app.history.detail) {
        let popup = centered(area, 64, 12);
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
