//! `opsmcp up` and `opsmcp serve`: claim the ports, build the servers, run until a signal.

use std::{net::SocketAddr, process::ExitCode, sync::Arc, time::Duration};

use anyhow::Context;
use opsmcp_mcp::{HostSettings, Limits, McpHost, policy::ToolSwitches};
use opsmcp_notify::Notifier;
use opsmcp_servers::{
    audit::Audit,
    journal::StoreJournal,
    log_analytics::{LogAnalytics, LogAnalyticsServer},
    monitoring::{Monitoring, MonitoringServer, SamplerCheck},
    workflow::{Workflow, WorkflowServer, alertmanager_webhook, deploy_webhook},
};
use opsmcp_store::Store;
use opsmcp_workflow::remediate::Verify;
use opsmcp_world::{
    World,
    live::{
        files::LogFileSource, host::HostMonitor, journald::JournaldSource, packages::PackageLog,
        postgres::PostgresSource, prometheus::PrometheusSource, runbook::Runbook,
        services::ServiceMap, world::LiveWorld,
    },
    sim::{SimWorld, SimulatedWorld, builtin},
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{config::Settings, history_book::StoreBook, ports};

/// The three servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServerKind {
    /// Monitoring & analysis (9001).
    Monitoring,
    /// Workflow orchestration (9002).
    Workflow,
    /// Log analytics (9003).
    LogAnalytics,
}

impl ServerKind {
    pub const ALL: [ServerKind; 3] = [Self::Monitoring, Self::Workflow, Self::LogAnalytics];

    pub fn name(self) -> &'static str {
        match self {
            Self::Monitoring => "monitoring",
            Self::Workflow => "workflow",
            Self::LogAnalytics => "log-analytics",
        }
    }

    pub fn port(self, s: &Settings) -> u16 {
        match self {
            Self::Monitoring => s.monitoring_port,
            Self::Workflow => s.workflow_port,
            Self::LogAnalytics => s.log_analytics_port,
        }
    }

    pub fn set_port(self, s: &mut Settings, port: u16) {
        match self {
            Self::Monitoring => s.monitoring_port = port,
            Self::Workflow => s.workflow_port = port,
            Self::LogAnalytics => s.log_analytics_port = port,
        }
    }
}

/// How a command ended, when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok,
    Failed,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        match e {
            Exit::Ok => ExitCode::from(crate::report::EXIT_OK),
            Exit::Failed => ExitCode::from(crate::report::EXIT_FAILED),
        }
    }
}

