//! Effective settings: flags beat environment variables beat the TOML file beat defaults, and
//! every value remembers where it came from (`opsmcp config print`).

use std::{
    collections::BTreeMap,
    net::{IpAddr, Ipv4Addr},
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use clap::{ArgMatches, parser::ValueSource};
use opsmcp_mcp::auth::AuthConfig;
use opsmcp_sandbox::SandboxLimits;
use opsmcp_world::{
    health::Thresholds,
    live::{
        files::LogFileSpec, probes::ProbeSpec, prometheus::PrometheusConfig, runbook::Runbook,
        runbook::RunbookAction,
    },
};
use serde::{Deserialize, Serialize};

/// Flags (and their `OPSMCP_…` variables) shared by every command that serves or reaches the
/// servers.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Overrides {
    /// Address to bind (default 127.0.0.1; anything else exposes the tools to the network).
    #[arg(long, env = "OPSMCP_BIND")]
    pub bind: Option<IpAddr>,
    /// Port of the monitoring & analysis server (default 9001; 0 picks a free one).
    #[arg(long, env = "OPSMCP_MONITORING_PORT")]
    pub monitoring_port: Option<u16>,
    /// Port of the workflow orchestration server (default 9002).
    #[arg(long, env = "OPSMCP_WORKFLOW_PORT")]
    pub workflow_port: Option<u16>,
    /// Port of the log analytics server (default 9003).
    #[arg(long, env = "OPSMCP_LOG_ANALYTICS_PORT")]
    pub log_analytics_port: Option<u16>,
    /// Directory for the store and analysis files.
    #[arg(long, env = "OPSMCP_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Store URL: `sqlite:///path/opsmcp.db` (default: opsmcp.db in the data directory) or
    /// `postgres://…` for several replicas sharing one database.
    #[arg(long, env = "OPSMCP_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Start a fresh run of the simulated incident instead of joining the latest one of the same
    /// scenario and seed in the store.
    #[arg(long)]
    pub new_world: bool,
    /// TOML settings file (default ./opsmcp.toml when it exists).
    #[arg(long, env = "OPSMCP_CONFIG")]
    pub config: Option<PathBuf>,
    /// Extra accepted Host names besides loopback (repeat, or comma-separate in the variable).
    #[arg(
        long = "allowed-host",
        env = "OPSMCP_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,
    /// Extra accepted browser Origins besides loopback ones.
    #[arg(
        long = "allowed-origin",
        env = "OPSMCP_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,
    /// Keep Mcp-Session-Id sessions for initialize-era clients on /mcp (default false).
    #[arg(long, env = "OPSMCP_LEGACY_SESSIONS")]
    pub legacy_sessions: Option<bool>,
    /// Largest accepted request body in bytes (default 4194304).
    #[arg(long, env = "OPSMCP_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Seconds a shutdown waits for calls in flight (default 10).
    #[arg(long, env = "OPSMCP_SHUTDOWN_GRACE_S")]
    pub shutdown_grace_s: Option<u64>,
    /// Milliseconds between host readings (default 2000).
    #[arg(long, env = "OPSMCP_SAMPLE_INTERVAL_MS")]
    pub sample_interval_ms: Option<u64>,
    /// Play a simulated incident instead of watching this system: a built-in scenario name
    /// (`opsmcp scenarios list`) or a scenario file.
    #[arg(long, env = "OPSMCP_SCENARIO")]
    pub scenario: Option<String>,
    /// Seed of the simulated incident (default 1); the same seed gives the same logs and metrics.
    #[arg(long, env = "OPSMCP_SEED")]
    pub seed: Option<u64>,
    /// Simulated remediations take effect this many times sooner than written (default 1).
    #[arg(long, env = "OPSMCP_EFFECT_SPEED")]
    pub effect_speed: Option<f64>,
    /// Seconds execute_remediation watches health recover before rolling back (default 180).
    #[arg(long, env = "OPSMCP_VERIFY_TIMEOUT_S")]
    pub verify_timeout_s: Option<u64>,
    /// Multiply the simulated incident's log volume (default 1.0; 100 for a heavy load).
    #[arg(long, env = "OPSMCP_LOG_RATE")]
    pub log_rate: Option<f64>,
    /// Serve on a non-loopback address with no tokens or OAuth configured (anyone who can reach
    /// it may call every tool). Without it such a bind refuses to start.
    #[arg(long, env = "OPSMCP_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
    /// Offer only tools annotated read-only (no incident changes, remediations or scripts).
    #[arg(long, env = "OPSMCP_READ_ONLY", num_args = 0..=1, default_missing_value = "true")]
    pub read_only: Option<bool>,
    /// Offer only these tools (comma-separated names); the others are not listed.
    #[arg(long, env = "OPSMCP_ENABLED_TOOLS", value_delimiter = ',')]
    pub enabled_tools: Vec<String>,
    /// Never offer these tools (comma-separated names).
    #[arg(long, env = "OPSMCP_DISABLED_TOOLS", value_delimiter = ',')]
    pub disabled_tools: Vec<String>,
    /// Requests per minute per caller (token, or client address without auth); 0 = no limit
    /// (default 0).
    #[arg(long, env = "OPSMCP_CALLS_PER_MINUTE")]
    pub calls_per_minute: Option<u32>,
    /// Calls per minute per caller of expensive tools (root_cause_analysis,
    /// execute_analysis_script); 0 = no limit (default 60).
    #[arg(long, env = "OPSMCP_EXPENSIVE_PER_MINUTE")]
    pub expensive_per_minute: Option<u32>,
    /// Calls of one expensive tool running at once per server; 0 = no limit (default 8).
    #[arg(long, env = "OPSMCP_EXPENSIVE_CONCURRENCY")]
    pub expensive_concurrency: Option<usize>,
    /// Seconds a tool call may run before it is ended with an error; 0 = no limit (default 600).
    #[arg(long, env = "OPSMCP_CALL_TIMEOUT_S")]
    pub call_timeout_s: Option<u64>,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key); reloaded on SIGHUP or
    /// when the file changes.
    #[arg(long, env = "OPSMCP_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "OPSMCP_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
}

