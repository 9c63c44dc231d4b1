//! micropay, orderquery and reverse (docs/protocol.md §4–§7) on the pure core.

use super::ledger::{Order, OrderStatus, Sim, SimTime};
use super::reply::SimReply;
use super::rules::{Endpoint, fen, ip_ok, missing, order_no_ok, short};
use super::scenario::{
    Behaviour, Customer, Fault, FaultPhase, NORMAL_PASSWORD_TIME, owner_of, scenario_of,
};
use crate::authcode::AuthCode;
use crate::wxpay::sign::SignType;
use crate::wxpay::xml::Fields;
use std::collections::BTreeMap;
use std::time::Duration;

/// A `(name, value)` pair for `Sim::answer`.
pub(crate) fn kv(name: impl Into<String>, value: impl ToString) -> (String, String) {
    (name.into(), value.to_string())
}

const MICROPAY_REQUIRED: [&str; 5] = [
    "body",
    "out_trade_no",
    "total_fee",
    "spbill_create_ip",
    "auth_code",
];

/// The parameters that make two micropays "the same request".
const FINGERPRINT: [&str; 10] = [
    "auth_code",
    "total_fee",
    "body",
    "device_info",
    "attach",
    "fee_type",
    "goods_tag",
    "detail",
    "limit_pay",
    "sub_mch_id",
];

/// Reverse is refused after this long (use refund).
pub const REVERSE_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

/// The first bad value of a micropay, as `err_code_des`.
fn micropay_param_error(f: &Fields) -> Option<String> {
    let get = |n: &str| f.get(n).unwrap_or("");
    if fen(get("total_fee")).is_none() {
        return Some("total_fee 必须是正整数(单位:分)".into());
    }
    if !order_no_ok(get("out_trade_no")) {
        return Some("out_trade_no 须为 1–32 位字母、数字或 _-|*".into());
    }
    if !short(get("body"), 127) {
        return Some("body 长度超过 127".into());
    }
    if !ip_ok(get("spbill_create_ip")) {
        return Some("spbill_create_ip 不是合法的 IP 地址".into());
    }
    if !short(get("device_info"), 32) {
        return Some("device_info 长度超过 32".into());
    }
    if !short(get("attach"), 127) {
        return Some("attach 长度超过 127".into());
    }
    if !matches!(get("fee_type"), "" | "CNY") {
        return Some("fee_type 仅支持 CNY".into());
    }
    None
}

impl Sim {
    fn day(&self, now: SimTime) -> i64 {
        let secs = self
            .cfg
            .epoch_unix
            .saturating_add(i64::try_from(now.as_secs()).unwrap_or(0));
        (secs + 8 * 3600).div_euclid(86_400)
    }

    fn err(&mut self, f: &Fields, st: SignType, code: &str, des: &str) -> SimReply {
        self.answer(f, st, Some((code, des)), vec![])
    }

