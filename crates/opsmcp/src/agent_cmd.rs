//! `opsmcp run-scenario`, `opsmcp demo` and `opsmcp eval`: the agent working a simulated
//! incident against the three servers started in this process (or servers named in an MCP
//! config), printed step by step and scored against the scenario's ground truth. The planner,
//! prompts and scoring live in `opsmcp-responder`, the providers and the loop in
//! `opsmcp-agent`; this file wires them.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::{Args, FromArgMatches};
use opsmcp_agent::{
    Agent, Brain, Event, McpServersConfig, Permission, ProviderBrain, Toolbox,
    providers::{
        anthropic::{Anthropic, AnthropicConfig},
        bedrock::{Bedrock, BedrockConfig},
        openai::{OpenAi, OpenAiConfig},
    },
};
use opsmcp_responder::{
    Planner, PlannerConfig, display,
    eval::{self, Expected, Row, Score, Summary, Thresholds},
    prompts::Prompts,
};
use opsmcp_world::sim::{Scenario, builtin};

use crate::{
    agent_out::Output,
    config::{Overrides, ReachArgs, Settings},
    report::Usage,
    serve::{self, Exit, ServerKind},
};

/// The scenario `opsmcp demo` plays.
pub const DEMO_SCENARIO: &str = "db-connection-pool-exhaustion";

/// Who decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BrainKind {
    /// The built-in deterministic planner (no model, no key).
    // `runbook`, its former name, is still accepted so existing scripts keep working; a value
    // alias is left out of the help, where "runbook" means the `[[runbook]]` commands.
    #[value(alias = "runbook")]
    Planner,
    /// Anthropic Messages API (ANTHROPIC_API_KEY).
    Anthropic,
    /// An OpenAI-compatible chat completions API (OPENAI_API_KEY, OPENAI_BASE_URL).
    Openai,
    /// Amazon Bedrock Converse (AWS credentials and region from the environment).
    Bedrock,
}

/// Permission modes as flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PermissionArg {
    /// Run every tool (the seed's bypassPermissions).
    Bypass,
    /// Ask y/N on the terminal before each destructive tool.
    Ask,
    /// Offer only read-only tools.
    ReadOnly,
}

/// How to reach the in-process servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    /// Streamable HTTP (`/mcp`).
    Http,
    /// The 2024-11-05 HTTP+SSE transport (`/sse`), as the seed's agent used.
    Sse,
}

/// Options shared by run-scenario and demo.
#[derive(Debug, Clone, Args)]
pub struct AgentOpts {
    /// Who decides: the planner, or a model.
    #[arg(long, value_enum, default_value = "planner")]
    pub brain: BrainKind,
    /// The model (anthropic: claude-sonnet-4-5; openai: gpt-4o; bedrock: a model id).
    #[arg(long)]
    pub model: Option<String>,
    /// Brain turns at most.
    #[arg(long, default_value_t = 20)]
    pub max_turns: u32,
    /// Which tool calls run without asking.
    #[arg(long, value_enum, default_value = "bypass")]
    pub permission: PermissionArg,
    /// Use the servers in this MCP config (JSON or TOML, the Claude shape) instead of starting
    /// them here.
    #[arg(long)]
    pub mcp_config: Option<PathBuf>,
    /// Transport to the servers started here.
    #[arg(long, value_enum, default_value = "http")]
    pub transport: Transport,
    /// A prompts folder (system.md, phases/*.md) instead of the built-in prompts.
    #[arg(long)]
    pub prompts: Option<PathBuf>,
    /// Seconds each tool call may take (a remediation watches health recover).
    #[arg(long, default_value_t = 300)]
    pub call_timeout_s: u64,
    /// Write the run's transcript (JSON lines) and full tool results under this folder
    /// (default: `runs/` in the data directory).
    #[arg(long)]
    pub transcript_dir: Option<PathBuf>,
    /// Keep the servers' data (store, postmortems, analytics workspace, runs/ with each run's
    /// transcript and report) in this folder. Without it a single run keeps a temporary folder
    /// and prints its path; eval removes its own.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Print the run as JSON lines on stdout: every event as the transcript records it, then
    /// (run-scenario, demo) a `{"type":"verdict",…}` object. Other lines go to stderr.
    #[arg(long)]
    pub json: bool,
    /// When an action waits for a human's approval, wait this many seconds in all for
    /// `opsmcp incidents approve` (from another terminal) and then run it; 0 documents it as
    /// awaiting approval and stops.
    #[arg(long, default_value_t = 0, value_name = "SECONDS")]
    pub wait_for_approval: u64,
    /// The simulation's options: flags of run-scenario and demo only (`agent` works a real
    /// system), copied from their [`SimOpts`].
    #[arg(skip)]
    pub sim: SimOpts,
}

