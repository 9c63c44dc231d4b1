//! What changes the simulator, as data: the operations a request or a trainer action applies to
//! the pure core, their one-line JSON form for the shared log (`store.rs`), and the scrubbing
//! that keeps full payment codes out of that log. Pure.
//!
//! The core is deterministic, so replaying the same operations at the same simulated times
//! rebuilds the same state: that is how several paycode processes share one embedded simulator.

use super::ledger::{AdminError, OrderStatus, Sim, SimTime};
use super::reply::SimReply;
use super::rules::Endpoint;
use super::scenario::{Fault, scenario_of};
use crate::authcode::AuthCode;
use crate::wxpay::sign::{ApiKey, SignType, sign, verify};
use crate::wxpay::xml::{Fields, decode, encode};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::time::Duration;

/// One change to the simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// A WeChat request (its body already scrubbed when it is logged).
    Request {
        ep: Endpoint,
        post: bool,
        body: Vec<u8>,
    },
    /// A request that never decoded: it only counts (its body is not kept).
    Noise { ep: Endpoint },
    /// Trainer: the customer confirms the password.
    Confirm(String),
    /// Trainer: the customer closes the password box.
    Cancel(String),
    /// Queue a fault for the next `count` requests.
    Fault {
        fault: Fault,
        count: u32,
        endpoint: Option<Endpoint>,
    },
    /// Trainer: move simulated time forward (days in a test, e.g. past the reverse window).
    Advance(Duration),
    /// Trainer: drop every queued fault (`DELETE /__sim/fault`, `simulate --reset`).
    ClearFaults,
}

impl Op {
    /// The operation as a shared log keeps it: a request's body [`scrub`]bed, the rest as is.
    pub fn scrubbed(self, key: &ApiKey) -> Op {
        match self {
            Op::Request { ep, post, body } => scrub(ep, post, &body, key),
            other => other,
        }
    }
}

/// What applying an [`Op`] answered.
#[derive(Debug)]
pub enum Outcome {
    /// The reply to a request.
    Reply(SimReply),
    /// The result of a trainer action.
    Admin(Result<OrderStatus, AdminError>),
    /// A fault was queued.
    Queued,
}

/// Apply `op` to `sim` at simulated time `now`.
pub fn apply(sim: &mut Sim, op: &Op, now: SimTime) -> Outcome {
    let now = sim.shifted(now);
    match op {
        Op::Request { ep, post, body } => Outcome::Reply(sim.handle_request(*ep, *post, body, now)),
        // Not a POST with an empty body: refused before decoding, so only the count moves —
        // the same state change as the undecodable body it stands for.
        Op::Noise { ep } => Outcome::Reply(sim.handle_request(*ep, false, b"", now)),
        Op::Confirm(no) => Outcome::Admin(sim.confirm(no, now)),
        Op::Cancel(no) => Outcome::Admin(sim.cancel(no, now)),
        Op::Fault {
            fault,
            count,
            endpoint,
        } => {
            sim.add_fault(*fault, *count, *endpoint);
            Outcome::Queued
        }
        Op::Advance(by) => {
            sim.skip(*by);
            Outcome::Queued
        }
        Op::ClearFaults => {
            sim.clear_faults();
            Outcome::Queued
        }
    }
}

/// The request as the simulator will handle and log it: a body that does not decode becomes
/// [`Op::Noise`]; a payment code is replaced by a stand-in (see [`stand_in`]) and, when the
/// merchant's signature was good, the body is signed again so the stand-in verifies.
pub fn scrub(ep: Endpoint, post: bool, body: &[u8], key: &ApiKey) -> Op {
    let Ok(fields) = decode(body) else {
        return Op::Noise { ep };
    };
    let Some(code) = fields.get("auth_code").filter(|c| !c.is_empty()) else {
        return Op::Request {
            ep,
            post,
            body: body.to_vec(),
        };
    };
    let replaced = stand_in(code, key);
    let st = fields
        .get("sign_type")
        .map_or(Some(SignType::Md5), SignType::from_wire);
    let signed_ok = match (st, fields.get("sign")) {
        (Some(t), Some(given)) => verify(fields.iter(), key, t, given),
        _ => false,
    };
    let mut out: Fields = fields
        .iter()
        .map(|(n, v)| {
            (
                n,
                if n == "auth_code" {
                    replaced.as_str()
                } else {
                    v
                },
            )
        })
        .collect();
    if let (true, Some(t)) = (signed_ok, st) {
        let fresh = sign(out.iter(), key, t);
        out = out
            .iter()
            .map(|(n, v)| (n, if n == "sign" { fresh.as_str() } else { v }))
            .collect();
    }
    Op::Request {
        ep,
        post,
        body: encode(out.iter()).into_bytes(),
    }
}

