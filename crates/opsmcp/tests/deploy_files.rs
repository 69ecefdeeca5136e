//! The files in `deploy/` are checked by the programs that will read them: the example config by
//! `opsmcp` itself, the Prometheus config and rules by `promtool`, the Alertmanager config by
//! `amtool`, the systemd unit by `systemd-analyze verify`.
//!
//! A missing tool skips its check with a message, except under CI (`CI` set), where it fails:
//! `.ci/run` installs them (Debian packages prometheus, prometheus-alertmanager, systemd).

mod common;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use common::{bin, workspace_root};

fn deploy(file: &str) -> PathBuf {
    workspace_root().join("deploy").join(file)
}

fn read(file: &str) -> String {
    std::fs::read_to_string(deploy(file)).unwrap_or_else(|e| panic!("deploy/{file}: {e}"))
}

fn in_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok(v) if !v.is_empty() && v != "false" && v != "0")
}

/// The tool on `PATH`, or `None` after saying why the check is skipped (a failure under CI).
fn tool(name: &str, package: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            !in_ci(),
            "{name} is missing; .ci/run installs the Debian package {package}"
        );
        eprintln!("skipped: {name} is not installed (apt-get install {package})");
    }
    found
}

fn succeeded(what: &str, out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    format!("{stdout}{stderr}")
}

// ---- deploy/opsmcp.toml ------------------------------------------------------------------------

/// `opsmcp config print --config FILE` with no OPSMCP_* variable in the way: setting name →
/// where its value came from.
fn config_print(file: &Path) -> BTreeMap<String, String> {
    let mut cmd = Command::new(bin());
    cmd.args(["config", "print", "--config"]).arg(file);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("OPSMCP_") {
            cmd.env_remove(key);
        }
    }
    let out = cmd.output().expect("opsmcp runs");
    succeeded(
        &format!("opsmcp config print --config {}", file.display()),
        &out,
    );
    // "name   value   (source)"
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let name = line.split_whitespace().next()?;
            let source = line.rsplit_once('(')?.1.strip_suffix(')')?;
            Some((name.to_string(), source.to_string()))
        })
        .collect()
}

