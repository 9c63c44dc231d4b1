//! `paycode serve`: the local API for the store's POS, headless (docs/api.md). It owns the
//! journal like the cashier screen: start-up recovery first, then one sale at a time.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{REFUSED, lang, load, logging, open_till, output, runtime};
use crate::api::token::Token;
use crate::checkout::{messages, recover};
use crate::words::{Bilingual, Words};

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (default: [api] listen, else 127.0.0.1:8765); anything but
    /// loopback needs a token file.
    #[arg(long)]
    pub listen: Option<String>,
    /// A file (mode 600) holding the bearer token every call must carry (default: [api]
    /// token_file).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
}

/// Why the listen address or token was refused, or `None`.
fn listen_problem(addr: &SocketAddr, token: Option<&Token>) -> Option<Words> {
    if addr.ip().is_loopback() || token.is_some() {
        return None;
    }
    Some(Words::new(
        format!(
            "--listen {addr} can be reached from other machines: anyone there could take payments; listen on 127.0.0.1, or give --token-file (mode 600) so every call needs the token"
        ),
        format!(
            "--listen {addr} 可被其他机器访问:任何人都能发起收款;请监听 127.0.0.1,或提供 --token-file(权限 600),让每次调用都须携带令牌"
        ),
    ))
}

/// `--listen`'s text as an address.
fn parse_listen(text: &str) -> Result<SocketAddr, Words> {
    text.parse().map_err(|_| {
        let shown = crate::untrusted::shown_arg(text);
        Words::new(
            format!("--listen {shown:?} is not an address: write IP:PORT, e.g. 127.0.0.1:8765"),
            format!("--listen {shown:?} 不是地址:请写成 IP:端口,例如 127.0.0.1:8765"),
        )
    })
}

pub fn run(config: &Path, args: &ServeArgs) -> ExitCode {
    // The arguments are checked before the config is read: a typo is named first.
    let given = match args.listen.as_deref().map(parse_listen).transpose() {
        Ok(a) => a,
        Err(w) => return output::rejected(false, &w, None),
    };
    let given_token = match args.token_file.as_deref().map(Token::read).transpose() {
        Ok(t) => t,
        Err(w) => return output::rejected(false, &w, None),
    };
    let cfg = match load(config, false) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let addr = match (given, &cfg.api) {
        (Some(a), _) => a,
        (None, Some(api)) => api.listen,
        (None, None) => match parse_listen(crate::config::DEFAULT_LISTEN) {
            Ok(a) => a,
            Err(w) => return output::rejected(false, &w, None),
        },
    };
    let token = match (
        given_token,
        cfg.api.as_ref().and_then(|a| a.token_file.as_deref()),
    ) {
        (Some(t), _) => Some(t),
        (None, Some(path)) => match Token::read_as(path, "[api] token_file") {
            Ok(t) => Some(t),
            Err(w) => return output::rejected(false, &w, None),
        },
        (None, None) => None,
    };
    if let Some(w) = listen_problem(&addr, token.as_ref()) {
        return output::rejected(false, &w, None);
    }
    let _log = logging(&cfg);
    let journal_path = cfg.journal.path.clone();
    let cfg_socket = cfg.api.as_ref().and_then(|a| a.socket.clone());
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(c) => return c,
    };
    super::office::background(&rt, &cfg);
    rt.block_on(async move {
        let mut till = match open_till(cfg, false).await {
            Ok(t) => t,
            Err(c) => return c,
        };
        let l = lang(till.config());
        match recover(&mut till, |_| {}).await {
            Ok(done) => {
                for r in &done {
                    errln!(
                        "recovered {} ({}): {}",
                        r.outcome.out_trade_no,
                        r.was.as_str(),
                        messages::text(&r.outcome, l)
                    );
                }
            }
            Err(e) => return output::refusal(false, &e.words(), None, e.exit_code()),
        }
        let reader = match crate::journal::Journal::open(&journal_path) {
            Ok(j) => j,
            Err(e) => return output::rejected(false, &e.words(), None),
        };
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                return output::rejected(
                    false,
                    &Words::new(
                        format!("cannot listen on {addr}: {e}; choose another --listen port"),
                        format!("无法监听 {addr}:{e};请用 --listen 换一个端口"),
                    ),
                    None,
                );
            }
        };
        let unix = match cfg_socket
            .as_deref()
            .map(crate::api::socket::bind)
            .transpose()
        {
            Ok(u) => u,
            Err(w) => return output::rejected(false, &w, None),
        };
        let bound = listener.local_addr().map_or(addr, |a| a);
        // The first stdout line is the address, for a supervisor or a test to read.
        outln!("listening on http://{bound}");
        errln!("paycode serve: the POS API is up (docs/api.md) / POS 接口已启动");
        if let Some(p) = &cfg_socket {
            errln!(
                "paycode serve: also on the Unix socket {} / 同时在 Unix 套接字上服务",
                p.display()
            );
        }
        let listeners = crate::api::Listeners {
            tcp: listener,
            unix,
        };
        match crate::api::serve(till, reader, listeners, token, crate::api::Hub::default()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                errln!("paycode serve: {e}");
                ExitCode::from(REFUSED)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_goes_without_a_token() {
        let a: SocketAddr = "0.0.0.0:8765".parse().unwrap();
        assert!(listen_problem(&a, None).is_some());
        let l: SocketAddr = "127.0.0.1:8765".parse().unwrap();
        assert!(listen_problem(&l, None).is_none());
        let v6: SocketAddr = "[::]:8765".parse().unwrap();
        assert!(listen_problem(&v6, None).is_some());
    }
}