/// The TOML file: the same names as the flags, plus thresholds and probes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    bind: Option<IpAddr>,
    monitoring_port: Option<u16>,
    workflow_port: Option<u16>,
    log_analytics_port: Option<u16>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    allowed_hosts: Option<Vec<String>>,
    allowed_origins: Option<Vec<String>>,
    legacy_sessions: Option<bool>,
    max_body_bytes: Option<usize>,
    shutdown_grace_s: Option<u64>,
    sample_interval_ms: Option<u64>,
    scenario: Option<String>,
    seed: Option<u64>,
    log_rate: Option<f64>,
    verify_timeout_s: Option<u64>,
    effect_speed: Option<f64>,
    thresholds: Option<Thresholds>,
    probes: Option<Vec<ProbeSpec>>,
    prometheus: Option<PrometheusConfig>,
    log_files: Option<Vec<LogFileSpec>>,
    runbook: Option<Vec<RunbookAction>>,
    notify: Option<opsmcp_notify::ChannelsConfig>,
    sandbox: Option<SandboxLimits>,
    insecure_no_auth: Option<bool>,
    read_only: Option<bool>,
    enabled_tools: Option<Vec<String>>,
    disabled_tools: Option<Vec<String>>,
    calls_per_minute: Option<u32>,
    expensive_per_minute: Option<u32>,
    expensive_concurrency: Option<usize>,
    call_timeout_s: Option<u64>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    auth: Option<AuthConfig>,
}

/// The settings in force.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub bind: IpAddr,
    pub monitoring_port: u16,
    pub workflow_port: u16,
    pub log_analytics_port: u16,
    pub data_dir: PathBuf,
    /// The store; `sqlite://` in the data directory unless set.
    pub database_url: String,
    /// Start a fresh simulated run rather than join the latest.
    #[serde(skip)]
    pub new_world: bool,
    pub allowed_hosts: Vec<String>,
    pub allowed_origins: Vec<String>,
    pub legacy_sessions: bool,
    pub max_body_bytes: usize,
    pub shutdown_grace_s: u64,
    pub sample_interval_ms: u64,
    /// A simulated incident to play, or none for the live system.
    pub scenario: Option<String>,
    pub seed: u64,
    pub log_rate: f64,
    pub verify_timeout_s: u64,
    pub effect_speed: f64,
    pub thresholds: Thresholds,
    pub probes: Vec<ProbeSpec>,
    /// Services and signals read from Prometheus (`[prometheus]`).
    pub prometheus: Option<PrometheusConfig>,
    /// Log files per service (`[[log_files]]`).
    pub log_files: Vec<LogFileSpec>,
    /// Remediation actions that may run on this system (`[[runbook]]`).
    pub runbook: Vec<RunbookAction>,
    /// Notification channels and delivery (`[notify]`); secrets are not printed.
    #[serde(skip)]
    pub notify: opsmcp_notify::ChannelsConfig,
    /// Limits of each analysis script run by the log analytics server (`[sandbox]`).
    pub sandbox: SandboxLimits,
    pub insecure_no_auth: bool,
    pub read_only: bool,
    pub enabled_tools: Vec<String>,
    pub disabled_tools: Vec<String>,
    pub calls_per_minute: u32,
    pub expensive_per_minute: u32,
    pub expensive_concurrency: usize,
    pub call_timeout_s: u64,
    /// HTTPS certificate chain and key; plain HTTP without them.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// API tokens (hashes) and the OAuth issuer (`[auth]`); printed as a summary.
    #[serde(serialize_with = "auth_summary")]
    pub auth: AuthConfig,
    /// Setting name → where its value came from.
    #[serde(skip)]
    pub sources: BTreeMap<&'static str, String>,
}