/// The example with its data directory moved into `dir` (so loading it never touches
/// /var/lib), written there; with `all_examples`, every `#key = value` / `#[table]` line is
/// switched on.
fn example_in(dir: &Path, all_examples: bool) -> PathBuf {
    let data_dir = dir.join("data");
    let text: String = read("opsmcp.toml")
        .lines()
        .map(|line| {
            let line = match line.strip_prefix('#') {
                // "#key" and "#[table]" are examples; "# " is prose, "##" a comment's comment.
                Some(rest) if all_examples && !rest.starts_with([' ', '#']) && !rest.is_empty() => {
                    rest
                }
                _ => line,
            };
            if line.starts_with("data_dir = ") {
                format!("data_dir = {:?}\n", data_dir.display().to_string())
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    let path = dir.join(if all_examples {
        "all-examples.toml"
    } else {
        "opsmcp.toml"
    });
    std::fs::write(&path, text).expect("write the copy");
    path
}

#[test]
fn the_example_config_loads_as_it_is_and_keeps_the_safe_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let sources = config_print(&example_in(dir.path(), false));
    assert!(sources.len() > 20, "{sources:?}");
    let file = format!("file {}", dir.path().join("opsmcp.toml").display());
    for name in [
        "bind",
        "data_dir",
        "max_body_bytes",
        "sandbox",
        "thresholds",
    ] {
        assert_eq!(
            sources.get(name),
            Some(&file),
            "{name} is set in the example"
        );
    }
    // As shipped it must not expose the tools or play a simulation.
    let text = read("opsmcp.toml");
    assert!(text.contains("\nbind = \"127.0.0.1\"\n"), "loopback bind");
    assert!(
        !text.contains("\nscenario ="),
        "no simulated world switched on"
    );
}

#[test]
fn every_setting_opsmcp_knows_is_in_the_example_config() {
    let dir = tempfile::tempdir().unwrap();
    let file = example_in(dir.path(), true);
    let sources = config_print(&file);
    let from_file = format!("file {}", file.display());
    // With every example switched on, a setting still at its default is one the example does
    // not show: add it to deploy/opsmcp.toml with a comment saying what it is for.
    let missing: Vec<_> = sources
        .iter()
        .filter(|(_, source)| **source != from_file)
        .map(|(name, source)| format!("{name} ({source})"))
        .collect();
    assert!(
        missing.is_empty(),
        "settings of `opsmcp config print` missing from deploy/opsmcp.toml: {missing:?}"
    );
}

// ---- deploy/prometheus.yml, alerts.yml, alerts.test.yml ----------------------------------------

#[test]
fn prometheus_config_and_alert_rules_pass_promtool() {
    let Some(promtool) = tool("promtool", "prometheus") else {
        return;
    };
    let run = |args: &[&str]| {
        let out = Command::new(&promtool)
            .args(args)
            .current_dir(workspace_root().join("deploy"))
            .output()
            .expect("promtool runs");
        succeeded(&format!("promtool {}", args.join(" ")), &out)
    };
    let config = run(&["check", "config", "prometheus.yml"]);
    assert!(config.contains("1 rule files found"), "{config}");
    let rules = run(&["check", "rules", "alerts.yml"]);
    assert!(rules.contains("SUCCESS"), "{rules}");
    // Each rule fires when it should and not on the near misses.
    let tests = run(&["test", "rules", "alerts.test.yml"]);
    assert!(tests.contains("SUCCESS"), "{tests}");

    // The commented-out bearer token for scraping behind opsmcp's auth is valid too.
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("opsmcp-token");
    std::fs::write(&token, "a-token\n").unwrap();
    let with_auth = read("prometheus.yml")
        .replace("    # authorization:", "    authorization:")
        .replace("    #   ", "      ")
        .replace("/etc/prometheus/opsmcp-token", &token.display().to_string());
    assert_eq!(with_auth.matches("\n    authorization:").count(), 1);
    std::fs::write(dir.path().join("prometheus.yml"), with_auth).unwrap();
    std::fs::copy(deploy("alerts.yml"), dir.path().join("alerts.yml")).unwrap();
    let out = Command::new(&promtool)
        .args(["check", "config"])
        .arg(dir.path().join("prometheus.yml"))
        .output()
        .unwrap();
    succeeded("promtool check config (authorization switched on)", &out);
}

/// The alert rules name opsmcp's own metrics; each must be one the servers export. Skipped
/// while `/metrics` is not served (it is being added under issue 9).
#[test]
fn alert_rules_use_metrics_the_servers_export() {
    let rules = read("alerts.yml");
    let mut wanted: Vec<&str> = rules
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("opsmcp_"))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    assert!(!wanted.is_empty(), "alerts.yml names opsmcp metrics");

    let server =
        common::Running::up_with_env(&[], &[("OPSMCP_SCENARIO", "db-connection-pool-exhaustion")]);
    // Series appear once they have a value: one tool call makes the tool-call counters.
    let called = common::post_mcp(server.url("monitoring"))
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"verify_health","arguments":{}}}"#)
        .send()
        .unwrap();
    assert_eq!(called.status(), 200);
    let mut exported = String::new();
    for name in ["monitoring", "workflow", "log-analytics"] {
        let resp = reqwest::blocking::get(format!("{}/metrics", server.url(name))).unwrap();
        if resp.status() == 404 {
            eprintln!(
                "skipped: {name} does not serve /metrics yet; alerts.yml names {wanted:?}, \
                 which must match what it will export"
            );
            return;
        }
        assert_eq!(resp.status(), 200, "{name} /metrics");
        exported.push_str(&resp.text().unwrap());
    }
    let names: Vec<&str> = exported
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    for metric in wanted {
        // A histogram or summary is exported as its _bucket/_sum/_count series.
        let found = names.iter().any(|n| {
            *n == metric
                || ["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|s| n.strip_suffix(s) == Some(metric))
        });
        assert!(
            found,
            "alerts.yml uses {metric}, which no server exports on /metrics"
        );
    }
}

// ---- deploy/alertmanager.yml -------------------------------------------------------------------

#[test]
fn alertmanager_config_passes_amtool_and_routes_to_the_webhook() {
    let text = read("alertmanager.yml");
    // The workflow server's route (alertmanager_webhook.rs), on its default port.
    assert!(
        text.contains("url: http://127.0.0.1:9002/webhooks/alertmanager"),
        "the webhook receiver"
    );
    assert!(
        text.contains("send_resolved: true"),
        "resolved groups resolve incidents"
    );
    let Some(amtool) = tool("amtool", "prometheus-alertmanager") else {
        return;
    };
    let out = Command::new(&amtool)
        .arg("check-config")
        .arg(deploy("alertmanager.yml"))
        .output()
        .expect("amtool runs");
    let said = succeeded("amtool check-config deploy/alertmanager.yml", &out);
    assert!(said.contains("2 receivers"), "{said}");

    // The commented-out bearer token for the webhook behind opsmcp's auth is valid too.
    let dir = tempfile::tempdir().unwrap();
    let with_auth = text
        .replace("        # http_config:", "        http_config:")
        .replace("        #   ", "          ");
    assert!(with_auth.contains("\n        http_config:\n          authorization:"));
    let file = dir.path().join("alertmanager.yml");
    std::fs::write(&file, with_auth).unwrap();
    let out = Command::new(&amtool)
        .arg("check-config")
        .arg(&file)
        .output()
        .unwrap();
    succeeded("amtool check-config (authorization switched on)", &out);
}

