//! `paycode office …`: the head office (issue 14, docs/office.md). `init`, `add-till`, `report`
//! and `reconcile` are the office's (its database named by `--url` or
//! `PAYCODE_OFFICE_ADMIN_URL`, the password in `PAYCODE_OFFICE_ADMIN_PASSWORD`); `ship` is the
//! till's (its `[office]`). Exit 0 done, 1 differences (reconcile), 2 the office or WeChat
//! could not be reached (retry later), 3 refused.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{load, logging, output, runtime};
use crate::config::{Password, SslMode};
use crate::office::connect::{Target, connect};
use crate::office::{OfficeError, admin, ship};
use crate::words::{Bilingual, Words};

/// The environment variable naming the office database for the office's own commands.
pub const ENV_ADMIN_URL: &str = "PAYCODE_OFFICE_ADMIN_URL";
/// The environment variable holding the office admin's password.
pub const ENV_ADMIN_PASSWORD: &str = "PAYCODE_OFFICE_ADMIN_PASSWORD";

#[derive(clap::Args, Debug)]
pub struct OfficeArgs {
    #[command(subcommand)]
    pub command: OfficeCommand,
}

/// Where the office database is, for the office's own commands.
#[derive(clap::Args, Debug, Clone)]
pub struct AdminArgs {
    /// The office database as its admin: postgresql://ROLE@HOST:PORT/DB (default:
    /// PAYCODE_OFFICE_ADMIN_URL); the password in PAYCODE_OFFICE_ADMIN_PASSWORD.
    #[arg(long)]
    pub url: Option<String>,
    /// An extra root certificate (PEM) for the office's TLS certificate.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
}

#[derive(clap::Subcommand, Debug)]
pub enum OfficeCommand {
    /// Create or bring up to date the office schema (as the office's admin).
    Init(AdminArgs),
    /// Register a till: its database role (password written to a mode-600 file) and store;
    /// prints the [office] lines for the till's config.toml.
    AddTill(AddTillArgs),
    /// Take a till's next journal: after it was restored from a backup, or moved to a new
    /// machine with a fresh journal (check first that no other machine runs it).
    ReleaseTill(ReleaseTillArgs),
    /// A login for reports: reads every till, changes nothing (password written to a
    /// mode-600 file); prints its URL.
    AddReader(AddReaderArgs),
    /// Ship this till's journal to the office now ([office] in config.toml); --follow keeps on.
    Ship(ShipArgs),
    /// The chain's day: totals by store, till, state and hour; unsettled sales; shifts.
    Report(super::office_report::ReportArgs),
    /// One statement per merchant number (--config's) against all its tills' records.
    Reconcile(super::office_reconcile::OfficeReconcileArgs),
}

#[derive(clap::Args, Debug)]
pub struct AddTillArgs {
    /// The till's [merchant] device_info.
    pub device_info: String,
    /// The store it belongs to (reports total by it).
    #[arg(long)]
    pub store: String,
    /// Where to write the till's new password (created mode 600; copy it to the till).
    #[arg(long)]
    pub password_file: PathBuf,
    #[command(flatten)]
    pub admin: AdminArgs,
}

#[derive(clap::Args, Debug)]
pub struct AddReaderArgs {
    /// A name for the login (1 to 15 letters, digits, _ or -); its role is paycode_reader_NAME.
    pub name: String,
    /// Where to write its new password (created mode 600).
    #[arg(long)]
    pub password_file: PathBuf,
    #[command(flatten)]
    pub admin: AdminArgs,
}

#[derive(clap::Args, Debug)]
pub struct ReleaseTillArgs {
    /// The till's [merchant] device_info.
    pub device_info: String,
    #[command(flatten)]
    pub admin: AdminArgs,
}

#[derive(clap::Args, Debug)]
pub struct ShipArgs {
    /// Keep shipping every [office] interval until stopped (what the cashier screen does).
    #[arg(long)]
    pub follow: bool,
    /// One JSON object with what was shipped.
    #[arg(long)]
    pub json: bool,
}

