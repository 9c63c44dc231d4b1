//! A real PostgreSQL 15 for the office tests: initdb on a temp directory, a free loopback
//! port, the Unix socket in the temp directory, scram-sha-256 over TCP. As root (CI) the server
//! runs as the unprivileged `postgres` user (initdb and postgres refuse root), the directory
//! chowned to it. Missing binaries fail the test with what to install; nothing is skipped.
//!
//! Also here: the office's tables read back and compared with the tills' journals (the union of
//! the journals must equal the office, no row lost, none doubled).
#![allow(dead_code)] // each test crate uses a different part
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian's postgresql-15 puts its programs.
pub const BIN: &str = "/usr/lib/postgresql/15/bin";
/// The office admin's password in these tests.
pub const ADMIN_PASSWORD: &str = "office-admin-test-pw";

/// One running server; stopped (immediate) when dropped.
pub struct Pg {
    pub dir: tempfile::TempDir,
    pub port: u16,
    running: bool,
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// `program args…`, as `postgres` when we are root.
fn pg_command(program: &str) -> Command {
    let path = format!("{BIN}/{program}");
    if is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=postgres",
            "--regid=postgres",
            "--init-groups",
            "--",
            &path,
        ]);
        c
    } else {
        Command::new(path)
    }
}

fn run(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Pg {
    /// initdb, start, and create the database `paycode`.
    pub fn start() -> Pg {
        assert!(
            Path::new(&format!("{BIN}/initdb")).exists(),
            "PostgreSQL 15 is not installed ({BIN}/initdb is missing): apt-get install postgresql (the office tests need a real server; .ci/run installs it)"
        );
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            let pg = nix::unistd::User::from_name("postgres")
                .unwrap()
                .expect("the postgresql package creates the user postgres");
            std::os::unix::fs::chown(dir.path(), Some(pg.uid.as_raw()), Some(pg.gid.as_raw()))
                .unwrap();
        }
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, ADMIN_PASSWORD).unwrap();
        if is_root() {
            let pg = nix::unistd::User::from_name("postgres").unwrap().unwrap();
            std::os::unix::fs::chown(&pwfile, Some(pg.uid.as_raw()), Some(pg.gid.as_raw()))
                .unwrap();
        }
        let mut init = pg_command("initdb");
        init.args(["-D"])
            .arg(dir.path().join("data"))
            .args([
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ])
            .arg(format!("--pwfile={}", pwfile.display()));
        run(init, "initdb");
        let mut pg = Pg {
            dir,
            port: free_port(),
            running: false,
        };
        pg.start_again();
        pg.psql("postgres", "CREATE DATABASE paycode");
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Start the stopped server again on the same port.
    pub fn start_again(&mut self) {
        let mut c = pg_command("pg_ctl");
        c.arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("log"))
            .arg("-o")
            .arg(format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
                self.port,
                self.dir.path().display()
            ))
            .args(["-w", "-t", "60", "start"]);
        run(c, "pg_ctl start");
        self.running = true;
    }

    /// Stop the server (fast: open sessions are cut, as a crash of the office would).
    pub fn stop(&mut self) {
        let mut c = pg_command("pg_ctl");
        c.arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"]);
        run(c, "pg_ctl stop");
        self.running = false;
    }

    /// Restart (immediate stop, then start).
    pub fn restart(&mut self) {
        self.stop();
        self.start_again();
    }

    /// One SQL command as the superuser over the Unix socket.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let mut c = pg_command("psql");
        c.args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(self.dir.path())
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                db,
                "-c",
                sql,
            ]);
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// What the server has written to its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// The admin's URL (no password: that goes in PAYCODE_OFFICE_ADMIN_PASSWORD).
    pub fn admin_url(&self) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/paycode", self.port)
    }

    /// A URL for `role`.
    pub fn url_for(&self, role: &str) -> String {
        format!("postgresql://{role}@127.0.0.1:{}/paycode", self.port)
    }

    /// A client as `role` with `password`.
    pub async fn client(&self, role: &str, password: &str) -> tokio_postgres::Client {
        let (c, conn) = tokio_postgres::connect(
            &format!(
                "host=127.0.0.1 port={} user={role} password={password} dbname=paycode",
                self.port
            ),
            tokio_postgres::NoTls,
        )
        .await
        .unwrap();
        tokio::spawn(conn);
        c
    }

    /// A client as the admin.
    pub async fn admin(&self) -> tokio_postgres::Client {
        self.client("postgres", ADMIN_PASSWORD).await
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        if self.running {
            let mut c = pg_command("pg_ctl");
            c.arg("-D")
                .arg(self.data())
                .args(["-m", "immediate", "-w", "stop"]);
            let _ = c.output();
        }
    }
}

