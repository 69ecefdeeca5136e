//! Generated scenarios: a valid world of N services from a seed, written as the same TOML a
//! person writes (`opsmcp scenarios generate`), for scale benchmarks and for tests that need
//! many worlds the engine was never tuned on.
//!
//! The world is layered: APIs call workers, workers call workers further down and databases.
//! Every service calls two or three services among the next twenty, so paths stay a few hops
//! long at any N. Names, log styles, baselines, the fault's kind and its component, a red
//! herring (a harmless deploy and a burst of warnings elsewhere) and the actions on offer all
//! come from the seed. The same N, seed and kind give the same bytes.

use std::fmt::Write as _;

/// The faults a generated world can have: the kinds the analysis has rules for, and one it
/// has not (where the right answer is "unknown").
pub const FAULT_KINDS: &[&str] = &[
    "connection-pool-exhaustion",
    "disk-full",
    "bad-deploy",
    "memory-leak",
    "runaway-job",
    "dns-resolution-failure",
];

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    /// How many services (at least 4).
    pub services: usize,
    /// Picks names, graph, styles and (unless `fault` is set) the fault's kind.
    pub seed: u64,
    /// One of [`FAULT_KINDS`]; `None` lets the seed choose.
    pub fault: Option<String>,
}

/// A generated world.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The scenario, as TOML.
    pub toml: String,
    /// The cause (`fault.type`).
    pub cause: String,
    /// The component at fault.
    pub component: String,
    /// Normal log lines a minute of all services together.
    pub normal_per_minute: f64,
}

/// An unknown fault kind was asked for.
#[derive(Debug, thiserror::Error)]
#[error("no generated fault '{0}'; choose one of: {kinds}", kinds = FAULT_KINDS.join(", "))]
pub struct UnknownFault(pub String);

/// splitmix64: a fixed sequence per seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
        of[self.below(of.len())]
    }

    /// `v` times 0.6–1.4, to one decimal.
    fn around(&mut self, v: f64) -> f64 {
        let f = 0.6 + (self.next() % 800) as f64 / 1000.0;
        (v * f * 10.0).round() / 10.0
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Api,
    Worker,
    Database,
}

const DOMAINS: &[&str] = &[
    "orders",
    "payments",
    "ledger",
    "catalog",
    "search",
    "billing",
    "inventory",
    "shipping",
    "accounts",
    "profiles",
    "notify",
    "pricing",
    "reviews",
    "auth",
    "sessions",
    "media",
    "reports",
    "checkout",
    "cart",
    "loyalty",
    "fraud",
    "tax",
    "quotes",
    "claims",
];

/// Generates the world `spec` asks for.
pub fn generate(spec: &Spec) -> Result<Generated, UnknownFault> {
    let n = spec.services.max(4);
    let mut rng = Rng(spec.seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ n as u64);
    let cause = match &spec.fault {
        Some(f) => FAULT_KINDS
            .iter()
            .find(|k| **k == f)
            .ok_or_else(|| UnknownFault(f.clone()))?,
        None => FAULT_KINDS[rng.below(FAULT_KINDS.len())],
    };
    let apis = n.div_ceil(5);
    let first_db = n - n.div_ceil(5);
    let role = |i: usize| {
        if i < apis {
            Role::Api
        } else if i >= first_db {
            Role::Database
        } else {
            Role::Worker
        }
    };
    let names = names(n, &role, &mut rng);
    let deps = graph(n, &role, &mut rng);
    let callers = |i: usize| -> Vec<usize> { (0..n).filter(|c| deps[*c].contains(&i)).collect() };

    // The component: a database for the kinds that live in one, else a worker; always one
    // with callers, so the fault has someone to hurt.
    let eligible: Vec<usize> = (0..n)
        .filter(|i| {
            let db = matches!(cause, "connection-pool-exhaustion" | "disk-full");
            (role(*i) == Role::Database) == db && !callers(*i).is_empty()
        })
        .collect();
    let fault = match eligible.len() {
        0 => first_db - 1,
        len => eligible[rng.below(len)],
    };
    // The red herring: an API that does not call the fault's component directly.
    let herring = (0..apis).find(|a| !deps[*a].contains(&fault)).unwrap_or(0);

    let mut out = String::new();
    let _ = write!(
        out,
        "name = \"generated-{n}-{seed}\"\nsummary = \"A generated world of {n} services (seed {seed})\"\n\
         story = \"\"\"\nAlerts fire on several services at once; callers report errors and slow answers.\n\"\"\"\n\n",
        seed = spec.seed
    );
    let mut normal = 0.0;
    for (i, calls) in deps.iter().enumerate() {
        normal += service(&mut out, i, role(i), &names, calls, &mut rng);
    }
    let f = &names[fault];
    let h = &names[herring];
    let caller = &names[callers(fault).first().copied().unwrap_or(0)];
    out.push_str(&fault_block(cause, f, caller, &mut rng));
    let _ = write!(
        out,
        r#"[[red_herrings]]
service = "{h}"
description = "A harmless deploy with a burst of cache-warming warnings"
start_minutes_ago = 35
duration_minutes = 4
effects = {{ cpu_percent = {{ factor = 1.6 }} }}

[[red_herrings.logs]]
level = "warn"
per_minute = 150
message = "cache cold for shard={{shard}}, warming"
params = {{ shard = {{ min = 1, max = 32 }} }}

[[events]]
kind = "deploy"
service = "{h}"
minutes_ago = 35
detail = "{h} v4.2.0 -> v4.3.0"

[[actions]]
name = "rollback"
target = "{h}"
outcome = "nothing"

"#
    );
    Ok(Generated {
        toml: out,
        cause: cause.to_string(),
        component: f.clone(),
        normal_per_minute: normal,
    })
}

