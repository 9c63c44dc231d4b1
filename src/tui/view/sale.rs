//! The sale screen: a large amount, the next step in words, and the manual code field.

use super::big_or_plain;
use crate::tui::app::{App, Field};
use crate::tui::i18n::{T, tr, trf};
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

/// Draw the amount entry into `area`.
pub fn draw(app: &App, f: &mut Frame, area: Rect) {
    let lang = app.lang;
    let e = &app.entry;
    let block = Block::bordered().title(format!(" {} ", tr(lang, T::ScreenSale)));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let focus = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
    let plain = Style::new();
    let (amount_style, code_style, amount_mark, code_mark) = match e.focus {
        Field::Amount => (focus, plain, "▶ ", "  "),
        Field::Code => (plain, focus, "  ", "▶ "),
    };
    let mut label = format!("{amount_mark}{}", tr(lang, T::AmountLabel));
    if e.from_pos {
        label.push_str(&format!(" · {}", tr(lang, T::FromPos)));
    }
    let mut lines = vec![Line::styled(label, amount_style)];
    // A POS order fixes the amount: say whose it is, above it.
    if let Some(w) = &app.pos.waiting {
        lines.push(Line::styled(
            trf(lang, T::PosOrderLine, &[&w.pos_ref]),
            Style::new().fg(Color::Black).bg(Color::Cyan),
        ));
    }
    let shown = if e.amount.is_empty() {
        "¥0".to_string()
    } else {
        format!("¥{}", e.amount)
    };
    lines.extend(big_or_plain(&shown, inner.width, amount_style));
    lines.push(Line::raw(""));
    let amount_ok = e.amount(app.settings.max_amount).is_ok();
    let step = match (e.focus, amount_ok) {
        _ if e.from_pos && amount_ok && e.code.is_empty() => T::StepConfirmPos,
        (Field::Amount, _) | (Field::Code, false) => T::StepTypeAmount,
        (Field::Code, true) if e.code.is_empty() => T::StepScan,
        (Field::Code, true) => T::StepTypeCode,
    };
    lines.push(Line::styled(
        format!("→ {}", tr(lang, step)),
        Style::new()
            .fg(Color::Yellow)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
    ));
    lines.push(Line::raw(""));
    let cursor = if e.focus == Field::Code { "_" } else { "" };
    lines.push(Line::from(vec![
        Span::styled(
            format!("{code_mark}{}: ", tr(lang, T::CodeLabel)),
            code_style,
        ),
        Span::styled(format!("[{}{cursor}]", e.code), code_style),
    ]));
    f.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Left)
            .wrap(Wrap { trim: false }),
        inner,
    );
}
