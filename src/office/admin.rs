//! The office's side (IO edge): `paycode office init` (the schema, as the office's admin) and
//! `paycode office add-till` (a till's role and registry row, and what to put in its config),
//! `paycode office release-till` (a till's next journal taken under a new generation),
//! `paycode office add-reader` (a login for reports that writes nothing).

use super::OfficeError;
use crate::words::Words;

/// A `device_info` the office can take as a till id and a role name: 1–15 of
/// `[0-9A-Za-z_-]`, as `[merchant] device_info` must be.
pub fn check_device(device_info: &str) -> Result<(), Words> {
    if is_role_part(device_info) {
        Ok(())
    } else {
        let shown = crate::untrusted::shown_arg(device_info);
        Err(Words::new(
            format!(
                "{shown:?} is not a device_info: 1 to 15 letters, digits, _ or -, as the till's [merchant] device_info"
            ),
            format!(
                "{shown:?} 不是有效的 device_info:须为 1 至 15 个字母、数字、_ 或 -,与收银台的 [merchant] device_info 一致"
            ),
        ))
    }
}

/// 1–15 of `[0-9A-Za-z_-]`: safe inside a quoted role name.
fn is_role_part(s: &str) -> bool {
    (1..=15).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A reporting login's name, as `office add-reader` takes it.
pub fn check_reader(name: &str) -> Result<(), Words> {
    if is_role_part(name) {
        Ok(())
    } else {
        let shown = crate::untrusted::shown_arg(name);
        Err(Words::new(
            format!("{shown:?} is not a login name: use 1 to 15 letters, digits, _ or -"),
            format!("{shown:?} 不是有效的账号名:请用 1 至 15 个字母、数字、_ 或 -"),
        ))
    }
}

/// The database role of a till.
pub fn role_of(device_info: &str) -> String {
    format!("paycode_till_{device_info}")
}

/// A fresh password for a till's role: 32 hex digits from the OS generator.
pub fn new_password() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Create (or bring up to date) the office schema; returns (found, now).
pub async fn init(client: &mut tokio_postgres::Client) -> Result<(i64, i64), OfficeError> {
    super::pg_schema::migrate(client).await
}

/// A login's connections at most: a till uses one (two while `office ship` runs beside the
/// screen's shipper); one till must not fill the office's `max_connections`.
const CONNECTIONS: u32 = 4;

/// `CREATE ROLE … LOGIN` in `group` with a SCRAM-SHA-256 verifier of `password` made here: the
/// office is never sent the password, so `log_statement = 'all'` logs only the verifier, which
/// lets nobody log in.
async fn create_login(
    tx: &tokio_postgres::Transaction<'_>,
    role: &str,
    password: &str,
    group: &str,
) -> Result<(), OfficeError> {
    let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
    // The role name is built from a checked name and the verifier is base64 with `$ : + / =`,
    // so both are safe to quote; a password cannot be a bind parameter in CREATE ROLE.
    tx.batch_execute(&format!(
        "CREATE ROLE \"{role}\" LOGIN CONNECTION LIMIT {CONNECTIONS} PASSWORD '{verifier}' IN ROLE {group}"
    ))
    .await?;
    Ok(())
}

/// Create the till's role with `password` and its registry row in `store`. The role can log
/// in and is a member of `paycode_till` (the grants and row-level security of migration 1).
pub async fn add_till(
    client: &mut tokio_postgres::Client,
    device_info: &str,
    store: &str,
    password: &str,
) -> Result<(), OfficeError> {
    let role = role_of(device_info);
    let tx = client.transaction().await?;
    // Case variants too: `t1` beside `T1` would be a second till whose orders look like T1's.
    if let Some(row) = tx
        .query_opt(
            "SELECT till_id, store FROM paycode.tills WHERE lower(till_id) = lower($1)",
            &[&device_info],
        )
        .await?
    {
        return Err(OfficeError::Refused(super::Refusal::TillExists {
            asked: device_info.to_string(),
            till: row.get(0),
            store: row.get(1),
        }));
    }
    create_login(&tx, &role, password, "paycode_till").await?;
    tx.execute(
        "INSERT INTO paycode.tills (till_id, store, role) VALUES ($1, $2, $3)",
        &[&device_info, &store, &role],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The database role of a reporting login.
pub fn reader_role_of(name: &str) -> String {
    format!("paycode_reader_{name}")
}

/// `paycode office add-reader`: a login that reads every till's rows and writes nothing
/// (migration 3). `name` is checked like a device_info.
pub async fn add_reader(
    client: &mut tokio_postgres::Client,
    name: &str,
    password: &str,
) -> Result<(), OfficeError> {
    let tx = client.transaction().await?;
    create_login(&tx, &reader_role_of(name), password, "paycode_reader").await?;
    tx.commit().await?;
    Ok(())
}

/// `paycode office release-till`: the till's next journal is taken, under a new generation
/// (a journal restored from a backup, or a fresh one on a new machine), and the merchant
/// number it presents next. The rows it shipped stay. Returns the new generation, or None when no till has this id.
pub async fn release_till(
    client: &tokio_postgres::Client,
    device_info: &str,
) -> Result<Option<Released>, OfficeError> {
    // A till with no journal bound is free already (added, or released and not shipped
    // since): a second release must not skip a generation. The merchant number stays: the
    // till's shipped sales were paid to it and reconcile under it (FAULTS row 216); the next
    // journal registered may bring another.
    let row = client
        .query_opt(
            "UPDATE paycode.tills SET
                 generation = CASE WHEN journal_id IS NULL THEN generation ELSE generation + 1 END,
                 journal_id = NULL, refused_ms = NULL, refused_kind = NULL
             WHERE till_id = $1
             RETURNING generation,
                 (SELECT t.journal_id IS NULL FROM paycode.tills t WHERE t.till_id = $1)",
            &[&device_info],
        )
        .await?;
    Ok(row.map(|r| Released {
        generation: r.get(0),
        already: r.get(1),
    }))
}

/// What `release_till` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Released {
    /// The generation the till's next journal ships under.
    pub generation: i32,
    /// No journal was bound: nothing changed.
    pub already: bool,
}