/// Options of a simulated incident: run-scenario and demo (not `agent`, which works a real
/// system).
#[derive(Debug, Clone, Args)]
pub struct SimOpts {
    /// Seed of the simulated incident.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Remediations take effect this many times faster than the scenario says.
    #[arg(long, default_value_t = 20.0)]
    pub effect_speed: f64,
    /// Simulated incidents only: play the on-call human who approves every action the agent
    /// asks approval for (recorded as `simulated-approver`), so the run goes on to run it and
    /// verify. Implies --wait-for-approval 120 unless given.
    #[arg(long)]
    pub approve_requests: bool,
}

impl Default for SimOpts {
    /// The flags' defaults.
    fn default() -> Self {
        SimOpts {
            seed: 1,
            effect_speed: 20.0,
            approve_requests: false,
        }
    }
}

/// The simulated approver's name on the incident's timeline.
const SIMULATED_APPROVER: &str = "simulated-approver";

/// `opsmcp run-scenario NAME`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// A built-in scenario (`opsmcp scenarios list`) or a scenario file.
    pub scenario: String,
    #[command(flatten)]
    pub opts: AgentOpts,
    #[command(flatten)]
    pub sim: SimOpts,
}

/// `opsmcp demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// The scenario to play.
    #[arg(long, default_value = DEMO_SCENARIO)]
    pub scenario: String,
    #[command(flatten)]
    pub opts: AgentOpts,
    #[command(flatten)]
    pub sim: SimOpts,
}

/// `opsmcp agent "PROMPT"`.
#[derive(Debug, Clone, Args)]
pub struct PromptArgs {
    /// What to work on, as an on-call engineer would say it.
    pub prompt: String,
    /// Where the servers are: the settings file `opsmcp up` runs with (ports, data directory),
    /// or the address and ports themselves.
    #[command(flatten)]
    pub reach: ReachArgs,
    #[command(flatten)]
    pub opts: AgentOpts,
}

