//! `opsmcp scenarios`: the simulated incidents — list them, read one's story, check a file,
//! generate one.

use std::io::Write;

use opsmcp_world::sim::{Scenario, SimWorld, builtin, generate};
use serde_json::json;

use crate::serve::Exit;

#[derive(Debug, clap::Subcommand)]
pub enum ScenariosCommand {
    /// Name, one-line summary and services of every built-in scenario.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// One scenario's story: services, dependencies, events, the actions it offers. The answer
    /// only with --reveal.
    Show {
        /// A built-in name or a scenario file.
        scenario: String,
        /// Also print the ground truth (root cause, component, remediation).
        #[arg(long)]
        reveal: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check a scenario file someone wrote; errors name the line and field.
    Validate {
        /// The file.
        file: String,
    },
    /// Write a valid scenario of N services from a seed (TOML on standard output): names,
    /// call graph, log styles, a fault and a red herring all come from the seed, so large or
    /// many worlds can be made for benchmarks and tests.
    Generate {
        /// How many services (at least 4).
        #[arg(long, default_value_t = 20)]
        services: usize,
        /// The seed: the same seed, size and fault give the same file.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The fault's kind instead of the seed's choice: connection-pool-exhaustion,
        /// disk-full, bad-deploy, memory-leak, runaway-job or dns-resolution-failure (a cause
        /// the analysis has no rule for).
        #[arg(long)]
        fault: Option<String>,
    },
    /// Print a scenario's log lines (all services, time order) for the last N minutes of the
    /// incident: a stream, so --rate can make millions of lines for benchmarks.
    Logs {
        /// A built-in name or a scenario file.
        scenario: String,
        /// Minutes of logs, ending now.
        #[arg(long, default_value_t = 15.0)]
        minutes: f64,
        /// Multiply every log rate by this.
        #[arg(long, default_value_t = 1.0)]
        rate: f64,
        /// The seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// When the world starts and the logs end (RFC 3339), instead of now: the same
        /// scenario, seed and time give byte-identical output.
        #[arg(long)]
        until: Option<jiff::Timestamp>,
    },
}

pub fn run(cmd: ScenariosCommand) -> anyhow::Result<Exit> {
    match cmd {
        ScenariosCommand::List { json } => {
            let all = builtin::all()?;
            if json {
                let list: Vec<_> = all
                    .iter()
                    .map(|s| json!({"name": s.name, "summary": s.summary, "services": service_names(s)}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                for s in &all {
                    println!("{:<32} {}", s.name, s.summary);
                    println!("{:<32} services: {}", "", service_names(s).join(", "));
                }
            }
        }
        ScenariosCommand::Show {
            scenario,
            reveal,
            json,
        } => {
            let s = builtin::load(&scenario)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&story_json(&s, reveal))?);
            } else {
                print!("{}", story_text(&s, reveal));
            }
        }
        ScenariosCommand::Logs {
            scenario,
            minutes,
            rate,
            seed,
            until,
        } => {
            let minutes_ok = minutes > 0.0 && minutes <= 7.0 * 24.0 * 60.0;
            let rate_ok = rate > 0.0 && rate.is_finite();
            if !(minutes_ok && rate_ok) {
                return Err(crate::report::Usage(
                    "--minutes must be between 0 and 10080 (a week) and --rate a positive number"
                        .into(),
                )
                .into());
            }
            let now = until.unwrap_or_else(jiff::Timestamp::now);
            let world = SimWorld::new(builtin::load(&scenario)?, seed, now).with_log_rate(rate);
            let from = now - jiff::SignedDuration::from_millis((minutes * 60_000.0) as i64);
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for line in world.logs(from, now) {
                // A closed pipe (`| head`) ends the stream quietly.
                if writeln!(out, "{}", line.text).is_err() {
                    return Ok(Exit::Ok);
                }
            }
            if out.flush().is_err() {
                return Ok(Exit::Ok);
            }
        }
        ScenariosCommand::Generate {
            services,
            seed,
            fault,
        } => {
            if !(4..=100_000).contains(&services) {
                return Err(
                    crate::report::Usage("--services must be between 4 and 100000".into()).into(),
                );
            }
            let world = generate::generate(&generate::Spec {
                services,
                seed,
                fault,
            })
            .map_err(|e| crate::report::Usage(e.to_string()))?;
            print!("{}", world.toml);
        }
        ScenariosCommand::Validate { file } => {
            let s = builtin::load(&file)?;
            println!(
                "{file}: valid scenario '{}' ({} services, {} actions)",
                s.name,
                s.services.len(),
                s.actions.len()
            );
        }
    }
    Ok(Exit::Ok)
}

fn service_names(s: &Scenario) -> Vec<&str> {
    s.services.iter().map(|x| x.name.as_str()).collect()
}

fn story_json(s: &Scenario, reveal: bool) -> serde_json::Value {
    let mut v = json!({
        "name": s.name,
        "summary": s.summary,
        "story": s.story.trim(),
        "services": s.services.iter().map(|x| json!({
            "name": x.name, "kind": x.kind, "depends_on": x.depends_on, "log_format": x.log_format,
        })).collect::<Vec<_>>(),
        "events": s.events,
        "actions": s.actions.iter().map(|a| json!({"name": a.name, "target": a.target})).collect::<Vec<_>>(),
    });
    if reveal {
        v["truth"] = json!(s.truth);
    }
    v
}

fn story_text(s: &Scenario, reveal: bool) -> String {
    let mut out = format!(
        "{}\n{}\n\n{}\n\nservices:\n",
        s.name,
        s.summary,
        s.story.trim()
    );
    for x in &s.services {
        let deps = if x.depends_on.is_empty() {
            String::new()
        } else {
            format!(" -> {}", x.depends_on.join(", "))
        };
        out.push_str(&format!("  {:<20} {:?}{deps}\n", x.name, x.kind));
    }
    out.push_str("\nevents:\n");
    for e in &s.events {
        out.push_str(&format!(
            "  {:>4} min ago  {:<7} {:<16} {}\n",
            e.minutes_ago,
            format!("{:?}", e.kind).to_lowercase(),
            e.service,
            e.detail
        ));
    }
    out.push_str("\nactions offered:\n");
    for a in &s.actions {
        out.push_str(&format!("  {} on {}\n", a.name, a.target));
    }
    if reveal {
        out.push_str(&format!(
            "\nground truth: {} in {}; fixed by {}\n",
            s.truth.root_cause,
            s.truth.component,
            s.truth.remediation.join(", ")
        ));
    }
    out
}
