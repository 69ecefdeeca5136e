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
        files::LogFileSpec,
        journald::JournaldSpec,
        packages::PackagesSpec,
        postgres::PostgresSpec,
        probes::ProbeSpec,
        prometheus::PrometheusConfig,
        runbook::Runbook,
        runbook::RunbookAction,
        services::{ServiceMap, ServiceSpec},
    },
};
use serde::{Deserialize, Serialize};

/// Defaults of the settings not given anywhere (`opsmcp config print` shows them).
const DEFAULT_BIND: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const DEFAULT_MONITORING_PORT: u16 = 9001;
const DEFAULT_WORKFLOW_PORT: u16 = 9002;
const DEFAULT_LOG_ANALYTICS_PORT: u16 = 9003;
const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
const DEFAULT_SHUTDOWN_GRACE_S: u64 = 10;
const DEFAULT_REFUSAL_WINDOW_S: u64 = 10;
const MAX_REFUSAL_WINDOW_S: u64 = 3600;
const DEFAULT_SAMPLE_INTERVAL_MS: u64 = 2000;
/// Live readings are kept every 5 s: an outage shows within seconds; about 100 rows a tick.
const DEFAULT_HISTORY_INTERVAL_S: u64 = 5;
/// Edge limits (see opsmcp_mcp::EdgeLimits for why these).
const DEFAULT_HEADER_READ_TIMEOUT_S: u64 = 10;
const DEFAULT_IDLE_TIMEOUT_S: u64 = 120;
const DEFAULT_MAX_CONNECTIONS: usize = 1024;
const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: usize = 64;
const DEFAULT_MAX_SSE_SESSIONS: usize = 256;
const DEFAULT_SSE_IDLE_TIMEOUT_S: u64 = 600;
/// SSE keep-alive comments go out every 15 s; a shorter idle timeout would cut healthy streams.
const MIN_IDLE_TIMEOUT_S: u64 = 30;
const DEFAULT_SEED: u64 = 1;
const DEFAULT_LOG_RATE: f64 = 1.0;
const DEFAULT_VERIFY_TIMEOUT_S: u64 = 180;
const DEFAULT_EFFECT_SPEED: f64 = 1.0;
/// 0: no per-caller rate limit.
const DEFAULT_CALLS_PER_MINUTE: u32 = 0;
const DEFAULT_EXPENSIVE_PER_MINUTE: u32 = 60;
const DEFAULT_EXPENSIVE_CONCURRENCY: usize = 8;
const DEFAULT_CALL_TIMEOUT_S: u64 = 600;

/// Bounds checked at start.
const MAX_LOG_RATE: f64 = 10_000.0;
const MIN_EFFECT_SPEED: f64 = 1.0;
const MAX_EFFECT_SPEED: f64 = 1000.0;
/// Smaller than any MCP message.
const MIN_BODY_BYTES: usize = 1024;
/// Below this the sampler would keep a core busy reading /proc.
const MIN_SAMPLE_INTERVAL_MS: u64 = 100;

/// Every settings flag (and its `OPSMCP_…` variable), in groups: a command flattens only the
/// groups it uses (`up`, `config print|check` all of them), so its help shows only its flags.
/// Whatever a command does not offer is read from the file or defaulted, by the same rule.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Overrides {
    #[command(flatten)]
    pub file: ConfigFile,
    #[command(flatten)]
    pub store: StoreFlags,
    #[command(flatten)]
    pub address: AddressFlags,
    #[command(flatten)]
    pub ports: PortFlags,
    #[command(flatten)]
    pub server: ServerFlags,
    #[command(flatten)]
    pub auth: AuthFlags,
    #[command(flatten)]
    pub sim: SimFlags,
}

/// The settings file, for every command that reads settings.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigFile {
    /// TOML settings file (default ./opsmcp.toml when it exists).
    #[arg(long, env = "OPSMCP_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Where the store and its audit key are: the servers, and the commands that read or