// ---- deploy/opsmcp.service ---------------------------------------------------------------------

#[test]
fn the_systemd_unit_passes_systemd_analyze_and_leaves_the_sandbox_what_it_needs() {
    let unit = read("opsmcp.service");
    let directives: Vec<&str> = unit
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && l.contains('='))
        .collect();
    let value = |key: &str| -> Vec<&str> {
        directives
            .iter()
            .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .collect()
    };
    // Each script gets a new user and network namespace: both must stay allowed, and nothing
    // else needs to be.
    assert_eq!(value("RestrictNamespaces"), ["user net"]);
    // Landlock and seccomp calls are not in @system-service on systemd 252.
    let filter = value("SystemCallFilter").join(" ");
    for call in [
        "@system-service",
        "landlock_create_ruleset",
        "landlock_add_rule",
        "landlock_restrict_self",
        "seccomp",
    ] {
        assert!(filter.split_whitespace().any(|c| c == call), "{call}");
    }
    assert_eq!(value("SystemCallErrorNumber"), ["EPERM"]);
    // /proc must stay whole for the host's vital signs; no nested user namespace.
    for absent in ["PrivateUsers", "ProcSubset", "ProtectProc"] {
        assert!(value(absent).is_empty(), "{absent} must not be set");
    }
    assert_eq!(value("User"), ["opsmcp"]);
    assert_eq!(
        value("ExecStart"),
        ["/usr/local/bin/opsmcp up --config /etc/opsmcp/opsmcp.toml"]
    );

    let Some(analyze) = tool("systemd-analyze", "systemd") else {
        return;
    };
    // verify wants the program to exist: point a copy at the binary under test.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("opsmcp.service");
    std::fs::write(
        &copy,
        unit.replace("/usr/local/bin/opsmcp", &bin().display().to_string()),
    )
    .unwrap();
    let out = Command::new(analyze)
        .arg("verify")
        .arg(&copy)
        .output()
        .expect("systemd-analyze runs");
    // verify exits 0 even for unknown or unparsable directives, which it only prints.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let about_unit: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("opsmcp.service"))
        .collect();
    assert!(
        out.status.success() && about_unit.is_empty(),
        "systemd-analyze verify deploy/opsmcp.service:\n{stderr}"
    );
}

// ---- deploy/Containerfile ----------------------------------------------------------------------

/// No container runtime runs here, so the image is not built; what can be checked without one
/// is checked: every path the build copies exists, and its Rust is new enough for the workspace.
#[test]
fn the_containerfile_copies_what_exists_with_a_new_enough_rust() {
    let file = read("Containerfile");
    let root = workspace_root();
    let mut copied = 0;
    for line in file.lines().filter(|l| l.starts_with("COPY ")) {
        if line.contains("--from=") {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().skip(1).collect();
        for source in &words[..words.len() - 1] {
            assert!(
                root.join(source).exists(),
                "COPY {source}: not in the repository"
            );
            copied += 1;
        }
    }
    assert!(copied >= 8, "{copied} paths copied");
    // Files compiled into the binary must be in the build stage.
    for needed in ["scenarios", "prompts", "skills", ".cargo", "Cargo.lock"] {
        assert!(
            file.lines()
                .any(|l| l.starts_with("COPY ") && l.split_whitespace().any(|w| w == needed)),
            "the build stage copies {needed}"
        );
    }

    let version = |text: &str, key: &str| -> (u32, u32) {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(key))
            .unwrap_or_else(|| panic!("{key} not found"));
        let v = line
            .split(['=', '"'])
            .map(str::trim)
            .find(|w| w.starts_with(char::is_numeric));
        let mut parts = v
            .expect("a version")
            .split('.')
            .map(|n| n.parse::<u32>().unwrap());
        (parts.next().unwrap(), parts.next().unwrap())
    };
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let needed = version(&manifest, "rust-version");
    let image = version(&file, "ARG RUST_VERSION");
    assert!(
        image >= needed,
        "the build image has Rust {image:?}, the workspace needs {needed:?}"
    );
}
