//! 6. The SMTP channel against a real SMTP server: Python's aiosmtpd (pinned in
//!    tests/python/requirements.txt, installed by tests/python/setup.sh into the venv CI uses).
//!    Skipped, saying so, when that venv is missing.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use opsmcp_notify::channels::smtp::{SmtpChannel, SmtpConfig, SmtpTls, message_id};
use opsmcp_notify::{
    Channel, ChannelConfig, ChannelsConfig, NewNotification, NotificationStatus, Notifier, Severity,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use crate::common::{self, Ctx, INCIDENT, fast, notifications, wait_for};

/// The venv's Python: `OPSMCP_TEST_PYTHON` (set by .ci/run), else where setup.sh puts it.
fn venv_python() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("OPSMCP_TEST_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    let p = cache.join("opsmcp/venv-clients/bin/python");
    p.exists().then_some(p)
}

struct Sink {
    _child: Child,
    port: u16,
    out: tempfile::TempDir,
}

/// Starts the SMTP server (with STARTTLS and AUTH required when `starttls`), or says why not.
async fn start_sink_with(starttls: bool) -> Option<Sink> {
    let Some(python) = venv_python() else {
        println!(
            "SKIPPED: no Python venv with aiosmtpd; run `bash tests/python/setup.sh` (CI does) \
             to run the SMTP test against a real SMTP server"
        );
        return None;
    };
    let has_aiosmtpd = Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .status()
        .await
        .is_ok_and(|s| s.success());
    if !has_aiosmtpd {
        println!(
            "SKIPPED: {} has no aiosmtpd; rerun `bash tests/python/setup.sh` to install \
             tests/python/requirements.txt",
            python.display()
        );
        return None;
    }
    // A free port: bind, note, release. The server binds it a moment later.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let out = tempfile::tempdir().expect("tempdir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/smtp_sink.py");
    let mut child = Command::new(&python)
        .arg(script)
        .arg(port.to_string())
        .arg(out.path())
        .args(starttls.then_some("--starttls"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        // aiosmtpd logs the refused TLS handshakes the tests provoke; keep them out of the
        // test output, in the sink's folder.
        .stderr(std::fs::File::create(out.path().join("sink.log")).expect("sink log"))
        .kill_on_drop(true)
        .spawn()
        .expect("starting the SMTP server");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next_line().await.expect("reading the server");
    assert_eq!(
        first.as_deref(),
        Some("READY"),
        "the SMTP server did not start"
    );
    Some(Sink {
        _child: child,
        port,
        out,
    })
}

/// The plain-text SMTP server.
async fn start_sink() -> Option<Sink> {
    start_sink_with(false).await
}

fn config(port: u16, to: &[&str]) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port: Some(port),
        tls: SmtpTls::None,
        from: "opsmcp <opsmcp@example.com>".into(),
        to: to.iter().map(|s| s.to_string()).collect(),
        username: None,
        password: None,
        ca_file: None,
        timeout_ms: 10_000,
    }
}

/// The messages the server accepted, in order.
fn received(dir: &Path) -> Vec<serde_json::Value> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .expect("read the sink's folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| serde_json::from_slice(&std::fs::read(p).expect("read")).expect("json"))
        .collect()
}

fn header<'a>(data: &'a str, name: &str) -> Option<&'a str> {
    data.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_reaches_a_real_smtp_server() {
    let Some(sink) = start_sink().await else {
        return;
    };
    common::run(common::sqlite(), move |ctx: Ctx| async move {
        let mut channels = ChannelsConfig::default();
        channels.channels.insert(
            "mail".into(),
            ChannelConfig::Smtp(config(
                sink.port,
                &["oncall@example.com", "Lead <lead@example.com>"],
            )),
        );
        let notifier = Notifier::new(channels.build(&ctx.dir).expect("channels"));
        let stop = CancellationToken::new();
        let worker = tokio::spawn(
            notifier
                .worker(ctx.store.clone(), fast())
                .expect("worker")
                .run(stop.clone()),
        );
        for (key, message) in [
            ("INC-0001-opened", "db primary down"),
            ("INC-0001-resolved", "failed over"),
        ] {
            notifier
                .notify(
                    &ctx.store,
                    NewNotification {
                        incident_id: Some(INCIDENT.into()),
                        severity: Some(Severity::Sev1),
                        idempotency_key: Some(key.into()),
                        ..NewNotification::message(message)
                    },
                )
                .await
                .expect("notify");
        }
        wait_for("both mails delivered", || async {
            notifications(&ctx.store)
                .await
                .iter()
                .all(|n| n.status == NotificationStatus::Delivered)
        })
        .await;
        stop.cancel();
        worker.await.expect("worker");

        let mails = received(sink.out.path());
        assert_eq!(mails.len(), 2);
        let from: lettre::message::Mailbox = "opsmcp@example.com".parse().expect("mailbox");
        // Sent concurrently, so in either order: find each by its key.
        let by_key = |key: &str| {
            mails
                .iter()
                .find(|m| {
                    header(
                        m["data"].as_str().unwrap_or_default(),
                        "X-Opsmcp-Idempotency-Key",
                    ) == Some(key)
                })
                .unwrap_or_else(|| panic!("no mail with key {key}: {mails:?}"))
        };
        for (key, subject) in [
            ("INC-0001-opened", "[SEV1] INC-0001: db primary down"),
            ("INC-0001-resolved", "[SEV1] INC-0001: failed over"),
        ] {
            let mail = by_key(key);
            assert_eq!(mail["mail_from"], "opsmcp@example.com");
            assert_eq!(
                mail["rcpt_tos"],
                serde_json::json!(["oncall@example.com", "lead@example.com"])
            );
            let data = mail["data"].as_str().expect("data");
            assert_eq!(header(data, "Subject"), Some(subject), "{data}");
            assert_eq!(
                header(data, "Message-ID"),
                Some(message_id(key, &from).as_str())
            );
            assert_eq!(header(data, "X-Opsmcp-Idempotency-Key"), Some(key));
            assert!(data.contains(&format!("notification key: {key}")), "{data}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_mail_has_the_same_message_id_and_unknown_mailboxes_are_permanent() {
    let Some(sink) = start_sink().await else {
        return;
    };
    let n = opsmcp_notify::Notification {
        id: 1,
        idempotency_key: "INC-0002-opened".into(),
        channel: "mail".into(),
        message: "disk full on db-2".into(),
        severity: None,
        incident_id: Some("INC-0002".into()),
        created_at: jiff::Timestamp::now(),
        attempt: 1,
    };
    let channel =
        SmtpChannel::new("mail", &config(sink.port, &["oncall@example.com"])).expect("channel");
    channel.send(&n).await.expect("first attempt");
    channel
        .send(&opsmcp_notify::Notification {
            attempt: 2,
            ..n.clone()
        })
        .await
        .expect("a retry after a lost acknowledgement");
    let mails = received(sink.out.path());
    assert_eq!(mails.len(), 2, "SMTP itself does not dedupe");
    let ids: Vec<_> = mails
        .iter()
        .map(|m| header(m["data"].as_str().expect("data"), "Message-ID").map(String::from))
        .collect();
    assert!(ids[0].is_some());
    assert_eq!(
        ids[0], ids[1],
        "the retry is recognizable by its Message-ID"
    );

    let refused =
        SmtpChannel::new("mail", &config(sink.port, &["nobody@example.com"])).expect("channel");
    let err = refused.send(&n).await.expect_err("unknown mailbox");
    assert!(!err.retryable, "{err:?}");
    assert!(
        err.message.contains("550") || err.message.contains("no such mailbox"),
        "{}",
        err.message
    );

    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let down =
        SmtpChannel::new("mail", &config(closed_port, &["oncall@example.com"])).expect("channel");
    let err = down.send(&n).await.expect_err("no server");
    assert!(err.retryable, "no server is worth retrying: {err:?}");
}

/// STARTTLS with a certificate from a CA given in `ca_file`, then AUTH: the setup of a real
/// submission server. Without the CA, or with a wrong password, nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_and_auth() {
    let Some(sink) = start_sink_with(true).await else {
        return;
    };
    let n = opsmcp_notify::Notification {
        id: 1,
        idempotency_key: "INC-0003-opened".into(),
        channel: "mail".into(),
        message: "certificate expires tomorrow".into(),
        severity: Some(Severity::Sev3),
        incident_id: Some("INC-0003".into()),
        created_at: jiff::Timestamp::now(),
        attempt: 1,
    };
    let secure = |ca: bool, password: &str| SmtpConfig {
        tls: SmtpTls::Starttls,
        username: Some("opsmcp".into()),
        password: Some(password.into()),
        ca_file: ca.then(|| sink.out.path().join("ca.pem")),
        ..config(sink.port, &["oncall@example.com"])
    };
    let channel = SmtpChannel::new("mail", &secure(true, "s3cret")).expect("channel");
    channel
        .send(&n)
        .await
        .expect("sent over STARTTLS with AUTH");
    let mails = received(sink.out.path());
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0]["rcpt_tos"],
        serde_json::json!(["oncall@example.com"])
    );

    let untrusted = SmtpChannel::new("mail", &secure(false, "s3cret")).expect("channel");
    let err = untrusted.send(&n).await.expect_err("the CA is not trusted");
    assert!(err.message.contains("certificate"), "{}", err.message);

    let wrong = SmtpChannel::new("mail", &secure(true, "wrong")).expect("channel");
    let err = wrong.send(&n).await.expect_err("wrong password");
    assert!(!err.retryable, "a refused login is permanent: {err:?}");
    assert!(err.message.contains("535"), "{}", err.message);

    let plain =
        SmtpChannel::new("mail", &config(sink.port, &["oncall@example.com"])).expect("channel");
    let err = plain
        .send(&n)
        .await
        .expect_err("the server requires STARTTLS");
    println!("plain text to a STARTTLS-only server: {}", err.message);
    assert_eq!(
        received(sink.out.path()).len(),
        1,
        "nothing else got through"
    );
}

/// A server that accepts the connection and never says a word: the send ends within the
/// channel's timeout, as a retryable failure, instead of holding the worker.
#[tokio::test]
async fn a_silent_server_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let channel = SmtpChannel::new(
        "mail",
        &SmtpConfig {
            timeout_ms: 300,
            ..config(port, &["oncall@example.com"])
        },
    )
    .expect("channel");
    let n = opsmcp_notify::Notification {
        id: 1,
        idempotency_key: "k".into(),
        channel: "mail".into(),
        message: "m".into(),
        severity: None,
        incident_id: None,
        created_at: jiff::Timestamp::now(),
        attempt: 1,
    };
    let err = tokio::time::timeout(common::DEADLINE, channel.send(&n))
        .await
        .expect("the channel's own timeout ends the send")
        .expect_err("no answer");
    assert!(err.retryable, "{err:?}");
    held.abort();
}
