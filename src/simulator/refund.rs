//! refund and refundquery (docs/protocol.md §9) on the pure core.

use super::ledger::{OrderStatus, RefundRec, Sim, SimTime};
use super::payment::kv;
use super::reply::SimReply;
use super::rules::{Endpoint, fen, missing, refund_no_ok, short};
use crate::wxpay::sign::SignType;
use crate::wxpay::xml::Fields;
use std::time::Duration;

/// At most this many (partial) refunds per order.
pub const MAX_REFUNDS: usize = 50;
/// Orders older than this cannot be refunded.
pub const REFUND_WINDOW: Duration = Duration::from_secs(365 * 24 * 3600);

/// Refunds of an order listed in one refundquery page.
const PAGE: usize = 10;

impl Sim {
    /// `/secapi/pay/refund`: accepted as PROCESSING, SUCCESS after `refund_delay`.
    pub(crate) fn refund(&mut self, f: &Fields, st: SignType, now: SimTime) -> SimReply {
        let fail = |s: &mut Self, code: &str, des: &str| s.answer(f, st, Some((code, des)), vec![]);
        if let Some(n) = missing(f, &["out_refund_no", "total_fee", "refund_fee"]) {
            return fail(self, "LACK_PARAMS", &format!("缺少参数{n}"));
        }
        if missing(f, &["out_trade_no"]).is_some() && missing(f, &["transaction_id"]).is_some() {
            return fail(self, "LACK_PARAMS", "缺少参数out_trade_no或transaction_id");
        }
        let out_refund_no = f.get("out_refund_no").unwrap_or("");
        let (Some(total), Some(fee)) = (
            fen(f.get("total_fee").unwrap_or("")),
            fen(f.get("refund_fee").unwrap_or("")),
        ) else {
            return fail(
                self,
                "PARAM_ERROR",
                "total_fee 与 refund_fee 必须是正整数(单位:分)",
            );
        };
        if !refund_no_ok(out_refund_no) {
            return fail(
                self,
                "PARAM_ERROR",
                "out_refund_no 须为 1–64 位字母、数字或 _-|*@",
            );
        }
        if !short(f.get("refund_desc").unwrap_or(""), 80) {
            return fail(self, "PARAM_ERROR", "refund_desc 长度超过 80");
        }
        let Some(i) = self.find(f) else {
            return fail(self, "ORDERNOTEXIST", "订单不存在");
        };
        let used_elsewhere = self
            .orders
            .iter()
            .enumerate()
            .any(|(j, o)| j != i && o.refunds.iter().any(|r| r.out_refund_no == out_refund_no));
        if used_elsewhere {
            return fail(self, "INVALID_REQUEST", "out_refund_no 已用于其他订单");
        }
        let after = self.cfg.auto_revoke_after;
        let delay = self.cfg.refund_delay;
        let refund_id = self.next_id("5030", now, 17);
        let Some(o) = self.orders.get_mut(i) else {
            return fail(self, "ORDERNOTEXIST", "订单不存在");
        };
        o.count(Endpoint::Refund);
        o.advance(now, after);
        let existing = o
            .refunds
            .iter()
            .position(|r| r.out_refund_no == out_refund_no);
        let j = match existing {
            // The documented retry: same out_refund_no, same amount → the same refund.
            Some(j) if o.refunds.get(j).is_some_and(|r| r.fee == fee) && total == o.amount => j,
            Some(_) => {
                return fail(
                    self,
                    "INVALID_REQUEST",
                    "订单金额或退款金额与之前请求不一致,请核实后再试",
                );
            }
            None => {
                let Some(paid_at) = o.paid_at else {
                    return fail(self, "TRADE_STATE_ERROR", "订单未支付,不能退款");
                };
                if o.reversed_at.is_some() {
                    return fail(self, "TRADE_STATE_ERROR", "订单已撤销并全额退款");
                }
                if total != o.amount {
                    return fail(self, "INVALID_REQUEST", "total_fee 与订单金额不一致");
                }
                if now >= paid_at + REFUND_WINDOW {
                    return fail(self, "TRADE_OVERDUE", "订单已超过退款期限");
                }
                if o.refunds.len() >= MAX_REFUNDS {
                    return fail(self, "INVALID_REQ_TOO_MUCH", "部分退款次数超过 50 次");
                }
                if o.refund_requested() + fee > o.amount {
                    return fail(self, "INVALID_REQUEST", "退款金额超过订单可退金额");
                }
                o.refunds.push(RefundRec {
                    out_refund_no: out_refund_no.to_string(),
                    refund_id,
                    fee,
                    created: now,
                    done_at: now + delay,
                });
                o.state = OrderStatus::Refund;
                o.refunds.len() - 1
            }
        };
        let (o, r) = match self
            .orders
            .get(i)
            .and_then(|o| Some((o, o.refunds.get(j)?)))
        {
            Some(x) => x,
            None => return fail(self, "SYSTEMERROR", "系统错误"),
        };
        let extra = vec![
            kv("transaction_id", &o.transaction_id),
            kv("out_trade_no", &o.out_trade_no),
            kv("out_refund_no", &r.out_refund_no),
            kv("refund_id", &r.refund_id),
            kv("refund_fee", r.fee),
            kv("settlement_refund_fee", r.fee),
            kv("total_fee", o.amount),
            kv("settlement_total_fee", o.amount),
            kv("fee_type", "CNY"),
            kv("cash_fee", o.amount),
            kv("cash_refund_fee", r.fee),
        ];
        self.answer(f, st, None, extra)
    }