/// approve in the store.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Store")]
pub struct StoreFlags {
    /// Directory for the store and analysis files.
    #[arg(long, env = "OPSMCP_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Store URL: `sqlite:///path/opsmcp.db` (default: opsmcp.db in the data directory) or
    /// `postgres://…` for several replicas sharing one database.
    #[arg(long, env = "OPSMCP_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The audit log's key file (hex, 0600), kept outside the database (default: audit.key in the
    /// data directory, created on first start; a file given here must exist).
    #[arg(long, env = "OPSMCP_AUDIT_KEY_FILE")]
    pub audit_key_file: Option<PathBuf>,
}

/// Where the servers listen: the servers, and the commands that reach them.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Servers")]
pub struct AddressFlags {
    /// Address to bind (default 127.0.0.1; anything else exposes the tools to the network).
    #[arg(long, env = "OPSMCP_BIND")]
    pub bind: Option<IpAddr>,
}

/// The three servers' ports: `up`, and the commands that reach the servers.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Servers")]
pub struct PortFlags {
    /// Port of the monitoring & analysis server (default 9001; 0 picks a free one).
    #[arg(long, env = "OPSMCP_MONITORING_PORT")]
    pub monitoring_port: Option<u16>,
    /// Port of the workflow orchestration server (default 9002).
    #[arg(long, env = "OPSMCP_WORKFLOW_PORT")]
    pub workflow_port: Option<u16>,
    /// Port of the log analytics server (default 9003).
    #[arg(long, env = "OPSMCP_LOG_ANALYTICS_PORT")]
    pub log_analytics_port: Option<u16>,
}

/// How a server serves: edge limits, tools offered, rate limits, readings.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Servers")]
pub struct ServerFlags {
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
    /// Seconds refused requests (401, 403, 429) are counted per caller and route before they
    /// are written to the audit log as one entry each (default 10).
    #[arg(long, env = "OPSMCP_REFUSAL_WINDOW_S")]
    pub refusal_window_s: Option<u64>,
    /// Seconds a client has to send a whole request head, on a new connection or a kept-alive
    /// one between requests, before it is closed (default 10).
    #[arg(long, env = "OPSMCP_HEADER_READ_TIMEOUT_S")]
    pub header_read_timeout_s: Option<u64>,
    /// Seconds a connection may move no byte either way, with no request in a handler, before
    /// it is closed (default 120; at least 30, above the 15 s SSE keep-alive).
    #[arg(long, env = "OPSMCP_IDLE_TIMEOUT_S")]
    pub idle_timeout_s: Option<u64>,
    /// Connections each server holds at once (default 1024; a few more are kept for /health).
    #[arg(long, env = "OPSMCP_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Connections one client address holds at once per server (default 64).
    #[arg(long, env = "OPSMCP_MAX_CONNECTIONS_PER_ADDRESS")]
    pub max_connections_per_address: Option<usize>,
    /// Open /sse sessions per server (default 256); more get 503.
    #[arg(long, env = "OPSMCP_MAX_SSE_SESSIONS")]
    pub max_sse_sessions: Option<usize>,
    /// Seconds an /sse session may carry no message before it is ended (default 600).
    #[arg(long, env = "OPSMCP_SSE_IDLE_TIMEOUT_S")]
    pub sse_idle_timeout_s: Option<u64>,
    /// Milliseconds between host readings (default 2000).
    #[arg(long, env = "OPSMCP_SAMPLE_INTERVAL_MS")]
    pub sample_interval_ms: Option<u64>,
    /// Seconds between the live readings kept as history (default 5; 0 keeps none).
    #[arg(long, env = "OPSMCP_HISTORY_INTERVAL_S")]
    pub history_interval_s: Option<u64>,
    /// Read a TCP probe's address that answers as PostgreSQL for its connections, logging in
    /// with libpq's defaults (PG* variables), as a `[[postgres]]` entry would (default true;
    /// false reads only `[[postgres]]` entries).
    #[arg(long, env = "OPSMCP_DISCOVER_POSTGRES")]
    pub discover_postgres: Option<bool>,
    /// Seconds execute_remediation watches health recover before rolling back (default 180).
    #[arg(long, env = "OPSMCP_VERIFY_TIMEOUT_S")]
    pub verify_timeout_s: Option<u64>,
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
}

