//! A shift report as text lines (the terminal, the printed slip) and as CSV. Pure.
//!
//! `langs` picks the wording: one language, or both (labels joined with " / ", each
//! instruction on its own line), in the order given.

use super::report::Report;
use crate::journal::export::{beijing_time, field};
use crate::money::Fen;
use crate::words::{Language, Words};

fn label(w: &Words, langs: &[Language]) -> String {
    let parts: Vec<&str> = langs.iter().map(|l| w.get(*l)).collect();
    parts.join(" / ")
}

fn w(en: &str, zh: &str) -> Words {
    Words::new(en, zh)
}

/// The report as lines of at most a few dozen columns, what needs doing first.
pub fn lines(r: &Report, langs: &[Language]) -> Vec<String> {
    let mut out = vec![format!("{} · {}", label(&r.title(), langs), r.till)];
    out.push(format!(
        "{} → {}",
        beijing_time(r.opened_ms),
        beijing_time(r.until_ms)
    ));
    out.push(format!(
        "({})",
        label(&w("Beijing time", "北京时间"), langs)
    ));
    if r.closed_id.is_none() {
        out.push(label(&w("not handed over yet", "尚未交班"), langs));
    }
    if !r.attention.is_empty() {
        out.push(String::new());
        out.push(format!(
            "!! {} ({})",
            label(&w("First, needs attention", "请先处理"), langs),
            r.attention.len()
        ));
        for a in &r.attention {
            let what = a.kind.what_to_do();
            let no = match &a.out_refund_no {
                Some(refund) => format!("{} ({refund})", a.out_trade_no),
                None => a.out_trade_no.clone(),
            };
            out.push(format!(
                "  {}  ¥{}  {no}",
                &beijing_time(a.created_ms)[5..16],
                a.amount
            ));
            for l in langs {
                out.push(format!("    {}", what.get(*l)));
            }
        }
    }
    out.push(String::new());
    out.push(label(&w("Sales by state", "按状态统计"), langs));
    if r.by_state.is_empty() {
        out.push(format!("  {}", label(&w("no sales", "无收款"), langs)));
    }
    for t in &r.by_state {
        let name = w(t.state.as_str(), t.state.zh());
        out.push(format!(
            "  {:<20} {:>4}  ¥{}",
            label(&name, langs),
            t.count,
            t.total_fee
        ));
    }
    out.push(format!(
        "{}  {}  ¥{}",
        label(&w("Paid", "收款"), langs),
        r.paid_count,
        r.paid
    ));
    out.push(format!(
        "{}  {}  ¥{}",
        label(&w("Refunds", "退款"), langs),
        r.refund_count,
        r.refunded
    ));
    out.push(format!(
        "{}  ¥{}",
        label(&w("Net taken", "实收(扣除退款)"), langs),
        r.net
    ));
    if !r.by_hour.is_empty() {
        out.push(String::new());
        out.push(label(&w("By hour", "按小时"), langs));
        for h in &r.by_hour {
            out.push(format!(
                "  {}  {:>3}  ¥{:>9}  -¥{}",
                &beijing_time(h.from_ms)[5..16],
                h.paid_count,
                h.paid.to_string(),
                h.refunded
            ));
        }
    }
    if !r.settled_since.is_empty() {
        out.push(String::new());
        out.push(label(
            &w(
                "Earlier shifts' sales settled in this one",
                "本班次内结清的早前订单",
            ),
            langs,
        ));
        for s in &r.settled_since {
            let state = w(s.state.as_str(), s.state.zh());
            out.push(format!(
                "  {}  ¥{}  {}",
                s.out_trade_no,
                s.amount,
                label(&state, langs)
            ));
        }
    }
    out
}

const CSV_HEADER_EN: &str = "section,item,count,amount_fen,amount_yuan,out_trade_no,note";
const CSV_HEADER_ZH: &str = "部分,项目,笔数,金额(分),金额(元),商户订单号,说明";