/// A name per service, `<domain>-<role word>`, numbered where a pair repeats.
fn names(n: usize, role: &dyn Fn(usize) -> Role, rng: &mut Rng) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(n);
    for i in 0..n {
        let suffix = match role(i) {
            Role::Api => rng.pick(&["api", "gateway", "web", "edge"]),
            Role::Worker => rng.pick(&["worker", "service", "consumer", "svc"]),
            Role::Database => rng.pick(&["db", "pg", "mysql", "store"]),
        };
        let base = format!("{}-{suffix}", rng.pick(DOMAINS));
        let mut name = base.clone();
        let mut k = 2;
        while names.contains(&name) {
            name = format!("{base}-{k}");
            k += 1;
        }
        names.push(name);
    }
    names
}

/// Whom each service calls: two or three services among the next twenty, never an API.
fn graph(n: usize, role: &dyn Fn(usize) -> Role, rng: &mut Rng) -> Vec<Vec<usize>> {
    let first_db = (0..n).find(|i| role(*i) == Role::Database).unwrap_or(n);
    (0..n)
        .map(|i| {
            let mut deps = Vec::new();
            if role(i) != Role::Database {
                let want = 2 + rng.below(2);
                let span = (n - i - 1).min(20);
                for _ in 0..want * 4 {
                    if deps.len() == want || span == 0 {
                        break;
                    }
                    let d = i + 1 + rng.below(span);
                    if role(d) != Role::Api && !deps.contains(&d) {
                        deps.push(d);
                    }
                }
                // The last worker calls the first database, so every tier has callers.
                if i + 1 == first_db && !deps.contains(&first_db) && first_db < n {
                    deps.push(first_db);
                }
            }
            deps
        })
        .collect()
}

/// A routine log template: level, lines a minute, message, params (TOML).
type RoutineLine = (&'static str, f64, String, &'static str);