    /// `/pay/micropay`. The second value is the scenario's fault for a first request.
    pub(crate) fn micropay(
        &mut self,
        f: &Fields,
        st: SignType,
        now: SimTime,
    ) -> (SimReply, Option<Fault>) {
        if let Some(name) = missing(f, &MICROPAY_REQUIRED) {
            return (
                self.err(f, st, "LACK_PARAMS", &format!("缺少参数{name}")),
                None,
            );
        }
        if let Some(des) = micropay_param_error(f) {
            return (self.err(f, st, "PARAM_ERROR", &des), None);
        }
        let Ok(auth) = AuthCode::parse(f.get("auth_code").unwrap_or("")) else {
            let des = "请扫描微信支付付款码(18 位,10–15 开头)";
            return (self.err(f, st, "AUTH_CODE_INVALID", des), None);
        };
        let code = auth.reveal();
        let no = f.get("out_trade_no").unwrap_or("");
        let amount = fen(f.get("total_fee").unwrap_or("")).unwrap_or(0);
        let fingerprint = FINGERPRINT
            .iter()
            .map(|n| f.get(n).unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\u{1f}");

        if let Some(o) = self.order_mut(no, now) {
            o.count(Endpoint::Micropay);
            if o.fingerprint != fingerprint {
                let (c, d) = if o.paid_at.is_some() {
                    ("ORDERPAID", "该订单已支付")
                } else {
                    ("OUT_TRADE_NO_USED", "商户订单号重复")
                };
                return (self.err(f, st, c, d), None);
            }
            let i = self.by_no.get(no).copied().unwrap_or_default();
            return (self.current_answer(i, f, st), None);
        }

        let scenario = scenario_of(code);
        let owner = owner_of(code).to_string();
        let mut order = Order {
            out_trade_no: no.to_string(),
            transaction_id: self.next_id("4200", now, 16),
            amount,
            code: auth.clone(),
            scenario: scenario.key,
            device_info: f.get("device_info").unwrap_or("").to_string(),
            attach: f.get("attach").unwrap_or("").to_string(),
            body: f.get("body").unwrap_or("").to_string(),
            fingerprint,
            created: now,
            state: OrderStatus::UserPaying,
            customer: Customer::Never,
            fail: None,
            paid_at: None,
            closed_at: None,
            reversed_at: None,
            reverse_refund: 0,
            recall_left: 0,
            refunds: Vec::new(),
            requests: BTreeMap::from([(Endpoint::Micropay.name(), 1)]),
        };
        let mut fault = None;
        let day = self.day(now);
        let used = self
            .no_password_used
            .get(&(owner.clone(), day))
            .copied()
            .unwrap_or(0);
        let mut pays_now = false;
        if self.codes.contains_key(code) {
            order.state = OrderStatus::PayError;
            order.fail = Some((
                "AUTHCODEEXPIRE",
                "二维码已过期,请用户在微信上刷新后再试".into(),
            ));
        } else {
            match scenario.behaviour {
                Behaviour::Normal => {
                    let password = amount > self.cfg.no_password_limit.0
                        || used >= self.cfg.daily_no_password_count;
                    if password {
                        order.customer = Customer::ConfirmsAfter(NORMAL_PASSWORD_TIME);
                    } else {
                        pays_now = true;
                    }
                }
                Behaviour::Password { customer } => order.customer = customer,
                Behaviour::Declined {
                    err_code,
                    err_code_des,
                } => {
                    order.state = OrderStatus::PayError;
                    order.fail = Some((err_code, err_code_des.into()));
                }
                Behaviour::Faulty { fault: k } => {
                    pays_now = true;
                    fault = Some(k);
                }
                Behaviour::RecallReverse { times } => order.recall_left = times,
            }
        }
        if pays_now {
            order.pay(now);
            *self.no_password_used.entry((owner, day)).or_default() += 1;
        }
        let i = self.orders.len();
        self.codes.entry(code.to_string()).or_insert(i);
        self.by_no.insert(no.to_string(), i);
        self.orders.push(order);
        (self.current_answer(i, f, st), fault)
    }

    /// The micropay answer for order `i` as it stands (first answer and identical retries).
    fn current_answer(&mut self, i: usize, f: &Fields, st: SignType) -> SimReply {
        let Some(o) = self.orders.get(i) else {
            return self.err(f, st, "SYSTEMERROR", "系统错误");
        };
        let reversed = o.reversed_at.is_some();
        let fail: Option<(&str, String)> = match o.state {
            OrderStatus::Success | OrderStatus::Refund if !reversed => None,
            OrderStatus::UserPaying => Some(("USERPAYING", "需要用户输入支付密码".into())),
            _ if reversed => Some(("ORDERREVERSED", "订单已撤销".into())),
            _ => Some(
                o.fail
                    .clone()
                    .unwrap_or(("ORDERCLOSED", "订单已关闭".into())),
            ),
        };
        match fail {
            Some((code, des)) => self.err(f, st, code, &des),
            None => {
                let extra = self.paid_fields(i);
                self.answer(f, st, None, extra)
            }
        }
    }

    /// The payment fields of a paid order (micropay success and orderquery).
    fn paid_fields(&self, i: usize) -> Vec<(String, String)> {
        let Some(o) = self.orders.get(i) else {
            return vec![];
        };
        vec![
            kv("openid", format!("oSimUser{}", owner_of(o.code.reveal()))),
            kv("is_subscribe", "N"),
            kv("trade_type", "MICROPAY"),
            kv("bank_type", "OTHERS"),
            kv("fee_type", "CNY"),
            kv("total_fee", o.amount),
            kv("cash_fee_type", "CNY"),
            kv("cash_fee", o.amount),
            kv("transaction_id", &o.transaction_id),
            kv("out_trade_no", &o.out_trade_no),
            kv("attach", &o.attach),
            kv(
                "time_end",
                self.compact_time(o.paid_at.unwrap_or(o.created)),
            ),
        ]
    }

    /// `/pay/orderquery`.
    pub(crate) fn orderquery(&mut self, f: &Fields, st: SignType, now: SimTime) -> SimReply {
        if missing(f, &["out_trade_no"]).is_some() && missing(f, &["transaction_id"]).is_some() {
            return self.err(f, st, "LACK_PARAMS", "缺少参数out_trade_no或transaction_id");
        }
        let Some(i) = self.find(f) else {
            return self.err(f, st, "ORDERNOTEXIST", "此交易订单号不存在");
        };
        let after = self.cfg.auto_revoke_after;
        let Some(o) = self.orders.get_mut(i) else {
            return self.err(f, st, "ORDERNOTEXIST", "此交易订单号不存在");
        };
        o.count(Endpoint::OrderQuery);
        o.advance(now, after);
        let o = o.clone();
        let mut extra = vec![
            kv("trade_state", o.state.as_str()),
            kv("trade_state_desc", o.state_desc()),
        ];
        if self.cfg.bare_refund_state && o.state == OrderStatus::Refund {
            extra = vec![
                kv("trade_state", o.state.as_str()),
                kv("out_trade_no", &o.out_trade_no),
            ];
        } else if o.paid_at.is_some() {
            extra.extend(self.paid_fields(i));
        } else {
            extra.extend([
                kv("out_trade_no", &o.out_trade_no),
                kv("trade_type", "MICROPAY"),
                kv("total_fee", o.amount),
                kv("attach", &o.attach),
            ]);
        }
        self.answer(f, st, None, extra)
    }

    /// A reverse of an order that does not exist: ORDERNOTEXIST, or SUCCESS as WeChat's global
    /// POS guide describes (docs/simulator.md §5).
    fn reverse_unknown(&mut self, f: &Fields, st: SignType) -> SimReply {
        let recall = vec![kv("recall", "N")];
        if self.cfg.unknown_reverse_succeeds {
            self.answer(f, st, None, recall)
        } else {
            self.answer(f, st, Some(("ORDERNOTEXIST", "订单不存在")), recall)
        }
    }

    /// `/secapi/pay/reverse`: closes an unpaid order, refunds a paid one; idempotent.
    pub(crate) fn reverse(&mut self, f: &Fields, st: SignType, now: SimTime) -> SimReply {
        let recall = |s: &str| vec![kv("recall", s)];
        if missing(f, &["out_trade_no"]).is_some() && missing(f, &["transaction_id"]).is_some() {
            let des = "缺少参数out_trade_no或transaction_id";
            return self.answer(f, st, Some(("LACK_PARAMS", des)), recall("N"));
        }
        let Some(i) = self.find(f) else {
            return self.reverse_unknown(f, st);
        };
        let after = self.cfg.auto_revoke_after;
        let admin_recall = self
            .take_fault(Endpoint::Reverse, FaultPhase::Recall)
            .is_some();
        let Some(o) = self.orders.get_mut(i) else {
            return self.answer(f, st, Some(("ORDERNOTEXIST", "订单不存在")), recall("N"));
        };
        o.count(Endpoint::Reverse);
        o.advance(now, after);
        if o.reversed_at.is_none() {
            if now >= o.created + REVERSE_WINDOW {
                let des = "订单已超过撤销期限,请使用退款";
                return self.answer(f, st, Some(("REVERSE_EXPIRE", des)), recall("N"));
            }
            if o.recall_left > 0 || admin_recall {
                o.recall_left = o.recall_left.saturating_sub(u32::from(!admin_recall));
                return self.answer(f, st, Some(("SYSTEMERROR", "系统超时,请重试")), recall("Y"));
            }
            // WeChat's reverse page lists USERPAYING: the password box is still open.
            if self.cfg.reverse_userpaying && o.state == OrderStatus::UserPaying {
                let des = "用户支付中,需要输入密码";
                return self.answer(f, st, Some(("USERPAYING", des)), recall("Y"));
            }
            o.reversed_at = Some(now);
            if o.paid_at.is_some() {
                o.reverse_refund = o.amount.saturating_sub(o.refund_requested());
                // Both readings of WeChat's pages: a reversed paid order is REFUND, or REVOKED.
                o.state = if self.cfg.reversed_paid_revoked {
                    OrderStatus::Revoked
                } else {
                    OrderStatus::Refund
                };
            } else {
                o.state = OrderStatus::Revoked;
                o.closed_at.get_or_insert(now);
            }
        }
        self.answer(f, st, None, recall("N"))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;

    #[test]
    fn normal_customer_pays_at_once() {
        let mut s = sim();
        let r = pay(&mut s, "A1", &code("normal", 1), "100", secs(0));
        assert_eq!(r.get("result_code"), Some("SUCCESS"));
        assert_eq!(r.get("total_fee"), Some("100"));
        assert_eq!(r.get("out_trade_no"), Some("A1"));
        assert_eq!(query(&mut s, "A1", secs(1)), "SUCCESS");
    }

    #[test]
    fn password_confirm_after_ten_seconds_in_virtual_time() {
        let mut s = sim();
        let r = pay(&mut s, "P1", &code("password_confirms", 1), "100", secs(0));
        assert_eq!(r.get("err_code"), Some("USERPAYING"));
        assert_eq!(
            r.get("out_trade_no"),
            None,
            "FAIL replies carry no out_trade_no"
        );
        assert_eq!(query(&mut s, "P1", secs(9)), "USERPAYING");
        assert_eq!(query(&mut s, "P1", secs(10)), "SUCCESS");
        let l = s.ledger(secs(11));
        assert_eq!(l.orders[0].paid_ms, Some(10_000));
    }

    #[test]
    fn auto_revoke_after_45_seconds() {
        let mut s = sim();
        pay(&mut s, "N1", &code("password_never", 1), "100", secs(0));
        assert_eq!(query(&mut s, "N1", secs(44)), "USERPAYING");
        assert_eq!(query(&mut s, "N1", secs(45)), "REVOKED");
        assert_eq!(s.ledger(secs(46)).totals.charged, 0);
    }

    #[test]
    fn closing_the_box_is_payerror() {
        let mut s = sim();
        pay(&mut s, "C1", &code("password_closes", 1), "100", secs(0));
        assert_eq!(query(&mut s, "C1", secs(4)), "USERPAYING");
        assert_eq!(query(&mut s, "C1", secs(5)), "PAYERROR");
    }

    #[test]
    fn password_rule_amount_and_daily_count() {
        let mut s = sim();
        let r = pay(&mut s, "BIG", &code("normal", 1), "100001", secs(0));
        assert_eq!(r.get("err_code"), Some("USERPAYING"));
        assert_eq!(query(&mut s, "BIG", secs(8)), "SUCCESS");
        // Same owner (serials 10000 apart): five without a password, the sixth asks for one.
        for k in 0..5 {
            let r = pay(
                &mut s,
                &format!("D{k}"),
                &code("normal", 2 + k * 10_000),
                "100",
                secs(0),
            );
            assert_eq!(r.get("result_code"), Some("SUCCESS"), "payment {k}");
        }
        let r = pay(&mut s, "D5", &code("normal", 50_002), "100", secs(0));
        assert_eq!(r.get("err_code"), Some("USERPAYING"));
        // The next (Beijing) day the count starts again.
        let r = pay(&mut s, "D6", &code("normal", 60_002), "100", secs(86_400));
        assert_eq!(r.get("result_code"), Some("SUCCESS"));
    }

    #[test]
    fn idempotency_and_single_use_codes() {
        let mut s = sim();
        let c = code("normal", 7);
        let first = pay(&mut s, "I1", &c, "100", secs(0));
        let again = pay(&mut s, "I1", &c, "100", secs(1));
        assert_eq!(again.get("transaction_id"), first.get("transaction_id"));
        assert_eq!(
            pay(&mut s, "I1", &c, "200", secs(2)).get("err_code"),
            Some("ORDERPAID")
        );
        assert_eq!(
            pay(&mut s, "I2", &c, "100", secs(3)).get("err_code"),
            Some("AUTHCODEEXPIRE")
        );
        let w = code("password_never", 8);
        pay(&mut s, "I3", &w, "100", secs(0));
        assert_eq!(
            pay(&mut s, "I3", &w, "300", secs(1)).get("err_code"),
            Some("OUT_TRADE_NO_USED")
        );
        let l = s.ledger(secs(4));
        assert_eq!(l.totals.charged, 100);
        assert_eq!(l.orders[0].requests.get("micropay"), Some(&3));
    }

    #[test]
    fn reverse_closes_unpaid_refunds_paid_and_repeats() {
        let mut s = sim();
        pay(&mut s, "R1", &code("password_never", 1), "100", secs(0));
        pay(&mut s, "R2", &code("normal", 2), "250", secs(0));
        for no in ["R1", "R2", "R1"] {
            let r = s.handle(Endpoint::Reverse, &req(&[("out_trade_no", no)]), secs(20));
            assert_eq!(r.get("result_code"), Some("SUCCESS"));
            assert_eq!(r.get("recall"), Some("N"));
        }
        assert_eq!(query(&mut s, "R1", secs(21)), "REVOKED");
        assert_eq!(query(&mut s, "R2", secs(21)), "REFUND");
        let l = s.ledger(secs(22));
        assert_eq!(
            (l.totals.charged, l.totals.refunded, l.totals.net),
            (250, 250, 0)
        );
        let again = pay(&mut s, "R1", &code("password_never", 1), "100", secs(23));
        assert_eq!(again.get("err_code"), Some("ORDERREVERSED"));
    }

    #[test]
    fn the_documented_readings_of_reverse_and_its_query() {
        let mut cfg = sim().settings().clone();
        cfg.reversed_paid_revoked = true;
        cfg.reverse_userpaying = true;
        let mut s = Sim::new(cfg);
        let rev = |s: &mut Sim, no: &str, t| {
            s.handle(Endpoint::Reverse, &req(&[("out_trade_no", no)]), t)
                .get("err_code")
                .map(str::to_string)
        };
        // Paid, then reversed: queried as REVOKED, and the money is back.
        pay(&mut s, "P1", &code("normal", 1), "300", secs(0));
        assert_eq!(rev(&mut s, "P1", secs(20)), None);
        assert_eq!(query(&mut s, "P1", secs(21)), "REVOKED");
        let l = s.ledger(secs(22));
        assert_eq!((l.totals.charged, l.totals.refunded), (300, 300));
        // The password box is open: the reverse answers USERPAYING and changes nothing.
        pay(&mut s, "U1", &code("password_never", 2), "100", secs(30));
        assert_eq!(rev(&mut s, "U1", secs(31)).as_deref(), Some("USERPAYING"));
        assert_eq!(query(&mut s, "U1", secs(32)), "USERPAYING");
    }

    #[test]
    fn reverse_of_an_unknown_order_either_way() {
        let mut s = sim();
        let r = s.handle(
            Endpoint::Reverse,
            &req(&[("out_trade_no", "NONE")]),
            secs(1),
        );
        assert_eq!(r.get("err_code"), Some("ORDERNOTEXIST"));
        let mut cfg = s.settings().clone();
        cfg.unknown_reverse_succeeds = true;
        let mut s = Sim::new(cfg);
        let r = s.handle(
            Endpoint::Reverse,
            &req(&[("out_trade_no", "NONE")]),
            secs(1),
        );
        assert_eq!(
            (r.get("result_code"), r.get("recall")),
            (Some("SUCCESS"), Some("N"))
        );
        assert_eq!(s.ledger(secs(2)).orders.len(), 0, "nothing was created");
    }

    #[test]
    fn reverse_recall_then_success_and_window() {
        let mut s = sim();
        pay(&mut s, "K1", &code("reverse_recall", 1), "100", secs(0));
        let rev = |s: &mut Sim, no: &str, t| {
            let r = s.handle(Endpoint::Reverse, &req(&[("out_trade_no", no)]), t);
            r.get("recall").unwrap_or("-").to_string()
        };
        assert_eq!(rev(&mut s, "K1", secs(15)), "Y");
        assert_eq!(rev(&mut s, "K1", secs(16)), "Y");
        assert_eq!(rev(&mut s, "K1", secs(17)), "Y");
        assert_eq!(rev(&mut s, "K1", secs(18)), "N");
        pay(&mut s, "OLD", &code("normal", 3), "100", secs(0));
        let r = s.handle(
            Endpoint::Reverse,
            &req(&[("out_trade_no", "OLD")]),
            REVERSE_WINDOW,
        );
        assert_eq!(r.get("err_code"), Some("REVERSE_EXPIRE"));
    }

    #[test]
    fn declines_and_invalid_codes() {
        let mut s = sim();
        for (key, err) in [
            ("notenough", "NOTENOUGH"),
            ("authcodeexpire", "AUTHCODEEXPIRE"),
            ("trade_error", "TRADE_ERROR"),
            ("notsuportcard", "NOTSUPORTCARD"),
        ] {
            let r = pay(&mut s, key, &code(key, 1), "100", secs(0));
            assert_eq!(r.get("err_code"), Some(err));
            assert_eq!(query(&mut s, key, secs(1)), "PAYERROR");
        }
        for bad in [
            "284567890123456789",
            "1345678901234567",
            "62345678901234567890",
        ] {
            let r = pay(&mut s, "X1", bad, "100", secs(0));
            assert_eq!(r.get("err_code"), Some("AUTH_CODE_INVALID"), "{bad}");
        }
        assert_eq!(s.ledger(secs(2)).totals.charged, 0);
    }

    #[test]
    fn param_checks() {
        let mut s = sim();
        let c = code("normal", 1);
        for (no, fee) in [("A1", "0"), ("A1", "1.5"), ("bad no", "1"), ("A1", "-3")] {
            let r = pay(&mut s, no, &c, fee, secs(0));
            assert_eq!(r.get("err_code"), Some("PARAM_ERROR"), "{no} {fee}");
        }
        let r = s.handle(Endpoint::Micropay, &req(&[("body", "x")]), secs(0));
        assert_eq!(r.get("err_code"), Some("LACK_PARAMS"));
        let r = s.handle(
            Endpoint::OrderQuery,
            &req(&[("out_trade_no", "NOPE")]),
            secs(0),
        );
        assert_eq!(r.get("err_code"), Some("ORDERNOTEXIST"));
    }
}
