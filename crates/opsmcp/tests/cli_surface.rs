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

/// A bad settings file: one line saying where and what, one hint naming a command that works
/// on that very file and shows the problem with the valid names.
#[test]
fn a_bad_config_is_one_line_and_its_hint_works_on_the_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("opsmcp.toml");
    std::fs::write(&file, "bind = \"127.0.0.1\"\nmonitoring_prot = 1\n").unwrap();
    let file_s = file.display().to_string();
    let out = opsmcp(&["incidents", "list", "--config", &file_s]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with("opsmcp: error: ")
            && lines[0].contains("line 2")
            && lines[0].contains("monitoring_prot")
            && lines[0].contains("did you mean `monitoring_port`?"),
        "{stderr}"
    );
    let hint = lines[1].strip_prefix("hint: ").expect("a hint line");
    // The hint's command, run as written, reports the problem instead of failing on it.
    let command = hint.split('`').nth(1).expect("a command in backquotes");
    let argv: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(argv[..2], ["opsmcp", "config"], "{hint}");
    let checked = opsmcp(&argv[1..]);
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert_eq!(checked.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL") && stdout.contains("monitoring_prot"),
        "{stdout}"
    );
    assert!(
        stdout.contains("`monitoring_port`"),
        "the valid names: {stdout}"
    );
    assert!(
        checked.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

/// A cause is said once, not once per layer that wraps it.
#[test]
fn an_error_says_each_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, "").unwrap();
    let data = not_a_dir.join("data").display().to_string();
    let out = opsmcp(&["incidents", "list", "--data-dir", &data]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(stderr.matches("Not a directory").count(), 1, "{stderr}");
}

/// Logs on a stderr that is not a terminal carry no colour codes.
#[test]
fn no_colour_codes_when_stderr_is_not_a_terminal() {
    use std::io::{BufRead, BufReader, Read};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin())
        .args(["serve", "monitoring", "--port", "0"])
        .env("OPSMCP_DATA_DIR", dir.path())
        .env_remove("OPSMCP_CONFIG")
        .env_remove("NO_COLOR")
        .env_remove("OPSMCP_LOG")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let listening = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|l| l.contains("listening on"));
    assert!(listening);
    child.kill().unwrap();
    child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    // A fresh data directory: the audit key's creation is logged at info.
    assert!(stderr.contains("INFO"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "colour codes in a pipe: {stderr:?}"
    );
}

/// The transport's Rust type names do not reach the user: a server that wants a token says so.
#[test]
fn a_server_wanting_a_token_is_said_in_words() {
    let made = opsmcp(&["token", "create", "--name", "t", "--scopes", "read"]);
    let entry = String::from_utf8_lossy(&made.stderr).to_string();
    let entry = &entry[entry.find("[[auth.tokens]]").unwrap()..];
    let entry = entry.split("\n\n").next().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("opsmcp.toml");
    std::fs::write(&config, format!("{entry}\n")).unwrap();
    let config_s = config.display().to_string();
    let server = common::Running::up(&["--config", &config_s]);
    let port = |name: &str| server.url(name).rsplit(':').next().unwrap().to_string();
    let out = Command::new(bin())
        .args(["agent", "look", "--max-turns", "1", "--config", &config_s])
        .args(["--monitoring-port", &port("monitoring")])
        .args(["--workflow-port", &port("workflow")])
        .args(["--log-analytics-port", &port("log-analytics")])
        .env("OPSMCP_DATA_DIR", dir.path())
        .env_remove("OPSMCP_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("::"), "type names: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines[0].contains("wants a token"), "{stderr}");
    assert!(lines[1].starts_with("hint: set OPSMCP_TOKEN"), "{stderr}");
}

