//! Loopback cost of one wxpay call: the pooled keep-alive client vs a new client (so a new TCP,
//! and for https a new TLS, connection) per call, over HTTP and HTTPS. The ratio of the two is
//! the figure the team's note quotes.
#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use paycode::wxpay::client::{Client, ClientSettings, Endpoint};
use support::{Behaviour, Pki, TestServer, write_file};

const XML: &str = "<xml><appid>wx0000000000000000</appid><out_trade_no>BENCH</out_trade_no></xml>";

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let pki = Pki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = write_file(dir.path(), "ca.pem", &pki.ca_pem, 0o644);
    let http = rt.block_on(TestServer::http(Behaviour::ok()));
    let https = rt.block_on(TestServer::https(Behaviour::ok(), pki.server_config(false)));
    let settings = |url: &str| {
        let mut s = ClientSettings::new(url);
        s.extra_root_ca = Some(ca.clone());
        s
    };

    let mut g = c.benchmark_group("client");
    g.sample_size(50);
    for (name, url) in [("http", http.url()), ("https", https.url())] {
        let pooled = Client::new(settings(&url)).expect("client");
        g.bench_function(format!("{name}/keep_alive"), |b| {
            b.iter(|| {
                rt.block_on(pooled.post(Endpoint::OrderQuery, XML.to_string()))
                    .expect("reply")
            })
        });
        g.bench_function(format!("{name}/new_client_per_call"), |b| {
            b.iter(|| {
                let fresh = Client::new(settings(&url)).expect("client");
                rt.block_on(fresh.post(Endpoint::OrderQuery, XML.to_string()))
                    .expect("reply")
            })
        });
    }
    // Building a client alone (reads the system CA bundle): part of the per-call cost above.
    g.bench_function("client_new_only", |b| {
        b.iter(|| Client::new(settings(&http.url())).expect("client"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
