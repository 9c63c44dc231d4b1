//! The shipper (IO edge, docs/office.md §2): register this till, ask the office for the last
//! seq it holds of this till's generation (the office is the truth), check that row is this
//! journal's own, then send the outbox after it in batches. Each batch is one statement —
//! `INSERT … ON CONFLICT (till_id, generation, seq) DO NOTHING` —
//! so a batch sent twice (a lost acknowledgement, a replay) changes nothing the second time:
//! at-least-once on the wire, exactly-once in the tables. A till never waits for this.

use super::connect::{Target, connect, till_password};
use super::{OfficeError, batch};
use crate::config::OfficeConfig;
use crate::journal::Journal;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Who this till is, as it presents itself to the office.
#[derive(Debug, Clone)]
pub struct Identity {
    /// `[merchant] device_info`: the till's id at the office.
    pub device_info: String,
    /// The merchant number its sales are paid to (the sub-merchant's in service-provider mode).
    pub mch_id: String,
}

impl Identity {
    /// From the till's config.
    pub fn of(cfg: &crate::config::Config) -> Self {
        Self {
            device_info: cfg.merchant.device_info.clone(),
            mch_id: cfg
                .merchant
                .sub_mch_id
                .clone()
                .unwrap_or_else(|| cfg.merchant.mch_id.clone()),
        }
    }
}

/// What one shipping round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shipped {
    /// Outbox rows sent in this round.
    pub rows: u64,
    pub batches: u64,
    /// The last seq the office holds now.
    pub acked: i64,
    /// The newest seq in the outbox when the round ended.
    pub last: i64,
}

/// The wall clock in Unix ms (for `register`'s last-seen time only).
#[allow(clippy::disallowed_methods)] // the shipper's IO edge: the office records when a till was seen
fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}

/// A till as the office took it this session: its id and the generation its rows go under
/// (a new one after `office release-till`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub till: String,
    pub generation: i32,
}

/// Present this till: refused (a copied config or journal, an unknown role) or registered.
pub async fn register(
    client: &tokio_postgres::Client,
    journal_id: &str,
    me: &Identity,
) -> Result<Registered, OfficeError> {
    let row = client
        .query_one(
            "SELECT paycode.register($1, $2, $3, $4)",
            &[&journal_id, &me.device_info, &me.mch_id, &now_ms()],
        )
        .await
        .map_err(OfficeError::from_pg)?;
    let till: String = row.get(0);
    // Read after `register` committed its row: the generation it registered under.
    let generation: i32 = client
        .query_one("SELECT paycode.my_generation()", &[])
        .await?
        .get(0);
    Ok(Registered { till, generation })
}

/// The last seq of this till's generation the office holds (0: none yet).
pub async fn acked(client: &tokio_postgres::Client, me: &Registered) -> Result<i64, OfficeError> {
    Ok(client
        .query_one(
            "SELECT coalesce(max(seq), 0) FROM paycode.journal
             WHERE till_id = $1 AND generation = $2",
            &[&me.till, &me.generation],
        )
        .await?
        .get(0))
}

/// Whether the office's last row of this generation is the journal's own row at that seq.
/// It is not when the journal went back (restored from a backup) or is a copy selling on a
/// second machine: then its next rows would reuse seqs the office holds, and be skipped.
/// (`&mut` so the future is `Send`, as in [`round`].)
pub async fn continues(
    client: &tokio_postgres::Client,
    me: &Registered,
    journal: &mut Journal,
    acked: i64,
) -> Result<bool, OfficeError> {
    if acked == 0 {
        return Ok(true);
    }
    let mine = journal.outbox_after(acked - 1, 1)?;
    let Some(row) = mine.first().filter(|r| r.seq == acked) else {
        return Ok(false);
    };
    let payload = batch::payload(std::slice::from_ref(row))?;
    let same: Option<bool> = client
        .query_opt(
            "SELECT j.kind = x.kind AND j.key = x.key AND j.row = x.row AND j.at_ms = x.at_ms
             FROM paycode.journal j,
                  jsonb_to_recordset($4::jsonb)
                      AS x(seq bigint, kind text, key text, row jsonb, at_ms bigint)
             WHERE j.till_id = $1 AND j.generation = $2 AND j.seq = $3",
            &[&me.till, &me.generation, &acked, &payload],
        )
        .await?
        .map(|r| r.get(0));
    Ok(same == Some(true))
}

