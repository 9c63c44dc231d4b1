//! Helpers for the pure core's unit tests: a demo simulator and signed requests.

use super::ledger::{CoreSettings, Sim, SimTime};
use super::reply::SimReply;
use super::rules::{Endpoint, Merchant};
use super::scenario::{by_key, code_for};
use crate::money::Fen;
use crate::wxpay::sign::{ApiKey, SignType, sign};
use crate::wxpay::xml::Fields;
use std::time::Duration;

pub const KEY: &str = "PaycodeSimulatorDemoKey-NotReal1";

/// 2026-11-24 00:00:00 Beijing time.
pub const EPOCH: i64 = 1_795_449_600;

pub fn sim() -> Sim {
    Sim::new(CoreSettings {
        merchant: Merchant {
            appid: "wxpaycodesimulator".into(),
            mch_id: "1000000001".into(),
            key: ApiKey::new(KEY).unwrap(),
        },
        no_password_limit: Fen(100_000),
        daily_no_password_count: 5,
        auto_revoke_after: Duration::from_secs(45),
        refund_delay: Duration::from_secs(5),
        reply_delay: Duration::ZERO,
        unknown_reverse_succeeds: false,
        bare_refund_state: false,
        reversed_paid_revoked: false,
        reverse_userpaying: false,
        epoch_unix: EPOCH,
    })
}

pub fn req(extra: &[(&str, &str)]) -> Fields {
    let mut f: Fields = [
        ("appid", "wxpaycodesimulator"),
        ("mch_id", "1000000001"),
        ("nonce_str", "n1"),
    ]
    .into_iter()
    .chain(extra.iter().copied())
    .collect();
    let s = sign(&f, &ApiKey::new(KEY).unwrap(), SignType::Md5);
    f.push("sign", s);
    f
}

pub fn pay(sim: &mut Sim, no: &str, code: &str, fee: &str, now: SimTime) -> SimReply {
    pay_on(sim, no, code, fee, "", now)
}

pub fn pay_on(sim: &mut Sim, no: &str, code: &str, fee: &str, dev: &str, now: SimTime) -> SimReply {
    let f = req(&[
        ("body", "Store-Goods"),
        ("out_trade_no", no),
        ("total_fee", fee),
        ("spbill_create_ip", "127.0.0.1"),
        ("auth_code", code),
        ("device_info", dev),
    ]);
    sim.handle(Endpoint::Micropay, &f, now)
}

pub fn query(sim: &mut Sim, no: &str, now: SimTime) -> String {
    let r = sim.handle(Endpoint::OrderQuery, &req(&[("out_trade_no", no)]), now);
    r.get("trade_state").unwrap_or("-").to_string()
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn code(key: &str, serial: u64) -> String {
    code_for(by_key(key).unwrap(), serial)
}