/// `opsmcp eval`.
#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// Who decides: the planner, or a model (a fresh conversation per run).
    #[arg(long, value_enum, default_value = "planner")]
    pub brain: BrainKind,
    /// The model (see run-scenario).
    #[arg(long)]
    pub model: Option<String>,
    /// A prompts folder (system.md, phases/*.md) instead of the built-in prompts.
    #[arg(long)]
    pub prompts: Option<PathBuf>,
    /// Seeds to play each scenario with.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    pub seeds: Vec<u64>,
    /// `all`, or scenario names separated by commas.
    #[arg(long, value_delimiter = ',', default_value = "all")]
    pub scenarios: Vec<String>,
    /// Exit 1 when fewer than this fraction of the runs are solved.
    #[arg(long, default_value_t = 0.8)]
    pub min_solved: f64,
    /// Exit 1 when fewer than this fraction name the right root cause and component.
    #[arg(long, default_value_t = 0.0)]
    pub min_root_cause: f64,
    /// Exit 1 when fewer than this fraction ran a right remediation that held.
    #[arg(long, default_value_t = 0.0)]
    pub min_remediation: f64,
    /// Exit 1 when fewer than this fraction ended with health verified back.
    #[arg(long, default_value_t = 0.0)]
    pub min_recovered: f64,
    /// Brain turns at most.
    #[arg(long, default_value_t = 20)]
    pub max_turns: u32,
    /// Remediations take effect this many times faster than the scenario says.
    #[arg(long, default_value_t = 20.0)]
    pub effect_speed: f64,
    /// Seconds each tool call may take.
    #[arg(long, default_value_t = 300)]
    pub call_timeout_s: u64,
    /// Print every step of every run.
    #[arg(long)]
    pub verbose: bool,
    /// Play each scenario and seed this many times (the world's noise follows the clock, so
    /// repeats are not identical).
    #[arg(long, default_value_t = 1)]
    pub repeat: u32,
    /// Play the on-call human who approves every action the agent asks approval for, so runs
    /// that ask for the right action go on to run and verify it (see run-scenario).
    #[arg(long)]
    pub approve_requests: bool,
    /// Also write the rows and a summary as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// One finished run.
struct Report {
    score: Score,
    expected: Expected,
    seconds: f64,
}

pub fn run_scenario(mut args: RunArgs) -> anyhow::Result<Exit> {
    args.opts.sim = args.sim.clone();
    let mut out = Output::new(args.opts.json, args.opts.permission == PermissionArg::Ask);
    run_scenario_to(args, &mut out)
}

fn run_scenario_to(args: RunArgs, out: &mut Output) -> anyhow::Result<Exit> {
    runtime()?.block_on(async move {
        let report = run_one(&args.scenario, &args.opts, Some(&mut *out)).await?;
        out.say(&format!(
            "\n── score: {} (seed {}) ──",
            args.scenario, args.opts.sim.seed
        ));
        for line in eval::score_lines(&report.score, &report.expected, report.seconds) {
            out.say(&line);
        }
        out.record(&serde_json::json!({
            "type": "verdict",
            "scenario": args.scenario,
            "seed": args.opts.sim.seed,
            "solved": report.score.solved(),
            "seconds": report.seconds,
            "expected": report.expected,
            "score": report.score,
        }));
        Ok(if report.score.solved() {
            Exit::Ok
        } else {
            Exit::Failed
        })
    })
}

pub fn demo(args: DemoArgs) -> anyhow::Result<Exit> {
    let mut out = Output::new(args.opts.json, args.opts.permission == PermissionArg::Ask);
    out.say(&format!(
        "opsmcp demo: the {} agent works a simulated incident ('{}') through the three MCP \
         servers, started here on free loopback ports. Nothing to set up.\n",
        match args.opts.brain {
            BrainKind::Planner => "planner",
            BrainKind::Anthropic => "Anthropic",
            BrainKind::Openai => "OpenAI",
            BrainKind::Bedrock => "Bedrock",
        },
        args.scenario
    ));
    run_scenario_to(
        RunArgs {
            scenario: args.scenario,
            opts: AgentOpts {
                sim: args.sim.clone(),
                ..args.opts
            },
            sim: args.sim,
        },
        &mut out,
    )
}