/// What the office did with one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Taken: this many rows.
    Taken(u64),
    /// Not the next rows: the office's last seq is now this (another shipper of this journal
    /// got there first, or the batch was sent again). Nothing was taken.
    NotNext(i64),
    /// The till was released at the office (`office release-till`) since it registered.
    Released,
}

/// Send one batch through `paycode.ship`: taken only as the next seqs after the office's
/// last row, and only when `prev` (this journal's row at that seq) is that row — checked
/// under the till's lock, so two machines shipping one copied journal never interleave.
pub async fn send(
    client: &tokio_postgres::Client,
    me: &Registered,
    journal_id: &str,
    prev: Option<&crate::journal::OutboxRow>,
    rows: &[crate::journal::OutboxRow],
) -> Result<Sent, OfficeError> {
    let payload = batch::payload(rows)?;
    let prev = match prev {
        Some(p) => batch::payload(std::slice::from_ref(p))?
            .get(0)
            .cloned()
            .unwrap_or(serde_json::Value::Null),
        None => serde_json::Value::Null,
    };
    let result = client
        .query_one(
            "SELECT paycode.ship($1, $2, $3::jsonb, $4::jsonb)",
            &[&me.generation, &journal_id, &prev, &payload],
        )
        .await;
    match result {
        Ok(row) => Ok(Sent::Taken(row.get::<_, i64>(0) as u64)),
        Err(e) => {
            let said = e.as_db_error().map(|d| d.message().to_string());
            if let Some(n) = said
                .as_deref()
                .and_then(|m| m.strip_prefix("paycode:not_next:"))
                .and_then(|n| n.parse().ok())
            {
                return Ok(Sent::NotNext(n));
            }
            if said
                .as_deref()
                .is_some_and(|m| m.starts_with("paycode:released:"))
            {
                return Ok(Sent::Released);
            }
            Err(OfficeError::from_pg(e))
        }
    }
}

/// This journal's outbox row at `seq`, if it has it.
fn row_at(
    journal: &mut Journal,
    seq: i64,
) -> Result<Option<crate::journal::OutboxRow>, OfficeError> {
    Ok(journal
        .outbox_after(seq - 1, 1)?
        .into_iter()
        .next()
        .filter(|r| r.seq == seq))
}

/// One connected session: register, then ship until the outbox is empty past the office's
/// last seq. `journal` is a connection of its own (reads only; `&mut` so the future is `Send`).
/// A till released at the office while this ran registers again once, under its new
/// generation, and ships its journal in full.
pub async fn round(
    client: &tokio_postgres::Client,
    journal: &mut Journal,
    me: &Identity,
    batch_rows: usize,
) -> Result<Shipped, OfficeError> {
    let mut done = Shipped::default();
    for _ in 0..2 {
        if ship_all(client, journal, me, batch_rows, &mut done).await? {
            done.last = journal.outbox_last()?;
            return Ok(done);
        }
    }
    Err(OfficeError::Refused(super::Refusal::Released(
        me.device_info.clone(),
    )))
}

