//! `paycode simulate`: the simulator as a standalone server, and `--write-certs`.

use super::tls::CertAuthority;
use super::{SimSettings, banner, scenario_lines, start};
use crate::config::Language;
use crate::words::Bilingual;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `paycode simulate`.
#[derive(clap::Args, Debug, Clone)]
pub struct SimulateArgs {
    /// Address to listen on, e.g. 127.0.0.1:8900 (default 127.0.0.1:8900).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Serve HTTPS with a generated CA; /secapi/* then requires a client certificate.
    #[arg(long)]
    pub tls: bool,
    /// Write ca.pem, apiclient_cert.pem, apiclient_key.pem (and ca_key.pem) into DIR (a private
    /// directory, no links), reusing a sound CA already there. Without --listen/--tls: write and exit; otherwise serve HTTPS with it.
    #[arg(long, value_name = "DIR")]
    pub write_certs: Option<PathBuf>,
    /// Keep the ledger in FILE across restarts (an append-only log; codes stored as stand-ins).
    /// Point it at `data/simulator/ledger.log` to share the in-process simulator's ledger.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Drop the faults still queued from an earlier training run (kept in the --log ledger).
    #[arg(long)]
    pub reset: bool,
    /// Allow a --listen address other machines can reach (a training room). The trainer's
    /// /__sim/* calls still answer only from this machine.
    #[arg(long)]
    pub allow_remote: bool,
}

/// Default standalone address.
const DEFAULT_LISTEN: &str = "127.0.0.1:8900";

/// Run `paycode simulate`; `config` is used for the merchant ids, key and `[simulator]`
/// behaviour when the file exists, the demo merchant otherwise.
pub fn run(args: &SimulateArgs, config: &Path) -> ExitCode {
    let (mut settings, source) = match settings_for(config) {
        Ok(s) => s,
        Err(msg) => {
            errln!("paycode simulate: {msg}");
            return ExitCode::from(3);
        }
    };
    if let Some(dir) = &args.write_certs {
        match CertAuthority::write_dir(dir, &settings.mch_id) {
            Ok((ca, replaced)) => {
                if let Some(note) = replaced {
                    errln!("paycode simulate: {}", note.en);
                    errln!("paycode simulate:{}", note.zh);
                }
                outln!(
                    "wrote {0}/ca.pem, {0}/apiclient_cert.pem, {0}/apiclient_key.pem (keys mode 600)",
                    dir.display()
                );
                outln!("已写入模拟器 CA 与商户客户端证书到 {}", dir.display());
                settings.authority = Some(ca);
            }
            Err(e) => {
                errln!("paycode {e}");
                errln!("paycode {}", e.zh());
                return ExitCode::from(3);
            }
        }
        if args.listen.is_none() && !args.tls {
            return ExitCode::SUCCESS;
        }
        settings.tls = true;
    }
    settings.tls |= args.tls;
    settings.store = args.log.clone();
    settings.listen = match args.listen {
        Some(a) => a,
        None => match DEFAULT_LISTEN.parse() {
            Ok(a) => a,
            Err(_) => return ExitCode::from(3),
        },
    };
    let remote = !settings.listen.ip().is_loopback();
    if remote && !args.allow_remote {
        errln!(
            "paycode simulate: --listen {} can be reached from other machines, and anyone who reaches the simulator can pay with it; use 127.0.0.1, or add --allow-remote for a training room (the trainer's /__sim/* calls still answer only from this machine)",
            settings.listen
        );
        errln!(
            "paycode simulate:--listen {} 可被其他机器访问;请使用 127.0.0.1,或在培训室中加上 --allow-remote(/__sim/* 训练接口仍只接受本机请求)",
            settings.listen
        );
        return ExitCode::from(3);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            errln!("paycode simulate: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    rt.block_on(async move {
        let sim = match start(settings.clone()).await {
            Ok(s) => s,
            Err(e) => {
                errln!("paycode {e}");
                return ExitCode::from(3);
            }
        };
        let tls_line = match (&sim.ca_pem, &args.write_certs) {
            (None, _) => None,
            (Some(_), Some(d)) => Some(format!(
                "TLS       CA {0}/ca.pem; client cert {0}/apiclient_cert.pem (required on /secapi/*)",
                d.display()
            )),
            (Some(_), None) => Some(
                "TLS       fresh CA (use --write-certs DIR to get the CA and a client certificate)"
                    .to_string(),
            ),
        };
        let mut text = vec![
            banner(Language::En),
            banner(Language::Zh),
            "SIMULATOR — no real money / 模拟器 — 不涉及真实资金".to_string(),
            format!("base_url  {}", sim.base_url),
            if remote {
                format!(
                    "listening {} — reachable from other machines; /__sim/* answers only from this one",
                    settings.listen
                )
            } else {
                format!("listening {} (this machine only)", settings.listen)
            },
            format!("appid     {}", settings.appid),
            format!("mch_id    {}", settings.mch_id),
            format!("api key   {source}"),
        ];
        text.extend(tls_line);
        text.push(match &args.log {
            Some(f) => format!("ledger    {} (kept across restarts)", f.display()),
            None => "ledger    in memory (--log FILE keeps it across restarts)".to_string(),
        });
        if args.reset {
            sim.clear_faults();
        }
        let left = sim.queued_faults();
        if !left.is_empty() {
            let names: Vec<String> = left
                .iter()
                .map(|r| {
                    let ep = r.endpoint.map_or("any endpoint", |e| e.name());
                    format!("{} ×{} on {ep}", r.fault.kind().0, r.remaining)
                })
                .collect();
            text.push(format!(
                "FAULTS    still queued from an earlier run: {} (--reset or DELETE /__sim/fault drops them)",
                names.join(", ")
            ));
            text.push(format!(
                "故障      上次训练遗留、仍在排队:{}(--reset 或 DELETE /__sim/fault 可清除)",
                names.join("、")
            ));
        }
        text.push("admin     GET /__sim/ledger  GET /__sim/scenarios  POST /__sim/confirm/{out_trade_no}  POST /__sim/cancel/{out_trade_no}  POST|GET|DELETE /__sim/fault  POST /__sim/advance".into());
        text.push("\nscenarios (digits 3–6 of the payment code):".into());
        text.extend(scenario_lines(Language::En).into_iter().map(|l| format!("  {l}")));
        text.push("\n场景(付款码第 3–6 位):".into());
        text.extend(scenario_lines(Language::Zh).into_iter().map(|l| format!("  {l}")));
        text.push("\nCtrl-C stops the simulator.\n".into());
        // A closed stdout (piped into `head`) must not stop the server.
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.join("\n").as_bytes());
        let _ = out.flush();
        drop(out);
        let _ = tokio::signal::ctrl_c().await;
        sim.shutdown().await;
        ExitCode::SUCCESS
    })
}