/// `up` on this system runs the checks of `config check` and warns about each problem (a log
/// path, a runbook program, a probe), but starts all the same.
#[test]
fn up_warns_at_start_about_what_config_check_flags() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let config = dir.path().join("opsmcp.toml");
    std::fs::write(
        &config,
        format!(
            "[[log_files]]\nservice = \"checkout-api\"\nglobs = [\"{d}/missing/*.log\"]\n\n\
             [[runbook]]\nname = \"restart\"\nservice = \"checkout-api\"\n\
             description = \"restart it\"\nprogram = \"{d}/no-such-program\"\nargs = []\n\
             timeout_ms = 1000\nrisk = \"low\"\n\n\
             [[probes]]\nservice = \"checkout-api\"\nkind = \"tcp\"\naddress = \"127.0.0.1:1\"\n"
        ),
    )
    .unwrap();
    let config_s = config.display().to_string();
    // config check calls each of them a failure.
    let checked = opsmcp(&["config", "check", &config_s]);
    assert_eq!(checked.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&checked.stdout)
            .matches("FAIL")
            .count(),
        3
    );

    let mut args = common::UP_ON_FREE_PORTS.to_vec();
    args.extend(["--config", &config_s]);
    let mut child = common::Killed(
        Command::new(bin())
            .args(&args)
            .env("OPSMCP_DATA_DIR", dir.path().join("data"))
            .env_remove("OPSMCP_CONFIG")
            .env_remove("OPSMCP_LOG")
            .env_remove("RUST_LOG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let (stdout, _) = common::lines_of(child.0.stdout.take().unwrap());
    let (stderr, _) = common::lines_of(child.0.stderr.take().unwrap());
    let listening = (0..3)
        .filter(|_| {
            stdout
                .recv_timeout(std::time::Duration::from_secs(30))
                .is_ok_and(|l| l.contains("listening on"))
        })
        .count();
    assert_eq!(listening, 3, "up starts despite the problems");
    let mut warnings = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while warnings.len() < 3 && std::time::Instant::now() < deadline {
        if let Ok(line) = stderr.recv_timeout(std::time::Duration::from_millis(200))
            && line.contains("WARN")
            && line.contains("config check")
        {
            warnings.push(line);
        }
    }
    let all = warnings.join("\n");
    assert_eq!(warnings.len(), 3, "{all}");
    assert!(all.contains("missing"), "{all}");
    assert!(all.contains("no-such-program"), "{all}");
    assert!(all.contains("127.0.0.1:1"), "{all}");
    // Still serving.
    assert!(child.0.try_wait().unwrap().is_none());
}

/// The README's exit-code table, and a few commands keeping to it.
#[test]
fn exit_codes_follow_the_readme_table() {
    let readme = std::fs::read_to_string(common::workspace_root().join("README.md")).unwrap();
    for row in ["| 0    |", "| 1    |", "| 2    |", "| 130  |"] {
        assert!(
            readme.contains(row),
            "the README's exit-code table lacks {row}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "bogus = 1\n").unwrap();
    let bad = bad.display().to_string();
    let closed = common::free_port().to_string();
    let cases: [(&[&str], i32); 11] = [
        (&["--version"], 0),
        (&["audit", "verify", "--data-dir", &data], 0),
        (&["incidents", "list", "--data-dir", &data], 0),
        // 1: a check that finds a problem, settings that cannot be used.
        (
            &[
                "health",
                "--monitoring-port",
                &closed,
                "--workflow-port",
                &closed,
                "--log-analytics-port",
                &closed,
                "--timeout-s",
                "1",
            ],
            1,
        ),
        (&["config", "check", &bad], 1),
        (&["incidents", "list", "--config", &bad], 1),
        // 2: usage.
        (&["no-such-command"], 2),
        (&["incidents", "list", "--bind", "127.0.0.1"], 2),
        (
            &["audit", "list", "--data-dir", &data, "--since", "soon"],
            2,
        ),
        (&["token", "create", "--name", "x", "--scopes", "bogus"], 2),
        (&["eval", "--min-solved", "2"], 2),
    ];
    for (args, code) in cases {
        let out = opsmcp(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
