//! `opsmcp health`: asks each server's `/health` and prints one line per server.

use std::time::Duration;

use clap::ArgMatches;

use crate::{
    config::{ReachArgs, Settings},
    serve::{Exit, ServerKind},
};

#[derive(Debug, clap::Args)]
pub struct HealthArgs {
    /// Monitoring server base URL (default from the bind address and port settings).
    #[arg(long)]
    monitoring_url: Option<String>,
    /// Workflow server base URL.
    #[arg(long)]
    workflow_url: Option<String>,
    /// Log analytics server base URL.
    #[arg(long)]
    log_analytics_url: Option<String>,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 3)]
    timeout_s: u64,
    #[command(flatten)]
    overrides: ReachArgs,
}

pub fn run(args: &HealthArgs, matches: &ArgMatches) -> anyhow::Result<Exit> {
    let settings = Settings::resolve(&args.overrides.clone().overrides(), matches)?;
    let host = match settings.bind {
        ip if ip.is_unspecified() => "127.0.0.1".to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    let targets: Vec<(&str, String)> = ServerKind::ALL
        .iter()
        .map(|k| {
            let given = match k {
                ServerKind::Monitoring => &args.monitoring_url,
                ServerKind::Workflow => &args.workflow_url,
                ServerKind::LogAnalytics => &args.log_analytics_url,
            };
            let base = given
                .clone()
                .unwrap_or_else(|| format!("http://{host}:{}", k.port(&settings)));
            (k.name(), base.trim_end_matches('/').to_string())
        })
        .collect();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout_s))
        .build()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let rows = runtime.block_on(futures::future::join_all(
        targets
            .iter()
            .map(|(name, base)| probe(&client, name, base)),
    ));

    println!(
        "{:<14} {:<9} {:<9} {:>10}  {:<30} DETAIL",
        "SERVER", "STATUS", "VERSION", "UPTIME_S", "URL"
    );
    let mut exit = Exit::Ok;
    for row in rows {
        if row.status != "ok" {
            exit = Exit::Failed;
        }
        println!(
            "{:<14} {:<9} {:<9} {:>10}  {:<30} {}",
            row.name, row.status, row.version, row.uptime, row.url, row.detail
        );
    }
    Ok(exit)
}

struct Row {
    name: String,
    url: String,
    status: String,
    version: String,
    uptime: String,
    detail: String,
}

async fn probe(client: &reqwest::Client, name: &str, base: &str) -> Row {
    let url = format!("{base}/health");
    let mut row = Row {
        name: name.into(),
        url: url.clone(),
        status: "down".into(),
        version: "-".into(),
        uptime: "-".into(),
        detail: String::new(),
    };
    match client.get(&url).send().await {
        Err(e) => row.detail = format!("unreachable: {e}"),
        Ok(resp) => match resp.json::<serde_json::Value>().await {
            Err(e) => row.detail = format!("not an opsmcp /health answer: {e}"),
            Ok(body) => {
                row.status = body["status"].as_str().unwrap_or("unknown").into();
                row.version = body["version"].as_str().unwrap_or("-").into();
                row.uptime = body["uptime_s"]
                    .as_f64()
                    .map(|u| format!("{u:.0}"))
                    .unwrap_or_default();
                let failing: Vec<String> = body["checks"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(_, c)| c["status"] != "ok")
                    .map(|(n, c)| format!("{n}: {}", c["detail"]))
                    .collect();
                row.detail = if failing.is_empty() {
                    "all checks pass".into()
                } else {
                    failing.join("; ")
                };
            }
        },
    }
    row
}
