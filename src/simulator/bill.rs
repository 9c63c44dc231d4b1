//! downloadbill (docs/protocol.md §10): the CSV statement of one simulated (Beijing) day.
//! Unlike the real service the simulator serves the current day too, so a trainer can
//! reconcile straight away.

use super::ledger::{Order, Sim, SimTime};
use super::reply::{Body, SimReply};
use crate::money::Fen;
use crate::wxpay::xml::Fields;

const HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
const SUMMARY_HEADER: &str =
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额";

/// The simulated merchant rate: 0.6 %, as integer per-mille arithmetic.
fn fee_of(amount: u64) -> u64 {
    (amount * 6 + 500) / 1000
}

fn yuan(fen: u64) -> String {
    Fen(fen).to_string()
}

/// One CSV line with every value prefixed by a back-tick (values never contain commas here).
fn line(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("`{}", v.replace(',', " ")))
        .collect::<Vec<_>>()
        .join(",")
}

struct Row {
    at: SimTime,
    order: usize,
    refund: Option<(String, String, u64, &'static str)>,
}

impl Sim {
    /// `/pay/downloadbill`: CSV on success, `return_code=FAIL` XML otherwise.
    pub(crate) fn downloadbill(&mut self, f: &Fields, now: SimTime) -> SimReply {
        let date = f.get("bill_date").unwrap_or("");
        if date.is_empty() {
            return SimReply::fail("缺少参数bill_date");
        }
        if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
            return SimReply::fail("invalid bill_date: 须为 yyyyMMdd");
        }
        let kind = match f.get("bill_type").unwrap_or("ALL") {
            "" | "ALL" => "ALL",
            "SUCCESS" => "SUCCESS",
            "REFUND" => "REFUND",
            _ => return SimReply::fail("invalid bill_type: 须为 ALL、SUCCESS 或 REFUND"),
        };
        if f.get("tar_type").is_some_and(|t| !t.is_empty()) {
            return SimReply::fail("tar_type: the simulator serves plain CSV only; omit tar_type");
        }
        let device = f.get("device_info").filter(|d| !d.is_empty());
        self.advance_all(now);

        let mut rows: Vec<Row> = Vec::new();
        for (i, o) in self.orders.iter().enumerate() {
            if device.is_some_and(|d| d != o.device_info) {
                continue;
            }
            if let (Some(paid), true) = (o.paid_at, kind != "REFUND") {
                rows.push(Row {
                    at: paid,
                    order: i,
                    refund: None,
                });
            }
            if kind == "SUCCESS" {
                continue;
            }
            for r in &o.refunds {
                let status = r.status(now);
                rows.push(Row {
                    at: r.created,
                    order: i,
                    refund: Some((r.refund_id.clone(), r.out_refund_no.clone(), r.fee, status)),
                });
            }
            if let (Some(at), true) = (o.reversed_at, o.reverse_refund > 0) {
                rows.push(Row {
                    at,
                    order: i,
                    refund: Some((
                        format!("REVERSE{}", o.transaction_id),
                        format!("REVERSE-{}", o.out_trade_no),
                        o.reverse_refund,
                        "SUCCESS",
                    )),
                });
            }
        }
        rows.retain(|r| r.at <= now && self.date(r.at) == date);
        if rows.is_empty() {
            return SimReply::fail("No Bill Exist");
        }
        rows.sort_by_key(|r| r.at);

        let mut out = String::from(HEADER);
        out.push('\r');
        out.push('\n');
        let (mut paid, mut refunded, mut fees) = (0u64, 0u64, 0u64);
        for r in &rows {
            let Some(o) = self.orders.get(r.order) else {
                continue;
            };
            let (fields, amount_paid, amount_refund) = self.bill_row(o, r);
            paid += amount_paid;
            refunded += amount_refund;
            fees += fee_of(amount_paid).saturating_sub(fee_of(amount_refund));
            out.push_str(&line(&fields));
            out.push_str("\r\n");
        }
        out.push_str(SUMMARY_HEADER);
        out.push_str("\r\n");
        out.push_str(&line(&[
            rows.len().to_string(),
            yuan(paid),
            yuan(refunded),
            yuan(0),
            yuan(fees),
            yuan(paid),
            yuan(refunded),
        ]));
        out.push_str("\r\n");
        SimReply::now(Body::Csv(out))
    }

    fn bill_row(&self, o: &Order, r: &Row) -> (Vec<String>, u64, u64) {
        let m = &self.cfg.merchant;
        let (state, refund_id, refund_no, refund_fee, refund_status, paid, back) = match &r.refund {
            None => ("SUCCESS", "0", "0", 0, "", o.amount, 0),
            Some((id, no, fee, status)) => {
                ("REFUND", id.as_str(), no.as_str(), *fee, *status, 0, *fee)
            }
        };
        let fee = if r.refund.is_some() {
            fee_of(back)
        } else {
            fee_of(paid)
        };
        let row = vec![
            self.dashed_time(r.at),
            m.appid.clone(),
            m.mch_id.clone(),
            "0".into(),
            o.device_info.clone(),
            o.transaction_id.clone(),
            o.out_trade_no.clone(),
            format!("oSimUser{}", super::scenario::owner_of(o.code.reveal())),
            "MICROPAY".into(),
            state.into(),
            "OTHERS".into(),
            "CNY".into(),
            yuan(paid),
            yuan(0),
            refund_id.into(),
            refund_no.into(),
            yuan(refund_fee),
            yuan(0),
            if r.refund.is_some() { "ORIGINAL" } else { "" }.into(),
            refund_status.into(),
            o.body.clone(),
            o.attach.clone(),
            yuan(fee),
            "0.60%".into(),
            yuan(if r.refund.is_some() { 0 } else { o.amount }),
            yuan(refund_fee),
            String::new(),
        ];
        (row, paid, back)
    }
}
