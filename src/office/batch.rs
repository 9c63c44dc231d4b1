//! A batch as it goes to the office (pure): outbox rows → one JSON array for
//! `jsonb_to_recordset`, each row keeping only the fields the office has columns for. The
//! triggers already leave the masked code and the flow checkpoint out; this is the second
//! fence, so a column added to the journal later never leaves the till unasked.

use crate::journal::OutboxRow;
use crate::words::Bilingual;
use serde_json::{Map, Value, json};

/// The fields shipped per kind.
pub fn allowed(kind: &str) -> &'static [&'static str] {
    match kind {
        "sale" => &[
            "out_trade_no",
            "total_fee",
            "code_fp",
            "device_info",
            "created_ms",
            "updated_ms",
            "state",
            "transaction_id",
            "bank_type",
            "cash_fee",
            "err_code",
            "message",
            "attach",
            "pos_ref",
        ],
        "event" => &[
            "event_id",
            "out_trade_no",
            "at_ms",
            "kind",
            "detail",
            "err_code",
        ],
        "refund" => &[
            "out_refund_no",
            "out_trade_no",
            "refund_fee",
            "reason",
            "state",
            "refund_id",
            "err_code",
            "created_ms",
            "updated_ms",
            "authorised",
        ],
        "shift" => &[
            "shift_id",
            "device_info",
            "opened_ms",
            "closed_ms",
            "report",
        ],
        _ => &[],
    }
}

/// An outbox row that cannot be shipped (written by hand, or a newer build's kind).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("outbox row {seq} cannot be shipped: {why}; nothing after it is shipped until it is fixed")]
pub struct BatchError {
    pub seq: i64,
    pub why: String,
}

impl Bilingual for BatchError {
    fn zh(&self) -> String {
        format!(
            "待上传记录 {} 无法上传:{};修复前其后的记录不会上传",
            self.seq, self.why
        )
    }
}

/// The batch: `[{seq, kind, key, row, at_ms}, …]` in seq order.
pub fn payload(rows: &[OutboxRow]) -> Result<Value, BatchError> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let fields = allowed(&r.kind);
        if fields.is_empty() {
            return Err(BatchError {
                seq: r.seq,
                why: format!("unknown kind {:?}", crate::untrusted::shown(&r.kind, 20)),
            });
        }
        let Ok(Value::Object(all)) = serde_json::from_str::<Value>(&r.row) else {
            return Err(BatchError {
                seq: r.seq,
                why: "the row is not a JSON object".into(),
            });
        };
        let kept: Map<String, Value> = all
            .into_iter()
            .filter(|(k, _)| fields.contains(&k.as_str()))
            .collect();
        out.push(json!({
            "seq": r.seq,
            "kind": r.kind,
            "key": r.key,
            "row": Value::Object(kept),
            "at_ms": r.at_ms,
        }));
    }
    Ok(Value::Array(out))
}

/// Rows per batch for a backlog of `n` rows after `acked`: all of it when it fits.
pub fn rows_left(acked: i64, last: i64) -> u64 {
    u64::try_from(last.saturating_sub(acked)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, kind: &str, text: &str) -> OutboxRow {
        OutboxRow {
            seq,
            kind: kind.into(),
            key: "k".into(),
            row: text.into(),
            at_ms: 5,
        }
    }

    #[test]
    fn only_known_fields_leave_the_till() {
        let p = payload(&[row(
            1,
            "sale",
            r#"{"out_trade_no":"T1","code_masked":"1345****","flow":"{}","code_fp":"ab"}"#,
        )])
        .unwrap();
        let r = &p[0]["row"];
        assert_eq!(r["out_trade_no"], "T1");
        assert_eq!(r["code_fp"], "ab");
        assert!(r.get("code_masked").is_none() && r.get("flow").is_none());
        assert_eq!(p[0]["seq"], 1);
    }

    #[test]
    fn a_strange_row_stops_the_batch() {
        assert_eq!(payload(&[row(3, "nope", "{}")]).unwrap_err().seq, 3);
        assert_eq!(payload(&[row(4, "sale", "[1]")]).unwrap_err().seq, 4);
        assert_eq!(rows_left(5, 3), 0);
        assert_eq!(rows_left(3, 5), 2);
    }
}
