//! The chain's day (pure): totals by store, till, state and hour (Beijing time), every sale
//! across the chain that is not settled with its till and what to do, the shifts closed, and
//! how fresh each till's records are. The rows are read by `office::read`; the day is a
//! parameter.

use crate::journal::{RefundState, SaleState};
use crate::money::{Fen, NetFen};
use crate::words::Words;
use std::collections::BTreeMap;

/// A sale as the office holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeSale {
    pub till_id: String,
    pub store: String,
    pub out_trade_no: String,
    pub total_fee: Fen,
    pub state: SaleState,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A refund as the office holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeRefund {
    pub till_id: String,
    pub store: String,
    pub out_refund_no: String,
    pub out_trade_no: String,
    pub refund_fee: Fen,
    pub state: RefundState,
    pub created_ms: i64,
}

/// A closed shift.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeShift {
    pub till_id: String,
    pub store: String,
    pub shift_id: i64,
    pub opened_ms: i64,
    pub closed_ms: i64,
}

/// A registered till and how far its records have arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TillSeen {
    pub till_id: String,
    pub store: String,
    pub mch_id: Option<String>,
    /// The last time it registered (connected); `None`: never.
    pub last_seen_ms: Option<i64>,
    /// The time of the newest record it shipped.
    pub newest_ms: Option<i64>,
    /// The last time a machine of this till was refused, and why (`journal_behind`, …).
    pub refused: Option<(i64, String)>,
}

/// Sums of a group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub sales: u64,
    pub paid_count: u64,
    pub paid: Fen,
    /// Refunds asked for on the day that moved or may move money.
    pub refunded: Fen,
    pub unsettled: u64,
}

impl Totals {
    /// Paid less refunded: below zero when refunds of earlier sales pass the takings (a
    /// saturated ¥0.00 hid a store paying out; FAULTS row 205).
    pub fn net(&self) -> NetFen {
        NetFen::of(self.paid, self.refunded)
    }
}

/// What to do about a till a machine of which the office refused (`paycode.refused`), by the
/// refusal's kind: `release-till` fixes a restored, copied or moved journal, never a machine's
/// own configuration (FAULTS row 217).
pub fn refused_advice(till: &str, kind: &str) -> Words {
    match kind {
        "journal_behind" | "journal_mismatch" | "journal_taken" | "released" => Words::new(
            format!(
                "sales made there are not at the office — find that machine (a copy, or a restored journal; docs/office.md §6), then `paycode office release-till {till}` if it is the one to keep"
            ),
            format!(
                "在那台机器上的交易不在总部 — 请找到那台机器(复制的配置或恢复的账本,见 docs/office.md §6),如需保留它,再运行 `paycode office release-till {till}`"
            ),
        ),
        "device_mismatch" | "device_taken" | "not_a_till" => Words::new(
            format!(
                "a machine uses till {till}'s login with another [merchant] device_info: fix that machine's config (each till has its own login, from `paycode office add-till`); release-till does not help"
            ),
            format!(
                "有一台机器用收银台 {till} 的登录但 [merchant] device_info 不同:请修正那台机器的配置(每台收银台有自己的登录,由 `paycode office add-till` 生成);release-till 无济于事"
            ),
        ),
        "mch_mismatch" => Words::new(
            format!(
                "a machine of till {till} is configured with another merchant number: fix its [merchant] mch_id, or, if the till really moved to that merchant, `paycode office release-till {till}`"
            ),
            format!(
                "收银台 {till} 的一台机器配置了另一个商户号:请修正其 [merchant] mch_id;若该收银台确已转到那个商户,再运行 `paycode office release-till {till}`"
            ),
        ),
        _ => Words::new(
            format!(
                "that machine's journal holds rows no till writes (edited by hand, or till {till}'s password used to ship made-up rows): check that machine and the till's password file; its sales from that row on are not at the office"
            ),
            format!(
                "那台机器的账本中有收银台不会写出的记录(被手工修改,或有人用收银台 {till} 的密码上传伪造记录):请检查那台机器和该收银台的密码文件;从该条起的交易不在总部"
            ),
        ),
    }
}