impl Settings {
    /// Merges flags/env (`flags`, with `matches` telling which was which), the file and defaults.
    pub fn resolve(flags: &Overrides, matches: &ArgMatches) -> anyhow::Result<Self> {
        let file_path = flags.config.clone().or_else(|| {
            let default = PathBuf::from("opsmcp.toml");
            default.exists().then_some(default)
        });
        let file = match &file_path {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let file_label = file_path
            .as_ref()
            .map(|p| format!("file {}", p.display()))
            .unwrap_or_default();
        let mut sources = BTreeMap::new();

        // One rule for every setting: flag or env, else file, else default.
        macro_rules! pick {
            ($name:literal, $flag:expr, $file:expr, $default:expr) => {{
                match ($flag, $file) {
                    (Some(v), _) => {
                        sources.insert($name, origin(matches, $name));
                        v
                    }
                    (None, Some(v)) => {
                        sources.insert($name, file_label.clone());
                        v
                    }
                    (None, None) => {
                        sources.insert($name, "default".to_string());
                        $default
                    }
                }
            }};
        }
        let nonempty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());

        let mut settings = Settings {
            bind: pick!(
                "bind",
                flags.bind,
                file.bind,
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            ),
            monitoring_port: pick!(
                "monitoring_port",
                flags.monitoring_port,
                file.monitoring_port,
                9001
            ),
            workflow_port: pick!(
                "workflow_port",
                flags.workflow_port,
                file.workflow_port,
                9002
            ),
            log_analytics_port: pick!(
                "log_analytics_port",
                flags.log_analytics_port,
                file.log_analytics_port,
                9003
            ),
            data_dir: pick!(
                "data_dir",
                flags.data_dir.clone(),
                file.data_dir,
                default_data_dir()
            ),
            database_url: pick!(
                "database_url",
                flags.database_url.clone(),
                file.database_url,
                String::new()
            ),
            new_world: flags.new_world,
            allowed_hosts: pick!(
                "allowed_hosts",
                nonempty(&flags.allowed_hosts),
                file.allowed_hosts,
                Vec::new()
            ),
            allowed_origins: pick!(
                "allowed_origins",
                nonempty(&flags.allowed_origins),
                file.allowed_origins,
                Vec::new()
            ),
            legacy_sessions: pick!(
                "legacy_sessions",
                flags.legacy_sessions,
                file.legacy_sessions,
                false
            ),
            max_body_bytes: pick!(
                "max_body_bytes",
                flags.max_body_bytes,
                file.max_body_bytes,
                4 * 1024 * 1024
            ),
            shutdown_grace_s: pick!(
                "shutdown_grace_s",
                flags.shutdown_grace_s,
                file.shutdown_grace_s,
                10
            ),
            sample_interval_ms: pick!(
                "sample_interval_ms",
                flags.sample_interval_ms,
                file.sample_interval_ms,
                2000
            ),
            scenario: pick!(
                "scenario",
                flags.scenario.clone().map(Some),
                file.scenario.map(Some),
                None
            ),
            seed: pick!("seed", flags.seed, file.seed, 1),
            log_rate: pick!("log_rate", flags.log_rate, file.log_rate, 1.0),
            verify_timeout_s: pick!(
                "verify_timeout_s",
                flags.verify_timeout_s,
                file.verify_timeout_s,
                180
            ),
            effect_speed: pick!("effect_speed", flags.effect_speed, file.effect_speed, 1.0),
            thresholds: pick!("thresholds", None, file.thresholds, Thresholds::default()),
            probes: pick!("probes", None, file.probes, Vec::new()),
            prometheus: pick!("prometheus", None, file.prometheus.map(Some), None),
            log_files: pick!("log_files", None, file.log_files, Vec::new()),
            runbook: pick!("runbook", None, file.runbook, Vec::new()),
            notify: pick!("notify", None, file.notify, Default::default()),
            sandbox: pick!("sandbox", None, file.sandbox, SandboxLimits::default()),
            insecure_no_auth: pick!(
                "insecure_no_auth",
                flags.insecure_no_auth.then_some(true),
                file.insecure_no_auth,
                false
            ),
            read_only: pick!("read_only", flags.read_only, file.read_only, false),
            enabled_tools: pick!(
                "enabled_tools",
                nonempty(&flags.enabled_tools),
                file.enabled_tools,
                Vec::new()
            ),
            disabled_tools: pick!(
                "disabled_tools",
                nonempty(&flags.disabled_tools),
                file.disabled_tools,
                Vec::new()
            ),
            calls_per_minute: pick!(
                "calls_per_minute",
                flags.calls_per_minute,
                file.calls_per_minute,
                0
            ),
            expensive_per_minute: pick!(
                "expensive_per_minute",
                flags.expensive_per_minute,
                file.expensive_per_minute,
                60
            ),
            expensive_concurrency: pick!(
                "expensive_concurrency",
                flags.expensive_concurrency,
                file.expensive_concurrency,
                8
            ),
            call_timeout_s: pick!(
                "call_timeout_s",
                flags.call_timeout_s,
                file.call_timeout_s,
                600
            ),
            tls_cert: pick!(
                "tls_cert",
                flags.tls_cert.clone().map(Some),
                file.tls_cert.map(Some),
                None
            ),
            tls_key: pick!(
                "tls_key",
                flags.tls_key.clone().map(Some),
                file.tls_key.map(Some),
                None
            ),
            auth: pick!("auth", None, file.auth, AuthConfig::default()),
            sources,
        };
        if settings.database_url.is_empty() {
            settings.database_url =
                format!("sqlite://{}", settings.data_dir.join("opsmcp.db").display());
        }
        for probe in &settings.probes {
            probe.validate()?;
        }
        if let Some(prometheus) = &settings.prometheus {
            prometheus.validate()?;
        }
        for files in &settings.log_files {
            files.validate()?;
        }
        Runbook::new(settings.runbook.clone())?;
        settings.notify.build(&settings.data_dir)?;
        opsmcp_mcp::auth::Authenticator::new(&settings.auth)
            .context("[auth] in the settings file")?;
        settings
            .sandbox
            .validate()
            .context("[sandbox] in the settings file")?;
        if !(settings.log_rate > 0.0 && settings.log_rate <= 10_000.0) {
            bail!(
                "log_rate = {} must be above 0 and at most 10000 (1.0 = the scenario's own volume)",
                settings.log_rate
            );
        }
        if !(settings.effect_speed >= 1.0 && settings.effect_speed <= 1000.0) {
            bail!(
                "effect_speed = {} must be from 1 to 1000 (1 = remediations take the scenario's \
                 minutes_to_effect)",
                settings.effect_speed
            );
        }
        if settings.tls_cert.is_some() != settings.tls_key.is_some() {
            bail!(
                "give both tls_cert and tls_key (the certificate chain and its key), or neither for plain HTTP"
            );
        }
        if settings.max_body_bytes < 1024 {
            bail!(
                "max_body_bytes = {} is too small for any MCP message; use at least 1024 (default 4194304)",
                settings.max_body_bytes
            );
        }
        if settings.sample_interval_ms < 100 {
            bail!(
                "sample_interval_ms = {} would keep a core busy reading /proc; use at least 100 (default 2000)",
                settings.sample_interval_ms
            );
        }
        Ok(settings)
    }