pub fn eval(args: EvalArgs) -> anyhow::Result<Exit> {
    let names: Vec<String> = if args.scenarios.iter().any(|s| s == "all") {
        builtin::BUILTIN
            .iter()
            .map(|(n, _)| n.to_string())
            .collect()
    } else {
        args.scenarios.clone()
    };
    if names.is_empty() || args.seeds.is_empty() {
        bail!("nothing to evaluate: give --scenarios and --seeds");
    }
    let thresholds = Thresholds {
        solved: args.min_solved,
        root_cause: args.min_root_cause,
        remediation: args.min_remediation,
        recovered: args.min_recovered,
    };
    for (flag, v) in [
        ("--min-solved", thresholds.solved),
        ("--min-root-cause", thresholds.root_cause),
        ("--min-remediation", thresholds.remediation),
        ("--min-recovered", thresholds.recovered),
    ] {
        if !(0.0..=1.0).contains(&v) {
            return Err(Usage(format!(
                "{flag} is a fraction of the runs, from 0 to 1 (got {v})"
            ))
            .into());
        }
    }
    let opts = AgentOpts {
        brain: args.brain,
        model: args.model.clone(),
        max_turns: args.max_turns,
        permission: PermissionArg::Bypass,
        mcp_config: None,
        transport: Transport::Http,
        prompts: args.prompts.clone(),
        call_timeout_s: args.call_timeout_s,
        transcript_dir: None,
        data_dir: None,
        json: false,
        wait_for_approval: 0,
        sim: SimOpts {
            seed: 1,
            effect_speed: args.effect_speed,
            approve_requests: args.approve_requests,
        },
    };
    runtime()?.block_on(async move {
        let mut rows = Vec::new();
        for name in &names {
            for seed in args
                .seeds
                .iter()
                .flat_map(|s| std::iter::repeat_n(s, args.repeat.max(1) as usize))
            {
                let opts = AgentOpts {
                    sim: SimOpts {
                        seed: *seed,
                        ..opts.sim.clone()
                    },
                    ..opts.clone()
                };
                let started = Instant::now();
                let mut out = Output::new(false, false);
                let result = run_one(name, &opts, args.verbose.then_some(&mut out)).await;
                let row = Row {
                    scenario: name.clone(),
                    seed: *seed,
                    seconds: result
                        .as_ref()
                        .map_or(started.elapsed().as_secs_f64(), |r| r.seconds),
                    result: result.map(|r| r.score).map_err(|e| format!("{e:#}")),
                };
                println!(
                    "{name} seed {seed}: {}",
                    match &row.result {
                        Ok(s) if s.solved() => "solved".to_string(),
                        Ok(_) => "not solved".to_string(),
                        Err(e) => format!("error: {e}"),
                    }
                );
                rows.push(row);
            }
        }
        println!();
        print!("{}", eval::table(&rows));
        let summary = Summary::of(&rows);
        let failures = summary.failures(&thresholds);
        if let Some(path) = &args.json {
            let json = serde_json::json!({
                "rows": rows.iter().map(Row::record).collect::<Vec<_>>(),
                "summary": summary,
                "thresholds": thresholds,
                "failed": failures,
            });
            std::fs::write(path, serde_json::to_string_pretty(&json)?)
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!("rows and summary written to {}", path.display());
        }
        if failures.is_empty() {
            return Ok(Exit::Ok);
        }
        for f in &failures {
            eprintln!("opsmcp eval: {f}");
        }
        Ok(Exit::Failed)
    })
}

