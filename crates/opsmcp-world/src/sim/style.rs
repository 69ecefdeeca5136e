//! Native log styles: a service's lines as its own server or runtime writes them (nginx,
//! Envoy, PostgreSQL, MySQL, Redis, Spring Boot/logback, Go zap, Python logging, Node pino,
//! BSD syslog), each with its own header and timestamp format.
//!
//! Only the header is the style's: the message is the template's, untouched, so the log engine
//! must find it again by stripping the header. Process ids, thread names, client addresses and
//! host names come from the seeded noise (per service, or per line through its salt), never
//! from the clock, so a seed still gives byte-identical lines.

use jiff::Timestamp;

use super::noise::Noise;
use super::scenario::{Level, LogFormat, ServiceKind};

/// What a native line is made from.
pub(super) struct Line<'a> {
    /// When it was written.
    pub at: Timestamp,
    /// The writing service.
    pub service: &'a str,
    /// Its kind (thread names differ between servers and workers).
    pub kind: ServiceKind,
    /// The template's level.
    pub level: Level,
    /// The template as written, before placeholders: keys what is fixed per template (a MySQL
    /// error code, a zap caller).
    pub template: &'a str,
    /// The rendered message.
    pub message: &'a str,
    /// The seeded noise and this line's salt: per-line details (a connection id, a worker).
    pub noise: &'a Noise,
    /// Distinct per line.
    pub salt: u64,
}

impl Line<'_> {
    /// A whole number in `[lo, hi]` fixed for this service (a process id).
    fn per_service(&self, what: &str, lo: u64, hi: u64) -> u64 {
        pick(self.noise.unit(&[self.service, "style", what], 0), lo, hi)
    }

    /// A whole number in `[lo, hi]` drawn for this line (a connection id).
    fn per_line(&self, what: &str, lo: u64, hi: u64) -> u64 {
        pick(
            self.noise.unit(&[self.service, "style", what], self.salt),
            lo,
            hi,
        )
    }

    /// A whole number in `[lo, hi]` fixed for this template (an error code, a source line).
    fn per_template(&self, what: &str, lo: u64, hi: u64) -> u64 {
        pick(
            self.noise
                .unit(&[self.service, "style", what, self.template], 0),
            lo,
            hi,
        )
    }
}

fn pick(u: f64, lo: u64, hi: u64) -> u64 {
    lo + ((u * (hi - lo + 1) as f64) as u64).min(hi - lo)
}

/// A request line (what access-log styles write): a message that opens with a quoted request.
fn is_request(message: &str) -> bool {
    message.starts_with('"')
}

/// The line in the service's format.
pub(super) fn format_line(style: LogFormat, l: &Line) -> String {
    match style {
        LogFormat::Json | LogFormat::Logfmt | LogFormat::Text => generic(style, l),
        LogFormat::NginxAccess if is_request(l.message) => nginx_access(l),
        // nginx writes anything that is not a request to its error log.
        LogFormat::NginxAccess | LogFormat::NginxError => nginx_error(l),
        LogFormat::Envoy if is_request(l.message) => envoy_access(l),
        LogFormat::Envoy => envoy_app(l),
        LogFormat::Postgres => postgres(l),
        LogFormat::Mysql => mysql(l),
        LogFormat::Redis => redis(l),
        LogFormat::Logback => logback(l),
        LogFormat::Zap => zap(l),
        LogFormat::Python => python(l),
        LogFormat::Pino => pino(l),
        LogFormat::Syslog => syslog(l),
    }
}

/// The three generic formats, header first: ISO time, level, service.
fn generic(format: LogFormat, l: &Line) -> String {
    let (at, service, message) = (l.at, l.service, l.message);
    let ts = at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ");
    let level = l.level.name();
    match format {
        LogFormat::Json => serde_json::json!({
            "ts": ts.to_string(), "level": level, "service": service, "msg": message
        })
        .to_string(),
        LogFormat::Logfmt => {
            format!(
                "ts={ts} level={level} service={service} msg={}",
                logfmt_quote(message)
            )
        }
        _ => format!("{ts} {} [{service}] {message}", level.to_ascii_uppercase()),
    }
}

fn logfmt_quote(s: &str) -> String {
    if s.contains([' ', '"', '=']) {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        s.to_string()
    }
}