/// Claims every port, then serves `kinds` until SIGINT/SIGTERM.
pub fn run(settings: &Settings, kinds: &[ServerKind]) -> anyhow::Result<Exit> {
    let wanted: Vec<_> = kinds.iter().map(|k| (k.name(), k.port(settings))).collect();
    // A bad scenario is reported before any port is taken.
    let scenario = settings
        .scenario
        .as_deref()
        .map(builtin::load)
        .transpose()?;
    check_tool_names(settings)?;
    // A certificate that cannot be used is refused before any port is taken.
    if let Some(tls) = settings.tls() {
        opsmcp_mcp::tls::check(&tls)?;
    }
    if !settings.bind.is_loopback() && !settings.auth.enabled() {
        if !settings.insecure_no_auth {
            anyhow::bail!(
                "refusing to serve on {} without authentication: anyone who can reach it could \
                 run remediations and scripts. Configure [auth] tokens (`opsmcp token create`) \
                 or an [auth.oauth] issuer, bind 127.0.0.1, or pass --insecure-no-auth on a \
                 network you trust",
                settings.bind
            );
        }
        eprintln!(
            "opsmcp: WARNING: bound to {} without authentication (--insecure-no-auth): anyone \
             who can reach this address can call every tool.",
            settings.bind
        );
    }
    let listeners = ports::claim(settings.bind, &wanted)?;
    // The registry must exist before the delivery worker records the outbox depth.
    opsmcp_mcp::metrics::handle();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let stop = CancellationToken::new();
        tokio::spawn(watch_signals(stop.clone()));
        let store = Store::open(&settings.database_url)
            .await
            .with_context(|| {
                format!(
                    "cannot open the store at {}; check --database-url / --data-dir",
                    redact_url(&settings.database_url)
                )
            })?
            .with_audit_key(settings.audit_key()?);
        if let Some(seq) = store.audit_head_foreign().await? {
            tracing::error!(
                seq,
                key = %settings.audit_key_file.display(),
                "the audit log's last entry was written with another key: replicas sharing a \
                 database must share one audit_key_file, and `opsmcp audit verify` will report \
                 the switch"
            );
        }
        let world = build_world(settings, scenario, &store).await?;
        if world.sampler.is_some() {
            eprintln!("opsmcp: watching this system (live world)");
        }
        let mut tasks = Vec::new();
        if let Some(live) = &world.live
            && kinds.contains(&ServerKind::Monitoring)
            && settings.history_interval_s > 0
        {
            // One process keeps the history: the one serving monitoring.
            let every = Duration::from_secs(settings.history_interval_s);
            tasks.push((
                "history",
                tokio::spawn(keep_history(
                    live.clone(),
                    store.clone(),
                    every,
                    stop.clone(),
                )),
            ));
        }
        if kinds.contains(&ServerKind::Workflow) {
            // Notifications queued by notify_team are sent from here, with retries, and whatever
            // an earlier process left in the outbox goes out too.
            let worker = world
                .notifier
                .worker(store.clone(), settings.notify.delivery.clone())?;
            let stop = stop.clone();
            tasks.push((
                "delivery",
                tokio::spawn(async move {
                    worker.run(stop).await;
                    Ok(())
                }),
            ));
        }
        for (kind, (_, listener)) in kinds.iter().zip(listeners) {
            listener.set_nonblocking(true)?;
            let listener = TcpListener::from_std(listener)?;
            let addr = listener.local_addr()?;
            let task = serve_one(*kind, settings, &world, &store, listener, stop.clone())?;
            println!(
                "opsmcp: {} listening on {}://{addr} (/mcp, /sse, /health, /metrics)",
                kind.name(),
                if settings.tls_cert.is_some() {
                    "https"
                } else {
                    "http"
                }
            );
            tasks.push((kind.name(), task));
        }
        let mut exit = Exit::Ok;
        for (name, task) in tasks {
            match task.await {
                Ok(Ok(())) => tracing::info!(server = name, "stopped"),
                Ok(Err(e)) => {
                    tracing::error!(server = name, error = %e, "server failed");
                    exit = Exit::Failed;
                }
                Err(e) => {
                    tracing::error!(server = name, error = %e, "server task failed");
                    exit = Exit::Failed;
                }
            }
        }
        Ok(exit)
    })
}

type ServeTask = tokio::task::JoinHandle<Result<(), opsmcp_mcp::HostError>>;

/// Samples the live world every `every` into the store, and prunes old history hourly.
async fn keep_history(
    live: Arc<LiveWorld>,
    store: Store,
    every: Duration,
    stop: CancellationToken,
) -> Result<(), opsmcp_mcp::HostError> {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_prune: Option<std::time::Instant> = None;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            _ = tick.tick() => {}
        }
        if let Err(e) = live.sample().await {
            tracing::warn!(error = %e, "cannot sample the live world");
        }
        if last_prune.is_none_or(|t| t.elapsed() >= Duration::from_secs(3600)) {
            last_prune = Some(std::time::Instant::now());
            match store
                .prune_samples(jiff::Timestamp::now(), &Default::default())
                .await
            {
                Ok(r) => tracing::debug!(?r, "history pruned"),
                Err(e) => tracing::warn!(error = %e, "cannot prune the history"),
            }
        }
    }
}

