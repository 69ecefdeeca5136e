//! `opsmcp`: the command line. It parses, loads settings, and hands off to the library crates;
//! nothing else lives here.

mod agent_cmd;
mod agent_out;
mod audit_list;
mod config;
mod config_check;
mod health_cmd;
mod history_book;
mod incidents_cmd;
mod logs_cmd;
mod ports;
mod prompts_cmd;
mod report;
mod scenarios_cmd;
mod serve;
mod telemetry;
mod token_cmd;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::{
    config::{Overrides, Settings},
    telemetry::LogFormat,
};

// Tool calls allocate many small JSON nodes: mimalloc serves them faster than glibc malloc and
// keeps the p99 at 64 clients under 5 ms (bench/README.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc purges freed memory after a delay (10 ms by default). Purging at once (0) kept the
/// resident size closest to what is in use but cost ~6.6 page faults and ~10 % more CPU per call
/// under load (bench/README.md, issue 19); 3 ms keeps most of that memory bound (+3 MB anonymous
/// at 64 clients) at 1.7 faults per call. (Arenas are committed lazily through a build-time
/// define in `.cargo/config.toml`: that option is read before `main`.) The option number is
/// `mi_option_purge_delay` in mimalloc v3's `mimalloc.h`.
#[cfg(feature = "mimalloc")]
fn tune_allocator() {
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // mimalloc's own MIMALLOC_PURGE_DELAY, when set, wins (to measure other values).
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: called first thing in main, before any other thread exists (mi_option_set is not
    // thread-safe); the option takes a plain integer.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 3) };
}

/// Incident-response MCP servers for on-call engineers.
#[derive(Debug, Parser)]
#[command(name = "opsmcp", version, about, propagate_version = true)]
struct Cli {
    /// Log format on stderr: text or json.
    #[arg(long, global = true, env = "OPSMCP_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
    /// Export traces (each request's span, with its request id) to this OpenTelemetry
    /// collector over OTLP/HTTP, e.g. http://127.0.0.1:4318.
    #[arg(long, global = true, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the three servers in one process: monitoring (9001), workflow (9002), log analytics (9003).
    Up(Overrides),
    /// Run one server.
    Serve {
        /// Which server.
        server: serve::ServerKind,
        /// Its port (overrides the per-server port setting; 0 picks a free one).
        #[arg(long)]
        port: Option<u16>,
        #[command(flatten)]
        flags: config::ServeFlags,
    },
    /// Ask each server's /health and print a table; exits 1 if any is down or failing.
    Health(health_cmd::HealthArgs),
    /// Inspect settings.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The simulated incidents: list, show, validate.
    #[command(subcommand)]
    Scenarios(scenarios_cmd::ScenariosCommand),
    /// Mine templates and find anomalies in log files (no format to configure).
    #[command(subcommand)]
    Logs(logs_cmd::LogsCommand),
    /// Let the agent work a simulated incident against the servers (started here on free
    /// ports), step by step, and score it against the scenario's ground truth; exits 0 when
    /// solved.
    RunScenario(agent_cmd::RunArgs),
    /// The agent working the default incident (db-connection-pool-exhaustion) with the
    /// planner: nothing to set up.
    Demo(agent_cmd::DemoArgs),
    /// Play every built-in scenario (and seed) with the planner (or --brain) and print a
    /// score table; exits 1 below a --min-* threshold, naming it.
    Eval(agent_cmd::EvalArgs),
    /// Let the agent work what PROMPT describes against running servers (`opsmcp up` on this
    /// host, or those in --mcp-config), step by step.
    Agent(agent_cmd::PromptArgs),
    /// Incidents in the store: list, show, approve a remediation.
    #[command(subcommand)]
    Incidents(incidents_cmd::IncidentsCommand),
    /// The audit log of every tool call.
    #[command(subcommand)]
    Audit(incidents_cmd::AuditCommand),
    /// API tokens for the servers' [auth] settings.
    #[command(subcommand)]
    Token(token_cmd::TokenCommand),
    /// The agent's prompts (system prompt and phases), built in: export them to files.
    #[command(subcommand)]
    Prompts(prompts_cmd::PromptsCommand),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the effective settings and where each came from (flag, env, file, default).
    Print(Overrides),
    /// Check the settings file (naming the key or value at fault, with the valid names), then
    /// try every configured source once (Prometheus, log files, runbook programs, probes);
    /// exits 1 if anything fails.
    Check {
        /// The settings file to check (the same as --config).
        #[arg(value_name = "FILE")]
        file: Option<std::path::PathBuf>,
        #[command(flatten)]
        flags: Overrides,
    },
}

fn main() -> ExitCode {
    #[cfg(feature = "mimalloc")]
    tune_allocator();
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // The agent commands print their own steps on stdout; the servers' routine info lines
    // (connections, shutdown) would only interleave with them.
    let quiet = matches!(
        cli.command,
        Command::RunScenario(_) | Command::Demo(_) | Command::Eval(_) | Command::Agent(_)
    );
    let _telemetry = match telemetry::init(
        cli.log_format,
        // rmcp's transport worker logs a failed connection as ERROR; the agent commands say
        // so themselves, in words a user can act on.
        if quiet {
            "warn,rmcp::transport::worker=off"
        } else {
            "info,rmcp=warn"
        },
        cli.otlp_endpoint.as_deref(),
    ) {
        Ok(t) => t,
        Err(e) => {
            report::print(&e);
            return ExitCode::from(report::EXIT_USAGE);
        }
    };
    // clap requires a subcommand, so there is always one; its matches tell flags from env.
    let Some((_, m)) = matches.subcommand() else {
        return ExitCode::from(report::EXIT_USAGE);
    };
    let result = match cli.command {
        Command::Up(flags) => Settings::resolve(&flags, m).and_then(|s| {
            if s.scenario.is_none() {
                config_check::warn_in_background(&s);
            }
            serve::run(&s, &serve::ServerKind::ALL)
        }),
        Command::Serve {
            server,
            port,
            flags,
        } => Settings::resolve(&flags.overrides(), m).and_then(|mut s| {
            if let Some(p) = port {
                server.set_port(&mut s, p);
            }
            serve::run(&s, &[server])
        }),
        Command::Health(args) => health_cmd::run(&args, m),
        Command::Scenarios(cmd) => scenarios_cmd::run(cmd),
        Command::Logs(cmd) => logs_cmd::run(cmd),
        Command::RunScenario(args) => agent_cmd::run_scenario(args),
        Command::Demo(args) => agent_cmd::demo(args),
        Command::Eval(args) => agent_cmd::eval(args),
        Command::Agent(args) => agent_cmd::prompt(args),
        Command::Incidents(cmd) => incidents_cmd::run(cmd, m),
        Command::Audit(cmd) => incidents_cmd::run_audit(cmd, m),
        Command::Token(cmd) => token_cmd::run(cmd),
        Command::Prompts(cmd) => prompts_cmd::run(cmd),
        Command::Config(ConfigCommand::Print(flags)) => {
            let m = m.subcommand().map(|(_, m)| m).unwrap_or(m);
            Settings::resolve(&flags, m).map(|s| {
                print!("{}", s.render());
                serve::Exit::Ok
            })
        }
        Command::Config(ConfigCommand::Check { file, mut flags }) => {
            let m = m.subcommand().map(|(_, m)| m).unwrap_or(m);
            if file.is_some() {
                flags.file.config = file;
            }
            match Settings::resolve(&flags, m) {
                Ok(s) => config_check::run(&s),
                // A file that cannot be used is what this command is for: said in full.
                Err(e) => config_check::bad_settings(&e),
            }
        }
    };
    match result {
        Ok(exit) => exit.into(),
        Err(error) => ExitCode::from(report::print(&error)),
    }
}