/// Combined log format: `10.0.3.7 - - [06/Dec/2026:01:02:03 +0000] "GET / HTTP/1.1" 502 157 ...`;
/// the message is everything after the time.
fn nginx_access(l: &Line) -> String {
    format!(
        "10.0.{}.{} - - [{}] {}",
        l.per_line("subnet", 1, 4),
        l.per_line("host", 2, 254),
        clf(l.at),
        l.message
    )
}

/// The access logs' time: `06/Dec/2026:01:02:03 +0000`.
pub(super) fn clf(at: Timestamp) -> String {
    at.strftime("%d/%b/%Y:%H:%M:%S +0000").to_string()
}

/// `2026/12/06 01:02:03 [error] 31#31: *5 message`: worker pid, thread id, connection id.
fn nginx_error(l: &Line) -> String {
    let level = l.level.name();
    // A few workers, each its own pid: consecutive after the master's.
    let pid = l.per_service("pid", 20, 90) + l.per_line("worker", 1, 4);
    format!(
        "{} [{level}] {pid}#{pid}: *{} {}",
        l.at.strftime("%Y/%m/%d %H:%M:%S"),
        l.per_line("connection", 1, 99_999),
        l.message
    )
}

/// Envoy's default access log: `[2026-12-06T01:02:03.123Z] "GET / HTTP/1.1" 503 UF ...`.
fn envoy_access(l: &Line) -> String {
    format!(
        "[{}] {}",
        l.at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
        l.message
    )
}

/// Envoy's application log: `[2026-12-06 01:02:03.123][14][warning][main] message`.
fn envoy_app(l: &Line) -> String {
    let level = match l.level {
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Warn => "warning",
        Level::Error => "error",
    };
    format!(
        "[{}][{}][{level}][main] {}",
        l.at.strftime("%Y-%m-%d %H:%M:%S%.3f"),
        l.per_line("thread", 1, 24),
        l.message
    )
}

/// What PostgreSQL writes before a message; a message that opens with one keeps it (a template
/// may say `FATAL:` or `DETAIL:` itself).
const PG_SEVERITIES: [&str; 14] = [
    "DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5", "LOG", "INFO", "NOTICE", "WARNING", "ERROR",
    "FATAL", "PANIC", "DETAIL", "HINT",
];

/// `2026-12-06 01:02:03.123 UTC [1234] ERROR:  message` (PostgreSQL's default
/// `log_line_prefix = '%m [%p] '`); each line comes from one of a few backends.
fn postgres(l: &Line) -> String {
    let pid = l.per_service("pid", 1_000, 60_000) + l.per_line("backend", 0, 15) * 37;
    let prefix = format!("{} [{pid}]", l.at.strftime("%Y-%m-%d %H:%M:%S%.3f UTC"));
    let own = l.message.split_once(':').is_some_and(|(head, _)| {
        PG_SEVERITIES.contains(&head) || head == "STATEMENT" || head == "CONTEXT"
    });
    if own {
        return format!("{prefix} {}", l.message);
    }
    let severity = match l.level {
        Level::Debug => "DEBUG1",
        Level::Info => "LOG",
        Level::Warn => "WARNING",
        Level::Error => "ERROR",
    };
    // PostgreSQL pads the severity's colon with two spaces.
    format!("{prefix} {severity}:  {}", l.message)
}

/// MySQL 8: `2026-12-06T01:02:03.123456Z 12 [ERROR] [MY-010584] [Server] message`; the error
/// code is the template's, the connection (thread) id the line's.
fn mysql(l: &Line) -> String {
    let priority = match l.level {
        Level::Debug | Level::Info => "Note",
        Level::Warn => "Warning",
        Level::Error => "ERROR",
    };
    format!(
        "{}{:03}Z {} [{priority}] [MY-{:06}] [Server] {}",
        l.at.strftime("%Y-%m-%dT%H:%M:%S%.3f"),
        l.per_line("micros", 0, 999),
        l.per_line("thread", 8, 420),
        l.per_template("code", 10_000, 13_999),
        l.message
    )
}

/// Redis: `1234:M 06 Dec 2026 01:02:03.123 # message`; `.` debug, `*` notice, `#` warning (Redis
/// has no error level: its errors are warnings).
fn redis(l: &Line) -> String {
    let mark = match l.level {
        Level::Debug => '.',
        Level::Info => '*',
        Level::Warn | Level::Error => '#',
    };
    format!(
        "{}:M {} {mark} {}",
        l.per_service("pid", 1, 400),
        l.at.strftime("%d %b %Y %H:%M:%S%.3f"),
        l.message
    )
}

