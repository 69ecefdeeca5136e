//! `opsmcp config check`: every source in the settings tried once, so a typo in a path or an
//! unreachable Prometheus is found before an incident, not during one.

use std::os::unix::fs::PermissionsExt;

use opsmcp_world::{
    health::Status,
    live::{
        files::{Cursor, LogFileSource},
        journald::JournaldSource,
        postgres::PostgresSource,
        prometheus::PrometheusSource,
        services::ServiceMap,
    },
};

use crate::{
    config::{BadFile, Settings},
    serve::Exit,
};

struct Row {
    source: &'static str,
    name: String,
    ok: bool,
    detail: String,
}

/// `config check` when the settings cannot be used at all (a file that does not parse, a value
/// out of bounds): the problem in full, as a failed row, and exit 1. Every other command
/// points here, so it must work on the very file they refuse.
pub fn bad_settings(error: &anyhow::Error) -> anyhow::Result<Exit> {
    let (name, detail) = match error.downcast_ref::<BadFile>() {
        Some(bad) => (bad.path.display().to_string(), bad.full()),
        None => ("settings".to_string(), crate::report::render(error).0),
    };
    println!("{:<11} {:<24} {:<6} DETAIL", "SOURCE", "NAME", "STATUS");
    println!("{:<11} {:<24} {:<6} {detail}", "settings", name, "FAIL");
    Ok(Exit::Failed)
}

pub fn run(settings: &Settings) -> anyhow::Result<Exit> {
    let rows = rows(settings)?;
    if rows.is_empty() {
        println!("no sources configured beyond this host; nothing to check");
        return Ok(Exit::Ok);
    }
    println!("{:<11} {:<24} {:<6} DETAIL", "SOURCE", "NAME", "STATUS");
    for r in &rows {
        println!(
            "{:<11} {:<24} {:<6} {}",
            r.source,
            r.name,
            if r.ok { "ok" } else { "FAIL" },
            r.detail
        );
    }
    Ok(if rows.iter().all(|r| r.ok) {
        Exit::Ok
    } else {
        Exit::Failed
    })
}

/// `up` watching this system: the checks of `config check`, on a thread of their own so the
/// servers start at once, each failure logged as a warning. (`serve`, one server of several
/// run apart, does not: its probes would be hit once per server.) The servers start
/// anyway — a source may come up later — as `config check` refuses nothing either; what it
/// cannot run at all is one warning.
pub fn warn_in_background(settings: &Settings) {
    let settings = settings.clone();
    let spawned = std::thread::Builder::new()
        .name("config-check".into())
        .spawn(move || match rows(&settings) {
            Ok(rows) => {
                for r in rows.iter().filter(|r| !r.ok) {
                    tracing::warn!(
                        source = r.source,
                        name = %r.name,
                        "config check: {} {}: {} (`opsmcp config check` tries it again)",
                        r.source,
                        r.name,
                        r.detail
                    );
                }
            }
            Err(e) => tracing::warn!(
                "config check could not run: {}",
                crate::report::render(&e).0
            ),
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "config check not run at start");
    }
}

