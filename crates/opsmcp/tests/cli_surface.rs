//! What the command line shows a newcomer, through the real binary: each command offers the
//! settings flags it uses and no others, errors are one clear line, and exit codes follow the
//! README's table.

mod common;

use std::process::{Command, Output};

use common::bin;

/// `opsmcp ARGS…` with no settings from the test's environment.
fn opsmcp(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env_remove("OPSMCP_CONFIG")
        .env_remove("OPSMCP_DATA_DIR")
        .env_remove("OPSMCP_DATABASE_URL")
        .env_remove("OPSMCP_AUDIT_KEY_FILE")
        .env_remove("NO_COLOR")
        .output()
        .unwrap()
}

/// The long flags `opsmcp ARGS… --help` lists.
fn flags_of(args: &[&str]) -> Vec<String> {
    let mut argv = args.to_vec();
    argv.push("--help");
    let out = opsmcp(&argv);
    assert!(out.status.success(), "{args:?} --help failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l
                .strip_prefix("-h, ")
                .or(l.strip_prefix("-V, "))
                .unwrap_or(l);
            l.strip_prefix("--")
                .map(|f| f.split([' ', '=']).next().unwrap_or_default().to_string())
        })
        .collect()
}

fn assert_offers(args: &[&str], wanted: &[&str], unwanted: &[&str]) {
    let flags = flags_of(args);
    for w in wanted {
        assert!(
            flags.iter().any(|f| f == w),
            "{args:?} lacks --{w}: {flags:?}"
        );
    }
    for u in unwanted {
        assert!(
            !flags.iter().any(|f| f == u),
            "{args:?} offers --{u}, which it does not use: {flags:?}"
        );
    }
}

/// Flags only a server uses (edge, tools, auth, simulation).
const SERVER_ONLY: [&str; 8] = [
    "max-connections",
    "allowed-host",
    "read-only",
    "tls-cert",
    "insecure-no-auth",
    "seed",
    "scenario",
    "new-world",
];

#[test]
fn store_commands_offer_only_the_settings_file_and_the_store() {
    for cmd in [
        &["incidents", "list"][..],
        &["incidents", "show"],
        &["incidents", "approve"],
        &["audit", "list"],
        &["audit", "verify"],
    ] {
        assert_offers(
            cmd,
            &["config", "data-dir", "database-url", "audit-key-file"],
            &[
                &SERVER_ONLY[..],
                &[
                    "bind",
                    "monitoring-port",
                    "workflow-port",
                    "log-analytics-port",
                ],
            ]
            .concat(),
        );
    }
}

#[test]
fn health_and_agent_offer_where_the_servers_are_and_no_simulation() {
    let reach = [
        "config",
        "bind",
        "monitoring-port",
        "workflow-port",
        "log-analytics-port",
    ];
    assert_offers(
        &["health"],
        &reach,
        &[&SERVER_ONLY[..], &["data-dir"]].concat(),
    );
    // `agent` works a real system: no seed, effect speed or simulated approver.
    assert_offers(
        &["agent"],
        &reach,
        &[&SERVER_ONLY[..], &["effect-speed", "approve-requests"]].concat(),
    );
    // The simulated runs keep theirs.
    for cmd in ["run-scenario", "demo"] {
        assert_offers(
            &[cmd],
            &["seed", "effect-speed", "approve-requests"],
            &["bind"],
        );
    }
}

#[test]
fn serve_offers_its_port_and_up_every_port() {
    assert_offers(
        &["serve"],
        &[
            "port",
            "bind",
            "data-dir",
            "max-connections",
            "seed",
            "tls-cert",
        ],
        &["monitoring-port", "workflow-port", "log-analytics-port"],
    );
    assert_offers(
        &["up"],
        &[
            "bind",
            "monitoring-port",
            "workflow-port",
            "log-analytics-port",
            "data-dir",
            "max-connections",
            "seed",
            "tls-cert",
        ],
        &["port"],
    );
}

/// `config print` still names a source for every setting, each group's flags included.
#[test]
fn config_print_still_reads_every_group_of_flags() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    let out = opsmcp(&[
        "config",
        "print",
        "--data-dir",
        &data,
        "--bind",
        "127.0.0.1",
        "--workflow-port",
        "9302",
        "--max-connections",
        "99",
        "--insecure-no-auth",
        "--seed",
        "4",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for (name, flag) in [
        ("data_dir", "--data-dir"),
        ("bind", "--bind"),
        ("workflow_port", "--workflow-port"),
        ("max_connections", "--max-connections"),
        ("insecure_no_auth", "--insecure-no-auth"),
        ("seed", "--seed"),
    ] {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"));
        assert!(line.ends_with(&format!("(flag {flag})")), "{line}");
    }
    // Every setting has its source.
    assert!(text.lines().count() > 40, "{text}");
    assert!(text.lines().all(|l| l.ends_with(')')), "{text}");
}

/// `serve` still reads the per-server port variable of its server, as service files set it.
#[test]
fn serve_still_reads_its_port_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args(["serve", "workflow"])
        .env("OPSMCP_WORKFLOW_PORT", "not-a-port")
        .env("OPSMCP_DATA_DIR", dir.path())
        .env_remove("OPSMCP_CONFIG")
        .output()
        .unwrap();
    // The variable is parsed (and refused) like a flag: a usage error.
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not-a-port"), "{stderr}");
}