/// A sale someone must settle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsettled {
    pub sale: OfficeSale,
}

impl Unsettled {
    /// What to do, in English.
    pub fn en(&self) -> String {
        let s = &self.sale;
        format!(
            "{} at till {} ({}): {} ¥{} — on that till run `paycode recover` (or `paycode query {}`); never hand goods over or refund until it is settled",
            s.out_trade_no,
            s.till_id,
            s.store,
            s.state.as_str(),
            s.total_fee,
            s.out_trade_no
        )
    }

    /// What to do, in Chinese.
    pub fn zh(&self) -> String {
        let s = &self.sale;
        format!(
            "{}(收银台 {},{}):{} ¥{} — 请在该收银台运行 `paycode recover`(或 `paycode query {}`);结果明确前请勿交付商品或退款",
            s.out_trade_no,
            s.till_id,
            s.store,
            s.state.zh(),
            s.total_fee,
            s.out_trade_no
        )
    }
}

/// The chain's day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainReport {
    pub all: Totals,
    pub by_store: BTreeMap<String, Totals>,
    pub by_till: BTreeMap<(String, String), Totals>,
    pub by_state: BTreeMap<&'static str, (u64, Fen)>,
    /// Beijing hour 0–23.
    pub by_hour: BTreeMap<u8, Totals>,
    /// Every unsettled sale of the chain (any day), oldest first.
    pub unsettled: Vec<Unsettled>,
    pub shifts: Vec<OfficeShift>,
    pub tills: Vec<TillSeen>,
}

/// A refund that moved (or is moving) money.
fn counts(s: RefundState) -> bool {
    !matches!(s, RefundState::Closed | RefundState::Refused)
}

/// The Beijing hour of an instant.
pub fn beijing_hour(ms: i64) -> u8 {
    (ms.div_euclid(1000)
        .saturating_add(8 * 3600)
        .div_euclid(3600)
        % 24) as u8
}