pub fn run(config: &Path, args: &OfficeArgs) -> ExitCode {
    match &args.command {
        OfficeCommand::Init(a) => init(a),
        OfficeCommand::AddTill(a) => add_till(a),
        OfficeCommand::ReleaseTill(a) => release_till(a),
        OfficeCommand::AddReader(a) => add_reader(a),
        OfficeCommand::Ship(a) => ship_cmd(config, a),
        OfficeCommand::Report(a) => super::office_report::run(a),
        OfficeCommand::Reconcile(a) => super::office_reconcile::run(config, a),
    }
}

/// The office's database from `--url` / `PAYCODE_OFFICE_ADMIN_URL`.
pub(crate) fn admin_target(a: &AdminArgs) -> Result<(Target, Option<Password>), Words> {
    let url = a
        .url
        .clone()
        .or_else(|| std::env::var(ENV_ADMIN_URL).ok())
        .ok_or_else(|| {
            Words::new(
                format!("no office database: give --url postgresql://ROLE@HOST:PORT/DB or set {ENV_ADMIN_URL}"),
                format!("未指定总部数据库:请用 --url postgresql://角色@主机:端口/库名,或设置 {ENV_ADMIN_URL}"),
            )
        })?;
    let pg: tokio_postgres::Config = url.parse().map_err(|_| {
        let shown = crate::untrusted::shown_arg(&crate::config::without_password(&url));
        Words::new(
            format!(
                "--url {shown:?} is not a PostgreSQL URL: write postgresql://ROLE@HOST:PORT/DB"
            ),
            format!("--url {shown:?} 不是 PostgreSQL 地址:请写成 postgresql://角色@主机:端口/库名"),
        )
    })?;
    if pg.get_password().is_some() {
        return Err(Words::new(
            format!(
                "--url holds a password (it would show in the process list): put it in {ENV_ADMIN_PASSWORD}"
            ),
            format!("--url 中含有密码(会出现在进程列表中):请改用 {ENV_ADMIN_PASSWORD}"),
        ));
    }
    let sslmode = if crate::config::is_local(&pg) {
        SslMode::Disable
    } else {
        SslMode::Require
    };
    let password = std::env::var(ENV_ADMIN_PASSWORD)
        .ok()
        .filter(|p| !p.is_empty())
        .map(Password::new);
    Ok((
        Target {
            pg,
            sslmode,
            ca_file: a.ca_file.clone(),
        },
        password,
    ))
}

/// An office error as the exit status and its words: 2 when trying again can help, else 3.
pub(crate) fn office_failed(json: bool, e: &OfficeError) -> ExitCode {
    if e.is_transient() {
        output::unavailable(json, &e.words())
    } else {
        output::rejected(json, &e.words(), None)
    }
}

/// Connect as the office's admin.
pub(crate) async fn admin_client(
    a: &AdminArgs,
    json: bool,
) -> Result<tokio_postgres::Client, ExitCode> {
    let (target, password) = admin_target(a).map_err(|w| output::rejected(json, &w, None))?;
    connect(&target, password.as_ref())
        .await
        .map_err(|e| office_failed(json, &e))
}

fn init(a: &AdminArgs) -> ExitCode {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(c) => return c,
    };
    rt.block_on(async {
        let mut client = match admin_client(a, false).await {
            Ok(c) => c,
            Err(c) => return c,
        };
        match admin::init(&mut client).await {
            Ok((found, now)) if found == now => {
                outln!("office schema is up to date (version {now}) / 总部数据库结构已是最新(版本 {now})");
                ExitCode::SUCCESS
            }
            Ok((found, now)) => {
                outln!("office schema {found} → {now} / 总部数据库结构 {found} → {now}");
                ExitCode::SUCCESS
            }
            Err(e) => office_failed(false, &e),
        }
    })
}

