//! The office database's schema, in versioned migrations (append-only, like the journal's): the
//! `paycode.schema_version` table holds the last one applied. Applied by `paycode office init`
//! as the office's admin, under an advisory lock so two runs never race.
//!
//! Every table but the till registry is keyed by `till_id` first (the distribution key of a
//! sharded PostgreSQL, ARCHITECTURE.md "Past one PostgreSQL"); there are no foreign keys
//! between tills' rows.

/// The migrations, in order. Never edit a shipped one; add the next.
pub const MIGRATIONS: &[&str] = &[
    // 1: the till registry, the shipped journal (one row per till and outbox seq, written once)
    // and the tables made from it; row-level security so a till's role reads and writes only
    // its own rows; `register`, a till's first call of every session.
    r#"
    CREATE TABLE paycode.tills (
        till_id        text PRIMARY KEY,
        store          text NOT NULL,
        role           name NOT NULL UNIQUE,
        journal_id     text UNIQUE,
        mch_id         text,
        registered_ms  bigint,
        last_seen_ms   bigint
    );
    CREATE TABLE paycode.journal (
        till_id      text NOT NULL,
        seq          bigint NOT NULL CHECK (seq > 0),
        journal_id   text NOT NULL,
        kind         text NOT NULL CHECK (kind IN ('sale', 'event', 'refund', 'shift')),
        key          text NOT NULL,
        row          jsonb NOT NULL,
        at_ms        bigint NOT NULL,
        received_ms  bigint NOT NULL DEFAULT (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
        PRIMARY KEY (till_id, seq)
    );
    CREATE TABLE paycode.sales (
        till_id         text NOT NULL,
        out_trade_no    text NOT NULL,
        seq             bigint NOT NULL,
        total_fee       bigint NOT NULL,
        code_fp         text,
        device_info     text NOT NULL,
        created_ms      bigint NOT NULL,
        updated_ms      bigint NOT NULL,
        state           text NOT NULL,
        transaction_id  text,
        bank_type       text,
        cash_fee        bigint,
        err_code        text,
        message         text,
        attach          text,
        pos_ref         text,
        PRIMARY KEY (till_id, out_trade_no)
    );
    CREATE INDEX sales_created ON paycode.sales (created_ms);
    CREATE INDEX sales_state ON paycode.sales (state);
    CREATE TABLE paycode.events (
        till_id       text NOT NULL,
        event_id      bigint NOT NULL,
        seq           bigint NOT NULL,
        out_trade_no  text,
        at_ms         bigint NOT NULL,
        kind          text NOT NULL,
        detail        text NOT NULL,
        err_code      text,
        PRIMARY KEY (till_id, event_id)
    );
    CREATE TABLE paycode.refunds (
        till_id        text NOT NULL,
        out_refund_no  text NOT NULL,
        seq            bigint NOT NULL,
        out_trade_no   text,
        refund_fee     bigint NOT NULL,
        reason         text NOT NULL,
        state          text NOT NULL,
        refund_id      text,
        err_code       text,
        created_ms     bigint NOT NULL,
        updated_ms     bigint NOT NULL,
        authorised     text,
        PRIMARY KEY (till_id, out_refund_no)
    );
    CREATE INDEX refunds_created ON paycode.refunds (created_ms);
    CREATE TABLE paycode.shifts (
        till_id      text NOT NULL,
        shift_id     bigint NOT NULL,
        seq          bigint NOT NULL,
        device_info  text NOT NULL,
        opened_ms    bigint NOT NULL,
        closed_ms    bigint NOT NULL,
        report       text NOT NULL,
        PRIMARY KEY (till_id, shift_id)
    );

    -- The calling till, by its login role (session_user: SET ROLE does not change it).
    CREATE FUNCTION paycode.my_till() RETURNS text
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog
        AS $$ SELECT till_id FROM paycode.tills WHERE role = session_user $$;
    CREATE FUNCTION paycode.my_journal() RETURNS text
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog
        AS $$ SELECT journal_id FROM paycode.tills WHERE role = session_user $$;

    -- A till's first call of a session. Refusals are raised as 'paycode:<kind>:<detail>' for
    -- the client to put in words (both languages).
    CREATE FUNCTION paycode.register(p_journal text, p_device text, p_mch text, p_now bigint)
        RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
        AS $$
    DECLARE
        t paycode.tills%ROWTYPE;
        other text;
    BEGIN
        SELECT * INTO t FROM paycode.tills WHERE role = session_user FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'paycode:not_a_till:%', session_user;
        END IF;
        IF p_device IS DISTINCT FROM t.till_id THEN
            SELECT role INTO other FROM paycode.tills WHERE till_id = p_device;
            IF FOUND THEN
                RAISE EXCEPTION 'paycode:device_taken:%', p_device;
            END IF;
            RAISE EXCEPTION 'paycode:device_mismatch:%:%', t.till_id, p_device;
        END IF;
        IF t.journal_id IS NOT NULL AND t.journal_id <> p_journal THEN
            RAISE EXCEPTION 'paycode:journal_mismatch:%', t.till_id;
        END IF;
        SELECT till_id INTO other FROM paycode.tills
            WHERE journal_id = p_journal AND till_id <> t.till_id;
        IF FOUND THEN
            RAISE EXCEPTION 'paycode:journal_taken:%', other;
        END IF;
        UPDATE paycode.tills SET journal_id = p_journal, mch_id = p_mch,
            registered_ms = coalesce(registered_ms, p_now), last_seen_ms = p_now
            WHERE till_id = t.till_id;
        RETURN t.till_id;
    END $$;

    -- The tables are made from the shipped journal as it arrives, in the same transaction: a
    -- row whose (till, seq) was there already is skipped by ON CONFLICT and never reaches
    -- this trigger, and a record is only overwritten by a newer seq.
    CREATE FUNCTION paycode.materialise() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE r jsonb := NEW.row;
    BEGIN
        IF NEW.kind = 'sale' THEN
            INSERT INTO paycode.sales AS s VALUES (NEW.till_id, r->>'out_trade_no', NEW.seq,
                (r->>'total_fee')::bigint, r->>'code_fp', r->>'device_info',
                (r->>'created_ms')::bigint, (r->>'updated_ms')::bigint, r->>'state',
                r->>'transaction_id', r->>'bank_type', (r->>'cash_fee')::bigint,
                r->>'err_code', r->>'message', r->>'attach', r->>'pos_ref')
            ON CONFLICT (till_id, out_trade_no) DO UPDATE SET seq = EXCLUDED.seq,
                total_fee = EXCLUDED.total_fee, code_fp = EXCLUDED.code_fp,
                device_info = EXCLUDED.device_info, created_ms = EXCLUDED.created_ms,
                updated_ms = EXCLUDED.updated_ms, state = EXCLUDED.state,
                transaction_id = EXCLUDED.transaction_id, bank_type = EXCLUDED.bank_type,
                cash_fee = EXCLUDED.cash_fee, err_code = EXCLUDED.err_code,
                message = EXCLUDED.message, attach = EXCLUDED.attach, pos_ref = EXCLUDED.pos_ref
            WHERE s.seq < EXCLUDED.seq;
        ELSIF NEW.kind = 'event' THEN
            INSERT INTO paycode.events VALUES (NEW.till_id, (r->>'event_id')::bigint, NEW.seq,
                r->>'out_trade_no', (r->>'at_ms')::bigint, r->>'kind', r->>'detail', r->>'err_code')
            ON CONFLICT (till_id, event_id) DO NOTHING;
        ELSIF NEW.kind = 'refund' THEN
            INSERT INTO paycode.refunds AS f VALUES (NEW.till_id, r->>'out_refund_no', NEW.seq,
                r->>'out_trade_no', (r->>'refund_fee')::bigint, r->>'reason', r->>'state',
                r->>'refund_id', r->>'err_code', (r->>'created_ms')::bigint,
                (r->>'updated_ms')::bigint, r->>'authorised')
            ON CONFLICT (till_id, out_refund_no) DO UPDATE SET seq = EXCLUDED.seq,
                out_trade_no = EXCLUDED.out_trade_no, refund_fee = EXCLUDED.refund_fee,
                reason = EXCLUDED.reason, state = EXCLUDED.state, refund_id = EXCLUDED.refund_id,
                err_code = EXCLUDED.err_code, created_ms = EXCLUDED.created_ms,
                updated_ms = EXCLUDED.updated_ms, authorised = EXCLUDED.authorised
            WHERE f.seq < EXCLUDED.seq;
        ELSIF NEW.kind = 'shift' THEN
            INSERT INTO paycode.shifts VALUES (NEW.till_id, (r->>'shift_id')::bigint, NEW.seq,
                r->>'device_info', (r->>'opened_ms')::bigint, (r->>'closed_ms')::bigint,
                r->>'report')
            ON CONFLICT (till_id, shift_id) DO NOTHING;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER journal_materialise AFTER INSERT ON paycode.journal
        FOR EACH ROW EXECUTE FUNCTION paycode.materialise();

    -- Row-level security: a till's role sees and writes only its own rows, and journal rows
    -- only under the journal it registered (a copied config with another journal is refused by
    -- PostgreSQL itself, whatever the client does). The admin owns the tables and is not bound.
    DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'paycode_till') THEN
            CREATE ROLE paycode_till NOLOGIN;
        END IF;
    END $$;
    GRANT USAGE ON SCHEMA paycode TO paycode_till;
    GRANT SELECT, INSERT ON paycode.journal TO paycode_till;
    GRANT SELECT, INSERT, UPDATE ON paycode.sales, paycode.events, paycode.refunds,
        paycode.shifts TO paycode_till;
    GRANT EXECUTE ON FUNCTION paycode.register(text, text, text, bigint), paycode.my_till(),
        paycode.my_journal() TO paycode_till;
    REVOKE ALL ON FUNCTION paycode.register(text, text, text, bigint) FROM PUBLIC;
    ALTER TABLE paycode.journal ENABLE ROW LEVEL SECURITY;
    CREATE POLICY own_rows ON paycode.journal TO paycode_till
        USING (till_id = paycode.my_till())
        WITH CHECK (till_id = paycode.my_till() AND journal_id = paycode.my_journal());
    ALTER TABLE paycode.sales ENABLE ROW LEVEL SECURITY;
    CREATE POLICY own_rows ON paycode.sales TO paycode_till
        USING (till_id = paycode.my_till()) WITH CHECK (till_id = paycode.my_till());
    ALTER TABLE paycode.events ENABLE ROW LEVEL SECURITY;
    CREATE POLICY own_rows ON paycode.events TO paycode_till
        USING (till_id = paycode.my_till()) WITH CHECK (till_id = paycode.my_till());
    ALTER TABLE paycode.refunds ENABLE ROW LEVEL SECURITY;
    CREATE POLICY own_rows ON paycode.refunds TO paycode_till
        USING (till_id = paycode.my_till()) WITH CHECK (till_id = paycode.my_till());
    ALTER TABLE paycode.shifts ENABLE ROW LEVEL SECURITY;
    CREATE POLICY own_rows ON paycode.shifts TO paycode_till
        USING (till_id = paycode.my_till()) WITH CHECK (till_id = paycode.my_till());
    "#,
    // 2: generations. A till's journal can go back (restored from a backup) or be replaced (a
    // new machine); its outbox seqs then start again below what the office holds. The office
    // starts a new generation for the till (`office release-till`) and keys shipped rows by
    // (till, generation, seq); a materialised record is overwritten only by a newer
    // (generation, seq), so the sales a restored till lost stay at the office.
    r#"
    ALTER TABLE paycode.tills ADD COLUMN generation integer NOT NULL DEFAULT 1;
    ALTER TABLE paycode.journal ADD COLUMN generation integer NOT NULL DEFAULT 1;
    ALTER TABLE paycode.journal DROP CONSTRAINT journal_pkey;
    ALTER TABLE paycode.journal ADD PRIMARY KEY (till_id, generation, seq);
    ALTER TABLE paycode.sales ADD COLUMN generation integer NOT NULL DEFAULT 1;
    ALTER TABLE paycode.events ADD COLUMN generation integer NOT NULL DEFAULT 1;
    ALTER TABLE paycode.refunds ADD COLUMN generation integer NOT NULL DEFAULT 1;
    ALTER TABLE paycode.shifts ADD COLUMN generation integer NOT NULL DEFAULT 1;

    CREATE FUNCTION paycode.my_generation() RETURNS integer
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog
        AS $$ SELECT generation FROM paycode.tills WHERE role = session_user $$;
    GRANT EXECUTE ON FUNCTION paycode.my_generation() TO paycode_till;

    DROP POLICY own_rows ON paycode.journal;
    CREATE POLICY own_rows ON paycode.journal TO paycode_till
        USING (till_id = paycode.my_till())
        WITH CHECK (till_id = paycode.my_till() AND journal_id = paycode.my_journal()
                    AND generation = paycode.my_generation());

    CREATE OR REPLACE FUNCTION paycode.materialise() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE r jsonb := NEW.row;
    BEGIN
        IF NEW.kind = 'sale' THEN
            INSERT INTO paycode.sales AS s (till_id, out_trade_no, seq, total_fee, code_fp,
                device_info, created_ms, updated_ms, state, transaction_id, bank_type, cash_fee,
                err_code, message, attach, pos_ref, generation)
            VALUES (NEW.till_id, r->>'out_trade_no', NEW.seq,
                (r->>'total_fee')::bigint, r->>'code_fp', r->>'device_info',
                (r->>'created_ms')::bigint, (r->>'updated_ms')::bigint, r->>'state',
                r->>'transaction_id', r->>'bank_type', (r->>'cash_fee')::bigint,
                r->>'err_code', r->>'message', r->>'attach', r->>'pos_ref', NEW.generation)
            ON CONFLICT (till_id, out_trade_no) DO UPDATE SET seq = EXCLUDED.seq,
                generation = EXCLUDED.generation,
                total_fee = EXCLUDED.total_fee, code_fp = EXCLUDED.code_fp,
                device_info = EXCLUDED.device_info, created_ms = EXCLUDED.created_ms,
                updated_ms = EXCLUDED.updated_ms, state = EXCLUDED.state,
                transaction_id = EXCLUDED.transaction_id, bank_type = EXCLUDED.bank_type,
                cash_fee = EXCLUDED.cash_fee, err_code = EXCLUDED.err_code,
                message = EXCLUDED.message, attach = EXCLUDED.attach, pos_ref = EXCLUDED.pos_ref
            WHERE (s.generation, s.seq) < (EXCLUDED.generation, EXCLUDED.seq);
        ELSIF NEW.kind = 'event' THEN
            INSERT INTO paycode.events AS e (till_id, event_id, seq, out_trade_no, at_ms, kind,
                detail, err_code, generation)
            VALUES (NEW.till_id, (r->>'event_id')::bigint, NEW.seq,
                r->>'out_trade_no', (r->>'at_ms')::bigint, r->>'kind', r->>'detail',
                r->>'err_code', NEW.generation)
            ON CONFLICT (till_id, event_id) DO UPDATE SET seq = EXCLUDED.seq,
                generation = EXCLUDED.generation, out_trade_no = EXCLUDED.out_trade_no,
                at_ms = EXCLUDED.at_ms, kind = EXCLUDED.kind, detail = EXCLUDED.detail,
                err_code = EXCLUDED.err_code
            WHERE (e.generation, e.seq) < (EXCLUDED.generation, EXCLUDED.seq);
        ELSIF NEW.kind = 'refund' THEN
            INSERT INTO paycode.refunds AS f (till_id, out_refund_no, seq, out_trade_no,
                refund_fee, reason, state, refund_id, err_code, created_ms, updated_ms,
                authorised, generation)
            VALUES (NEW.till_id, r->>'out_refund_no', NEW.seq,
                r->>'out_trade_no', (r->>'refund_fee')::bigint, r->>'reason', r->>'state',
                r->>'refund_id', r->>'err_code', (r->>'created_ms')::bigint,
                (r->>'updated_ms')::bigint, r->>'authorised', NEW.generation)
            ON CONFLICT (till_id, out_refund_no) DO UPDATE SET seq = EXCLUDED.seq,
                generation = EXCLUDED.generation,
                out_trade_no = EXCLUDED.out_trade_no, refund_fee = EXCLUDED.refund_fee,
                reason = EXCLUDED.reason, state = EXCLUDED.state, refund_id = EXCLUDED.refund_id,
                err_code = EXCLUDED.err_code, created_ms = EXCLUDED.created_ms,
                updated_ms = EXCLUDED.updated_ms, authorised = EXCLUDED.authorised
            WHERE (f.generation, f.seq) < (EXCLUDED.generation, EXCLUDED.seq);
        ELSIF NEW.kind = 'shift' THEN
            INSERT INTO paycode.shifts AS h (till_id, shift_id, seq, device_info, opened_ms,
                closed_ms, report, generation)
            VALUES (NEW.till_id, (r->>'shift_id')::bigint, NEW.seq,
                r->>'device_info', (r->>'opened_ms')::bigint, (r->>'closed_ms')::bigint,
                r->>'report', NEW.generation)
            ON CONFLICT (till_id, shift_id) DO UPDATE SET seq = EXCLUDED.seq,
                generation = EXCLUDED.generation, device_info = EXCLUDED.device_info,
                opened_ms = EXCLUDED.opened_ms, closed_ms = EXCLUDED.closed_ms,
                report = EXCLUDED.report
            WHERE (h.generation, h.seq) < (EXCLUDED.generation, EXCLUDED.seq);
        END IF;
        RETURN NULL;
    END $$;
    "#,
    // 3: reporting logins (`office add-reader`): members of `paycode_reader` read every till's
    // rows and the registry, and write nothing.
    r#"
    DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'paycode_reader') THEN
            CREATE ROLE paycode_reader NOLOGIN;
        END IF;
    END $$;
    GRANT USAGE ON SCHEMA paycode TO paycode_reader;
    GRANT SELECT ON paycode.tills, paycode.journal, paycode.sales, paycode.events,
        paycode.refunds, paycode.shifts, paycode.schema_version TO paycode_reader;
    CREATE POLICY reader_all ON paycode.journal FOR SELECT TO paycode_reader USING (true);
    CREATE POLICY reader_all ON paycode.sales FOR SELECT TO paycode_reader USING (true);
    CREATE POLICY reader_all ON paycode.events FOR SELECT TO paycode_reader USING (true);
    CREATE POLICY reader_all ON paycode.refunds FOR SELECT TO paycode_reader USING (true);
    CREATE POLICY reader_all ON paycode.shifts FOR SELECT TO paycode_reader USING (true);
    "#,
    // 4: review of issue 14. A till's role only adds journal rows, through `paycode.ship`:
    // the materialised tables are written by the trigger alone (SECURITY DEFINER), so a till
    // cannot rewrite a sale's total or pin it with a high seq. `register` refuses a missing or malformed journal id (it
    // cleared the binding), keeps the merchant number of first contact, and uses the office's
    // clock.
    r#"
    -- Second review: a later generation (a journal restored from a backup) replaced records
    -- of the lost timeline. Events, shifts and refunds made again under an old id are kept
    -- beside the old ones (their own time is part of the key: the same record shipped again
    -- matches, a new one under a reused id does not), and a sale is replaced by a later
    -- generation only with a snapshot at least as new by its own time.
    ALTER TABLE paycode.events DROP CONSTRAINT events_pkey;
    ALTER TABLE paycode.events ADD PRIMARY KEY (till_id, event_id, at_ms);
    ALTER TABLE paycode.shifts DROP CONSTRAINT shifts_pkey;
    ALTER TABLE paycode.shifts ADD PRIMARY KEY (till_id, shift_id, closed_ms);
    ALTER TABLE paycode.refunds DROP CONSTRAINT refunds_pkey;
    ALTER TABLE paycode.refunds ADD PRIMARY KEY (till_id, out_refund_no, created_ms);

    CREATE OR REPLACE FUNCTION paycode.materialise() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE r jsonb := NEW.row;
    BEGIN
        IF NEW.kind = 'sale' THEN
            INSERT INTO paycode.sales AS s (till_id, out_trade_no, seq, total_fee, code_fp,
                device_info, created_ms, updated_ms, state, transaction_id, bank_type, cash_fee,
                err_code, message, attach, pos_ref, generation)
            VALUES (NEW.till_id, r->>'out_trade_no', NEW.seq,
                (r->>'total_fee')::bigint, r->>'code_fp', r->>'device_info',
                (r->>'created_ms')::bigint, (r->>'updated_ms')::bigint, r->>'state',
                r->>'transaction_id', r->>'bank_type', (r->>'cash_fee')::bigint,
                r->>'err_code', r->>'message', r->>'attach', r->>'pos_ref', NEW.generation)
            ON CONFLICT (till_id, out_trade_no) DO UPDATE SET seq = EXCLUDED.seq,
                generation = EXCLUDED.generation,
                total_fee = EXCLUDED.total_fee, code_fp = EXCLUDED.code_fp,
                device_info = EXCLUDED.device_info, created_ms = EXCLUDED.created_ms,
                updated_ms = EXCLUDED.updated_ms, state = EXCLUDED.state,
                transaction_id = EXCLUDED.transaction_id, bank_type = EXCLUDED.bank_type,
                cash_fee = EXCLUDED.cash_fee, err_code = EXCLUDED.err_code,
                message = EXCLUDED.message, attach = EXCLUDED.attach, pos_ref = EXCLUDED.pos_ref
            WHERE (s.generation = EXCLUDED.generation AND s.seq < EXCLUDED.seq)
               OR (s.generation < EXCLUDED.generation AND s.updated_ms < EXCLUDED.updated_ms);
        ELSIF NEW.kind = 'event' THEN
            INSERT INTO paycode.events (till_id, event_id, seq, out_trade_no, at_ms, kind,
                detail, err_code, generation)
            VALUES (NEW.till_id, (r->>'event_id')::bigint, NEW.seq,
                r->>'out_trade_no', (r->>'at_ms')::bigint, r->>'kind', r->>'detail',
                r->>'err_code', NEW.generation)
            ON CONFLICT (till_id, event_id, at_ms) DO NOTHING;
        ELSIF NEW.kind = 'refund' THEN
            INSERT INTO paycode.refunds AS f (till_id, out_refund_no, seq, out_trade_no,
                refund_fee, reason, state, refund_id, err_code, created_ms, updated_ms,
                authorised, generation)
            VALUES (NEW.till_id, r->>'out_refund_no', NEW.seq,
                r->>'out_trade_no', (r->>'refund_fee')::bigint, r->>'reason', r->>'state',
                r->>'refund_id', r->>'err_code', (r->>'created_ms')::bigint,
                (r->>'updated_ms')::bigint, r->>'authorised', NEW.generation)
            ON CONFLICT (till_id, out_refund_no, created_ms) DO UPDATE SET seq = EXCLUDED.seq,
                generation = EXCLUDED.generation,
                out_trade_no = EXCLUDED.out_trade_no, refund_fee = EXCLUDED.refund_fee,
                reason = EXCLUDED.reason, state = EXCLUDED.state, refund_id = EXCLUDED.refund_id,
                err_code = EXCLUDED.err_code, updated_ms = EXCLUDED.updated_ms,
                authorised = EXCLUDED.authorised
            WHERE (f.generation = EXCLUDED.generation AND f.seq < EXCLUDED.seq)
               OR (f.generation < EXCLUDED.generation AND f.updated_ms < EXCLUDED.updated_ms);
        ELSIF NEW.kind = 'shift' THEN
            INSERT INTO paycode.shifts (till_id, shift_id, seq, device_info, opened_ms,
                closed_ms, report, generation)
            VALUES (NEW.till_id, (r->>'shift_id')::bigint, NEW.seq,
                r->>'device_info', (r->>'opened_ms')::bigint, (r->>'closed_ms')::bigint,
                r->>'report', NEW.generation)
            ON CONFLICT (till_id, shift_id, closed_ms) DO NOTHING;
        END IF;
        RETURN NULL;
    END $$;
    ALTER FUNCTION paycode.materialise() SECURITY DEFINER SET search_path = pg_catalog;

    -- Whoever holds a till's password can ship rows as that till; the office cannot tell a
    -- forger from the till, but it refuses every row a real till never writes (FAULTS row 196).
    CREATE FUNCTION paycode.check_row() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = pg_catalog AS $$
    DECLARE
        r jsonb := NEW.row;
        why text;
        old_fee bigint;
        old_created bigint;
    BEGIN
        IF octet_length(r::text) > 65536 THEN
            RAISE EXCEPTION 'paycode:bad_row:%:size', NEW.seq;
        END IF;
        IF NEW.kind = 'sale' THEN
            SELECT total_fee, created_ms INTO old_fee, old_created FROM paycode.sales
                WHERE till_id = NEW.till_id AND out_trade_no = NEW.key;
            why := CASE
                WHEN r->>'out_trade_no' IS DISTINCT FROM NEW.key THEN 'key'
                -- WeChat's out_trade_no: up to 32 of digits, letters and _-|*@.
                WHEN NEW.key !~ '^[0-9A-Za-z_|*@-]{1,32}$' THEN 'out_trade_no'
                WHEN r->>'device_info' IS DISTINCT FROM NEW.till_id THEN 'device_info'
                WHEN r->>'state' IS NULL OR r->>'state' NOT IN ('intent', 'submitted',
                    'reversing', 'paid', 'failed', 'reversed', 'unresolved') THEN 'state'
                WHEN coalesce((r->>'total_fee')::bigint, 0) <= 0 THEN 'total_fee'
                WHEN old_fee IS NOT NULL AND old_fee <> (r->>'total_fee')::bigint THEN 'total_fee'
                WHEN old_created IS NOT NULL
                     AND old_created IS DISTINCT FROM (r->>'created_ms')::bigint THEN 'created_ms'
            END;
        ELSIF NEW.kind = 'refund' THEN
            why := CASE
                WHEN r->>'out_refund_no' IS DISTINCT FROM NEW.key THEN 'key'
                WHEN NEW.key !~ '^[0-9A-Za-z_|*@-]{1,64}$' THEN 'out_refund_no'
                WHEN r->>'state' IS NULL OR r->>'state' NOT IN ('requested', 'processing',
                    'success', 'closed', 'change', 'refused') THEN 'state'
                WHEN coalesce((r->>'refund_fee')::bigint, 0) <= 0 THEN 'refund_fee'
                -- The sale may be in this very batch: rows before this one are visible
                -- here, though not materialised until the statement ends.
                WHEN NOT EXISTS (SELECT 1 FROM paycode.journal j WHERE j.till_id = NEW.till_id
                                 AND j.key = r->>'out_trade_no' AND j.kind = 'sale')
                    THEN 'out_trade_no'
            END;
        ELSIF NEW.kind = 'event' THEN
            why := CASE WHEN r->>'event_id' IS DISTINCT FROM NEW.key THEN 'key' END;
        ELSIF NEW.kind = 'shift' THEN
            why := CASE
                WHEN r->>'shift_id' IS DISTINCT FROM NEW.key THEN 'key'
                WHEN r->>'device_info' IS DISTINCT FROM NEW.till_id THEN 'device_info'
            END;
        END IF;
        IF why IS NOT NULL THEN
            RAISE EXCEPTION 'paycode:bad_row:%:%', NEW.seq, why;
        END IF;
        RETURN NEW;
    END $$;
    CREATE INDEX journal_key ON paycode.journal (till_id, key);

    -- A machine of a till refused (a copy, a restored or hand-edited journal) tells the
    -- office, so `office report` names the till whose sales made there are missing.
    -- Cleared by `office release-till`.
    ALTER TABLE paycode.tills ADD COLUMN refused_ms bigint, ADD COLUMN refused_kind text;
    CREATE FUNCTION paycode.refused(p_kind text) RETURNS void
        LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$
        UPDATE paycode.tills
            SET refused_ms = (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
                refused_kind = left(regexp_replace(coalesce(p_kind, ''), '[^a-z_]', '', 'g'), 32)
            WHERE role = session_user
    $$;
    REVOKE ALL ON FUNCTION paycode.refused(text) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION paycode.refused(text) TO paycode_till;
    CREATE TRIGGER journal_check BEFORE INSERT ON paycode.journal
        FOR EACH ROW EXECUTE FUNCTION paycode.check_row();
    REVOKE INSERT, UPDATE ON paycode.sales, paycode.events, paycode.refunds, paycode.shifts
        FROM paycode_till;
    REVOKE INSERT ON paycode.journal FROM paycode_till;

    -- A till adds journal rows only through `ship`: under the lock of its registry row, a
    -- batch is taken only as the very next seqs of its generation, and only when the row the
    -- till sends as its predecessor is the office's last row. Two machines shipping one
    -- copied journal can then never interleave: the second is refused `journal_behind`.
    -- `not_next` tells a second shipper of the same journal where the office is now.
    CREATE FUNCTION paycode.ship(p_generation integer, p_journal text, p_prev jsonb,
                                 p_batch jsonb)
        RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
        AS $$
    DECLARE
        t paycode.tills%ROWTYPE;
        last_seq bigint;
        first_seq bigint;
        n bigint;
        same boolean;
    BEGIN
        SELECT * INTO t FROM paycode.tills WHERE role = session_user FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'paycode:not_a_till:%', session_user;
        END IF;
        IF t.journal_id IS NULL OR t.generation <> p_generation THEN
            RAISE EXCEPTION 'paycode:released:%', t.till_id;
        END IF;
        IF t.journal_id IS DISTINCT FROM p_journal THEN
            RAISE EXCEPTION 'paycode:journal_mismatch:%', t.till_id;
        END IF;
        SELECT coalesce(max(seq), 0) INTO last_seq FROM paycode.journal
            WHERE till_id = t.till_id AND generation = t.generation;
        SELECT min(x.seq), count(*) INTO first_seq, n
            FROM jsonb_to_recordset(p_batch) AS x(seq bigint);
        IF n = 0 THEN
            RETURN 0;
        END IF;
        IF n > 10000 THEN
            RAISE EXCEPTION 'paycode:bad_batch:%', t.till_id;
        END IF;
        IF first_seq <> last_seq + 1 THEN
            RAISE EXCEPTION 'paycode:not_next:%', last_seq;
        END IF;
        IF (SELECT max(x.seq) FROM jsonb_to_recordset(p_batch) AS x(seq bigint))
           <> first_seq + n - 1 THEN
            RAISE EXCEPTION 'paycode:bad_batch:%', t.till_id;
        END IF;
        IF last_seq > 0 THEN
            SELECT j.kind = x.kind AND j.key = x.key AND j.row = x.row AND j.at_ms = x.at_ms
                INTO same
                FROM paycode.journal j,
                     jsonb_to_record(p_prev) AS x(seq bigint, kind text, key text, row jsonb,
                                                 at_ms bigint)
                WHERE j.till_id = t.till_id AND j.generation = t.generation
                  AND j.seq = last_seq AND x.seq = last_seq;
            IF same IS NOT TRUE THEN
                RAISE EXCEPTION 'paycode:journal_behind:%:%', t.till_id, last_seq;
            END IF;
        END IF;
        INSERT INTO paycode.journal (till_id, generation, journal_id, seq, kind, key, row, at_ms)
            SELECT t.till_id, t.generation, t.journal_id, x.seq, x.kind, x.key, x.row, x.at_ms
            FROM jsonb_to_recordset(p_batch)
                 AS x(seq bigint, kind text, key text, row jsonb, at_ms bigint)
            ORDER BY x.seq;
        UPDATE paycode.tills SET last_seen_ms = (extract(epoch FROM clock_timestamp()) * 1000)::bigint
            WHERE till_id = t.till_id;
        RETURN n;
    END $$;
    REVOKE ALL ON FUNCTION paycode.ship(integer, text, jsonb, jsonb) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION paycode.ship(integer, text, jsonb, jsonb) TO paycode_till;

    CREATE OR REPLACE FUNCTION paycode.register(p_journal text, p_device text, p_mch text, p_now bigint)
        RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
        AS $$
    DECLARE
        t paycode.tills%ROWTYPE;
        other text;
        now_ms bigint := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    BEGIN
        -- p_now is the till's clock; the office records its own.
        SELECT * INTO t FROM paycode.tills WHERE role = session_user FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'paycode:not_a_till:%', session_user;
        END IF;
        IF p_journal IS NULL OR p_journal !~ '^[0-9a-f]{32}$' THEN
            RAISE EXCEPTION 'paycode:bad_journal:%', t.till_id;
        END IF;
        IF p_device IS DISTINCT FROM t.till_id THEN
            SELECT role INTO other FROM paycode.tills WHERE till_id = p_device;
            IF FOUND THEN
                RAISE EXCEPTION 'paycode:device_taken:%', p_device;
            END IF;
            RAISE EXCEPTION 'paycode:device_mismatch:%:%', t.till_id, p_device;
        END IF;
        IF t.journal_id IS NOT NULL AND t.journal_id <> p_journal THEN
            RAISE EXCEPTION 'paycode:journal_mismatch:%', t.till_id;
        END IF;
        SELECT till_id INTO other FROM paycode.tills
            WHERE journal_id = p_journal AND till_id <> t.till_id;
        IF FOUND THEN
            RAISE EXCEPTION 'paycode:journal_taken:%', other;
        END IF;
        IF t.mch_id IS NOT NULL AND t.mch_id IS DISTINCT FROM p_mch THEN
            RAISE EXCEPTION 'paycode:mch_mismatch:%:%:%', t.till_id, t.mch_id,
                left(coalesce(p_mch, ''), 32);
        END IF;
        UPDATE paycode.tills SET journal_id = p_journal, mch_id = p_mch,
            registered_ms = coalesce(registered_ms, now_ms), last_seen_ms = now_ms
            WHERE till_id = t.till_id;
        RETURN t.till_id;
    END $$;
    "#,
    // 5: third review of issue 14. The trigger functions run as the office's owner; anyone
    // could call them from a trigger of their own (a temporary table) and write any till's
    // rows (FAULTS row 201). And a forger with a till's password could still ship rows no till
    // writes: a paid sale sent again, a refund above the sale, another till's order number,
    // a total WeChat cannot have (row 202).
    r#"
    REVOKE ALL ON FUNCTION paycode.materialise(), paycode.check_row() FROM PUBLIC;
    ALTER DEFAULT PRIVILEGES IN SCHEMA paycode REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
    DO $$ BEGIN
        EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    END $$;

    CREATE OR REPLACE FUNCTION paycode.check_row() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = pg_catalog AS $$
    DECLARE
        r jsonb := NEW.row;
        why text;
        old_fee bigint;
        old_created bigint;
        last_state text;
        sale_fee bigint;
        sale_no text := r->>'out_trade_no';
    BEGIN
        IF TG_TABLE_SCHEMA <> 'paycode' OR TG_TABLE_NAME <> 'journal' THEN
            RAISE EXCEPTION 'paycode:not_the_journal' USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF octet_length(r::text) > 65536 THEN
            RAISE EXCEPTION 'paycode:bad_row:%:size', NEW.seq;
        END IF;
        IF NEW.kind = 'sale' THEN
            SELECT total_fee, created_ms INTO old_fee, old_created FROM paycode.sales
                WHERE till_id = NEW.till_id AND out_trade_no = NEW.key;
            -- The sale's last state in this journal (a restored journal, a later generation,
            -- ships older states of its sales again: they are compared within it).
            SELECT j.row->>'state' INTO last_state FROM paycode.journal j
                WHERE j.till_id = NEW.till_id AND j.key = NEW.key AND j.kind = 'sale'
                  AND j.generation = NEW.generation
                ORDER BY j.seq DESC LIMIT 1;
            why := CASE
                WHEN sale_no IS DISTINCT FROM NEW.key THEN 'key'
                WHEN NEW.key !~ '^[0-9A-Za-z_|*@-]{1,32}$' THEN 'out_trade_no'
                -- A till numbers its sales with its device_info and a 17-digit Beijing-time
                -- stamp (checkout::order_no): never another till's number.
                WHEN length(NEW.key) <= 17
                     OR left(NEW.key, length(NEW.key) - 17) IS DISTINCT FROM NEW.till_id
                     OR right(NEW.key, 17) !~ '^[0-9]{17}$' THEN 'out_trade_no'
                WHEN r->>'device_info' IS DISTINCT FROM NEW.till_id THEN 'device_info'
                WHEN r->>'state' IS NULL OR r->>'state' NOT IN ('intent', 'submitted',
                    'reversing', 'paid', 'failed', 'reversed', 'unresolved') THEN 'state'
                -- A till keeps no order above WeChat's ¥10 000 000 (money::MAX_ORDER).
                WHEN coalesce((r->>'total_fee')::bigint, 0) <= 0
                     OR (r->>'total_fee')::bigint > 1000000000 THEN 'total_fee'
                WHEN old_fee IS NOT NULL AND old_fee <> (r->>'total_fee')::bigint THEN 'total_fee'
                WHEN old_created IS NOT NULL
                     AND old_created IS DISTINCT FROM (r->>'created_ms')::bigint THEN 'created_ms'
                WHEN (r->>'cash_fee')::bigint < 0 THEN 'cash_fee'
                -- Within one journal a sale never goes back to before its micropay, and a
                -- paid one is never sent again. (Paid may still become reversed, unresolved
                -- or failed: a manager's reverse, or WeChat naming it revoked.)
                WHEN last_state IS NOT NULL AND last_state <> 'intent'
                     AND r->>'state' = 'intent' THEN 'state'
                WHEN last_state = 'paid' AND r->>'state' IN ('intent', 'submitted') THEN 'state'
            END;
        ELSIF NEW.kind = 'refund' THEN
            -- The sale may be in this very batch: rows before this one are visible here,
            -- though not materialised until the statement ends.
            SELECT (j.row->>'total_fee')::bigint INTO sale_fee FROM paycode.journal j
                WHERE j.till_id = NEW.till_id AND j.key = sale_no AND j.kind = 'sale'
                LIMIT 1;
            why := CASE
                WHEN r->>'out_refund_no' IS DISTINCT FROM NEW.key THEN 'key'
                WHEN NEW.key !~ '^[0-9A-Za-z_|*@-]{1,64}$' THEN 'out_refund_no'
                -- A till numbers a refund <out_trade_no>R<n> (checkout::refund).
                WHEN sale_no IS NULL
                     OR left(NEW.key, length(sale_no)) IS DISTINCT FROM sale_no
                     OR substr(NEW.key, length(sale_no) + 1) !~ '^R[0-9]{1,18}$'
                    THEN 'out_refund_no'
                WHEN r->>'state' IS NULL OR r->>'state' NOT IN ('requested', 'processing',
                    'success', 'closed', 'change', 'refused') THEN 'state'
                WHEN sale_fee IS NULL THEN 'out_trade_no'
                WHEN coalesce((r->>'refund_fee')::bigint, 0) <= 0
                     OR (r->>'refund_fee')::bigint > sale_fee THEN 'refund_fee'
            END;
        ELSIF NEW.kind = 'event' THEN
            why := CASE WHEN r->>'event_id' IS DISTINCT FROM NEW.key THEN 'key' END;
        ELSIF NEW.kind = 'shift' THEN
            why := CASE
                WHEN r->>'shift_id' IS DISTINCT FROM NEW.key THEN 'key'
                WHEN r->>'device_info' IS DISTINCT FROM NEW.till_id THEN 'device_info'
            END;
        END IF;
        IF why IS NOT NULL THEN
            RAISE EXCEPTION 'paycode:bad_row:%:%', NEW.seq, why;
        END IF;
        RETURN NEW;
    END $$;


    CREATE OR REPLACE FUNCTION paycode.register(p_journal text, p_device text, p_mch text, p_now bigint)
        RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
        AS $$
    DECLARE
        t paycode.tills%ROWTYPE;
        other text;
        now_ms bigint := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    BEGIN
        -- p_now is the till's clock; the office records its own.
        SELECT * INTO t FROM paycode.tills WHERE role = session_user FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'paycode:not_a_till:%', session_user;
        END IF;
        IF p_journal IS NULL OR p_journal !~ '^[0-9a-f]{32}$' THEN
            RAISE EXCEPTION 'paycode:bad_journal:%', t.till_id;
        END IF;
        IF p_device IS DISTINCT FROM t.till_id THEN
            SELECT role INTO other FROM paycode.tills WHERE till_id = p_device;
            IF FOUND THEN
                RAISE EXCEPTION 'paycode:device_taken:%', p_device;
            END IF;
            RAISE EXCEPTION 'paycode:device_mismatch:%:%', t.till_id, p_device;
        END IF;
        IF t.journal_id IS NOT NULL AND t.journal_id <> p_journal THEN
            RAISE EXCEPTION 'paycode:journal_mismatch:%', t.till_id;
        END IF;
        SELECT till_id INTO other FROM paycode.tills
            WHERE journal_id = p_journal AND till_id <> t.till_id;
        IF FOUND THEN
            RAISE EXCEPTION 'paycode:journal_taken:%', other;
        END IF;
        -- A released till (no journal bound) may come back under another merchant number;
        -- release-till keeps the old one until then, for the reconcile of its sales.
        IF t.mch_id IS NOT NULL AND t.journal_id IS NOT NULL
           AND t.mch_id IS DISTINCT FROM p_mch THEN
            RAISE EXCEPTION 'paycode:mch_mismatch:%:%:%', t.till_id, t.mch_id,
                left(coalesce(p_mch, ''), 32);
        END IF;
        UPDATE paycode.tills SET journal_id = p_journal, mch_id = p_mch,
            registered_ms = coalesce(registered_ms, now_ms), last_seen_ms = now_ms
            WHERE till_id = t.till_id;
        RETURN t.till_id;
    END $$;
    "#,
];

/// Apply the migrations not yet applied; returns (found, now). Refuses a database migrated by
/// a newer paycode.
pub async fn migrate(
    client: &mut tokio_postgres::Client,
) -> Result<(i64, i64), super::OfficeError> {
    let tx = client.transaction().await?;
    tx.batch_execute(
        "SELECT pg_advisory_xact_lock(7242024014);
         CREATE SCHEMA IF NOT EXISTS paycode;
         CREATE TABLE IF NOT EXISTS paycode.schema_version (version bigint NOT NULL);
         INSERT INTO paycode.schema_version SELECT 0
             WHERE NOT EXISTS (SELECT 1 FROM paycode.schema_version);",
    )
    .await?;
    let found: i64 = tx
        .query_one("SELECT version FROM paycode.schema_version", &[])
        .await?
        .get(0);
    let known = MIGRATIONS.len() as i64;
    if found > known {
        return Err(super::OfficeError::SchemaTooNew { found, known });
    }
    for sql in MIGRATIONS.iter().skip(found as usize) {
        tx.batch_execute(sql).await?;
    }
    tx.execute("UPDATE paycode.schema_version SET version = $1", &[&known])
        .await?;
    tx.commit().await?;
    Ok((found, known))
}