/// One till's records as the comparison sees them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Records {
    /// (out_trade_no, total_fee, state, transaction_id, updated_ms)
    pub sales: BTreeSet<(String, i64, String, Option<String>, i64)>,
    /// (out_refund_no, refund_fee, state)
    pub refunds: BTreeSet<(String, i64, String)>,
    /// event ids
    pub events: BTreeSet<i64>,
    /// shift ids
    pub shifts: BTreeSet<i64>,
    /// outbox rows (journal side) or shipped rows (office side)
    pub rows: i64,
}

/// A till's journal read directly (SQLite).
pub fn journal_records(path: &Path) -> Records {
    let c = rusqlite::Connection::open(path).unwrap();
    let mut r = Records::default();
    let mut st = c
        .prepare("SELECT out_trade_no, total_fee, state, transaction_id, updated_ms FROM sales")
        .unwrap();
    r.sales = st
        .query_map([], |x| {
            Ok((x.get(0)?, x.get(1)?, x.get(2)?, x.get(3)?, x.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut st = c
        .prepare("SELECT out_refund_no, refund_fee, state FROM refunds")
        .unwrap();
    r.refunds = st
        .query_map([], |x| Ok((x.get(0)?, x.get(1)?, x.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let ids = |sql: &str| -> BTreeSet<i64> {
        let mut st = c.prepare(sql).unwrap();
        st.query_map([], |x| x.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    r.events = ids("SELECT id FROM events");
    r.shifts = ids("SELECT id FROM shifts");
    r.rows = c
        .query_row("SELECT count(*) FROM outbox", [], |x| x.get(0))
        .unwrap();
    r
}

/// The office's tables for one till.
pub async fn office_records(admin: &tokio_postgres::Client, till: &str) -> Records {
    let mut r = Records::default();
    for row in admin
        .query(
            "SELECT out_trade_no, total_fee, state, transaction_id, updated_ms FROM paycode.sales WHERE till_id = $1",
            &[&till],
        )
        .await
        .unwrap()
    {
        r.sales
            .insert((row.get(0), row.get(1), row.get(2), row.get(3), row.get(4)));
    }
    for row in admin
        .query(
            "SELECT out_refund_no, refund_fee, state FROM paycode.refunds WHERE till_id = $1",
            &[&till],
        )
        .await
        .unwrap()
    {
        r.refunds.insert((row.get(0), row.get(1), row.get(2)));
    }
    for row in admin
        .query(
            "SELECT event_id FROM paycode.events WHERE till_id = $1",
            &[&till],
        )
        .await
        .unwrap()
    {
        r.events.insert(row.get(0));
    }
    for row in admin
        .query(
            "SELECT shift_id FROM paycode.shifts WHERE till_id = $1",
            &[&till],
        )
        .await
        .unwrap()
    {
        r.shifts.insert(row.get(0));
    }
    let row = admin
        .query_one(
            "SELECT count(*), count(DISTINCT seq), coalesce(max(seq), 0) FROM paycode.journal j
             WHERE till_id = $1
               AND generation = (SELECT generation FROM paycode.tills t WHERE t.till_id = j.till_id)",
            &[&till],
        )
        .await
        .unwrap();
    let (n, distinct, max): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(n, distinct, "{till}: a shipped row doubled");
    assert_eq!(n, max, "{till}: a shipped row missing below seq {max}");
    r.rows = n;
    r
}

/// The office holds exactly what every till's journal holds (of a till moved to another
/// journal, `office release-till`: what its current journal holds, in its current generation).
pub async fn assert_office_is_union(admin: &tokio_postgres::Client, tills: &[(&str, &Path)]) {
    let mut total = 0;
    for (till, path) in tills {
        let j = journal_records(path);
        let o = office_records(admin, till).await;
        assert_eq!(o, j, "till {till}: the office differs from its journal");
        total += j.rows;
    }
    let all: i64 = admin
        .query_one(
            "SELECT count(*) FROM paycode.journal j JOIN paycode.tills t USING (till_id)
             WHERE j.generation = t.generation",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(all, total, "the office holds rows of no till listed");
}

/// `paycode office …` as the office's admin.
pub fn office(pg: &Pg, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_paycode"))
        .arg("office")
        .args(args)
        .env("PAYCODE_OFFICE_ADMIN_URL", pg.admin_url())
        .env("PAYCODE_OFFICE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env_remove("PAYCODE_CONFIG")
        .env_remove("PAYCODE_OFFICE_PASSWORD")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

/// `paycode office init`, asserted.
pub fn init(pg: &Pg) {
    let out = office(pg, &["init"]);
    assert!(
        out.status.success(),
        "office init: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One till: its own directory, config (the shipped one, quick timings, its own
/// `device_info`, the built-in simulator) and journal, registered at the office.
pub struct TillDir {
    pub dir: tempfile::TempDir,
    pub device: String,
    serial: std::cell::Cell<u64>,
    journal_path: PathBuf,
}

/// The shipped config.toml with quick timings and `device_info`.
pub fn till_config(device: &str) -> String {
    let mut text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml")).unwrap();
    for (from, to) in [
        (
            "first_query_after = \"5s\"",
            "first_query_after = \"100ms\"",
        ),
        ("query_interval = \"5s\"", "query_interval = \"100ms\""),
        (
            "reverse_not_before = \"15s\"",
            "reverse_not_before = \"200ms\"",
        ),
        (
            "device_info = \"till-1\"",
            &format!("device_info = \"{device}\""),
        ),
    ] {
        assert!(text.contains(from), "config.toml no longer has {from}");
        text = text.replace(from, to);
    }
    text
}

impl TillDir {
    /// `office add-till` for `device` in `store`, and the till's config with what it printed.
    pub fn new(pg: &Pg, device: &str, store: &str) -> TillDir {
        Self::new_in(pg, device, store, None)
    }

    /// The same, its journal in `shared` (tills whose journals share a directory share one
    /// simulated WeChat: the built-in simulator keeps its ledger beside the journal).
    pub fn new_in(pg: &Pg, device: &str, store: &str, shared: Option<&Path>) -> TillDir {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("office-password");
        let out = office(
            pg,
            &[
                "add-till",
                device,
                "--store",
                store,
                "--password-file",
                pw.to_str().unwrap(),
            ],
        );
        assert!(
            out.status.success(),
            "add-till {device}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let office_lines = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(office_lines.contains("[office]"), "{office_lines}");
        let mut text = format!("{}\n{office_lines}", till_config(device));
        let journal_path = match shared {
            Some(s) => {
                let p = s.join(format!("{device}.db"));
                text = text.replace(
                    "path = \"data/paycode.db\"",
                    &format!("path = \"{}\"", p.display()),
                );
                p
            }
            None => dir.path().join("data/paycode.db"),
        };
        std::fs::write(dir.path().join("config.toml"), text).unwrap();
        TillDir {
            dir,
            device: device.to_string(),
            serial: std::cell::Cell::new(1),
            journal_path,
        }
    }

    /// A till directory made from another's files (a copied config), with a journal of its own.
    pub fn copied_from(other: &TillDir) -> TillDir {
        let dir = tempfile::tempdir().unwrap();
        for f in ["config.toml", "office-password"] {
            std::fs::copy(other.dir.path().join(f), dir.path().join(f)).unwrap();
        }
        let journal_path = dir.path().join("data/paycode.db");
        TillDir {
            dir,
            device: other.device.clone(),
            serial: std::cell::Cell::new(1000),
            journal_path,
        }
    }

    pub fn journal(&self) -> PathBuf {
        self.journal_path.clone()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_paycode"));
        c.current_dir(self.dir.path())
            .args(args)
            .env_remove("PAYCODE_CONFIG")
            .env_remove("PAYCODE_OFFICE_PASSWORD")
            .stdin(std::process::Stdio::null());
        c
    }

    /// `paycode args…`: (exit code, stdout JSON if any, stdout + stderr).
    pub fn run(&self, args: &[&str]) -> (i32, serde_json::Value, String) {
        let out = self.command(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let v = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
        (
            out.status.code().unwrap_or(-1),
            v,
            format!("{stdout}\n{stderr}"),
        )
    }

    /// `paycode pay --json` of `amount` with a fresh code of `scenario`.
    pub fn pay(&self, amount: &str, scenario: &str) -> (i32, serde_json::Value, String) {
        let n = self.serial.get();
        self.serial.set(n + 1);
        let sc = paycode::simulator::scenario::by_key(scenario).unwrap();
        // Tills sharing one simulated WeChat never scan the same code.
        let salt: u64 = self
            .device
            .bytes()
            .map(u64::from)
            .fold(7, |a, b| a * 131 + b);
        let code = paycode::simulator::code_for(sc, n * 7919 + salt % 1_000_003);
        self.run(&["pay", "--amount", amount, "--code", &code, "--json"])
    }

    /// `paycode office ship --json`.
    pub fn ship(&self) -> (i32, serde_json::Value, String) {
        self.run(&["office", "ship", "--json"])
    }
}

impl TillDir {
    /// Add `key = value` to `[office]` (the last section of the file).
    pub fn set_office(&self, key: &str, value: &str) {
        let p = self.dir.path().join("config.toml");
        let mut text = std::fs::read_to_string(&p).unwrap();
        text.push_str(&format!("{key} = {value}\n"));
        std::fs::write(p, text).unwrap();
    }

    /// The till's office password, as add-till wrote it.
    pub fn password(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("office-password"))
            .unwrap()
            .trim()
            .to_string()
    }

    /// The till's role at the office.
    pub fn role(&self) -> String {
        format!("paycode_till_{}", self.device)
    }

    /// A client as this till's role.
    pub async fn client(&self, pg: &Pg) -> tokio_postgres::Client {
        pg.client(&self.role(), &self.password()).await
    }
}

/// `n` paid sales written straight into a journal through the library, as the runner writes
/// them (intent, then paid): the outbox triggers fire as in a real sale. Times from `t0` on,
/// `step_ms` apart.
pub fn write_sales(path: &Path, device: &str, first: u64, n: u64, t0: i64, step_ms: i64) {
    use paycode::journal::{Journal, NewSale, SaleState, Transition};
    use paycode::money::Fen;
    let mut j = Journal::open(path).unwrap();
    for i in first..first + n {
        let at = t0 + (i - first) as i64 * step_ms;
        let no = format!("{device}{:017}", 20261203000000000u64 + i);
        j.insert_intent(
            &NewSale {
                out_trade_no: no.clone(),
                total_fee: Fen(100 + i % 900),
                code_fp: format!("fp{i}"),
                code_masked: "1345****".into(),
                device_info: device.into(),
                attach: None,
                pos_ref: None,
            },
            at,
        )
        .unwrap();
        j.transition(
            &no,
            SaleState::Paid,
            &Transition {
                transaction_id: Some(format!("42000{i:023}")),
                ..Transition::default()
            },
            at + 500,
        )
        .unwrap();
    }
}

/// The (till, path) list for [`assert_office_is_union`].
pub fn listed(tills: &[&TillDir]) -> Vec<(String, PathBuf)> {
    tills
        .iter()
        .map(|t| (t.device.clone(), t.journal()))
        .collect()
}

/// [`assert_office_is_union`] over till directories.
pub async fn assert_union(admin: &tokio_postgres::Client, tills: &[&TillDir]) {
    let l = listed(tills);
    let refs: Vec<(&str, &Path)> = l.iter().map(|(d, p)| (d.as_str(), p.as_path())).collect();
    assert_office_is_union(admin, &refs).await;
}

/// Rows the office holds of `till`.
pub async fn shipped(admin: &tokio_postgres::Client, till: &str) -> i64 {
    admin
        .query_one(
            "SELECT count(*) FROM paycode.journal WHERE till_id = $1",
            &[&till],
        )
        .await
        .unwrap()
        .get(0)
}

/// The outbox's newest seq of a journal.
pub fn outbox_last(path: &Path) -> i64 {
    paycode::journal::Journal::open(path)
        .unwrap()
        .outbox_last()
        .unwrap()
}

/// The Beijing day (YYYY-MM-DD) an order number of `device` was made on.
pub fn day_of_order(device: &str, no: &str) -> String {
    let stamp = no.strip_prefix(device).unwrap();
    format!("{}-{}-{}", &stamp[0..4], &stamp[4..6], &stamp[6..8])
}

impl Pg {
    /// Turn TLS on (a fresh CA and a server certificate for 127.0.0.1, reloaded without a
    /// restart); returns the CA's PEM for a till's `[office] ca_file`.
    pub fn enable_tls(&self) -> String {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let crt = self.dir.path().join("server.crt");
        let k = self.dir.path().join("server.key");
        std::fs::write(&crt, cert.pem()).unwrap();
        std::fs::write(&k, key.serialize_pem()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&k, std::fs::Permissions::from_mode(0o600)).unwrap();
        if is_root() {
            let pg = nix::unistd::User::from_name("postgres").unwrap().unwrap();
            for f in [&crt, &k] {
                std::os::unix::fs::chown(f, Some(pg.uid.as_raw()), Some(pg.gid.as_raw())).unwrap();
            }
        }
        self.psql(
            "postgres",
            &format!("ALTER SYSTEM SET ssl_cert_file = '{}'", crt.display()),
        );
        self.psql(
            "postgres",
            &format!("ALTER SYSTEM SET ssl_key_file = '{}'", k.display()),
        );
        self.psql("postgres", "ALTER SYSTEM SET ssl = on");
        self.psql("postgres", "SELECT pg_reload_conf()");
        std::thread::sleep(std::time::Duration::from_millis(300));
        ca.pem()
    }
}