pub fn prompt(args: PromptArgs) -> anyhow::Result<Exit> {
    let opts = &args.opts;
    // The settings `opsmcp up` would run with (env, opsmcp.toml): its ports and data
    // directory. Read only when needed, so --mcp-config with --data-dir needs no settings.
    let settings = || -> anyhow::Result<Settings> {
        let matches = Overrides::augment_args(clap::Command::new("opsmcp"))
            .try_get_matches_from(["opsmcp"])
            .context("reading OPSMCP_* settings from the environment")?;
        // Every other OPSMCP_* variable as `up` reads it; the file, address and ports as given
        // here (each also read from its variable, so the same value when not given).
        let flags = Overrides {
            file: args.reach.file.clone(),
            address: args.reach.address.clone(),
            ports: args.reach.ports.clone(),
            ..Overrides::from_arg_matches(&matches)?
        };
        Settings::resolve(&flags, &matches)
    };
    // The run's transcript and full tool results go under the data directory's runs/,
    // like run-scenario's, unless told otherwise.
    let transcript_dir = match (&opts.transcript_dir, &opts.data_dir) {
        (Some(dir), _) => dir.clone(),
        (None, Some(data)) => data.join("runs"),
        (None, None) => settings()?.data_dir.join("runs"),
    };
    let config = match &opts.mcp_config {
        Some(path) => McpServersConfig::from_path(path)?,
        None => {
            // The servers `opsmcp up` runs with the same settings (ports, bind).
            let s = settings()?;
            let host = if s.bind.is_unspecified() {
                "127.0.0.1".to_string()
            } else {
                s.bind.to_string()
            };
            let path = match opts.transport {
                Transport::Http => "mcp",
                Transport::Sse => "sse",
            };
            let kind = match opts.transport {
                Transport::Http => "http",
                Transport::Sse => "sse",
            };
            // Servers with [auth] want a token: OPSMCP_TOKEN, as `opsmcp token create` made it.
            let headers: serde_json::Map<String, serde_json::Value> = std::env::var("OPSMCP_TOKEN")
                .ok()
                .filter(|t| !t.trim().is_empty())
                .map(|t| {
                    (
                        "Authorization".to_string(),
                        format!("Bearer {}", t.trim()).into(),
                    )
                })
                .into_iter()
                .collect();
            let scheme = if s.tls_cert.is_some() {
                "https"
            } else {
                "http"
            };
            let entries: serde_json::Map<String, serde_json::Value> = ServerKind::ALL
                .iter()
                .map(|k| {
                    let url = format!("{scheme}://{host}:{}/{path}", k.port(&s));
                    (
                        k.name().to_string(),
                        serde_json::json!({"type": kind, "url": url, "headers": headers}),
                    )
                })
                .collect();
            McpServersConfig::from_json(&serde_json::Value::Object(entries).to_string())?
        }
    };
    let prompts = match &opts.prompts {
        Some(dir) => Prompts::load(dir)?,
        None => Prompts::builtin(),
    };
    let brain = brain(opts)?;
    let mut out = Output::new(opts.json, opts.permission == PermissionArg::Ask);
    runtime()?.block_on(async move {
        let toolbox = Arc::new(
            Toolbox::connect(&config, Duration::from_secs(20))
                .await
                .map_err(|e| {
                    use crate::report::Hint;
                    match e {
                        // The transport's own words name its Rust types: say what happened.
                        opsmcp_agent::McpError::Connect {
                            server,
                            transport,
                            target,
                            message,
                        } if message.contains("Auth required") => anyhow::anyhow!(
                            "MCP server `{server}` ({transport} {target}) wants a token"
                        )
                        .context(Hint(
                            "set OPSMCP_TOKEN to one made by `opsmcp token create` (or give \
                             headers in --mcp-config)"
                                .into(),
                        )),
                        e => anyhow::Error::new(e).context(Hint(
                            "start them with `opsmcp up`, or pass --mcp-config".into(),
                        )),
                    }
                })?,
        );
        let mut agent = Agent::new(brain, toolbox.clone(), prompts.system_prompt());
        configure(&mut agent, opts);
        agent.transcript_dir = Some(transcript_dir);
        let outcome = agent
            .run(&args.prompt, &mut |e: &Event| out.event(e))
            .await?;
        if let Some(dir) = &outcome.transcript {
            out.say(&format!("\ntranscript: {}", dir.display()));
        }
        drop(agent);
        if let Ok(toolbox) = Arc::try_unwrap(toolbox) {
            toolbox.close().await;
        }
        Ok(Exit::Ok)
    })
}

/// Seconds the planner waits for approvals: as asked, else 120 when this run approves.
fn approval_wait(opts: &AgentOpts) -> u64 {
    match (opts.wait_for_approval, opts.sim.approve_requests) {
        (0, true) => 120,
        (s, _) => s,
    }
}