/// Settings from the config file if it exists, else the demo merchant; plus where the key came from.
fn settings_for(config: &Path) -> Result<(SimSettings, String), String> {
    if config.exists() {
        let cfg = crate::config::load(config).map_err(|e| format!("invalid configuration: {e}"))?;
        // A live till's config: the simulator would sign with the merchant's API key and keep
        // its fingerprint in the ledger. The key belongs only with WeChat's own address (the
        // till refuses it with base_url = "simulator" the same way).
        let demo = cfg.merchant.api_key.expose() == crate::config::SIMULATOR_DEMO_KEY;
        if !cfg.wechat.base_url.is_simulated() && !demo {
            let (file, source) = (cfg.file.display(), &cfg.merchant.api_key_source);
            let from_env = matches!(source, crate::config::SecretSource::Env(_));
            let (unset, unset_zh) = if from_env {
                (", and unset PAYCODE_API_KEY", ",并取消 PAYCODE_API_KEY")
            } else {
                ("", "")
            };
            return Err(format!(
                "{file} is a live till's config (base_url on WeChat's host, the merchant API key \
                 {source}): the simulator works only with its own demo key; run `paycode \
                 simulate` with a config whose base_url is \"simulator\" or on this machine, or \
                 with none{unset} / {file} 是正式收银台的配置(base_url 指向微信支付,商户 API 密钥 \
                 {source}):模拟器只使用自带的演示密钥;请使用 base_url 为 \"simulator\" 或本机地址的配置\
                 运行 `paycode simulate`,或不使用配置{unset_zh}"
            ));
        }
        let source = format!("{} (not shown)", cfg.merchant.api_key_source);
        Ok((SimSettings::from_config(&cfg), source))
    } else {
        let s = SimSettings::demo().map_err(|e| e.to_string())?;
        Ok((s, "SIMULATOR_DEMO_KEY (built-in demo key)".to_string()))
    }
}
