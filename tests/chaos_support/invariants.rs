//! The invariant checker (docs/reliability.md §9): the simulator's ledger against the journal and
//! against what the cashier was told. Pure: it takes the two records and returns every broken
//! rule as a sentence, so a failing seed can print all of them at once.

use std::collections::{BTreeMap, BTreeSet};

use paycode::checkout::Status;
use paycode::journal::{SaleRow, SaleState};
use paycode::simulator::{LedgerView, OrderView};

/// What the cashier was shown at the end of a sale (run_sale, recover or retry_pending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub out_trade_no: String,
    pub status: Status,
    pub transaction_id: Option<String>,
    /// The outcome said "charged and refunded" (Reversed { refunded: true }, or Refunded).
    pub refunded: bool,
    /// Returned through the refund API past the reverse window: the journal keeps it paid.
    pub by_refund: bool,
    /// Not charged on WeChat's own signed refusal (a Rescan or Failed code): WeChat's guide
    /// warns it can hide a payment, which closing the order later returns.
    pub definite: bool,
}

/// Every rule `ledger`, `rows` (the whole journal), `pending` (the till's pending list) and
/// `claims` (in the order they were shown) break; empty when all hold.
pub fn check(
    ledger: &LedgerView,
    rows: &[SaleRow],
    pending: &[String],
    claims: &[Claim],
) -> Vec<String> {
    check_with(ledger, rows, pending, &[], claims, false)
}

/// [`check`]; `revoked_reading`: the simulator queries a reversed paid order as REVOKED, so a
/// reverse of a payment the till never saw reads "not charged" by WeChat's own answer (the
/// customer was charged and refunded: the net still has to be 0). `closing`: the definite
/// failures the till still asks about (`recovery::failures_to_close`): one whose order WeChat
/// still holds open is never reversed (nothing proves it the till's own), and a payment that
/// lands on it later is returned by that closing.
pub fn check_with(
    ledger: &LedgerView,
    rows: &[SaleRow],
    pending: &[String],
    closing: &[String],
    claims: &[Claim],
    revoked_reading: bool,
) -> Vec<String> {
    let mut bad = Vec::new();
    let by_no: BTreeMap<&str, &OrderView> = ledger
        .orders
        .iter()
        .map(|o| (o.out_trade_no.as_str(), o))
        .collect();
    let journal: BTreeMap<&str, &SaleRow> =
        rows.iter().map(|s| (s.out_trade_no.as_str(), s)).collect();
    let pending: BTreeSet<&str> = pending.iter().map(String::as_str).collect();

    for o in &ledger.orders {
        let no = &o.out_trade_no;
        let micropays = o.requests.get("micropay").copied().unwrap_or(0);
        if micropays > 1 {
            bad.push(format!(
                "{no}: WeChat saw {micropays} micropays for one out_trade_no"
            ));
        }
        if o.charged > o.amount {
            bad.push(format!(
                "{no}: charged {} over the amount {}",
                o.charged, o.amount
            ));
        }
        if o.refunded > o.charged {
            bad.push(format!(
                "{no}: refunded {} more than charged {}",
                o.refunded, o.charged
            ));
        }
        match journal.get(no.as_str()) {
            None => bad.push(format!(
                "{no}: in the ledger ({}) but not in the journal",
                o.state
            )),
            Some(s) if s.total_fee.0 != o.amount => bad.push(format!(
                "{no}: journal amount {} but WeChat amount {}",
                s.total_fee.0, o.amount
            )),
            Some(_) => {}
        }
    }

    for s in rows {
        let no = s.out_trade_no.as_str();
        let order = by_no.get(no);
        let net = order.map_or(0, |o| o.charged.saturating_sub(o.refunded));
        match s.state {
            SaleState::Paid => match order {
                None => bad.push(format!("{no}: journal Paid but WeChat never saw the order")),
                Some(o) => {
                    if o.state != "SUCCESS" || net != o.amount {
                        bad.push(format!(
                            "{no}: journal Paid but WeChat says {} (charged {}, refunded {})",
                            o.state, o.charged, o.refunded
                        ));
                    }
                    if s.transaction_id != o.transaction_id {
                        bad.push(format!(
                            "{no}: journal transaction {:?} but WeChat's is {:?}",
                            s.transaction_id, o.transaction_id
                        ));
                    }
                }
            },
            SaleState::Failed | SaleState::Reversed => {
                if net != 0 {
                    bad.push(format!(
                        "{no}: journal {} but the customer is out {net} fen",
                        s.state.as_str()
                    ));
                }
                let still_closing = closing.iter().any(|c| c == no);
                if let Some(o) = order.filter(|o| o.state == "USERPAYING" && !still_closing) {
                    bad.push(format!(
                        "{no}: journal {} but WeChat's order is still open ({}): the customer can still pay",
                        s.state.as_str(),
                        o.state
                    ));
                }
                if let Some(o) = order.filter(|o| o.refund_pending > 0) {
                    bad.push(format!(
                        "{no}: {} fen still being refunded",
                        o.refund_pending
                    ));
                }
            }
            SaleState::Unresolved => {
                if !pending.contains(no) {
                    bad.push(format!("{no}: unresolved but not on the pending list"));
                }
            }
            open => bad.push(format!("{no}: left {} after recovery", open.as_str())),
        }
    }
    for no in &pending {
        if journal
            .get(no)
            .is_none_or(|s| s.state != SaleState::Unresolved)
        {
            bad.push(format!(
                "{no}: on the pending list but not unresolved in the journal"
            ));
        }
    }

    // One customer (one payment code) pays for one purchase at most once.
    let mut per_code: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for o in &ledger.orders {
        let e = per_code.entry(o.code.as_str()).or_default();
        e.0 += o.charged.saturating_sub(o.refunded);
        e.1 = e.1.max(o.amount);
    }
    for (code, (net, amount)) in per_code {
        if net > amount {
            bad.push(format!(
                "code {code}: net charge {net} for a purchase of {amount}"
            ));
        }
    }

    bad.extend(check_claims(&by_no, &journal, claims, revoked_reading));
    bad
}

