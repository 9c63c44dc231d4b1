//! The timing numbers of a sale (docs/protocol.md §8). Defaults are paycode's; all are configurable
//! and the tests run them on virtual time.

use crate::words::Bilingual;
use std::time::Duration;

/// When to query, when to give up waiting and reverse, and how hard to retry the reverse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// First orderquery after micropay said USERPAYING (the customer is typing a password).
    pub first_query_after: Duration,
    /// Pause between orderqueries while the outcome is open.
    pub query_interval: Duration,
    /// Stop waiting for the customer this long after submit and reverse instead.
    pub password_timeout: Duration,
    /// Never call reverse sooner than this after submit (WeChat asks for about 15 s).
    pub reverse_not_before: Duration,
    /// Reverse calls per run before the sale is left Unresolved (retries on recall=Y and errors).
    pub reverse_max_attempts: u32,
    /// Pause before the first reverse retry; it doubles per retry up to four times this.
    pub reverse_backoff: Duration,
    /// First orderquery after an unknown micropay outcome (SYSTEMERROR, timeout, garbage, …).
    pub unknown_query_after: Duration,
    /// ORDERNOTEXIST answers needed before they are trusted (a fresh order may lag).
    pub notexist_rounds: u32,
    /// How long after submit an order never proven this sale's (its micropay's answer was lost)
    /// is still queried instead of reversed; then the sale is unresolved. Above WeChat's 45 s
    /// auto-revoke, so an unpaid order is closed by WeChat before then.
    pub unproven_wait: Duration,
}

impl Default for Policy {
    /// docs/protocol.md §8: first query 5 s after USERPAYING, every 5 s, reverse at 30 s but never
    /// before 15 s; a short pause after an unknown outcome; 10 reverse tries 2 s apart and more.
    /// These are also `[checkout]`'s documented defaults (config.toml).
    fn default() -> Self {
        Policy {
            first_query_after: Duration::from_secs(5),
            query_interval: Duration::from_secs(5),
            password_timeout: Duration::from_secs(30),
            reverse_not_before: Duration::from_secs(15),
            reverse_max_attempts: 10,
            reverse_backoff: Duration::from_secs(2),
            unknown_query_after: Duration::from_secs(2),
            notexist_rounds: 3,
            unproven_wait: Duration::from_secs(60),
        }
    }
}

/// A policy that cannot run a sale safely; the message names the setting and a working value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("query_interval must be at least 1ms (it paces every orderquery); use e.g. \"5s\"")]
    ZeroQueryInterval,
    #[error(
        "reverse_max_attempts must be at least 1 (an unclear sale must be reversed); use e.g. 10"
    )]
    ZeroReverseAttempts,
    #[error(
        "password_timeout ({timeout_ms}ms) is shorter than first_query_after ({first_ms}ms): \
         the customer would get no time to pay; use e.g. password_timeout = \"30s\""
    )]
    TimeoutBeforeFirstQuery { timeout_ms: u128, first_ms: u128 },
}

impl Bilingual for PolicyError {
    fn zh(&self) -> String {
        match self {
            Self::ZeroQueryInterval => {
                "query_interval 至少为 1ms(它决定查单的间隔);例如设为 \"5s\"".into()
            }
            Self::ZeroReverseAttempts => {
                "reverse_max_attempts 至少为 1(结果不明的交易必须撤销);例如设为 10".into()
            }
            Self::TimeoutBeforeFirstQuery {
                timeout_ms,
                first_ms,
            } => format!(
                "password_timeout({timeout_ms}ms)短于 first_query_after({first_ms}ms):\
                 顾客没有时间输入密码;例如设为 password_timeout = \"30s\""
            ),
        }
    }
}

impl Policy {
    /// Refuse numbers that would make the flow spin or give up before it started.
    pub fn check(&self) -> Result<(), PolicyError> {
        if self.query_interval < Duration::from_millis(1) {
            return Err(PolicyError::ZeroQueryInterval);
        }
        if self.reverse_max_attempts == 0 {
            return Err(PolicyError::ZeroReverseAttempts);
        }
        if self.password_timeout < self.first_query_after {
            return Err(PolicyError::TimeoutBeforeFirstQuery {
                timeout_ms: self.password_timeout.as_millis(),
                first_ms: self.first_query_after.as_millis(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_matches_protocol_section_8() {
        let p = Policy::default();
        assert_eq!(p.check(), Ok(()));
        assert_eq!(p.password_timeout, Duration::from_secs(30));
        assert_eq!(p.reverse_not_before, Duration::from_secs(15));
        assert_eq!(p.query_interval, Duration::from_secs(5));
    }

    #[test]
    fn unsafe_policies_are_refused_with_both_languages() {
        let cases = [
            (
                Policy {
                    query_interval: Duration::from_micros(500),
                    ..Policy::default()
                },
                PolicyError::ZeroQueryInterval,
            ),
            (
                Policy {
                    reverse_max_attempts: 0,
                    ..Policy::default()
                },
                PolicyError::ZeroReverseAttempts,
            ),
            (
                Policy {
                    password_timeout: Duration::from_secs(1),
                    ..Policy::default()
                },
                PolicyError::TimeoutBeforeFirstQuery {
                    timeout_ms: 1000,
                    first_ms: 5000,
                },
            ),
        ];
        for (policy, want) in cases {
            let err = policy.check().unwrap_err();
            assert_eq!(err, want);
            assert!(!err.to_string().is_empty() && err.zh().contains("例如"));
        }
    }
}