fn add_till(a: &AddTillArgs) -> ExitCode {
    if let Err(w) = admin::check_device(&a.device_info) {
        return output::rejected(false, &w, None);
    }
    if a.store.trim().is_empty() || a.store.len() > 64 || !crate::untrusted::is_plain(&a.store) {
        return output::rejected(
            false,
            &Words::new(
                "--store must name the store: 1 to 64 characters, no control characters",
                "--store 须为门店名称:1 至 64 个字符,不含控制字符",
            ),
            None,
        );
    }
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(c) => return c,
    };
    rt.block_on(async {
        let (target, _) = match admin_target(&a.admin) {
            Ok(t) => t,
            Err(w) => return output::rejected(false, &w, None),
        };
        let mut client = match admin_client(&a.admin, false).await {
            Ok(c) => c,
            Err(c) => return c,
        };
        let password = match new_password_file(&a.password_file) {
            Ok(p) => p,
            Err(c) => return c,
        };
        if let Err(e) = admin::add_till(&mut client, &a.device_info, a.store.trim(), &password).await {
            let _ = std::fs::remove_file(&a.password_file);
            return office_failed(false, &e);
        }
        errln!(
            "till {} registered in store {}; its password is in {} (mode 600) — copy it to the till, beside its config.toml, under the same name / 收银台 {} 已登记到门店 {};密码在 {}(权限 600)— 请以同名复制到收银台 config.toml 旁",
            a.device_info, a.store.trim(), a.password_file.display(), a.device_info, a.store.trim(), a.password_file.display()
        );
        outln!("[office]");
        outln!("url = \"{}\"", login_url(&target, &admin::role_of(&a.device_info)));
        let file = a
            .password_file
            .file_name()
            .map_or("office-password".into(), |f| f.to_string_lossy().into_owned());
        outln!("password_file = {file:?}");
        ExitCode::SUCCESS
    })
}

fn add_reader(a: &AddReaderArgs) -> ExitCode {
    if let Err(w) = admin::check_reader(&a.name) {
        return output::rejected(false, &w, None);
    }
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(c) => return c,
    };
    rt.block_on(async {
        let (target, _) = match admin_target(&a.admin) {
            Ok(t) => t,
            Err(w) => return output::rejected(false, &w, None),
        };
        let mut client = match admin_client(&a.admin, false).await {
            Ok(c) => c,
            Err(c) => return c,
        };
        let password = match new_password_file(&a.password_file) {
            Ok(p) => p,
            Err(c) => return c,
        };
        if let Err(e) = admin::add_reader(&mut client, &a.name, &password).await {
            let _ = std::fs::remove_file(&a.password_file);
            return office_failed(false, &e);
        }
        let url = login_url(&target, &admin::reader_role_of(&a.name));
        errln!(
            "reporting login {} added; its password is in {} (mode 600). It reads every till and changes nothing: run `office report` and `office reconcile` with {ENV_ADMIN_URL} set to the URL below and the password in {ENV_ADMIN_PASSWORD} / 已添加报表账号 {};密码在 {}(权限 600)。它可读取所有收银台、不能修改任何数据:把 {ENV_ADMIN_URL} 设为下面的地址、密码放入 {ENV_ADMIN_PASSWORD},即可运行 `office report` 和 `office reconcile`",
            a.name, a.password_file.display(), a.name, a.password_file.display()
        );
        outln!("{url}");
        ExitCode::SUCCESS
    })
}

/// A fresh login password, written first to `path` (mode 600, never over a file): a role whose
/// password nobody kept would have to be made again.
fn new_password_file(path: &Path) -> Result<String, ExitCode> {
    let password = admin::new_password();
    write_private(path, &password).map_err(|e| {
        output::rejected(
            false,
            &Words::new(
                format!(
                    "cannot write {}: {e}; choose another --password-file (it must not exist yet)",
                    path.display()
                ),
                format!(
                    "无法写入 {}:{e};请换一个 --password-file(该文件必须尚不存在)",
                    path.display()
                ),
            ),
            None,
        )
    })?;
    Ok(password)
}