/// What the cashier saw agrees with the money: never Paid without the charge, never "not
/// charged" while the customer is out money, and a final answer is never contradicted later.
fn check_claims(
    by_no: &BTreeMap<&str, &OrderView>,
    journal: &BTreeMap<&str, &SaleRow>,
    claims: &[Claim],
    revoked_reading: bool,
) -> Vec<String> {
    let mut bad = Vec::new();
    let mut final_seen: BTreeMap<&str, Status> = BTreeMap::new();
    for (i, c) in claims.iter().enumerate() {
        let no = c.out_trade_no.as_str();
        // A signed refusal later found hiding a payment: the later report (closing the order
        // returned the money) is what counts, and is checked in its turn.
        let reopened = c.status == Status::Failed
            && c.definite
            && claims[i + 1..]
                .iter()
                .any(|l| l.out_trade_no == c.out_trade_no);
        if reopened {
            continue;
        }
        let order = by_no.get(no);
        let net = order.map_or(0, |o| o.charged.saturating_sub(o.refunded));
        let charged = order.map_or(0, |o| o.charged);
        let row = journal.get(no).map(|s| s.state);
        match c.status {
            Status::Paid => {
                let ok = order.is_some_and(|o| {
                    o.state == "SUCCESS" && net == o.amount && o.transaction_id == c.transaction_id
                });
                if !ok {
                    bad.push(format!(
                        "{no}: cashier told PAID ({:?}) but WeChat has {:?}",
                        c.transaction_id,
                        order.map(|o| (&o.state, o.charged, o.refunded, &o.transaction_id))
                    ));
                }
            }
            Status::Failed | Status::Reversed => {
                if net != 0 {
                    bad.push(format!(
                        "{no}: cashier told {} but the customer is out {net} fen",
                        c.status.as_str()
                    ));
                }
                let revoked = order.is_some_and(|o| o.state == "REVOKED");
                if charged > 0 && !c.refunded && !(revoked_reading && revoked) {
                    bad.push(format!(
                        "{no}: cashier told {} (not charged) but the customer was charged and refunded",
                        c.status.as_str()
                    ));
                }
            }
            Status::Unresolved => {}
        }
        if c.status != Status::Unresolved {
            if let Some(prev) = final_seen.insert(no, c.status).filter(|p| *p != c.status) {
                bad.push(format!(
                    "{no}: cashier told {} and later {}",
                    prev.as_str(),
                    c.status.as_str()
                ));
            }
            let want = match c.status {
                Status::Paid => SaleState::Paid,
                Status::Failed => SaleState::Failed,
                Status::Reversed if c.by_refund => SaleState::Paid,
                Status::Reversed => SaleState::Reversed,
                Status::Unresolved => SaleState::Unresolved,
            };
            if row != Some(want) {
                bad.push(format!(
                    "{no}: cashier told {} but the journal says {:?}",
                    c.status.as_str(),
                    row.map(SaleState::as_str)
                ));
            }
        }
    }
    bad
}