/// A code that behaves like `code` in the simulator and reveals no more than its masked form:
/// the wallet prefix, the scenario digits (3–6, only when they name a scenario), a keyed hash in
/// place of the serial, and the last four digits (the simulated customer). A code that is not a
/// WeChat code becomes `"INVALID"`, which the simulator refuses the same way.
pub fn stand_in(code: &str, key: &ApiKey) -> String {
    let Ok(valid) = AuthCode::parse(code) else {
        return "INVALID".into();
    };
    let full = valid.reveal();
    let prefix = full.get(..2).unwrap_or("13");
    let owner = full.get(14..).unwrap_or("0000");
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(key.expose().as_bytes()) {
        Ok(m) => m,
        Err(_) => return "INVALID".into(),
    };
    mac.update(full.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut serial = 0u64;
    for b in digest.iter().take(8) {
        serial = serial << 8 | u64::from(*b);
    }
    format!(
        "{prefix}{:04}{:08}{owner}",
        scenario_of(full).id,
        serial % 100_000_000
    )
}

/// One line of the log: the simulated time in ms and the operation.
#[derive(Debug, Serialize, Deserialize)]
struct Line {
    t: u64,
    #[serde(flatten)]
    op: LineOp,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum LineOp {
    Request {
        ep: String,
        post: bool,
        body: String,
    },
    Noise {
        ep: String,
    },
    Confirm {
        no: String,
    },
    Cancel {
        no: String,
    },
    Fault {
        kind: String,
        ms: u64,
        count: u32,
        endpoint: Option<String>,
    },
    Advance {
        ms: u64,
    },
    ClearFaults,
}

/// `op` at `now` as one JSON line (no newline). `None` only for a body that is not UTF-8, which
/// [`scrub`] never produces.
pub fn to_line(op: &Op, now: SimTime) -> Option<String> {
    let op = match op {
        Op::Request { ep, post, body } => LineOp::Request {
            ep: ep.name().into(),
            post: *post,
            body: String::from_utf8(body.clone()).ok()?,
        },
        Op::Noise { ep } => LineOp::Noise {
            ep: ep.name().into(),
        },
        Op::Confirm(no) => LineOp::Confirm { no: no.clone() },
        Op::Cancel(no) => LineOp::Cancel { no: no.clone() },
        Op::Fault {
            fault,
            count,
            endpoint,
        } => {
            let (kind, ms) = fault.kind();
            LineOp::Fault {
                kind: kind.into(),
                ms,
                count: *count,
                endpoint: endpoint.map(|e| e.name().into()),
            }
        }
        Op::Advance(by) => LineOp::Advance {
            ms: u64::try_from(by.as_millis()).unwrap_or(u64::MAX),
        },
        Op::ClearFaults => LineOp::ClearFaults,
    };
    let t = u64::try_from(now.as_millis()).unwrap_or(u64::MAX);
    serde_json::to_string(&Line { t, op }).ok()
}

/// Parse one log line back; `None` for a line this build cannot read.
pub fn from_line(line: &str) -> Option<(Op, SimTime)> {
    let l: Line = serde_json::from_str(line).ok()?;
    let ep = |name: &str| Endpoint::from_name(name);
    let op = match l.op {
        LineOp::Request { ep: e, post, body } => Op::Request {
            ep: ep(&e)?,
            post,
            body: body.into_bytes(),
        },
        LineOp::Noise { ep: e } => Op::Noise { ep: ep(&e)? },
        LineOp::Confirm { no } => Op::Confirm(no),
        LineOp::Cancel { no } => Op::Cancel(no),
        LineOp::Fault {
            kind,
            ms,
            count,
            endpoint,
        } => Op::Fault {
            fault: Fault::from_kind(&kind, ms)?,
            count,
            endpoint: match endpoint {
                Some(e) => Some(ep(&e)?),
                None => None,
            },
        },
        LineOp::Advance { ms } => Op::Advance(Duration::from_millis(ms)),
        LineOp::ClearFaults => Op::ClearFaults,
    };
    Some((op, Duration::from_millis(l.t)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::scenario::{code_for, scenarios};

    fn key() -> ApiKey {
        ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap()
    }

    #[test]
    fn stand_in_keeps_what_the_simulator_reads_and_hides_the_serial() {
        let sc = &scenarios()[3];
        let code = code_for(sc, 987_654_321_234);
        let s = stand_in(&code, &key());
        assert_eq!(s.len(), 18);
        assert!(AuthCode::parse(&s).is_ok(), "{s} must stay a WeChat code");
        assert_eq!(&s[..6], &code[..6], "prefix and scenario digits kept");
        assert_eq!(&s[14..], &code[14..], "the customer (last 4) kept");
        assert_ne!(s, code);
        assert!(!s.contains("98765432"), "the serial is not carried over");
        assert_eq!(s, stand_in(&code, &key()), "same code, same stand-in");
        let other = code_for(sc, 987_654_321_235);
        assert_ne!(stand_in(&other, &key()), s);
        assert_eq!(stand_in("283456789012345678901", &key()), "INVALID");
        assert_eq!(stand_in("1234", &key()), "INVALID");
    }

    #[test]
    fn scrub_resigns_a_good_request_and_keeps_a_bad_signature_bad() {
        let code = "134567890123456789";
        let scrubbed = |sign_value: &str| {
            let mut f = vec![
                ("appid", "wx1"),
                ("auth_code", code),
                ("sign_type", "HMAC-SHA256"),
            ];
            f.push(("sign", sign_value));
            match scrub(
                Endpoint::Micropay,
                true,
                encode(f.iter().copied()).as_bytes(),
                &key(),
            ) {
                Op::Request { body, .. } => String::from_utf8(body).unwrap(),
                other => panic!("a decodable body stays a request: {other:?}"),
            }
        };
        let good = sign(
            [
                ("appid", "wx1"),
                ("auth_code", code),
                ("sign_type", "HMAC-SHA256"),
            ],
            &key(),
            SignType::HmacSha256,
        );
        let text = scrubbed(&good);
        assert!(!text.contains(code));
        let out = decode(text.as_bytes()).unwrap();
        let given = out.get("sign").unwrap();
        assert!(verify(out.iter(), &key(), SignType::HmacSha256, given));

        let out = decode(scrubbed("00FF").as_bytes()).unwrap();
        assert_eq!(out.get("sign"), Some("00FF"), "a bad signature stays bad");

        assert_eq!(
            scrub(Endpoint::OrderQuery, true, b"<html>", &key()),
            Op::Noise {
                ep: Endpoint::OrderQuery
            }
        );
    }

    #[test]
    fn every_op_survives_its_line() {
        let ops = [
            Op::Request {
                ep: Endpoint::Reverse,
                post: true,
                body: b"<xml><a>1</a></xml>".to_vec(),
            },
            Op::Noise {
                ep: Endpoint::DownloadBill,
            },
            Op::Confirm("T1".into()),
            Op::Cancel("T2".into()),
            Op::Fault {
                fault: Fault::Delay(Duration::from_millis(1500)),
                count: 2,
                endpoint: Some(Endpoint::OrderQuery),
            },
            Op::Fault {
                fault: Fault::Recall,
                count: 3,
                endpoint: None,
            },
            Op::Advance(Duration::from_secs(8 * 86_400)),
        ];
        for (i, op) in ops.iter().enumerate() {
            let now = Duration::from_millis(1000 + i as u64);
            let line = to_line(op, now).unwrap();
            assert!(!line.contains('\n'));
            assert_eq!(from_line(&line), Some((op.clone(), now)), "{line}");
        }
        assert_eq!(from_line("{\"t\":1,\"op\":\"teleport\"}"), None);
        assert_eq!(
            from_line("{\"t\":1,\"op\":\"advance\",\"ms\":5}"),
            Some((
                Op::Advance(Duration::from_millis(5)),
                Duration::from_millis(1)
            ))
        );
        assert_eq!(from_line("not json"), None);
    }
}
