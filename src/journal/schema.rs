//! Schema migrations, tracked in SQLite's `user_version`. Migrations are append-only: never edit
//! one that has shipped, add the next.

use super::JournalError;
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

const MIGRATIONS: &[&str] = &[
    // 1: sales, their append-only event log, refunds.
    "CREATE TABLE sales (
        id              INTEGER PRIMARY KEY,
        out_trade_no    TEXT NOT NULL UNIQUE,
        total_fee       INTEGER NOT NULL CHECK (total_fee > 0),
        code_fp         TEXT NOT NULL,
        code_masked     TEXT NOT NULL,
        device_info     TEXT NOT NULL,
        created_ms      INTEGER NOT NULL,
        updated_ms      INTEGER NOT NULL,
        state           TEXT NOT NULL,
        transaction_id  TEXT,
        bank_type       TEXT,
        cash_fee        INTEGER,
        err_code        TEXT,
        message         TEXT
    );
    CREATE INDEX sales_created ON sales(created_ms);
    CREATE INDEX sales_state ON sales(state);
    CREATE TABLE events (
        id        INTEGER PRIMARY KEY,
        sale_id   INTEGER NOT NULL REFERENCES sales(id),
        at_ms     INTEGER NOT NULL,
        kind      TEXT NOT NULL,
        detail    TEXT NOT NULL,
        err_code  TEXT
    );
    CREATE INDEX events_sale ON events(sale_id);
    CREATE TABLE refunds (
        id             INTEGER PRIMARY KEY,
        sale_id        INTEGER NOT NULL REFERENCES sales(id),
        out_refund_no  TEXT NOT NULL UNIQUE,
        refund_fee     INTEGER NOT NULL CHECK (refund_fee > 0),
        reason         TEXT NOT NULL,
        state          TEXT NOT NULL,
        refund_id      TEXT,
        created_ms     INTEGER NOT NULL,
        updated_ms     INTEGER NOT NULL
    );",
    // 2: the checkout flow's resumable summary (JSON) per sale, duplicate-scan lookups by code
    // fingerprint, refund errors.
    "ALTER TABLE sales ADD COLUMN flow TEXT;
    CREATE INDEX sales_code_fp ON sales(code_fp, created_ms);
    CREATE INDEX sales_device ON sales(device_info, out_trade_no);
    ALTER TABLE refunds ADD COLUMN err_code TEXT;
    CREATE INDEX refunds_sale ON refunds(sale_id);",
    // 3: the sale's own tag, sent as the micropay's `attach` and checked on every query (an
    // order under the same number without it is another till's).
    "ALTER TABLE sales ADD COLUMN attach TEXT;",
    // 4: the POS's own order id (`pay --ref`), the idempotency key: at most one paid sale each.
    "ALTER TABLE sales ADD COLUMN pos_ref TEXT;
    CREATE INDEX sales_pos_ref ON sales(pos_ref) WHERE pos_ref IS NOT NULL;",
    // 5: what authorised each refund (the manager PIN and where, or paycode itself).
    "ALTER TABLE refunds ADD COLUMN authorised TEXT;",
    // 6: closed shifts (handovers). A shift runs from the previous close (or the first sale) to
    // its own close; the report is kept as the totals were at closing and cannot be edited or
    // removed afterwards (the triggers refuse it, whoever writes).
    "CREATE TABLE shifts (
        id            INTEGER PRIMARY KEY,
        device_info   TEXT NOT NULL,
        opened_ms     INTEGER NOT NULL,
        closed_ms     INTEGER NOT NULL CHECK (closed_ms >= opened_ms),
        report        TEXT NOT NULL
    );
    CREATE INDEX shifts_closed ON shifts(closed_ms);
    CREATE TRIGGER shifts_no_update BEFORE UPDATE ON shifts
        BEGIN SELECT RAISE(ABORT, 'a closed shift cannot be edited'); END;
    CREATE TRIGGER shifts_no_delete BEFORE DELETE ON shifts
        BEGIN SELECT RAISE(ABORT, 'a closed shift cannot be removed'); END;",
    // 7: the receipt print queue. A slip is queued after its sale or refund is committed and
    // rendered from the journal when it prints, so a printer away never blocks or loses a sale.
    // `claimed_ms`: a process is printing it (the cashier screen and `paycode receipt` may both
    // drain the queue; a slip is claimed by one of them, never printed twice). A shift's
    // report (`kind = 'shift'`) names its closed shift in `shift_id`.
    "CREATE TABLE print_queue (
        id             INTEGER PRIMARY KEY,
        kind           TEXT NOT NULL CHECK (kind IN ('sale', 'refund', 'shift')),
        out_trade_no   TEXT NOT NULL,
        out_refund_no  TEXT,
        shift_id       INTEGER CHECK ((kind = 'shift') = (shift_id IS NOT NULL)),
        reprint        INTEGER NOT NULL DEFAULT 0,
        created_ms     INTEGER NOT NULL,
        printed_ms     INTEGER,
        skipped_ms     INTEGER,
        attempts       INTEGER NOT NULL DEFAULT 0,
        last_error     TEXT,
        claimed_ms     INTEGER
    );
    CREATE INDEX print_queue_open ON print_queue(id) WHERE printed_ms IS NULL AND skipped_ms IS NULL;",
    // 8: the POS's own refund id (`POST /v1/refunds` `refund_ref`), the idempotency key of a
    // refund asked over the local API: it names at most one refund, so a retry never refunds
    // twice.
    "ALTER TABLE refunds ADD COLUMN pos_refund_ref TEXT;
    CREATE UNIQUE INDEX refunds_pos_refund_ref ON refunds(pos_refund_ref)
        WHERE pos_refund_ref IS NOT NULL;",
    // 9: the outbox for the head office (issue 14, docs/office.md): every change of a sale, an
    // event, a refund or a shift is copied into `outbox` by a trigger, so it lands in the same
    // SQLite transaction as the write itself and no write path had to change. `seq` only grows
    // (AUTOINCREMENT: never reused, even after a delete) and is the shipping order. A row is the
    // whole record as it is after the change, without the masked code or the flow checkpoint:
    // nothing secret leaves the till (the keyed code fingerprint at most). `meta.journal_id` is
    // made once, here, and names this journal at the office (a copied config is told apart by
    // it). The rows already in the journal are copied into the outbox in their order.
    "CREATE TABLE meta (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
    );
    INSERT INTO meta (key, value) VALUES ('journal_id', lower(hex(randomblob(16))));
    CREATE TABLE outbox (
        seq    INTEGER PRIMARY KEY AUTOINCREMENT,
        kind   TEXT NOT NULL CHECK (kind IN ('sale', 'event', 'refund', 'shift')),
        key    TEXT NOT NULL,
        row    TEXT NOT NULL,
        at_ms  INTEGER NOT NULL
    );
    INSERT INTO outbox (kind, key, row, at_ms)
        SELECT 'sale', out_trade_no, json_object('out_trade_no', out_trade_no, 'total_fee', total_fee, 'code_fp', code_fp,
            'device_info', device_info, 'created_ms', created_ms, 'updated_ms', updated_ms,
            'state', state, 'transaction_id', transaction_id, 'bank_type', bank_type,
            'cash_fee', cash_fee, 'err_code', err_code, 'message', message,
            'attach', attach, 'pos_ref', pos_ref), updated_ms FROM sales ORDER BY id;
    INSERT INTO outbox (kind, key, row, at_ms)
        SELECT 'refund', out_refund_no, json_object('out_refund_no', out_refund_no, 'out_trade_no', (SELECT s.out_trade_no FROM sales s WHERE s.id = refunds.sale_id),
            'refund_fee', refund_fee, 'reason', reason, 'state', state, 'refund_id', refund_id,
            'err_code', err_code, 'created_ms', created_ms, 'updated_ms', updated_ms,
            'authorised', authorised), updated_ms FROM refunds ORDER BY id;
    INSERT INTO outbox (kind, key, row, at_ms)
        SELECT 'event', id, json_object('event_id', id, 'out_trade_no', (SELECT s.out_trade_no FROM sales s WHERE s.id = events.sale_id),
            'at_ms', at_ms, 'kind', kind, 'detail', detail, 'err_code', err_code), at_ms FROM events ORDER BY id;
    INSERT INTO outbox (kind, key, row, at_ms)
        SELECT 'shift', id, json_object('shift_id', id, 'device_info', device_info, 'opened_ms', opened_ms,
            'closed_ms', closed_ms, 'report', report), closed_ms FROM shifts ORDER BY id;
    CREATE TRIGGER outbox_sale_insert AFTER INSERT ON sales BEGIN
        INSERT INTO outbox (kind, key, row, at_ms) VALUES ('sale', NEW.out_trade_no,
            json_object('out_trade_no', NEW.out_trade_no, 'total_fee', NEW.total_fee, 'code_fp', NEW.code_fp,
            'device_info', NEW.device_info, 'created_ms', NEW.created_ms, 'updated_ms', NEW.updated_ms,
            'state', NEW.state, 'transaction_id', NEW.transaction_id, 'bank_type', NEW.bank_type,
            'cash_fee', NEW.cash_fee, 'err_code', NEW.err_code, 'message', NEW.message,
            'attach', NEW.attach, 'pos_ref', NEW.pos_ref), NEW.updated_ms);
    END;
    CREATE TRIGGER outbox_sale_update AFTER UPDATE ON sales BEGIN
        INSERT INTO outbox (kind, key, row, at_ms) VALUES ('sale', NEW.out_trade_no,
            json_object('out_trade_no', NEW.out_trade_no, 'total_fee', NEW.total_fee, 'code_fp', NEW.code_fp,
            'device_info', NEW.device_info, 'created_ms', NEW.created_ms, 'updated_ms', NEW.updated_ms,
            'state', NEW.state, 'transaction_id', NEW.transaction_id, 'bank_type', NEW.bank_type,
            'cash_fee', NEW.cash_fee, 'err_code', NEW.err_code, 'message', NEW.message,
            'attach', NEW.attach, 'pos_ref', NEW.pos_ref), NEW.updated_ms);
    END;
    CREATE TRIGGER outbox_event_insert AFTER INSERT ON events BEGIN
        INSERT INTO outbox (kind, key, row, at_ms) VALUES ('event', NEW.id,
            json_object('event_id', NEW.id, 'out_trade_no', (SELECT out_trade_no FROM sales WHERE id = NEW.sale_id),
            'at_ms', NEW.at_ms, 'kind', NEW.kind, 'detail', NEW.detail, 'err_code', NEW.err_code), NEW.at_ms);
    END;
    CREATE TRIGGER outbox_refund_insert AFTER INSERT ON refunds BEGIN
        INSERT INTO outbox (kind, key, row, at_ms) VALUES ('refund', NEW.out_refund_no,
            json_object('out_refund_no', NEW.out_refund_no, 'out_trade_no', (SELECT out_trade_no FROM sales WHERE id = NEW.sale_id),
            'refund_fee', NEW.refund_fee, 'reason', NEW.reason, 'state', NEW.state, 'refund_id', NEW.refund_id,
            'err_code', NEW.err_code, 'created_ms', NEW.created_ms, 'updated_ms', NEW.updated_ms,
            'authorised', NEW.authorised), NEW.updated_ms);
    END;
    CREATE TRIGGER outbox_refund_update AFTER UPDATE ON refunds BEGIN
        INSERT INTO outbox (kind, key, row, at_ms) VALUES ('refund', NEW.out_refund_no,
            json_object('out_refund_no', NEW.out_refund_no, 'out_trade_no', (SELECT out_trade_no FROM sales WHERE id = NEW.sale_id),
            'refund_fee', NEW.refund_fee, 'reason', NEW.reason, 'state', NEW.state, 'refund_id', NEW.refund_id,
            'err_code', NEW.err_code, 'created_ms', NEW.created_ms, 'updated_ms', NEW.updated_ms,
            'authorised', NEW.authorised), NEW.updated_ms);
    END;
    CREATE TRIGGER outbox_shift_insert AFTER INSERT ON shifts BEGIN
        INSERT INTO outbox (kind, key, row, at_ms) VALUES ('shift', NEW.id,
            json_object('shift_id', NEW.id, 'device_info', NEW.device_info, 'opened_ms', NEW.opened_ms,
            'closed_ms', NEW.closed_ms, 'report', NEW.report), NEW.closed_ms);
    END;",
];

/// Bring the schema up to date; refuse a journal written by a newer build. An up-to-date journal
/// is only read, so a `history` opened beside a running `pay` never takes the write lock. A
/// migration re-reads the version inside an IMMEDIATE transaction, so two processes opening a new
/// journal at once migrate it exactly once instead of racing to create the same tables.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), JournalError> {
    let known = MIGRATIONS.len() as i64;
    let version =
        |c: &Connection| c.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0));
    let seen = version(conn)?;
    if seen == known {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = version(&tx)?;
    if found > known {
        return Err(JournalError::TooNew {
            path: path.to_path_buf(),
            found,
            known,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
    }
    tx.commit()?;
    Ok(())
}