/// Writes one `[[services]]` block; returns its normal log lines a minute.
fn service(
    out: &mut String,
    i: usize,
    role: Role,
    names: &[String],
    deps: &[usize],
    rng: &mut Rng,
) -> f64 {
    let deps: Vec<String> = deps.iter().map(|d| format!("\"{}\"", names[*d])).collect();
    let api_format = rng.pick(&["json", "logback", "zap", "pino", "nginx-access"]);
    // An access log writes requests as request lines; an application logs them in words.
    let api_request = if api_format == "nginx-access" {
        format!("\"{{method}} /v1/res{i}/{{id}} HTTP/1.1\" 200 {{bytes}}")
    } else {
        format!(
            "request completed method={{method}} path=/v1/res{i}/{{id}} status=200 bytes={{bytes}}"
        )
    };
    let (kind, format, baseline, logs): (&str, &str, String, [RoutineLine; 2]) = match role {
        Role::Api => (
            "api",
            api_format,
            format!(
                "request_rate = {}, latency_p50_ms = {}, latency_p99_ms = {}, \
                     error_rate = 0.002, cpu_percent = {}, memory_percent = {}",
                rng.around(150.0),
                rng.around(40.0),
                rng.around(180.0),
                rng.around(35.0),
                rng.around(50.0)
            ),
            [
                (
                    "info",
                    240.0,
                    api_request,
                    "method = [\"GET\", \"POST\"], id = { min = 1, max = 99999 }, \
                         bytes = { min = 200, max = 9000 }",
                ),
                (
                    "debug",
                    30.0,
                    format!("cache lookup key=res{i}:{{user}} hit={{hit}}"),
                    "user = { min = 1000, max = 99999 }, hit = [\"true\", \"false\"]",
                ),
            ],
        ),
        Role::Worker => (
            "worker",
            rng.pick(&["logfmt", "python", "text", "zap", "logback"]),
            format!(
                "request_rate = {}, latency_p50_ms = {}, latency_p99_ms = {}, \
                     error_rate = 0.001, cpu_percent = {}, memory_percent = {}",
                rng.around(80.0),
                rng.around(20.0),
                rng.around(90.0),
                rng.around(30.0),
                rng.around(45.0)
            ),
            [
                (
                    "info",
                    120.0,
                    format!("job {{job}} of queue q{i} done in {{ms}} ms"),
                    "job = { min = 1, max = 999999 }, ms = { min = 2, max = 400 }",
                ),
                (
                    "debug",
                    20.0,
                    format!("polled q{i}: {{n}} messages"),
                    "n = { min = 0, max = 50 }",
                ),
            ],
        ),
        Role::Database => (
            "database",
            rng.pick(&["postgres", "mysql"]),
            format!(
                "request_rate = {}, latency_p50_ms = 2.0, latency_p99_ms = 12.0, \
                     error_rate = 0.0005, cpu_percent = {}, memory_percent = {}, \
                     db_connections_in_use = 38.0, db_connections_max = 50.0, \
                     disk_used_percent = {}",
                rng.around(400.0),
                rng.around(30.0),
                rng.around(60.0),
                rng.around(45.0)
            ),
            [
                (
                    "info",
                    60.0,
                    "checkpoint complete: wrote {pages} buffers, {secs} s".to_string(),
                    "pages = { min = 100, max = 4000 }, secs = { min = 1, max = 9 }",
                ),
                (
                    "debug",
                    10.0,
                    format!("autovacuum: table t{i} scanned {{n}} pages"),
                    "n = { min = 1, max = 9000 }",
                ),
            ],
        ),
    };
    let _ = write!(
        out,
        "[[services]]\nname = \"{}\"\nkind = \"{kind}\"\ndepends_on = [{}]\n\
         log_format = \"{format}\"\nbaseline = {{ {baseline} }}\n\n",
        names[i],
        deps.join(", ")
    );
    let mut normal = 0.0;
    for (level, per_minute, message, params) in logs {
        normal += per_minute;
        let _ = write!(
            out,
            "[[services.logs]]\nlevel = \"{level}\"\nper_minute = {per_minute}\n\
             message = '{message}'\nparams = {{ {params} }}\n\n"
        );
    }
    normal
}