/// Register and ship everything past the office's last row; false when the till was
/// released at the office meanwhile.
async fn ship_all(
    client: &tokio_postgres::Client,
    journal: &mut Journal,
    me: &Identity,
    batch_rows: usize,
    done: &mut Shipped,
) -> Result<bool, OfficeError> {
    let journal_id = journal.journal_id()?;
    let till = register(client, &journal_id, me).await?;
    let behind = |journal: &mut Journal, office_seq: i64| -> Result<OfficeError, OfficeError> {
        Ok(OfficeError::Refused(super::Refusal::JournalBehind {
            till: till.till.clone(),
            office_seq,
            local_last: journal.outbox_last()?,
        }))
    };
    done.acked = acked(client, &till).await?;
    if !continues(client, &till, journal, done.acked).await? {
        return Err(behind(journal, done.acked)?);
    }
    let mut prev = row_at(journal, done.acked)?;
    loop {
        let rows = journal.outbox_after(done.acked, batch_rows)?;
        let Some(last) = rows.last().cloned() else {
            return Ok(true);
        };
        match send(client, &till, &journal_id, prev.as_ref(), &rows).await {
            Ok(Sent::Taken(n)) => {
                done.rows += n;
                done.batches += 1;
                done.acked = last.seq;
                prev = Some(last);
            }
            Ok(Sent::NotNext(office_seq)) => {
                // Another shipper got there first: go on from the office's last row, once it
                // is this journal's own. A copy's rows there, up to the very end of this
                // journal, left nothing to send and this round said "shipped" (row 204).
                if !continues(client, &till, journal, office_seq).await? {
                    return Err(behind(journal, office_seq)?);
                }
                done.acked = office_seq;
                prev = row_at(journal, office_seq)?;
            }
            Ok(Sent::Released) => return Ok(false),
            Err(OfficeError::Refused(super::Refusal::JournalBehind { office_seq, .. })) => {
                return Err(behind(journal, office_seq)?);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Tell the office this machine was refused (best effort: it is only for the report).
pub async fn tell_refused(client: &tokio_postgres::Client, e: &OfficeError) {
    if let OfficeError::Refused(r) = e
        && let Err(err) = client
            .execute("SELECT paycode.refused($1)", &[&r.key()])
            .await
    {
        tracing::debug!(error = %err, "could not tell the office this machine was refused");
    }
}

/// `paycode office ship`: connect, one round, disconnect.
pub async fn once(
    cfg: &OfficeConfig,
    journal_path: &Path,
    me: &Identity,
) -> Result<Shipped, OfficeError> {
    let password = till_password(cfg)?;
    let client = connect(&Target::of(cfg), Some(&password)).await?;
    let mut journal = Journal::open(journal_path)?;
    let result = round(&client, &mut journal, me, cfg.batch_rows).await;
    if let Err(e) = &result {
        tell_refused(&client, e).await;
    }
    result
}

/// The background shipper of the cashier screen and `paycode serve` (and `office ship
/// --follow`): rounds every `[office] interval`; when the office is away, the wait doubles up
/// to a minute and the outbox simply grows. It never stops the till; every failure is a log
/// line (the first of a run of failures a warning, the office refusing this till an error).
pub async fn follow(cfg: OfficeConfig, journal_path: PathBuf, me: Identity) {
    let mut client: Option<tokio_postgres::Client> = None;
    let mut journal: Option<Journal> = None;
    let mut wait = cfg.interval;
    let mut failing = false;
    loop {
        let result = async {
            if journal.is_none() {
                journal = Some(Journal::open(&journal_path)?);
            }
            if client
                .as_ref()
                .is_none_or(tokio_postgres::Client::is_closed)
            {
                let password = till_password(&cfg)?;
                client = Some(connect(&Target::of(&cfg), Some(&password)).await?);
            }
            match (&client, &mut journal) {
                (Some(c), Some(j)) => {
                    let result = round(c, j, &me, cfg.batch_rows).await;
                    if let Err(e) = &result {
                        tell_refused(c, e).await;
                    }
                    result
                }
                _ => Err(OfficeError::Timeout(0)),
            }
        }
        .await;
        match result {
            Ok(s) => {
                if failing || s.rows > 0 {
                    tracing::info!(
                        rows = s.rows,
                        batches = s.batches,
                        acked = s.acked,
                        "journal shipped to the office"
                    );
                }
                failing = false;
                wait = cfg.interval;
            }
            Err(e) => {
                use crate::words::Bilingual;
                client = None;
                if matches!(e, OfficeError::Refused(_)) {
                    tracing::error!(error = %e, zh = %e.zh(), "the office refused this till's journal; sales go on");
                } else if !failing {
                    tracing::warn!(error = %e, "cannot ship the journal to the office; sales go on, the outbox keeps it");
                } else {
                    tracing::debug!(error = %e, "office still away");
                }
                failing = true;
                wait = (wait * 2).min(Duration::from_secs(60)).max(cfg.interval);
            }
        }
        tokio::time::sleep(wait).await;
    }
}
