//! The backup-host decisions, pure (docs/protocol.md §1): which host a call tries first, and
//! whether a try that failed there may be repeated on the other. Time is a parameter; the client
//! holds one [`HostChoice`] and reads the clock.
use std::time::{Duration, Instant};

use super::{Endpoint, HostUsed, TransportError};

/// How long the backup stays first after it answered a call the primary could not take.
/// WeChat's own APIv2 SDK (Java, `WXPayDomainSimpleImpl`) switches to the backup host and tries
/// the primary again 3 minutes later (docs/protocol.md §1).
pub const STICKY_PERIOD: Duration = Duration::from_secs(3 * 60);

/// The host preference of one client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct HostChoice {
    /// The backup goes first until then; `None`: the primary goes first.
    sticky_until: Option<Instant>,
}

impl HostChoice {
    /// The host to try first at `now`.
    pub fn first(&self, now: Instant) -> HostUsed {
        match self.sticky_until {
            Some(until) if now < until => HostUsed::Backup,
            _ => HostUsed::Primary,
        }
    }

    /// A call tried `first` at `now` and `answered` gave the reply. The backup answering after
    /// the primary failed makes it first for [`STICKY_PERIOD`]; the primary answering after the
    /// backup failed makes the primary first again. Anything else changes nothing: the period
    /// is not extended, so the primary gets its regular second chance.
    pub fn record(&mut self, now: Instant, first: HostUsed, answered: HostUsed) {
        match (first, answered) {
            (HostUsed::Primary, HostUsed::Backup) => self.sticky_until = Some(now + STICKY_PERIOD),
            (HostUsed::Backup, HostUsed::Primary) => self.sticky_until = None,
            _ => {}
        }
    }
}

/// Why a try of `ep` that failed with `e` goes to the other host (for the log), or `None`: the
/// error stands. Micropay and refund move money: only a failure that proves the request never
/// left this machine lets them go elsewhere. The other calls are safe to repeat, so a timeout
/// or a refused handshake also sends them on. An HTTP status or a broken reply never does.
pub(crate) fn failover_reason(ep: Endpoint, e: &TransportError) -> Option<&'static str> {
    match e {
        TransportError::Connect { .. } => Some("no connection: the request was not sent"),
        TransportError::Tls {
            request_written: false,
            ..
        } => Some("TLS handshake failed: the request was not sent"),
        TransportError::Tls { .. } if !ep.moves_money() => {
            Some("TLS handshake refused; the call is safe to repeat")
        }
        TransportError::Timeout { .. } if !ep.moves_money() => {
            Some("timed out; the call is safe to repeat")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)] // one real reading; the tests add spans to it
    fn t0() -> Instant {
        Instant::now()
    }

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn the_primary_goes_first_until_the_backup_answers_for_it() {
        let t = t0();
        let mut c = HostChoice::default();
        assert_eq!(c.first(t), HostUsed::Primary);
        // Primary answered, or the backup answered while preferred: nothing changes.
        c.record(t, HostUsed::Primary, HostUsed::Primary);
        assert_eq!(c.first(t), HostUsed::Primary);

        c.record(t, HostUsed::Primary, HostUsed::Backup);
        assert_eq!(c.first(t), HostUsed::Backup);
        assert_eq!(c.first(t + STICKY_PERIOD - SEC), HostUsed::Backup);
        assert_eq!(c.first(t + STICKY_PERIOD), HostUsed::Primary);
    }

    #[test]
    fn answers_from_the_preferred_backup_do_not_extend_the_period() {
        let t = t0();
        let mut c = HostChoice::default();
        c.record(t, HostUsed::Primary, HostUsed::Backup);
        c.record(t + 100 * SEC, HostUsed::Backup, HostUsed::Backup);
        assert_eq!(c.first(t + STICKY_PERIOD), HostUsed::Primary);
    }

    #[test]
    fn a_new_failover_after_the_period_starts_a_new_one() {
        let t = t0();
        let mut c = HostChoice::default();
        c.record(t, HostUsed::Primary, HostUsed::Backup);
        let later = t + STICKY_PERIOD + 10 * SEC;
        assert_eq!(c.first(later), HostUsed::Primary);
        c.record(later, HostUsed::Primary, HostUsed::Backup);
        assert_eq!(c.first(later + STICKY_PERIOD - SEC), HostUsed::Backup);
        assert_eq!(c.first(later + STICKY_PERIOD), HostUsed::Primary);
    }

    #[test]
    fn the_primary_answering_for_a_failed_backup_ends_the_period() {
        let t = t0();
        let mut c = HostChoice::default();
        c.record(t, HostUsed::Primary, HostUsed::Backup);
        c.record(t + SEC, HostUsed::Backup, HostUsed::Primary);
        assert_eq!(c.first(t + 2 * SEC), HostUsed::Primary);
    }

    fn errors() -> Vec<TransportError> {
        let host = || "h:443".to_string();
        vec![
            TransportError::Connect {
                host: host(),
                reason: "refused".into(),
            },
            TransportError::Tls {
                host: host(),
                reason: "UnknownIssuer".into(),
                request_written: false,
            },
            TransportError::Tls {
                host: host(),
                reason: "CertificateRequired".into(),
                request_written: true,
            },
            TransportError::NoClientCert {
                path: "/secapi/pay/refund",
            },
            TransportError::Timeout {
                host: host(),
                after: SEC,
            },
            TransportError::Body {
                host: host(),
                reason: "reset".into(),
            },
            TransportError::TooLarge {
                host: host(),
                limit: 1,
            },
            TransportError::Status {
                host: host(),
                status: 502,
                excerpt: String::new(),
            },
        ]
    }

    #[test]
    fn money_moves_elsewhere_only_when_the_request_surely_never_left() {
        for ep in [Endpoint::Micropay, Endpoint::Refund] {
            let goes: Vec<bool> = errors()
                .iter()
                .map(|e| failover_reason(ep, e).is_some())
                .collect();
            // Connect, Tls before the write; never a written TLS refusal, a missing
            // certificate (a setting: the other host needs it too) or anything after sending.
            assert_eq!(
                goes,
                [true, true, false, false, false, false, false, false],
                "{ep:?}"
            );
            for e in errors() {
                if failover_reason(ep, &e).is_some() {
                    assert!(!e.maybe_delivered(), "{ep:?} {e:?}");
                }
            }
        }
    }

    #[test]
    fn calls_safe_to_repeat_also_move_on_a_timeout_or_a_refused_handshake() {
        for ep in [
            Endpoint::OrderQuery,
            Endpoint::Reverse,
            Endpoint::RefundQuery,
            Endpoint::DownloadBill,
        ] {
            let goes: Vec<bool> = errors()
                .iter()
                .map(|e| failover_reason(ep, e).is_some())
                .collect();
            assert_eq!(
                goes,
                [true, true, true, false, true, false, false, false],
                "{ep:?}"
            );
        }
    }
}