/// The URL a login of `role` uses: the admin's host, port and database.
fn login_url(target: &Target, role: &str) -> String {
    let host = target
        .pg
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(n) if n.contains(':') => format!("[{n}]"),
            tokio_postgres::config::Host::Tcp(n) => n.clone(),
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_default();
    let port = target.pg.get_ports().first().copied().unwrap_or(5432);
    let db = target.pg.get_dbname().unwrap_or("paycode");
    format!("postgresql://{role}@{host}:{port}/{db}")
}

fn release_till(a: &ReleaseTillArgs) -> ExitCode {
    if let Err(w) = admin::check_device(&a.device_info) {
        return output::rejected(false, &w, None);
    }
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(c) => return c,
    };
    rt.block_on(async {
        let client = match admin_client(&a.admin, false).await {
            Ok(c) => c,
            Err(c) => return c,
        };
        let d = &a.device_info;
        match admin::release_till(&client, d).await {
            Ok(Some(admin::Released { generation, already: true })) => {
                outln!(
                    "till {d} is already released: the next journal it ships is taken as generation {generation}; nothing changed / 收银台 {d} 已处于解除绑定状态:它下次上传的账本作为第 {generation} 代;未做更改"
                );
                ExitCode::SUCCESS
            }
            Ok(Some(admin::Released { generation, .. })) => {
                outln!(
                    "till {d} released: the next journal it ships is taken as generation {generation}, shipped in full; what it shipped before stays / 收银台 {d} 已解除绑定:它下次上传的账本作为第 {generation} 代完整上传;此前上传的记录保留"
                );
                ExitCode::SUCCESS
            }
            Ok(None) => output::rejected(
                false,
                &Words::new(
                    format!("the office has no till {d}: add it with `paycode office add-till {d} --store …`"),
                    format!("总部没有收银台 {d}:请用 `paycode office add-till {d} --store …` 登记"),
                ),
                None,
            ),
            Err(e) => office_failed(false, &e),
        }
    })
}

/// Create `path` (never over an existing file) mode 600 with `text`.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

fn ship_cmd(config: &Path, a: &ShipArgs) -> ExitCode {
    let cfg = match load(config, a.json) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(office) = cfg.office.clone() else {
        return output::rejected(
            a.json,
            &Words::new(
                "no [office] in the config: nothing to ship to; add the lines `paycode office add-till` printed",
                "配置中没有 [office]:无处上传;请加入 `paycode office add-till` 输出的设置",
            ),
            None,
        );
    };
    let _log = logging(&cfg);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(c) => return c,
    };
    let me = ship::Identity::of(&cfg);
    let path = cfg.journal.path.clone();
    rt.block_on(async move {
        if a.follow {
            errln!("shipping the journal to the office until stopped / 持续上传账本到总部,直到停止");
            ship::follow(office, path, me).await;
            return ExitCode::SUCCESS;
        }
        match ship::once(&office, &path, &me).await {
            Ok(s) => {
                if a.json {
                    outln!(
                        "{}",
                        serde_json::json!({
                            "status": "shipped",
                            "rows": s.rows,
                            "batches": s.batches,
                            "acked": s.acked,
                            "last": s.last,
                        })
                    );
                } else {
                    outln!(
                        "shipped {} row(s) in {} batch(es); the office holds up to {} of {} / 已上传 {} 条记录({} 批);总部已有至 {}(共 {})",
                        s.rows, s.batches, s.acked, s.last, s.rows, s.batches, s.acked, s.last
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => office_failed(a.json, &e),
        }
    })
}

/// With `[office]`, ship the journal in the background of this process (the cashier screen,
/// `paycode serve`): a task on `rt` with a journal connection of its own; the till never waits
/// for it, and a failure is a log line, never a stop.
pub(crate) fn background(rt: &tokio::runtime::Runtime, cfg: &crate::config::Config) {
    if let Some(office) = cfg.office.clone() {
        rt.spawn(ship::follow(
            office,
            cfg.journal.path.clone(),
            ship::Identity::of(cfg),
        ));
    }
}