    /// The HTTPS certificate and key, when configured.
    pub fn tls(&self) -> Option<opsmcp_mcp::tls::TlsSettings> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(opsmcp_mcp::tls::TlsSettings {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        }
    }

    /// `opsmcp config print`: each setting, its value and where it came from.
    pub fn render(&self) -> String {
        let value = serde_json::to_value(self).unwrap_or_default();
        let mut out = String::new();
        for (name, source) in &self.sources {
            let v = &value[*name];
            let shown = match v {
                serde_json::Value::String(s) if *name == "database_url" => {
                    crate::serve::redact_url(s)
                }
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push_str(&format!("{name:<20} {shown:<40} ({source})\n"));
        }
        out
    }
}

/// `[auth]` as `opsmcp config print` shows it: how many tokens, which issuer; never a hash.
fn auth_summary<S: serde::Serializer>(auth: &AuthConfig, s: S) -> Result<S::Ok, S::Error> {
    let mut parts = vec![format!("{} tokens", auth.tokens.len())];
    if let Some(oauth) = &auth.oauth {
        parts.push(format!("oauth issuer {}", oauth.issuer));
    }
    if !auth.enabled() {
        parts = vec!["off".to_string()];
    }
    s.serialize_str(&parts.join(", "))
}

/// Whether a flag's value came from the command line or from its environment variable.
fn origin(matches: &ArgMatches, name: &str) -> String {
    let env = format!("OPSMCP_{}", name.to_ascii_uppercase());
    match matches.value_source(name) {
        Some(ValueSource::EnvVariable) => format!("env {env}"),
        _ => format!("flag --{}", name.replace('_', "-")),
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileSettings> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read the settings file {}; fix the path given by --config or OPSMCP_CONFIG",
            path.display()
        )
    })?;
    toml::from_str(&text).with_context(|| {
        format!(
            "{} is not a valid opsmcp settings file (see `opsmcp config print` for the names)",
            path.display()
        )
    })
}

fn default_data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("opsmcp")
}