/// The `[fault]` block, its change events, its actions and the truth, for `cause` on `f`
/// (`caller` is one of its callers).
fn fault_block(cause: &str, f: &str, caller: &str, rng: &mut Rng) -> String {
    // A leak shows as a slow climb: it began longer ago than a step does.
    let onset = if cause == "memory-leak" {
        20 + rng.below(15)
    } else {
        8 + rng.below(12)
    };
    let (major, minor) = (1 + rng.below(8), rng.below(20));
    let (body, remediation) = match cause {
        "connection-pool-exhaustion" => (
            format!(
                r#"shape = "ramp"
ramp_minutes = 6
effects = {{ db_connections_in_use = {{ to = 50.0 }}, latency_p99_ms = {{ factor = 40.0 }}, latency_p50_ms = {{ factor = 15.0 }} }}

[[fault.logs]]
level = "error"
per_minute = 90
message = "FATAL: remaining connection slots are reserved for non-replication superuser connections (client {{ip}})"
params = {{ ip = ["10.0.3.11", "10.0.3.12", "10.0.3.13"] }}

[fault.propagation]
latency_factor = 6.0
error_rate = 0.12

[[fault.propagation.logs]]
level = "error"
per_minute = 120
message = 'request failed status=503 error="timeout acquiring connection from pool after {{ms}} ms"'
params = {{ ms = [5000] }}

[[actions]]
name = "increase-pool-size"
target = "{f}"
outcome = "fixes"
minutes_to_effect = 2

[[actions]]
name = "restart"
target = "{caller}"
outcome = "worsens"
minutes_to_effect = 2
"#
            ),
            "increase-pool-size".to_string(),
        ),
        "disk-full" => (
            format!(
                r#"shape = "ramp"
ramp_minutes = 3
effects = {{ disk_used_percent = {{ to = 100.0 }}, error_rate = {{ to = 0.6 }}, request_rate = {{ factor = 0.3 }} }}

[[fault.logs]]
level = "error"
per_minute = 120
message = 'could not extend file "base/16384/{{rel}}": No space left on device'
params = {{ rel = {{ min = 16000, max = 99999 }} }}

[fault.propagation]
latency_factor = 2.0
error_rate = 0.1

[[fault.propagation.logs]]
level = "error"
per_minute = 60
message = 'request failed status=500 error="{f}: write failed"'

[[actions]]
name = "clear-disk"
target = "{f}"
outcome = "fixes"
minutes_to_effect = 2

[[actions]]
name = "restart"
target = "{f}"
outcome = "masks"
minutes_to_effect = 1
"#
            ),
            "clear-disk".to_string(),
        ),
        "bad-deploy" => (
            format!(
                r#"shape = "step"
effects = {{ error_rate = {{ to = 0.25 }}, latency_p99_ms = {{ factor = 2.0 }} }}

[[fault.logs]]
level = "error"
per_minute = 70
message = "unhandled exception in Handler.process: NullPointerException (item {{item}})"
params = {{ item = {{ min = 10000, max = 99999 }} }}

[fault.propagation]
error_rate = 0.06

[[fault.propagation.logs]]
level = "error"
per_minute = 40
message = "upstream {f} returned 500 for POST /v1/items/{{item}}"
params = {{ item = {{ min = 10000, max = 99999 }} }}

[[events]]
kind = "deploy"
service = "{f}"
minutes_ago = {onset}
detail = "{f} v{major}.{minor}.0 -> v{major}.{next}.0"

[[actions]]
name = "rollback"
target = "{f}"
outcome = "fixes"
minutes_to_effect = 3

[[actions]]
name = "restart"
target = "{f}"
outcome = "nothing"
"#,
                next = minor + 1
            ),
            format!("rollback@{f}"),
        ),
        "memory-leak" => (
            format!(
                r#"shape = "ramp"
ramp_minutes = {ramp}
effects = {{ memory_percent = {{ to = 97.0 }}, error_rate = {{ to = 0.08 }}, latency_p99_ms = {{ factor = 4.0 }} }}

[[fault.logs]]
level = "warn"
per_minute = 10
message = "GC pause {{ms}}ms, heap {{mb}} MB of 2048 MB"
params = {{ ms = {{ min = 200, max = 1800 }}, mb = {{ min = 1700, max = 2040 }} }}

[[fault.logs]]
level = "error"
per_minute = 3
message = "process exited: signal 9 (SIGKILL), reason OOMKilled, restart #{{n}}"
params = {{ n = {{ min = 1, max = 9 }} }}

[fault.propagation]
error_rate = 0.05

[[fault.propagation.logs]]
level = "error"
per_minute = 30
message = "upstream {f} connection reset by peer"

[[events]]
kind = "deploy"
service = "{f}"
minutes_ago = 2880
detail = "{f} v{major}.{minor}.0 -> v{major}.{next}.0"

[[actions]]
name = "rollback"
target = "{f}"
outcome = "fixes"
minutes_to_effect = 3

[[actions]]
name = "restart"
target = "{f}"
outcome = "masks"
minutes_to_effect = 1
"#,
                ramp = onset - 5,
                next = minor + 1
            ),
            format!("rollback@{f}"),
        ),
        "runaway-job" => (
            format!(
                r#"shape = "ramp"
ramp_minutes = 4
effects = {{ cpu_percent = {{ to = 99.0 }}, latency_p50_ms = {{ factor = 8.0 }}, latency_p99_ms = {{ factor = 10.0 }} }}

[[fault.logs]]
level = "info"
per_minute = 30
message = "export-job: processed {{n}} rows of 48000000"
params = {{ n = {{ min = 1000000, max = 9000000 }} }}

[fault.propagation]
latency_factor = 4.0
error_rate = 0.02

[[fault.propagation.logs]]
level = "warn"
per_minute = 40
message = "slow upstream {f} took {{ms}}ms"
params = {{ ms = {{ min = 1000, max = 4000 }} }}

[[events]]
kind = "cron"
service = "{f}"
minutes_ago = {onset}
detail = "export-job started"

[[actions]]
name = "disable-job"
target = "{f}"
outcome = "fixes"
minutes_to_effect = 2

[[actions]]
name = "restart"
target = "{f}"
outcome = "worsens"
minutes_to_effect = 2
"#
            ),
            "disable-job".to_string(),
        ),
        // A cause the analysis has no rule for: the right answer is "unknown", and nothing on
        // offer fixes it.
        _ => (
            format!(
                r#"shape = "step"
effects = {{ error_rate = {{ to = 0.4 }} }}

[[fault.logs]]
level = "error"
per_minute = 80
message = "lookup upstream.internal on 10.0.0.2:53: no such host"

[fault.propagation]
error_rate = 0.1

[[fault.propagation.logs]]
level = "error"
per_minute = 40
message = "upstream {f} returned 502"

[[actions]]
name = "restart"
target = "{f}"
outcome = "nothing"
minutes_to_effect = 1
"#
            ),
            String::new(),
        ),
    };
    let remediation = if remediation.is_empty() {
        "[]".to_string()
    } else {
        format!("[\"{remediation}\"]")
    };
    format!(
        "[fault]\ntype = \"{cause}\"\ncomponent = \"{f}\"\nonset_minutes_ago = {onset}\n{body}\n\
         [truth]\nroot_cause = \"{cause}\"\ncomponent = \"{f}\"\nremediation = {remediation}\n\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Scenario;

    fn spec(services: usize, seed: u64, fault: Option<&str>) -> Spec {
        Spec {
            services,
            seed,
            fault: fault.map(str::to_string),
        }
    }

    #[test]
    fn every_kind_at_every_size_is_a_valid_scenario() {
        for kind in FAULT_KINDS {
            for n in [4, 5, 12, 60, 300] {
                for seed in 1..4 {
                    let g = generate(&spec(n, seed, Some(kind))).expect("a known kind");
                    let s = Scenario::parse(&g.toml, "generated")
                        .unwrap_or_else(|e| panic!("{kind} n={n} seed={seed}: {e}\n{}", g.toml));
                    assert_eq!(s.services.len(), n);
                    assert_eq!(s.truth.component, g.component);
                    assert_eq!(s.truth.root_cause, *kind);
                }
            }
        }
    }

    #[test]
    fn the_same_spec_gives_the_same_bytes_and_seeds_differ() {
        let a = generate(&spec(40, 9, None)).expect("generated");
        let b = generate(&spec(40, 9, None)).expect("generated");
        assert_eq!(a.toml, b.toml);
        let kinds: std::collections::BTreeSet<String> = (1..40)
            .map(|seed| generate(&spec(40, seed, None)).expect("generated").cause)
            .collect();
        assert_eq!(kinds.len(), FAULT_KINDS.len(), "seeds choose every kind");
        assert_ne!(
            a.toml,
            generate(&spec(40, 10, None)).expect("generated").toml
        );
    }

    #[test]
    fn an_unknown_kind_is_refused_with_the_kinds_there_are() {
        let e = generate(&spec(10, 1, Some("gremlins"))).expect_err("refused");
        let text = e.to_string();
        assert!(
            text.contains("gremlins") && text.contains("disk-full"),
            "{text}"
        );
    }
}
