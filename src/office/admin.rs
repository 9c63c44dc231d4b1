//! The office's side (IO edge): `paycode office init` (the schema, as the office's admin) and
//! `paycode office add-till` (a till's role and registry row, and what to put in its config).

use super::OfficeError;
use crate::words::Words;

/// A `device_info` the office can take as a till id and a role name: 1–15 of
/// `[0-9A-Za-z_-]`, as `[merchant] device_info` must be.
pub fn check_device(device_info: &str) -> Result<(), Words> {
    let ok = (1..=15).contains(&device_info.len())
        && device_info
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
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
    // The role name is a checked device_info and the password hex, so both are safe to quote;
    // a password cannot be a bind parameter in CREATE ROLE.
    tx.batch_execute(&format!(
        "CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}' IN ROLE paycode_till"
    ))
    .await?;
    tx.execute(
        "INSERT INTO paycode.tills (till_id, store, role) VALUES ($1, $2, $3)",
        &[&device_info, &store, &role],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