/// Who may reach a server, and over what.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Auth and TLS")]
pub struct AuthFlags {
    /// Serve on a non-loopback address with no tokens or OAuth configured (anyone who can reach
    /// it may call every tool). Without it such a bind refuses to start.
    #[arg(long, env = "OPSMCP_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key); reloaded on SIGHUP or
    /// when the file changes.
    #[arg(long, env = "OPSMCP_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "OPSMCP_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
}

/// A simulated incident to serve instead of this system.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Simulation")]
pub struct SimFlags {
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
    /// Multiply the simulated incident's log volume (default 1.0; 100 for a heavy load).
    #[arg(long, env = "OPSMCP_LOG_RATE")]
    pub log_rate: Option<f64>,
    /// Start a fresh run of the simulated incident instead of joining the latest one of the same
    /// scenario and seed in the store.
    #[arg(long)]
    pub new_world: bool,
}

/// The settings flags of `serve`: all but the three per-server ports, which its `--port` sets
/// for the one server it runs. Their variables (`OPSMCP_MONITORING_PORT`…) and flags are still
/// read, hidden from the help, so existing service files keep working.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeFlags {
    #[command(flatten)]
    pub file: ConfigFile,
    #[command(flatten)]
    pub store: StoreFlags,
    #[command(flatten)]
    pub address: AddressFlags,
    #[command(flatten)]
    pub server: ServerFlags,
    #[command(flatten)]
    pub auth: AuthFlags,
    #[command(flatten)]
    pub sim: SimFlags,
    #[arg(long, env = "OPSMCP_MONITORING_PORT", hide = true)]
    pub monitoring_port: Option<u16>,
    #[arg(long, env = "OPSMCP_WORKFLOW_PORT", hide = true)]
    pub workflow_port: Option<u16>,
    #[arg(long, env = "OPSMCP_LOG_ANALYTICS_PORT", hide = true)]
    pub log_analytics_port: Option<u16>,
}

impl ServeFlags {
    pub fn overrides(self) -> Overrides {
        Overrides {
            file: self.file,
            store: self.store,
            address: self.address,
            ports: PortFlags {
                monitoring_port: self.monitoring_port,
                workflow_port: self.workflow_port,
                log_analytics_port: self.log_analytics_port,
            },
            server: self.server,
            auth: self.auth,
            sim: self.sim,
        }
    }
}

/// The settings flags of the commands that read or change the store (`incidents`, `audit`):
/// the file and where the store is.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StoreArgs {
    #[command(flatten)]
    pub file: ConfigFile,
    #[command(flatten)]
    pub store: StoreFlags,
}

impl StoreArgs {
    pub fn overrides(self) -> Overrides {
        Overrides {
            file: self.file,
            store: self.store,
            ..Overrides::default()
        }
    }
}

/// The settings flags of the commands that reach running servers (`health`): the file and
/// where the servers listen.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReachArgs {
    #[command(flatten)]
    pub file: ConfigFile,
    #[command(flatten)]
    pub address: AddressFlags,
    #[command(flatten)]
    pub ports: PortFlags,
}