/// One row per configured source, each tried once.
fn rows(settings: &Settings) -> anyhow::Result<Vec<Row>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut rows = Vec::new();

    if let Some(tls) = settings.tls() {
        let (ok, detail) = match opsmcp_mcp::tls::check(&tls) {
            Ok(()) => (true, "certificate and key load and match".to_string()),
            Err(e) => (false, e.to_string()),
        };
        rows.push(Row {
            source: "tls",
            name: tls.cert.display().to_string(),
            ok,
            detail,
        });
    }

    if let Some(config) = &settings.prometheus {
        let source = PrometheusSource::new(config.clone())?;
        for service in &config.services {
            for signal in config.signals.keys() {
                let (ok, detail) =
                    match runtime.block_on(source.signal_instant(signal, service, None)) {
                        Ok(Some(sample)) => (true, format!("{signal} = {}", sample.value)),
                        Ok(None) => (true, format!("{signal}: no data yet (the query is valid)")),
                        Err(e) => (false, e.to_string()),
                    };
                rows.push(Row {
                    source: "prometheus",
                    name: service.clone(),
                    ok,
                    detail,
                });
            }
        }
    }

    for spec in &settings.postgres {
        let source = PostgresSource::new(spec.clone())?;
        let (ok, detail) = match runtime.block_on(source.read(jiff::Timestamp::now())) {
            Ok(samples) => (
                true,
                samples
                    .iter()
                    .map(|s| format!("{} = {}", s.signal, s.value))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Err(e) => (false, e.to_string()),
        };
        rows.push(Row {
            source: "postgres",
            name: spec.service.clone(),
            ok,
            detail,
        });
    }

    let map = ServiceMap::new(settings.services.clone())?;
    let known: Vec<String> = settings
        .probes
        .iter()
        .map(|p| p.service.clone())
        .chain(settings.log_files.iter().map(|f| f.service.clone()))
        .chain(settings.runbook.iter().map(|a| a.service.clone()))
        .chain(settings.postgres.iter().map(|p| p.service.clone()))
        .chain(
            settings
                .prometheus
                .iter()
                .flat_map(|p| p.services.iter().cloned()),
        )
        .collect();
    for spec in map.specs() {
        let unknown: Vec<&str> = map
            .unknown_dependencies(&known)
            .filter(|(s, _)| *s == spec.name)
            .map(|(_, d)| d)
            .collect();
        let (ok, detail) = if unknown.is_empty() {
            (
                true,
                format!(
                    "depends on [{}]{}",
                    spec.depends_on.join(", "),
                    spec.process
                        .as_ref()
                        .map(|p| format!("; processes matching \"{p}\""))
                        .unwrap_or_default()
                ),
            )
        } else {
            (
                false,
                format!(
                    "depends on {} which no section declares or watches; add a [[services]] \
                     entry (or a probe, log file or runbook action) for it, or fix the name",
                    unknown.join(", ")
                ),
            )
        };
        rows.push(Row {
            source: "services",
            name: spec.name.clone(),
            ok,
            detail,
        });
    }

    for spec in &settings.log_files {
        let (ok, detail) =
            match LogFileSource::new(spec.clone()).and_then(|s| s.read(&Cursor::default())) {
                Ok(mut lines) => match lines.next() {
                    Some(Ok(line)) => (
                        true,
                        format!("readable, first line from {}", line.path.display()),
                    ),
                    Some(Err(e)) => (false, e.to_string()),
                    None => (true, "matched, but the files are empty".to_string()),
                },
                Err(e) => (false, e.to_string()),
            };
        rows.push(Row {
            source: "log_files",
            name: spec.service.clone(),
            ok,
            detail,
        });
    }

    for spec in &settings.journald {
        let (ok, detail) = match JournaldSource::new(spec.clone()).and_then(|s| s.check()) {
            Ok(found) => (true, found),
            Err(e) => (false, e.to_string()),
        };
        rows.push(Row {
            source: "journald",
            name: spec.service.clone(),
            ok,
            detail,
        });
    }

    for action in &settings.runbook {
        let (ok, detail) = match std::fs::metadata(&action.program) {
            Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => {
                (true, format!("{} is executable", action.program.display()))
            }
            Ok(_) => (
                false,
                format!("{} is not an executable file", action.program.display()),
            ),
            Err(e) => (
                false,
                format!(
                    "{}: {e}; fix `program` or install it",
                    action.program.display()
                ),
            ),
        };
        rows.push(Row {
            source: "runbook",
            name: action.name.clone(),
            ok,
            detail,
        });
    }

    if !settings.probes.is_empty() {
        let http = reqwest::Client::new();
        for probe in &settings.probes {
            let check = runtime.block_on(probe.run(&http));
            rows.push(Row {
                source: "probe",
                name: probe.service.clone(),
                ok: check.status != Status::Unhealthy,
                detail: check.message,
            });
        }
    }

    Ok(rows)
}