/// The report as CSV rows: one per figure, hour and line needing attention. Amounts in fen
/// (signed for the net, which a shift of refunds turns negative) and in yuan.
pub fn csv(r: &Report, lang: Language) -> String {
    let mut rows: Vec<[String; 7]> = Vec::new();
    let money = |f: Fen| (f.0.to_string(), f.to_string());
    let mut row = |section: &str,
                   item: &str,
                   count: String,
                   amount: (String, String),
                   no: &str,
                   note: &str| {
        rows.push([
            section.into(),
            item.into(),
            count,
            amount.0,
            amount.1,
            no.into(),
            note.into(),
        ]);
    };
    let none = || (String::new(), String::new());
    let id = r.closed_id.map(|i| i.to_string()).unwrap_or_default();
    row("shift", "id", id, none(), "", &r.till);
    row(
        "shift",
        "opened",
        String::new(),
        none(),
        "",
        &beijing_time(r.opened_ms),
    );
    row(
        "shift",
        "until",
        String::new(),
        none(),
        "",
        &beijing_time(r.until_ms),
    );
    for a in &r.attention {
        let kind = serde_json::to_value(a.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let no = a.out_refund_no.as_deref().unwrap_or(&a.out_trade_no);
        let what = a.kind.what_to_do();
        row(
            "attention",
            &kind,
            "1".into(),
            money(a.amount),
            no,
            what.get(lang),
        );
    }
    for t in &r.by_state {
        row(
            "state",
            t.state.as_str(),
            t.count.to_string(),
            money(t.total_fee),
            "",
            "",
        );
    }
    row(
        "total",
        "paid",
        r.paid_count.to_string(),
        money(r.paid),
        "",
        "",
    );
    row(
        "total",
        "refunded",
        r.refund_count.to_string(),
        money(r.refunded),
        "",
        "",
    );
    row(
        "total",
        "net",
        String::new(),
        (r.net.0.to_string(), r.net.to_string()),
        "",
        "",
    );
    for h in &r.by_hour {
        let hour = beijing_time(h.from_ms);
        let hour = &hour[..16];
        row(
            "hour_paid",
            hour,
            h.paid_count.to_string(),
            money(h.paid),
            "",
            "",
        );
        row(
            "hour_refunded",
            hour,
            String::new(),
            money(h.refunded),
            "",
            "",
        );
    }
    for s in &r.settled_since {
        row(
            "settled_since",
            s.state.as_str(),
            "1".into(),
            money(s.amount),
            &s.out_trade_no,
            "",
        );
    }
    let mut out = String::from(match lang {
        Language::En => CSV_HEADER_EN,
        Language::Zh => CSV_HEADER_ZH,
    });
    out.push('\n');
    for cells in rows {
        let quoted: Vec<String> = cells.iter().map(|c| field(c)).collect();
        out.push_str(&quoted.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{SaleRow, SaleState};
    use crate::shift::report::Rows;

    #[test]
    fn the_text_puts_what_needs_doing_first_in_both_languages() {
        let mut paid = SaleRow::paid_for_tests("P1", 1_234);
        paid.created_ms = 1_767_315_600_000;
        let mut open = SaleRow::paid_for_tests("U1", 500);
        open.created_ms = 1_767_315_600_500;
        open.state = SaleState::Unresolved;
        let sales = [paid, open.clone()];
        let unfinished = [open];
        let r = Report::of(
            "till-7",
            (1_767_315_600_000, 1_767_319_200_000),
            &Rows {
                sales: &sales,
                refunds: &[],
                unfinished: &unfinished,
                changed: &[],
            },
        );
        let text = lines(&r, &[Language::Zh, Language::En]);
        let at = |needle: &str| text.iter().position(|l| l.contains(needle));
        assert_eq!(text[0], "当前班次(未交班) / Open shift · till-7");
        let first = at("请先处理 / First, needs attention (1)").unwrap();
        let unresolved = at("U1").unwrap();
        let sales_at = at("按状态统计 / Sales by state").unwrap();
        assert!(first < unresolved && unresolved < sales_at, "{text:#?}");
        assert!(text[unresolved + 1].contains("不要为它交付商品"));
        assert!(text[unresolved + 2].contains("do not hand over the goods"));
        assert!(at("收款 / Paid  1  ¥12.34").is_some(), "{text:#?}");
        assert!(at("实收(扣除退款) / Net taken  ¥12.34").is_some());
        let en = lines(&r, &[Language::En]);
        assert!(en.iter().all(|l| !l.contains("班次")), "{en:#?}");
        let csv = csv(&r, Language::En);
        assert!(csv.starts_with(CSV_HEADER_EN));
        assert!(
            csv.contains("\nattention,unresolved,1,500,5.00,U1,"),
            "{csv}"
        );
        assert!(csv.contains("\ntotal,net,,1234,12.34,,\n"), "{csv}");
    }
}