/// Servers started inside this process for the agent (`opsmcp run-scenario`): where they
/// listen, and how to stop them.
pub struct InProcess {
    /// (server name, base URL `http://127.0.0.1:PORT`), in the order asked.
    pub urls: Vec<(&'static str, String)>,
    /// The store the servers share.
    pub store: Store,
    stop: CancellationToken,
    tasks: Vec<(&'static str, ServeTask)>,
    _world: Built,
}

impl InProcess {
    /// Stops every server and waits for them (at most the shutdown grace).
    pub async fn shutdown(self) {
        self.stop.cancel();
        for (name, task) in self.tasks {
            match task.await {
                Ok(Ok(())) => tracing::debug!(server = name, "stopped"),
                Ok(Err(e)) => tracing::warn!(server = name, error = %e, "server failed"),
                Err(e) => tracing::warn!(server = name, error = %e, "server task failed"),
            }
        }
    }
}

/// Starts `kinds` on free loopback ports in the current runtime: the same store, world and
/// servers as `up`, but no configured ports claimed and no signal handling (the caller owns
/// the process).
pub async fn start_in_process(
    settings: &Settings,
    kinds: &[ServerKind],
) -> anyhow::Result<InProcess> {
    let scenario = settings
        .scenario
        .as_deref()
        .map(builtin::load)
        .transpose()?;
    let store = Store::open(&settings.database_url).await.with_context(|| {
        format!(
            "cannot open the store at {}",
            redact_url(&settings.database_url)
        )
    })?;
    let world = build_world(settings, scenario, &store).await?;
    let stop = CancellationToken::new();
    let mut urls = Vec::new();
    let mut tasks = Vec::new();
    if kinds.contains(&ServerKind::Workflow) {
        // As in `run`: what notify_team queues is delivered while the servers run.
        let worker = world
            .notifier
            .worker(store.clone(), settings.notify.delivery.clone())?;
        let stop = stop.clone();
        tasks.push((
            "delivery",
            tokio::spawn(async move {
                worker.run(stop).await;
                Ok(())
            }),
        ));
    }
    for kind in kinds {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
            .await
            .context("cannot bind a loopback port")?;
        let addr = listener.local_addr()?;
        tasks.push((
            kind.name(),
            serve_one(*kind, settings, &world, &store, listener, stop.clone())?,
        ));
        urls.push((kind.name(), format!("http://{addr}")));
    }
    Ok(InProcess {
        urls,
        store: store.clone(),
        stop,
        tasks,
        _world: world,
    })
}

/// Names in --enabled-tools / --disabled-tools must be tools of some server: a typo would
/// otherwise offer everything (or hide nothing) without a word.
/// Every tool the three servers offer, sorted.
pub fn tool_names() -> Vec<String> {
    let rules = [
        MonitoringServer::tool_rules(),
        WorkflowServer::tool_rules(),
        LogAnalyticsServer::tool_rules(),
    ];
    let mut known: Vec<String> = rules
        .iter()
        .flat_map(|r| r.names())
        .map(str::to_string)
        .collect();
    known.sort_unstable();
    known
}

fn check_tool_names(settings: &Settings) -> anyhow::Result<()> {
    let switches = tool_switches(settings);
    let known = tool_names();
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    let unknown = switches.unknown(&known);
    if !unknown.is_empty() {
        anyhow::bail!(
            "unknown tool(s) in enabled_tools/disabled_tools: {}; the tools are: {}",
            unknown.join(", "),
            known.join(", ")
        );
    }
    Ok(())
}

fn tool_switches(s: &Settings) -> ToolSwitches {
    ToolSwitches {
        read_only: s.read_only,
        enabled: s.enabled_tools.clone(),
        disabled: s.disabled_tools.clone(),
    }
}

/// The world every server of this process shares.
struct Built {
    world: Arc<dyn World>,
    store: Store,
    audit: Audit,
    notifier: Notifier,
    /// The host sampler, when the world is live (its freshness is a `/health` check).
    sampler: Option<HostMonitor>,
    /// The live world itself, whose readings the monitoring server's process keeps as history.
    live: Option<Arc<LiveWorld>>,
}

async fn build_world(
    settings: &Settings,
    scenario: Option<opsmcp_world::sim::Scenario>,
    store: &Store,
) -> anyhow::Result<Built> {
    if let Some(scenario) = scenario {
        let journal = StoreJournal::join_or_start(
            store.clone(),
            &scenario.name,
            settings.seed,
            settings.new_world,
            jiff::Timestamp::now(),
        )
        .await
        .context("cannot record the simulated run in the store")?;
        let run = journal.run().clone();
        let age = jiff::Timestamp::now().duration_since(run.started_at);
        eprintln!(
            "opsmcp: playing the simulated incident '{}' (seed {}, run #{} started {} min ago{})",
            scenario.name,
            settings.seed,
            run.id,
            age.as_secs() / 60,
            if age.as_secs() > 5 {
                "; --new-world starts a fresh one"
            } else {
                ""
            }
        );
        let sim = SimWorld::new(scenario, settings.seed, run.started_at)
            .with_log_rate(settings.log_rate)
            .with_effect_speed(settings.effect_speed);
        let world =
            SimulatedWorld::new(sim, settings.thresholds.clone()).with_journal(Arc::new(journal));
        return Ok(Built {
            world: Arc::new(world),
            store: store.clone(),
            audit: Audit::start(store.clone(), "opsmcp"),
            notifier: notifier(settings)?,
            sampler: None,
            live: None,
        });
    }
    let interval = Duration::from_millis(settings.sample_interval_ms);
    let monitor = HostMonitor::start(interval).context("cannot start the host sampler")?;
    let mut http =
        reqwest::Client::builder().user_agent(concat!("opsmcp/", env!("CARGO_PKG_VERSION")));
    if settings.probes.is_empty() {
        // Only probes use this client. Without any, it trusts no root instead of loading the
        // system's (a walk of /etc/ssl/certs: several ms of every start, and TLS code resident).
        http = http.tls_certs_only([]);
    }
    let http = http
        .build()
        .context("cannot build the HTTP client for probes")?;
    let mut live = LiveWorld::new(
        monitor.clone(),
        settings.thresholds.clone(),
        settings.probes.clone(),
        http,
    );
    if let Some(config) = &settings.prometheus {
        live = live.with_prometheus(PrometheusSource::new(config.clone())?);
    }
    let files = settings
        .log_files
        .iter()
        .map(|spec| LogFileSource::new(spec.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let journal = settings
        .journald
        .iter()
        .map(|spec| JournaldSource::new(spec.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let postgres = settings
        .postgres
        .iter()
        .map(|spec| PostgresSource::new(spec.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    live = live
        .with_log_files(files)
        .with_journald(journal)
        .with_packages(PackageLog::new(settings.packages.clone()))
        .with_postgres(postgres)
        .with_postgres_discovery(settings.discover_postgres)
        .with_runbook(Runbook::new(settings.runbook.clone())?)
        .with_services(ServiceMap::new(settings.services.clone())?)
        .with_history(Arc::new(StoreBook(store.clone())));
    let live = Arc::new(live);
    Ok(Built {
        world: live.clone(),
        store: store.clone(),
        audit: Audit::start(store.clone(), "opsmcp"),
        notifier: notifier(settings)?,
        sampler: Some(monitor),
        live: Some(live),
    })
}

fn notifier(settings: &Settings) -> anyhow::Result<Notifier> {
    Ok(Notifier::new(settings.notify.build(&settings.data_dir)?))
}

fn serve_one(
    kind: ServerKind,
    settings: &Settings,
    built: &Built,
    store: &Store,
    listener: TcpListener,
    stop: CancellationToken,
) -> anyhow::Result<ServeTask> {
    let mut host = host_settings(kind, settings, listener.local_addr()?);
    let switches = tool_switches(settings);
    Ok(match kind {
        ServerKind::Monitoring => {
            host.tools = MonitoringServer::tool_rules();
            let ctx = Arc::new(Monitoring {
                world: built.world.clone(),
                store: Some(store.clone()),
            });
            let handler = MonitoringServer::new(ctx, built.audit.for_server("monitoring"))
                .with_tools(&switches);
            // Refusals at the door go to the same audit log as the tool calls.
            let mut server = McpHost::new(host, move || handler.clone())
                .with_refusals(built.audit.for_server("monitoring"));
            if let Some(monitor) = &built.sampler {
                let interval = Duration::from_millis(settings.sample_interval_ms);
                server = server.with_check(SamplerCheck {
                    host: monitor.clone(),
                    max_age: interval * 3 + Duration::from_secs(1),
                });
            }
            tokio::spawn(server.serve(listener, stop))
        }
        ServerKind::Workflow => {
            let ctx = Arc::new(Workflow {
                store: built.store.clone(),
                world: built.world.clone(),
                verify: Verify {
                    timeout: Duration::from_secs(settings.verify_timeout_s),
                    interval: Duration::from_secs(2),
                },
                postmortems: settings.data_dir.join("postmortems"),
                runs: settings.data_dir.join("runs"),
                notifier: built.notifier.clone(),
            });
            let routes = alertmanager_webhook::routes(built.store.clone())
                .merge(deploy_webhook::routes(built.store.clone()));
            host.tools = WorkflowServer::tool_rules();
            let handler =
                WorkflowServer::new(ctx, built.audit.for_server("workflow")).with_tools(&switches);
            let server = McpHost::new(host, move || handler.clone())
                .with_routes(routes)
                .with_refusals(built.audit.for_server("workflow"));
            tokio::spawn(server.serve(listener, stop))
        }
        ServerKind::LogAnalytics => {
            let tools = LogAnalytics::new(
                built.world.clone(),
                store.clone(),
                settings.data_dir.clone(),
                settings.sandbox.clone(),
            )
            .with_context(|| {
                format!(
                    "cannot create the analytics workspace in {}; check --data-dir",
                    settings.data_dir.display()
                )
            })?;
            // Without the kernel layers scripts are refused; say so at start, not at first use.
            if let Err(e) = tools.sandbox.ready() {
                eprintln!("opsmcp: WARNING: log-analytics cannot run analysis scripts: {e}");
            }
            let check = tools.sandbox_check();
            host.tools = LogAnalyticsServer::tool_rules();
            let handler =
                LogAnalyticsServer::new(Arc::new(tools), built.audit.for_server("log-analytics"))
                    .with_tools(&switches);
            tokio::spawn(
                McpHost::new(host, move || handler.clone())
                    .with_check(check)
                    .with_refusals(built.audit.for_server("log-analytics"))
                    .serve(listener, stop),
            )
        }
    })
}

fn host_settings(kind: ServerKind, s: &Settings, addr: SocketAddr) -> HostSettings {
    let mut host = HostSettings::new(kind.name(), env!("CARGO_PKG_VERSION"));
    host.allowed_hosts = s.allowed_hosts.clone();
    // Clients reaching a non-loopback bind address use it as Host; accept it.
    if !addr.ip().is_loopback() && !addr.ip().is_unspecified() {
        host.allowed_hosts.push(addr.ip().to_string());
    }
    host.allowed_origins = s.allowed_origins.clone();
    host.legacy_sessions = s.legacy_sessions;
    host.max_body_bytes = s.max_body_bytes;
    host.shutdown_grace = Duration::from_secs(s.shutdown_grace_s);
    host.refusal_window = Duration::from_secs(s.refusal_window_s);
    host.auth = s.auth.clone();
    host.tls = s.tls();
    host.edge = s.edge();
    host.limits = Limits {
        calls_per_minute: s.calls_per_minute,
        expensive_per_minute: s.expensive_per_minute,
        expensive_concurrency: s.expensive_concurrency,
        call_timeout_s: s.call_timeout_s,
    };
    host
}

/// First SIGINT or SIGTERM: graceful shutdown. A second one: leave now.
async fn watch_signals(stop: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop the server with SIGKILL");
        return;
    };
    tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
    eprintln!("opsmcp: shutting down (again to force)");
    stop.cancel();
    tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
    eprintln!("opsmcp: forced exit");
    std::process::exit(130);
}

/// `url` without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