impl ReachArgs {
    pub fn overrides(self) -> Overrides {
        Overrides {
            file: self.file,
            address: self.address,
            ports: self.ports,
            ..Overrides::default()
        }
    }
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
    audit_key_file: Option<PathBuf>,
    allowed_hosts: Option<Vec<String>>,
    allowed_origins: Option<Vec<String>>,
    legacy_sessions: Option<bool>,
    max_body_bytes: Option<usize>,
    shutdown_grace_s: Option<u64>,
    refusal_window_s: Option<u64>,
    header_read_timeout_s: Option<u64>,
    idle_timeout_s: Option<u64>,
    max_connections: Option<usize>,
    max_connections_per_address: Option<usize>,
    max_sse_sessions: Option<usize>,
    sse_idle_timeout_s: Option<u64>,
    sample_interval_ms: Option<u64>,
    history_interval_s: Option<u64>,
    discover_postgres: Option<bool>,
    scenario: Option<String>,
    seed: Option<u64>,
    log_rate: Option<f64>,
    verify_timeout_s: Option<u64>,
    effect_speed: Option<f64>,
    thresholds: Option<Thresholds>,
    probes: Option<Vec<ProbeSpec>>,
    services: Option<Vec<ServiceSpec>>,
    prometheus: Option<PrometheusConfig>,
    log_files: Option<Vec<LogFileSpec>>,
    journald: Option<Vec<JournaldSpec>>,
    packages: Option<PackagesSpec>,
    postgres: Option<Vec<PostgresSpec>>,
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
    /// The audit key file; `audit.key` in the data directory unless set.
    pub audit_key_file: PathBuf,
    /// Whether `audit_key_file` was given (then it must exist; the default is created).
    #[serde(skip)]
    pub audit_key_given: bool,
    /// Start a fresh simulated run rather than join the latest.
    #[serde(skip)]
    pub new_world: bool,
    pub allowed_hosts: Vec<String>,
    pub allowed_origins: Vec<String>,
    pub legacy_sessions: bool,
    pub max_body_bytes: usize,
    pub shutdown_grace_s: u64,
    pub refusal_window_s: u64,
    pub header_read_timeout_s: u64,
    pub idle_timeout_s: u64,
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    pub max_sse_sessions: usize,
    pub sse_idle_timeout_s: u64,
    pub sample_interval_ms: u64,
    pub history_interval_s: u64,
    /// Whether a TCP probe's address that answers as PostgreSQL is read as a `[[postgres]]`
    /// source with libpq's defaults.
    pub discover_postgres: bool,
    /// A simulated incident to play, or none for the live system.
    pub scenario: Option<String>,
    pub seed: u64,
    pub log_rate: f64,
    pub verify_timeout_s: u64,
    pub effect_speed: f64,
    pub thresholds: Thresholds,
    pub probes: Vec<ProbeSpec>,
    /// The service map (`[[services]]`): dependencies, processes, files.
    pub services: Vec<ServiceSpec>,
    /// Services and signals read from Prometheus (`[prometheus]`).
    pub prometheus: Option<PrometheusConfig>,
    /// Log files per service (`[[log_files]]`).
    pub log_files: Vec<LogFileSpec>,
    /// Journal entries per service (`[[journald]]`).
    pub journald: Vec<JournaldSpec>,
    /// The package manager's log, read for installs, upgrades and removals (`[packages]`).
    pub packages: PackagesSpec,
    /// PostgreSQL servers read for their connections (`[[postgres]]`).
    pub postgres: Vec<PostgresSpec>,
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
        let (file, file_label) = load_file(flags)?;
        let mut picker = Picker {
            matches,
            file_label,
            sources: BTreeMap::new(),
        };
        let mut settings = Self::pick_all(flags, file, &mut picker);
        settings.sources = picker.sources;
        settings.fill_derived();
        settings.validate_sections()?;
        settings.check_bounds()?;
        Ok(settings)
    }

    /// Every setting by the one rule (flag or env, else file, else default), one line each.
    /// The sections only the file can give have no flag.
    fn pick_all(flags: &Overrides, file: FileSettings, p: &mut Picker<'_>) -> Self {
        let nonempty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        // A setting's flag, file key and source name are one name: said once, so they cannot
        // drift apart. `flag GROUP.NAME`: a flag that is `Copy`, in its group of [`Overrides`]; `file`: a section only the file gives.
        macro_rules! pick {
            (flag $group:ident . $name:ident, $default:expr) => {
                p.pick(stringify!($name), flags.$group.$name, file.$name, $default)
            };
            (file $name:ident, $default:expr) => {
                p.pick(stringify!($name), None, file.$name, $default)
            };
            (list $group:ident . $name:ident) => {
                p.pick(
                    stringify!($name),
                    nonempty(&flags.$group.$name),
                    file.$name,
                    Vec::new(),
                )
            };
            (path $group:ident . $name:ident) => {
                p.pick(
                    stringify!($name),
                    flags.$group.$name.clone().map(Some),
                    file.$name.map(Some),
                    None,
                )
            };
        }
        Settings {
            bind: pick!(flag address.bind, DEFAULT_BIND),
            monitoring_port: pick!(flag ports.monitoring_port, DEFAULT_MONITORING_PORT),
            workflow_port: pick!(flag ports.workflow_port, DEFAULT_WORKFLOW_PORT),
            log_analytics_port: pick!(flag ports.log_analytics_port, DEFAULT_LOG_ANALYTICS_PORT),
            data_dir: p.pick_with(
                "data_dir",
                flags.store.data_dir.clone(),
                file.data_dir,
                default_data_dir,
            ),
            // Empty until `fill_derived`: the default lives under the data directory.
            database_url: p.pick(
                "database_url",
                flags.store.database_url.clone(),
                file.database_url,
                String::new(),
            ),
            audit_key_file: p.pick(
                "audit_key_file",
                flags.store.audit_key_file.clone(),
                file.audit_key_file,
                PathBuf::new(),
            ),
            audit_key_given: false,
            new_world: flags.sim.new_world,
            allowed_hosts: pick!(list server.allowed_hosts),
            allowed_origins: pick!(list server.allowed_origins),
            legacy_sessions: pick!(flag server.legacy_sessions, false),
            max_body_bytes: pick!(flag server.max_body_bytes, DEFAULT_MAX_BODY_BYTES),
            shutdown_grace_s: pick!(flag server.shutdown_grace_s, DEFAULT_SHUTDOWN_GRACE_S),
            refusal_window_s: pick!(flag server.refusal_window_s, DEFAULT_REFUSAL_WINDOW_S),
            header_read_timeout_s: pick!(flag server.header_read_timeout_s, DEFAULT_HEADER_READ_TIMEOUT_S),
            idle_timeout_s: pick!(flag server.idle_timeout_s, DEFAULT_IDLE_TIMEOUT_S),
            max_connections: pick!(flag server.max_connections, DEFAULT_MAX_CONNECTIONS),
            max_connections_per_address: pick!(flag server.max_connections_per_address,
                DEFAULT_MAX_CONNECTIONS_PER_ADDRESS
            ),
            max_sse_sessions: pick!(flag server.max_sse_sessions, DEFAULT_MAX_SSE_SESSIONS),
            sse_idle_timeout_s: pick!(flag server.sse_idle_timeout_s, DEFAULT_SSE_IDLE_TIMEOUT_S),
            sample_interval_ms: pick!(flag server.sample_interval_ms, DEFAULT_SAMPLE_INTERVAL_MS),
            history_interval_s: pick!(flag server.history_interval_s, DEFAULT_HISTORY_INTERVAL_S),
            discover_postgres: pick!(flag server.discover_postgres, true),
            scenario: pick!(path sim.scenario),
            seed: pick!(flag sim.seed, DEFAULT_SEED),
            log_rate: pick!(flag sim.log_rate, DEFAULT_LOG_RATE),
            verify_timeout_s: pick!(flag server.verify_timeout_s, DEFAULT_VERIFY_TIMEOUT_S),
            effect_speed: pick!(flag sim.effect_speed, DEFAULT_EFFECT_SPEED),
            thresholds: pick!(file thresholds, Thresholds::default()),
            probes: pick!(file probes, Vec::new()),
            services: pick!(file services, Vec::new()),
            prometheus: p.pick("prometheus", None, file.prometheus.map(Some), None),
            log_files: pick!(file log_files, Vec::new()),
            journald: pick!(file journald, Vec::new()),
            packages: pick!(file packages, PackagesSpec::default()),
            postgres: pick!(file postgres, Vec::new()),
            runbook: pick!(file runbook, Vec::new()),
            notify: pick!(file notify, Default::default()),
            sandbox: pick!(file sandbox, SandboxLimits::default()),
            insecure_no_auth: p.pick(
                "insecure_no_auth",
                flags.auth.insecure_no_auth.then_some(true),
                file.insecure_no_auth,
                false,
            ),
            read_only: pick!(flag server.read_only, false),
            enabled_tools: pick!(list server.enabled_tools),
            disabled_tools: pick!(list server.disabled_tools),
            calls_per_minute: pick!(flag server.calls_per_minute, DEFAULT_CALLS_PER_MINUTE),
            expensive_per_minute: pick!(flag server.expensive_per_minute, DEFAULT_EXPENSIVE_PER_MINUTE),
            expensive_concurrency: pick!(flag server.expensive_concurrency, DEFAULT_EXPENSIVE_CONCURRENCY),
            call_timeout_s: pick!(flag server.call_timeout_s, DEFAULT_CALL_TIMEOUT_S),
            tls_cert: pick!(path auth.tls_cert),
            tls_key: pick!(path auth.tls_key),
            auth: pick!(file auth, AuthConfig::default()),
            sources: BTreeMap::new(),
        }
    }

    /// Defaults that depend on other settings.
    fn fill_derived(&mut self) {
        if self.database_url.is_empty() {
            self.database_url = format!("sqlite://{}", self.data_dir.join("opsmcp.db").display());
        }
        self.audit_key_given = !self.audit_key_file.as_os_str().is_empty();
        if !self.audit_key_given {
            self.audit_key_file = self.data_dir.join("audit.key");
        }
    }

    /// The audit key for a server: the given file, or `audit.key` in the data directory,
    /// created (0600) when missing.
    pub fn audit_key(&self) -> anyhow::Result<opsmcp_store::AuditKey> {
        let key = if self.audit_key_given {
            opsmcp_store::AuditKey::load(&self.audit_key_file)
        } else {
            opsmcp_store::AuditKey::load_or_create(&self.audit_key_file)
        };
        key.with_context(|| {
            format!(
                "cannot use the audit key {}; fix audit_key_file / OPSMCP_AUDIT_KEY_FILE",
                self.audit_key_file.display()
            )
        })
    }

    /// The audit key to verify with: the given file (which must exist), or the default one
    /// when it exists (a store from before keying has none).
    pub fn audit_key_to_verify(&self) -> anyhow::Result<Option<opsmcp_store::AuditKey>> {
        if !self.audit_key_given && !self.audit_key_file.exists() {
            return Ok(None);
        }
        opsmcp_store::AuditKey::load(&self.audit_key_file)
            .map(Some)
            .with_context(|| {
                format!(
                    "cannot read the audit key {}; fix audit_key_file / OPSMCP_AUDIT_KEY_FILE",
                    self.audit_key_file.display()
                )
            })
    }

    /// Each file section checked by its own owner, so a mistake stops the start with that
    /// section's message rather than at first use.
    fn validate_sections(&self) -> anyhow::Result<()> {
        for probe in &self.probes {
            probe.validate()?;
        }
        ServiceMap::new(self.services.clone())?;
        if let Some(prometheus) = &self.prometheus {
            prometheus.validate()?;
        }
        for files in &self.log_files {
            files.validate()?;
        }
        for journal in &self.journald {
            journal.validate()?;
        }
        for pg in &self.postgres {
            pg.validate()?;
        }
        Runbook::new(self.runbook.clone())?;
        self.notify.build(&self.data_dir)?;
        opsmcp_mcp::auth::Authenticator::new(&self.auth).context("[auth] in the settings file")?;
        self.sandbox
            .validate()
            .context("[sandbox] in the settings file")?;
        Ok(())
    }

    /// The numeric bounds and pairings, each refusal saying what to use instead.
    fn check_bounds(&self) -> anyhow::Result<()> {
        if !(self.log_rate > 0.0 && self.log_rate <= MAX_LOG_RATE) {
            bail!(
                "log_rate = {} must be above 0 and at most 10000 (1.0 = the scenario's own volume)",
                self.log_rate
            );
        }
        if !(MIN_EFFECT_SPEED..=MAX_EFFECT_SPEED).contains(&self.effect_speed) {
            bail!(
                "effect_speed = {} must be from 1 to 1000 (1 = remediations take the scenario's \
                 minutes_to_effect)",
                self.effect_speed
            );
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            bail!(
                "give both tls_cert and tls_key (the certificate chain and its key), or neither for plain HTTP"
            );
        }
        if self.max_body_bytes < MIN_BODY_BYTES {
            bail!(
                "max_body_bytes = {} is too small for any MCP message; use at least 1024 (default 4194304)",
                self.max_body_bytes
            );
        }
        self.check_edge()?;
        if self.refusal_window_s == 0 {
            bail!(
                "refusal_window_s = 0 would write an audit entry per refused request; use at \
                 least 1 (default 10)"
            );
        }
        // Refusals wait in memory for the window's end (a crash loses them): keep it short.
        if self.refusal_window_s > MAX_REFUSAL_WINDOW_S {
            bail!(
                "refusal_window_s = {} keeps refusals out of the audit log too long; use at most \
                 {MAX_REFUSAL_WINDOW_S} (default 10)",
                self.refusal_window_s
            );
        }
        if self.sample_interval_ms < MIN_SAMPLE_INTERVAL_MS {
            bail!(
                "sample_interval_ms = {} would keep a core busy reading /proc; use at least 100 (default 2000)",
                self.sample_interval_ms
            );
        }
        Ok(())
    }

    /// The connection and /sse limits: none may be zero (that would refuse everyone).
    fn check_edge(&self) -> anyhow::Result<()> {
        let nonzero = [
            ("header_read_timeout_s", self.header_read_timeout_s, "10"),
            ("sse_idle_timeout_s", self.sse_idle_timeout_s, "600"),
            ("max_connections", self.max_connections as u64, "1024"),
            (
                "max_connections_per_address",
                self.max_connections_per_address as u64,
                "64",
            ),
            ("max_sse_sessions", self.max_sse_sessions as u64, "256"),
        ];
        for (name, value, default) in nonzero {
            if value == 0 {
                bail!("{name} = 0 would refuse every client; use at least 1 (default {default})");
            }
        }
        if self.idle_timeout_s < MIN_IDLE_TIMEOUT_S {
            bail!(
                "idle_timeout_s = {} would cut healthy SSE streams between their 15 s keep-alives; \
                 use at least 30 (default 120)",
                self.idle_timeout_s
            );
        }
        if self.max_connections_per_address > self.max_connections {
            bail!(
                "max_connections_per_address = {} is above max_connections = {}; lower it or \
                 raise max_connections",
                self.max_connections_per_address,
                self.max_connections
            );
        }
        Ok(())
    }

    /// The edge limits each server is given.
    pub fn edge(&self) -> opsmcp_mcp::EdgeLimits {
        use std::time::Duration;
        opsmcp_mcp::EdgeLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_s),
            idle_timeout: Duration::from_secs(self.idle_timeout_s),
            max_connections: self.max_connections,
            max_connections_per_address: self.max_connections_per_address,
            max_sse_sessions: self.max_sse_sessions,
            sse_idle_timeout: Duration::from_secs(self.sse_idle_timeout_s),
        }
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
/// The settings file: `--config`/`OPSMCP_CONFIG`, else `./opsmcp.toml` when present, else
/// none; with the label its values are reported under.
fn load_file(flags: &Overrides) -> anyhow::Result<(FileSettings, String)> {
    let path = flags.file.config.clone().or_else(|| {
        let default = PathBuf::from("opsmcp.toml");
        default.exists().then_some(default)
    });
    match path {
        Some(path) => Ok((read_file(&path)?, format!("file {}", path.display()))),
        None => Ok((FileSettings::default(), String::new())),
    }
}