/// Spring Boot's logback pattern: `2026-12-06 01:02:03.123 ERROR 1 --- [nio-8080-exec-3]
/// c.e.checkout.CheckoutApi                 : message` (thread right-aligned in 15, logger
/// left-aligned in 40).
fn logback(l: &Line) -> String {
    let level = l.level.name().to_ascii_uppercase();
    let thread = match l.kind {
        ServiceKind::Worker => format!("task-{}", l.per_line("thread", 1, 8)),
        _ => format!("nio-8080-exec-{}", l.per_line("thread", 1, 10)),
    };
    let first = l.service.split('-').next().unwrap_or(l.service);
    let class: String = l
        .service
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    let logger = format!("c.e.{first}.{class}");
    format!(
        "{} {level:>5} 1 --- [{thread:>15}] {logger:<40.40} : {}",
        l.at.strftime("%Y-%m-%d %H:%M:%S%.3f"),
        l.message
    )
}

/// Go zap's production JSON: `{"level":"error","ts":1796605323.123456,"caller":"...","msg":...}`.
fn zap(l: &Line) -> String {
    let level = l.level.name();
    const FILES: [&str; 6] = ["handler", "server", "client", "store", "worker", "retry"];
    let pkg = l.service.split('-').next().unwrap_or(l.service);
    let file = FILES[l.per_template("file", 0, FILES.len() as u64 - 1) as usize];
    format!(
        "{{\"level\":\"{level}\",\"ts\":{}.{:03}{:03},\"caller\":\"{pkg}/{file}.go:{}\",\"msg\":{}}}",
        l.at.as_second(),
        l.at.subsec_millisecond(),
        l.per_line("micros", 0, 999),
        l.per_template("line", 30, 480),
        json_string(l.message)
    )
}

/// Python's logging with `%(asctime)s - %(name)s - %(levelname)s - %(message)s`:
/// `2026-12-06 01:02:03,123 - web_worker - ERROR - message`.
fn python(l: &Line) -> String {
    let level = match l.level {
        Level::Debug => "DEBUG",
        Level::Info => "INFO",
        Level::Warn => "WARNING",
        Level::Error => "ERROR",
    };
    format!(
        "{},{:03} - {} - {level} - {}",
        l.at.strftime("%Y-%m-%d %H:%M:%S"),
        l.at.subsec_millisecond(),
        l.service.replace('-', "_"),
        l.message
    )
}

/// Node pino: `{"level":50,"time":1796605323123,"pid":1,"hostname":"api-7d9f8c6b5-x2k9p",
/// "msg":...}`.
fn pino(l: &Line) -> String {
    let level = match l.level {
        Level::Debug => 20,
        Level::Info => 30,
        Level::Warn => 40,
        Level::Error => 50,
    };
    format!(
        "{{\"level\":{level},\"time\":{},\"pid\":{},\"hostname\":\"{}\",\"msg\":{}}}",
        l.at.as_millisecond(),
        l.per_service("pid", 1, 60),
        pod(l),
        json_string(l.message)
    )
}

/// A Kubernetes pod name for the service: `name-<replicaset hash>-<pod suffix>`, fixed per
/// service.
fn pod(l: &Line) -> String {
    const ALNUM: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut suffix = String::new();
    for (i, len) in [(0, 9), (1, 5)] {
        if i == 1 {
            suffix.push('-');
        }
        for k in 0..len {
            let n = l.per_service(&format!("pod{i}{k}"), 0, ALNUM.len() as u64 - 1);
            suffix.push(ALNUM[n as usize] as char);
        }
    }
    format!("{}-{suffix}", l.service)
}

/// RFC 3164: `Dec  6 01:02:03 ip-10-0-1-23 web[1234]: message` (day space-padded, no
/// year or zone).
fn syslog(l: &Line) -> String {
    format!(
        "{} ip-10-0-{}-{} {}[{}]: {}",
        l.at.strftime("%b %e %H:%M:%S"),
        l.per_service("subnet", 1, 4),
        l.per_service("host", 2, 254),
        l.service,
        l.per_service("pid", 300, 32_000),
        l.message
    )
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}