/// The on-call human of a simulated run who says yes: approves each pending request on open
/// incidents, as `opsmcp incidents approve` would, soon after it appears.
async fn approve_every_request(store: opsmcp_store::Store) {
    use opsmcp_store::{IncidentFilter, PageRequest};
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let listed = store
            .list_incidents(&IncidentFilter::default(), &PageRequest::first(50))
            .await;
        let Ok(page) = listed else {
            continue;
        };
        for incident in page.items.into_iter().filter(|i| i.status.is_open()) {
            let Ok(detail) = store.get_incident(&incident.id).await else {
                continue;
            };
            for e in detail
                .timeline
                .iter()
                .filter(|e| e.kind == "approval_requested")
            {
                if let (Some(action), Some(target)) =
                    (e.body["action"].as_str(), e.body["target"].as_str())
                {
                    // Already approved comes back refused: nothing to do.
                    let _ = store
                        .approve(&incident.id, action, Some(target), SIMULATED_APPROVER)
                        .await;
                }
            }
        }
    }
}

/// The options every agent command shares: turns, permissions, call timeout.
fn configure(agent: &mut Agent, opts: &AgentOpts) {
    agent.max_turns = opts.max_turns;
    agent.permission = match opts.permission {
        PermissionArg::Bypass => Permission::Bypass,
        PermissionArg::Ask => Permission::Ask,
        PermissionArg::ReadOnly => Permission::ReadOnly,
    };
    agent.per_call_timeout = Duration::from_secs(opts.call_timeout_s);
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The scenario's ground truth as the scorer wants it.
fn expected(scenario: &Scenario) -> Expected {
    Expected {
        root_cause: scenario.truth.root_cause.clone(),
        component: scenario.truth.component.clone(),
        remediation: scenario.truth.remediation.clone(),
        known: opsmcp_analysis::rca::RootCause::parse(&scenario.truth.root_cause).is_some(),
        worsening: scenario
            .actions
            .iter()
            .filter(|a| a.outcome == opsmcp_world::sim::scenario::Outcome::Worsens)
            .map(|a| format!("{}@{}", a.name, a.target))
            .collect(),
    }
}

/// Settings for servers playing `scenario` in a fresh data directory: the usual rules (env,
/// file) for everything else, so thresholds in opsmcp.toml still apply.
fn scenario_settings(
    scenario: &Scenario,
    name: &str,
    opts: &AgentOpts,
    data_dir: &std::path::Path,
) -> anyhow::Result<Settings> {
    let matches = Overrides::augment_args(clap::Command::new("opsmcp"))
        .try_get_matches_from(["opsmcp"])
        .context("reading OPSMCP_* settings from the environment")?;
    let flags = Overrides::from_arg_matches(&matches)?;
    let mut s = Settings::resolve(&flags, &matches)?;
    s.bind = std::net::Ipv4Addr::LOCALHOST.into();
    s.scenario = Some(name.to_string());
    s.seed = opts.sim.seed;
    s.data_dir = data_dir.to_path_buf();
    s.database_url = format!("sqlite://{}", data_dir.join("opsmcp.db").display());
    s.new_world = true;
    s.effect_speed = opts.sim.effect_speed;
    s.shutdown_grace_s = 1;
    if !(1.0..=1000.0).contains(&opts.sim.effect_speed) {
        return Err(Usage(
            "--effect-speed must be from 1 to 1000 (1 = the scenario's own timing)".into(),
        )
        .into());
    }
    // execute_remediation watches health recover before calling an action done, and rolls it
    // back when it does not: give it twice the slowest action's time at this speed (a
    // service near a threshold takes a while to settle under noise), plus ten seconds,
    // so a wrong action costs seconds rather than the default three minutes.
    let slowest = scenario
        .actions
        .iter()
        .map(|a| a.minutes_to_effect)
        .fold(0.0, f64::max);
    s.verify_timeout_s = (slowest * 60.0 / opts.sim.effect_speed * 2.0 + 10.0).ceil() as u64;
    Ok(s)
}

fn brain(opts: &AgentOpts) -> anyhow::Result<Box<dyn Brain>> {
    let model = |default: &str| opts.model.clone().unwrap_or_else(|| default.to_string());
    Ok(match opts.brain {
        BrainKind::Planner => Box::new(Planner::new(PlannerConfig {
            turn_budget: opts.max_turns,
            approval_wait: Duration::from_secs(approval_wait(opts)),
            ..PlannerConfig::default()
        })),
        BrainKind::Anthropic => Box::new(ProviderBrain::new(Arc::new(Anthropic::new(
            AnthropicConfig::from_env(model("claude-sonnet-4-5")),
        )?))),
        BrainKind::Openai => Box::new(ProviderBrain::new(Arc::new(OpenAi::new(
            OpenAiConfig::from_env(model("gpt-4o")),
        )))),
        BrainKind::Bedrock => {
            // The seed's model id, as the seed uses it.
            let id = model("us.anthropic.claude-sonnet-4-5-20250929-v1:0");
            Box::new(ProviderBrain::new(Arc::new(Bedrock::new(
                BedrockConfig::from_env(id),
            )?)))
        }
    })
}

/// Plays `name` once: servers (unless configured), toolbox, agent, independent health check,
/// score. Prints every step to `out`, when given.
async fn run_one(
    name: &str,
    opts: &AgentOpts,
    mut out: Option<&mut Output>,
) -> anyhow::Result<Report> {
    let show = out.is_some();
    let scenario = builtin::load(name)?;
    let expected = expected(&scenario);
    let prompts = match &opts.prompts {
        Some(dir) => Prompts::load(dir)?,
        None => Prompts::builtin(),
    };
    let brain = brain(opts)?;
    let started = Instant::now();

    let _temp;
    let data_dir = match &opts.data_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            dir.clone()
        }
        None => {
            let temp = tempfile::Builder::new()
                .prefix("opsmcp-run-")
                .tempdir()
                .context("cannot create a data directory")?;
            if show {
                // A single run keeps its store, analytics and postmortem for the reader.
                let path = temp.keep();
                if let Some(out) = out.as_deref_mut() {
                    out.say(&format!(
                        "data directory: {} (kept: store, analytics, postmortem)",
                        path.display()
                    ));
                }
                path
            } else {
                let path = temp.path().to_path_buf();
                _temp = temp;
                path
            }
        }
    };
    let (config, servers) = match &opts.mcp_config {
        Some(path) => (McpServersConfig::from_path(path)?, None),
        None => {
            let settings = scenario_settings(&scenario, name, opts, &data_dir)?;
            let servers = serve::start_in_process(&settings, &ServerKind::ALL).await?;
            let entries: serde_json::Map<String, serde_json::Value> = servers
                .urls
                .iter()
                .map(|(server, base)| {
                    let entry = match opts.transport {
                        Transport::Http => {
                            serde_json::json!({"type": "http", "url": format!("{base}/mcp")})
                        }
                        Transport::Sse => {
                            serde_json::json!({"type": "sse", "url": format!("{base}/sse")})
                        }
                    };
                    (server.to_string(), entry)
                })
                .collect();
            (
                McpServersConfig::from_json(&serde_json::Value::Object(entries).to_string())?,
                Some(servers),
            )
        }
    };
    let in_process = servers.is_some();
    let approver = match (&servers, opts.sim.approve_requests) {
        (Some(servers), true) => Some(tokio::spawn(approve_every_request(servers.store.clone()))),
        (None, true) => {
            return Err(Usage(
                "--approve-requests plays the approver on the servers this run starts; with \
                 --mcp-config approve with `opsmcp incidents approve` instead"
                    .into(),
            )
            .into());
        }
        _ => None,
    };
    let result = async {
        let toolbox = Arc::new(Toolbox::connect(&config, Duration::from_secs(20)).await?);
        let mut agent = Agent::new(brain, toolbox.clone(), prompts.system_prompt());
        configure(&mut agent, opts);
        // Single runs keep a transcript under the data directory unless told where.
        agent.transcript_dir = opts
            .transcript_dir
            .clone()
            .or_else(|| show.then(|| data_dir.join("runs")));
        // The report as the on-call engineer would get it: symptoms, never the answer.
        let prompt = format!(
            "An incident was reported:\n{}\nWork it end to end with the tools: detect, \
             investigate, find the root cause, remediate, verify, document and notify.",
            scenario.story.trim()
        );
        if let Some(out) = out.as_deref_mut() {
            out.say(&format!(
                "Report: {}\n",
                display::one_line(&scenario.story, 300)
            ));
        }
        let outcome = agent
            .run(&prompt, &mut |e: &Event| {
                if let Some(out) = out.as_deref_mut() {
                    out.event(e);
                }
            })
            .await?;
        let minutes_in = started.elapsed().as_secs_f64() / 60.0;
        let mut excused = scenario.independent_trouble(minutes_in);
        // A fix that moves the callers off the component leaves it as it is: the callers
        // are what must recover.
        let leaves = scenario.fix_leaves_the_component();
        if leaves {
            excused.push(expected.component.clone());
        }
        let recovered = eval::check_recovered(
            &toolbox,
            (!leaves).then_some(expected.component.as_str()),
            &excused,
            &scenario
                .independent_signals(minutes_in)
                .into_iter()
                .map(|(service, signal)| (service, opsmcp_world::health::check_name(&signal)))
                .collect::<Vec<_>>(),
            Duration::from_secs(opts.call_timeout_s),
        )
        .await
        .unwrap_or(false);
        let mut score = eval::score(
            &outcome.history,
            &outcome.final_text,
            &expected,
            recovered,
            outcome.turns,
        );
        if in_process {
            // The servers write to our data directory: the postmortem must be on disk.
            score.confirm_postmortem(&data_dir.join("postmortems"));
        }
        if let Some(dir) = &outcome.transcript {
            let mut report = format!(
                "# Run: {} (seed {})\n\n## Score\n\n",
                scenario.name, opts.sim.seed
            );
            for line in eval::score_lines(&score, &expected, started.elapsed().as_secs_f64()) {
                report.push_str(&format!("    {line}\n"));
            }
            report.push_str(&format!(
                "\n## The agent's summary\n\n{}\n",
                outcome.final_text
            ));
            let path = dir.join("report.md");
            std::fs::write(&path, report)
                .with_context(|| format!("cannot write {}", path.display()))?;
            if let Some(out) = out.as_deref_mut() {
                out.say(&format!("\ntranscript and report: {}", dir.display()));
            }
        }
        drop(agent);
        if let Ok(toolbox) = Arc::try_unwrap(toolbox) {
            toolbox.close().await;
        }
        anyhow::Ok(score)
    }
    .await;
    if let Some(approver) = approver {
        approver.abort();
    }
    if let Some(servers) = servers {
        servers.shutdown().await;
    }
    Ok(Report {
        score: result?,
        expected,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::BrainKind;

    /// `--brain runbook` (the planner's former name) keeps working, but help offers only
    /// `planner`: "runbook" now means the operator's `[[runbook]]` commands.
    #[test]
    fn the_planner_answers_to_its_former_name() {
        assert_eq!(
            BrainKind::from_str("planner", false),
            Ok(BrainKind::Planner)
        );
        assert_eq!(
            BrainKind::from_str("runbook", false),
            Ok(BrainKind::Planner)
        );
        let shown: Vec<String> = BrainKind::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|v| v.get_name().to_string())
            .collect();
        assert!(!shown.iter().any(|n| n == "runbook"), "{shown:?}");
        let help = BrainKind::Planner
            .to_possible_value()
            .and_then(|v| v.get_help().map(ToString::to_string))
            .unwrap_or_default();
        assert!(!help.contains("runbook"), "{help}");
    }
}