/// Applies the one rule for every setting and records where each value came from.
struct Picker<'a> {
    matches: &'a ArgMatches,
    file_label: String,
    sources: BTreeMap<&'static str, String>,
}

impl Picker<'_> {
    /// `flag` (a flag or its env variable), else `file`, else `default`.
    fn pick<T>(&mut self, name: &'static str, flag: Option<T>, file: Option<T>, default: T) -> T {
        self.pick_with(name, flag, file, || default)
    }

    /// As [`Picker::pick`], with a default computed only when it is used.
    fn pick_with<T>(
        &mut self,
        name: &'static str,
        flag: Option<T>,
        file: Option<T>,
        default: impl FnOnce() -> T,
    ) -> T {
        let (value, source) = match (flag, file) {
            (Some(v), _) => (v, origin(self.matches, name)),
            (None, Some(v)) => (v, self.file_label.clone()),
            (None, None) => (default(), "default".to_string()),
        };
        self.sources.insert(name, source);
        value
    }
}

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
    toml::from_str(&text).map_err(|e| {
        let location = e.span().map(|span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            (line, column)
        });
        anyhow::Error::new(BadFile {
            path: path.to_path_buf(),
            location,
            message: e.message().trim().to_string(),
        })
        .context(crate::report::Hint(format!(
            "`opsmcp config check {}` shows the problem and the valid names",
            path.display()
        )))
    })
}

