//! The head office (issue 14, docs/office.md): every till's journal shipped to one PostgreSQL,
//! chain-wide reports and merchant-level reconciliation.
//!
//! - `batch` (pure): outbox rows → the JSON a batch carries, only the fields the office may have.
//! - `refusal` (pure): the office's refusals (a copied config, an unknown role) in both languages.
//! - `pg_schema`: the office database's migrations; `connect`: the connection (rustls off this
//!   machine); `ship`: register, resume from the office's last seq, send batches, and the
//!   background loop; `admin`: `office init` and `office add-till`.
//! - `report` (pure): totals by store, till, state and hour, the unresolved sales, the shifts;
//!   `merchant` (pure): a merchant's statement against all its tills' records; `read`: the
//!   office tables read back for both.

pub mod admin;
pub mod batch;
pub mod connect;
pub mod merchant;
pub mod pg_schema;
pub mod read;
pub mod refusal;
pub mod report;
pub mod ship;

use crate::words::Bilingual;

pub use refusal::Refusal;

/// Why talking to the office failed. A till goes on selling whatever this is.
#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    /// The office refused this till (see [`Refusal`]).
    #[error("{0}")]
    Refused(Refusal),
    /// PostgreSQL said no, or the connection broke (never holds the password).
    #[error("the office database: {}", pg_text(.0))]
    Pg(#[from] tokio_postgres::Error),
    #[error(
        "the office database was set up by a newer paycode (schema {found}, this build knows {known}); upgrade paycode"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error(
        "no office password: set PAYCODE_OFFICE_PASSWORD or [office] password_file (a mode-600 file)"
    )]
    NoPassword,
    #[error("TLS to the office: {0}")]
    Tls(String),
    #[error("{0}")]
    Journal(#[from] crate::journal::JournalError),
    #[error("{0}")]
    Batch(#[from] batch::BatchError),
    #[error("the office did not answer within {0} s")]
    Timeout(u64),
    #[error("{}", login_en(.role, *.missing))]
    Login { role: String, missing: bool },
    #[error(
        "cannot reach the office database at {at} ({cause}); check the network and the office's URL (a till's [office] url; at the office, --url or PAYCODE_OFFICE_ADMIN_URL); sales go on"
    )]
    Unreachable { at: String, cause: String },
}

fn login_en(role: &str, missing: bool) -> String {
    let what = if missing {
        "asks a password and none was given"
    } else {
        "refused the password (or there is no such login)"
    };
    format!(
        "the office database {what} for login {role}: a till's password is in its [office] password_file or PAYCODE_OFFICE_PASSWORD; the admin's in PAYCODE_OFFICE_ADMIN_PASSWORD"
    )
}

/// PostgreSQL's own words for an error (its message and code), or the connection's failure
/// with its cause; `tokio_postgres::Error`'s `Display` alone says only "db error".
pub fn pg_text(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return crate::untrusted::shown(
            &format!("{} (SQLSTATE {})", db.message(), db.code().code()),
            400,
        );
    }
    match std::error::Error::source(e) {
        Some(cause) => crate::untrusted::shown(&format!("{e}: {cause}"), 400),
        None => e.to_string(),
    }
}

impl OfficeError {
    /// The office refusing this till, as told apart from PostgreSQL's own refusals.
    pub fn from_pg(e: tokio_postgres::Error) -> Self {
        if let Some(db) = e.as_db_error()
            && let Some(r) = Refusal::parse(db.message())
        {
            return Self::Refused(r);
        }
        Self::Pg(e)
    }

    /// True when trying again later can help (the network, the office down); false when someone
    /// has to change something first.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Pg(e) => e.as_db_error().is_none_or(|d| {
                // Admin shutdown, too many connections, cannot connect now.
                d.code().code().starts_with("57") || d.code().code().starts_with("53")
            }),
            Self::Timeout(_) | Self::Unreachable { .. } => true,
            _ => false,
        }
    }
}

impl Bilingual for OfficeError {
    fn zh(&self) -> String {
        match self {
            Self::Refused(r) => r.zh(),
            Self::Pg(e) => format!("总部数据库:{}", pg_text(e)),
            Self::SchemaTooNew { found, known } => format!(
                "总部数据库由更新版本的 paycode 建立(结构版本 {found},本程序认识 {known}):请升级 paycode"
            ),
            Self::NoPassword => "没有总部数据库密码:请设置 PAYCODE_OFFICE_PASSWORD 或 [office] password_file(权限 600 的文件)".into(),
            Self::Tls(e) => format!("与总部的 TLS 连接:{e}"),
            Self::Journal(e) => e.zh(),
            Self::Batch(e) => e.zh(),
            Self::Timeout(s) => format!("总部数据库 {s} 秒内没有应答"),
            Self::Login { role, missing } => {
                let what = if *missing {
                    "要求密码,但未提供"
                } else {
                    "拒绝了密码(或没有该账号)"
                };
                format!(
                    "总部数据库{what}:账号 {role};收银台的密码在其 [office] password_file 或 PAYCODE_OFFICE_PASSWORD 中,管理员的密码在 PAYCODE_OFFICE_ADMIN_PASSWORD 中"
                )
            }
            Self::Unreachable { at, cause } => format!(
                "无法连接总部数据库 {at}({cause});请检查网络和总部地址(收银台的 [office] url;在总部为 --url 或 PAYCODE_OFFICE_ADMIN_URL);收款不受影响"
            ),
        }
    }
}