    /// `/pay/refundquery`: by refund_id > out_refund_no > transaction_id > out_trade_no.
    /// By order, 10 refunds a page from `offset`.
    pub(crate) fn refundquery(&mut self, f: &Fields, st: SignType, now: SimTime) -> SimReply {
        let given = |n: &str| f.get(n).filter(|v| !v.is_empty());
        let hit = if let Some(id) = given("refund_id") {
            self.find_refund(|r| r.refund_id == id)
        } else if let Some(no) = given("out_refund_no") {
            self.find_refund(|r| r.out_refund_no == no)
        } else if given("transaction_id").is_some() || given("out_trade_no").is_some() {
            self.find(f).map(|i| (i, None))
        } else {
            let des = "缺少参数refund_id、out_refund_no、transaction_id或out_trade_no";
            return self.answer(f, st, Some(("LACK_PARAMS", des)), vec![]);
        };
        let Some((i, only)) = hit else {
            return self.answer(f, st, Some(("REFUNDNOTEXIST", "退款订单查询失败")), vec![]);
        };
        let Some(o) = self.orders.get_mut(i) else {
            return self.answer(f, st, Some(("REFUNDNOTEXIST", "退款订单查询失败")), vec![]);
        };
        o.count(Endpoint::RefundQuery);
        let o = o.clone();
        let refunds: Vec<&RefundRec> = o
            .refunds
            .iter()
            .enumerate()
            .filter(|(j, _)| only.is_none_or(|k| k == *j))
            .map(|(_, r)| r)
            .collect();
        // By order, WeChat lists 10 refunds from `offset` and the order's count in
        // total_refund_count (its refundquery page, docs/protocol.md §9).
        let total = refunds.len();
        let by_order = only.is_none();
        let refunds: Vec<&RefundRec> = if by_order {
            let from = f.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
            refunds.into_iter().skip(from).take(PAGE).collect()
        } else {
            refunds
        };
        if refunds.is_empty() {
            return self.answer(f, st, Some(("REFUNDNOTEXIST", "退款订单查询失败")), vec![]);
        }
        let mut extra = vec![
            kv("transaction_id", &o.transaction_id),
            kv("out_trade_no", &o.out_trade_no),
            kv("total_fee", o.amount),
            kv("settlement_total_fee", o.amount),
            kv("fee_type", "CNY"),
            kv("cash_fee", o.amount),
            kv("refund_count", refunds.len()),
        ];
        if by_order && total > PAGE {
            extra.push(kv("total_refund_count", total));
        }
        for (n, r) in refunds.iter().enumerate() {
            let status = r.status(now);
            extra.extend([
                kv(format!("out_refund_no_{n}"), &r.out_refund_no),
                kv(format!("refund_id_{n}"), &r.refund_id),
                kv(format!("refund_channel_{n}"), "ORIGINAL"),
                kv(format!("refund_fee_{n}"), r.fee),
                kv(format!("settlement_refund_fee_{n}"), r.fee),
                kv(format!("refund_status_{n}"), status),
                kv(
                    format!("refund_account_{n}"),
                    "REFUND_SOURCE_UNSETTLED_FUNDS",
                ),
                kv(format!("refund_recv_accout_{n}"), "支付用户零钱"),
            ]);
            if status == "SUCCESS" {
                extra.push(kv(
                    format!("refund_success_time_{n}"),
                    self.dashed_time(r.done_at),
                ));
            }
        }
        self.answer(f, st, None, extra)
    }

    /// (order index, refund index) of the first refund matching `pred`.
    fn find_refund(&self, pred: impl Fn(&RefundRec) -> bool) -> Option<(usize, Option<usize>)> {
        self.orders
            .iter()
            .enumerate()
            .find_map(|(i, o)| o.refunds.iter().position(&pred).map(|j| (i, Some(j))))
    }
}