/// A settings file that does not parse: where, and what is wrong. Its line says the problem
/// briefly; [`BadFile::full`] (`opsmcp config check`) adds what is allowed there.
#[derive(Debug)]
pub struct BadFile {
    pub path: PathBuf,
    /// Line and column (from 1) of the fault, when known.
    pub location: Option<(usize, usize)>,
    /// The parser's message, with the names it expected.
    pub message: String,
}

impl BadFile {
    fn at(&self) -> String {
        self.location
            .map(|(line, column)| format!("line {line}, column {column}: "))
            .unwrap_or_default()
    }

    /// The problem and what is allowed instead (every valid key name, for an unknown one).
    pub fn full(&self) -> String {
        format!("{}{}", self.at(), self.message.replace('\n', " "))
    }
}

impl std::fmt::Display for BadFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The list of every valid name is long: `config check` prints it.
        let brief = self
            .message
            .split(", expected one of")
            .next()
            .unwrap_or_default()
            .replace('\n', " ");
        write!(
            f,
            "{} is not a valid opsmcp settings file: {}{brief}",
            self.path.display(),
            self.at()
        )?;
        if let Some(near) = self.nearest_name() {
            write!(f, " (did you mean `{near}`?)")?;
        }
        Ok(())
    }
}

impl BadFile {
    /// For an unknown key, the valid name closest to it, when one is close (a typo).
    fn nearest_name(&self) -> Option<&str> {
        let rest = self.message.strip_prefix("unknown field `")?;
        let (unknown, rest) = rest.split_once('`')?;
        let expected = rest.split_once("expected one of ")?.1;
        expected
            .split(", ")
            .map(|n| n.trim().trim_matches('`'))
            .map(|n| (edit_distance(unknown, n), n))
            .filter(|(d, _)| *d <= 2)
            .min_by_key(|(d, _)| *d)
            .map(|(_, n)| n)
    }
}

/// Levenshtein distance, for suggesting a key name.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

impl std::error::Error for BadFile {}

fn default_data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("opsmcp")
}