impl ChainReport {
    /// The day `[from, to)` (ms) of the rows given, only `store` when named. `sales` and
    /// `refunds` are the day's; `open` the chain's unsettled sales of any day.
    #[allow(clippy::too_many_arguments)]
    pub fn of(
        window: (i64, i64),
        store: Option<&str>,
        sales: &[OfficeSale],
        refunds: &[OfficeRefund],
        open: &[OfficeSale],
        shifts: &[OfficeShift],
        tills: &[TillSeen],
    ) -> ChainReport {
        let keep = |s: &str| store.is_none_or(|x| x == s);
        let within = |ms: i64| ms >= window.0 && ms < window.1;
        let mut r = ChainReport::default();
        for s in sales
            .iter()
            .filter(|s| keep(&s.store) && within(s.created_ms))
        {
            let add = |t: &mut Totals| {
                t.sales += 1;
                if s.state == SaleState::Paid {
                    t.paid_count += 1;
                    t.paid += s.total_fee;
                }
                if !s.state.is_final() {
                    t.unsettled += 1;
                }
            };
            add(&mut r.all);
            add(r.by_store.entry(s.store.clone()).or_default());
            add(r
                .by_till
                .entry((s.store.clone(), s.till_id.clone()))
                .or_default());
            add(r.by_hour.entry(beijing_hour(s.created_ms)).or_default());
            let e = r.by_state.entry(s.state.as_str()).or_default();
            e.0 += 1;
            e.1 += s.total_fee;
        }
        for f in refunds
            .iter()
            .filter(|f| keep(&f.store) && within(f.created_ms) && counts(f.state))
        {
            r.all.refunded += f.refund_fee;
            r.by_store.entry(f.store.clone()).or_default().refunded += f.refund_fee;
            r.by_till
                .entry((f.store.clone(), f.till_id.clone()))
                .or_default()
                .refunded += f.refund_fee;
            r.by_hour
                .entry(beijing_hour(f.created_ms))
                .or_default()
                .refunded += f.refund_fee;
        }
        let mut open: Vec<&OfficeSale> = open
            .iter()
            .filter(|s| keep(&s.store) && !s.state.is_final())
            .collect();
        open.sort_by_key(|s| (s.created_ms, s.out_trade_no.clone()));
        r.unsettled = open
            .into_iter()
            .map(|s| Unsettled { sale: s.clone() })
            .collect();
        r.shifts = shifts
            .iter()
            .filter(|s| keep(&s.store) && within(s.closed_ms))
            .cloned()
            .collect();
        r.shifts.sort_by_key(|s| (s.closed_ms, s.till_id.clone()));
        r.tills = tills.iter().filter(|t| keep(&t.store)).cloned().collect();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sale(till: &str, store: &str, no: &str, fen: u64, state: SaleState, at: i64) -> OfficeSale {
        OfficeSale {
            till_id: till.into(),
            store: store.into(),
            out_trade_no: no.into(),
            total_fee: Fen(fen),
            state,
            created_ms: at,
            updated_ms: at,
        }
    }

    #[test]
    fn totals_by_store_till_state_and_hour() {
        // 2026-12-03 00:00 Beijing = 2026-12-02 16:00 UTC.
        let from = 1_796_227_200_000;
        let to = from + 86_400_000;
        let sales = [
            sale("T1", "S1", "a", 100, SaleState::Paid, from + 3_600_000),
            sale("T2", "S1", "b", 200, SaleState::Paid, from + 3_600_000),
            sale(
                "T3",
                "S2",
                "c",
                300,
                SaleState::Unresolved,
                from + 7_200_000,
            ),
            sale("T3", "S2", "d", 400, SaleState::Failed, from - 1),
        ];
        let refunds = [OfficeRefund {
            till_id: "T1".into(),
            store: "S1".into(),
            out_refund_no: "r".into(),
            out_trade_no: "a".into(),
            refund_fee: Fen(50),
            state: RefundState::Success,
            created_ms: from + 4_000_000,
        }];
        let r = ChainReport::of((from, to), None, &sales, &refunds, &sales, &[], &[]);
        assert_eq!(r.all.sales, 3);
        assert_eq!(r.all.paid, Fen(300));
        assert_eq!(r.all.net(), NetFen(250));
        assert_eq!(r.by_store["S1"].paid, Fen(300));
        assert_eq!(r.by_store["S2"].unsettled, 1);
        assert_eq!(r.by_till[&("S1".into(), "T1".into())].refunded, Fen(50));
        assert_eq!(r.by_hour[&1].paid, Fen(300));
        assert_eq!(r.by_state["unresolved"], (1, Fen(300)));
        assert_eq!(r.unsettled.len(), 1);
        assert!(r.unsettled[0].en().contains("till T3"));
        assert!(r.unsettled[0].zh().contains("收银台 T3"));
        let s2 = ChainReport::of((from, to), Some("S2"), &sales, &refunds, &sales, &[], &[]);
        assert_eq!((s2.all.sales, s2.all.paid), (1, Fen(0)));
        assert_eq!(beijing_hour(from), 0);
        // Row 205: an hour that refunds yesterday's sale pays out, and says so.
        let refund_hour = Totals {
            refunded: Fen(50),
            ..Totals::default()
        };
        assert_eq!(refund_hour.net(), NetFen(-50));
        assert_eq!(refund_hour.net().to_string(), "-0.50");
        // Row 217: release-till is advised only where it helps.
        assert!(
            refused_advice("T1", "journal_behind")
                .en
                .contains("release-till T1")
        );
        let config = refused_advice("T1", "device_mismatch");
        assert!(config.en.contains("device_info") && config.en.contains("does not help"));
        assert!(config.zh.contains("device_info"));
        assert!(
            !refused_advice("T1", "bad_row")
                .en
                .contains("`paycode office release-till")
        );
    }
}
