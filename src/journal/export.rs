//! The CSV export of a day's sales (pure: rows in, text out), shared by `paycode history --csv`
//! and the cashier screen's F7. Codes are masked; every amount is given in fen and in yuan; the
//! header follows the UI language, the values stay machine spellings.

use super::history::{Standing, refunded_of};
use super::refunds::Refund;
use super::sales::SaleRow;
use crate::beijing::OFFSET as BEIJING;
use crate::words::Language;

const HEADER_EN: &str = "out_trade_no,created,total_fen,total_yuan,state,refunded_fen,refunded_yuan,transaction_id,err_code,code,ref";
const HEADER_ZH: &str = "商户订单号,时间(北京),金额(分),金额(元),状态,已退款(分),已退款(元),微信支付单号,错误码,付款码,POS单号";

/// The day's sales as CSV, each with its accepted refunds from `refunds`.
pub fn csv(sales: &[SaleRow], refunds: &[Refund], lang: Language) -> String {
    let mut out = String::from(match lang {
        Language::En => HEADER_EN,
        Language::Zh => HEADER_ZH,
    });
    out.push('\n');
    for s in sales {
        let refunded = refunded_of(&s.out_trade_no, refunds);
        let fields = [
            s.out_trade_no.clone(),
            beijing_time(s.created_ms),
            s.total_fee.0.to_string(),
            s.total_fee.to_string(),
            Standing::of(s, refunded).as_str().to_string(),
            refunded.0.to_string(),
            refunded.to_string(),
            s.transaction_id.clone().unwrap_or_default(),
            s.err_code.clone().unwrap_or_default(),
            s.code_masked.clone(),
            s.pos_ref.clone().unwrap_or_default(),
        ];
        let quoted: Vec<String> = fields.iter().map(|f| field(f)).collect();
        out.push_str(&quoted.join(","));
        out.push('\n');
    }
    out
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `YYYY-MM-DD HH:MM:SS` in Beijing time of a Unix-milliseconds instant.
pub fn beijing_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(BEIJING);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{RefundState, SaleState};
    use crate::money::Fen;

    fn sale(no: &str, pos_ref: Option<&str>) -> SaleRow {
        SaleRow {
            out_trade_no: no.into(),
            total_fee: Fen(1250),
            code_fp: "fp".into(),
            code_masked: "13************6789".into(),
            device_info: "till-1".into(),
            created_ms: 1_767_320_100_000,
            updated_ms: 0,
            state: SaleState::Paid,
            transaction_id: Some("42".into()),
            bank_type: None,
            cash_fee: None,
            err_code: None,
            message: None,
            attach: None,
            pos_ref: pos_ref.map(Into::into),
        }
    }

    #[test]
    fn csv_has_fen_and_yuan_refunds_and_the_header_in_the_ui_language() {
        let refund = Refund {
            out_trade_no: "till-1-1".into(),
            out_refund_no: "R1".into(),
            refund_fee: Fen(300),
            reason: String::new(),
            state: RefundState::Success,
            refund_id: None,
            err_code: None,
            created_ms: 0,
            updated_ms: 0,
            authorised: None,
        };
        let sales = [sale("till-1-1", None), sale("till-1-2", Some("POS,7"))];
        let text = csv(&sales, &[refund], Language::En);
        assert_eq!(
            text,
            format!(
                "{HEADER_EN}\n\
                 till-1-1,2026-01-02 10:15:00,1250,12.50,partly_refunded,300,3.00,42,,13************6789,\n\
                 till-1-2,2026-01-02 10:15:00,1250,12.50,paid,0,0.00,42,,13************6789,\"POS,7\"\n"
            )
        );
        let zh = csv(&sales, &[], Language::Zh);
        assert!(
            zh.starts_with("商户订单号,时间(北京),金额(分),金额(元)"),
            "{zh}"
        );
        assert_eq!(zh.lines().count(), 3);
        // Every row has as many fields as the header (quoted commas do not count).
        assert_eq!(HEADER_ZH.split(',').count(), HEADER_EN.split(',').count());
    }
}
