//! The CSV export of a day's sales (pure: text in, text out).

use crate::journal::SaleRow;
use time::Date;

/// The day's sales as CSV (same columns as `paycode history --csv`; codes masked).
pub fn csv(day: Date, sales: &[SaleRow]) -> String {
    let mut out =
        String::from("out_trade_no,created,total_fee,state,transaction_id,err_code,code\n");
    for s in sales {
        out.push_str(&format!(
            "{},{} {},{},{},{},{},{}\n",
            s.out_trade_no,
            day,
            crate::tui::app::beijing_clock(s.created_ms),
            s.total_fee.0,
            s.state.as_str(),
            s.transaction_id.as_deref().unwrap_or(""),
            s.err_code.as_deref().unwrap_or(""),
            s.code_masked
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::SaleState;
    use crate::money::Fen;

    #[test]
    fn csv_has_header_and_masked_codes() {
        let d = time::macros::date!(2026 - 01 - 02);
        let s = SaleRow {
            out_trade_no: "till-1-1".into(),
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
            pos_ref: None,
        };
        assert_eq!(
            csv(d, &[s]),
            "out_trade_no,created,total_fee,state,transaction_id,err_code,code\n\
             till-1-1,2026-01-02 10:15:00,1250,paid,42,,13************6789\n"
        );
    }
}
