//! Structure inference on header shapes written from the formats' public documentation (log
//! layouts of servers, runtimes and libraries as their manuals show them): for each, a few
//! lines, and the message the engine must find in each after learning from them together.
//! These are shapes, not rules: the engine has no list of formats, and each shape here is
//! handled by the same column statistics (`parse/layout.rs`).

use opsmcp_logs::{Format, Parser};

/// (shape, lines, the message of each line)
type Case = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

const CASES: &[Case] = &[
    (
        "BSD syslog without priority",
        &[
            "Jan  2 10:15:30 web01 sshd[4242]: Accepted publickey for deploy from 10.0.0.5 port 52044 ssh2",
            "Jan  2 10:15:31 web01 CRON[4301]: (root) CMD (run-parts /etc/cron.hourly)",
            "Jan  2 10:15:35 web02 systemd[1]: Started Session 42 of user deploy.",
            "Jan 12 10:16:00 web02 kernel: [12345.678901] eth0: link up",
        ],
        &[
            "Accepted publickey for deploy from 10.0.0.5 port 52044 ssh2",
            "(root) CMD (run-parts /etc/cron.hourly)",
            "Started Session 42 of user deploy.",
            "[12345.678901] eth0: link up",
        ],
    ),
    (
        "ISO 8601 syslog (rsyslog high precision)",
        &[
            "2024-01-02T10:15:30.123456+00:00 db01 postgres[811]: connection received: host=10.0.0.7",
            "2024-01-02T10:15:31.000001+00:00 db01 postgres[811]: connection authorized: user=app",
            "2024-01-02T10:15:32.5+00:00 db02 dovecot: imap-login: Login: user=<ann>, method=PLAIN",
        ],
        &[
            "connection received: host=10.0.0.7",
            "connection authorized: user=app",
            "imap-login: Login: user=<ann>, method=PLAIN",
        ],
    ),
    (
        "log4j / logback with thread and logger",
        &[
            "2024-01-02 10:15:30,123 INFO  [main] com.example.App: Starting App on host",
            "2024-01-02 10:15:30,456 WARN  [pool-1-thread-3] com.example.db.Pool: Connection slow",
            "2024-01-02 10:15:31,001 ERROR [http-nio-8080-exec-1] com.example.Api: Request failed",
        ],
        &["Starting App on host", "Connection slow", "Request failed"],
    ),
    (
        "logback default pattern",
        &[
            "10:15:30.123 [main] INFO  com.example.App - Started App in 2.3 seconds",
            "10:15:31.456 [worker-1] DEBUG com.example.Job - Picked job 42",
            "10:15:32.789 [worker-2] WARN  com.example.Job - Job 43 is late",
        ],
        &[
            "Started App in 2.3 seconds",
            "Picked job 42",
            "Job 43 is late",
        ],
    ),
    (
        "Spring Boot console",
        &[
            "2024-01-02T10:15:30.123+01:00  INFO 12345 --- [main] c.e.demo.DemoApplication   : Started DemoApplication in 2.1 seconds",
            "2024-01-02T10:15:30.456+01:00  WARN 12345 --- [nio-8080-exec-1] o.s.web.servlet.PageNotFound : No mapping for GET /x",
            "2024-01-02T10:15:31.001+01:00 ERROR 12345 --- [scheduling-1] c.e.demo.Jobs   : Job failed",
        ],
        &[
            "Started DemoApplication in 2.1 seconds",
            "No mapping for GET /x",
            "Job failed",
        ],
    ),
    (
        "Python logging with dashes",
        &[
            "2024-01-02 10:15:30,123 - app.db - INFO - connected to primary",
            "2024-01-02 10:15:31,001 - app.web - WARNING - slow request /orders took 2.5s",
            "2024-01-02 10:15:32,002 - app.web - ERROR - request failed",
        ],
        &[
            "connected to primary",
            "slow request /orders took 2.5s",
            "request failed",
        ],
    ),
    (
        "Python logging, level then logger with colon",
        &[
            "2024-01-02 10:15:30,123 INFO app.db: connected to primary",
            "2024-01-02 10:15:31,001 WARNING app.web: slow request",
            "2024-01-02 10:15:32,002 ERROR app.web: request failed",
        ],
        &["connected to primary", "slow request", "request failed"],
    ),
    (
        "Go standard library log",
        &[
            "2024/01/02 10:15:30 listening on :8080",
            "2024/01/02 10:15:31 accepted connection from 10.0.0.9:5123",
            "2024/01/02 10:15:32 shutting down",
        ],
        &[
            "listening on :8080",
            "accepted connection from 10.0.0.9:5123",
            "shutting down",
        ],
    ),
    (
        "Go log with file and line",
        &[
            "2024/01/02 10:15:30 main.go:42: listening on :8080",
            "2024/01/02 10:15:31 server.go:118: accepted connection",
            "2024/01/02 10:15:32 main.go:77: shutting down",
        ],
        &["listening on :8080", "accepted connection", "shutting down"],
    ),
    (
        "glog / klog",
        &[
            "I0102 10:15:30.123456    4242 server.go:42] Starting server on :8080",
            "W0102 10:15:31.000001    4242 reflector.go:324] watch of *v1.Pod ended",
            "E0102 10:15:32.500000    4250 controller.go:114] sync failed: timeout",
        ],
        &[
            "Starting server on :8080",
            "watch of *v1.Pod ended",
            "sync failed: timeout",
        ],
    ),
    (
        "zap development encoder",
        &[
            "2024-01-02T10:15:30.123Z\tINFO\tserver/main.go:42\tstarting server\t{\"port\": 8080}",
            "2024-01-02T10:15:31.123Z\tWARN\tserver/conn.go:118\tslow client\t{\"addr\": \"10.0.0.9\"}",
            "2024-01-02T10:15:32.123Z\tERROR\tserver/main.go:77\tshutdown failed",
        ],
        &[
            "starting server\t{\"port\": 8080}",
            "slow client\t{\"addr\": \"10.0.0.9\"}",
            "shutdown failed",
        ],
    ),
    (
        "logrus text on a terminal",
        &[
            "INFO[0000] starting server                               port=8080",
            "WARN[0003] slow client                                   addr=10.0.0.9",
            "ERRO[0005] shutdown failed                               error=timeout",
        ],
        &[
            "starting server                               port=8080",
            "slow client                                   addr=10.0.0.9",
            "shutdown failed                               error=timeout",
        ],
    ),
    (
        "pino-pretty",
        &[
            "[10:15:30.123] INFO (4242): server listening",
            "[10:15:31.456] WARN (4242): slow request",
            "[10:15:32.789] ERROR (4250): request failed",
        ],
        &["server listening", "slow request", "request failed"],
    ),
    (
        "Ruby Logger (Rails)",
        &[
            "I, [2024-01-02T10:15:30.123456 #4242]  INFO -- : Started GET \"/\" for 127.0.0.1",
            "I, [2024-01-02T10:15:30.223456 #4242]  INFO -- : Completed 200 OK in 5ms",
            "W, [2024-01-02T10:15:31.000001 #4250]  WARN -- : Slow query",
        ],
        &[
            "Started GET \"/\" for 127.0.0.1",
            "Completed 200 OK in 5ms",
            "Slow query",
        ],
    ),
    (
        "nginx error log",
        &[
            "2024/01/02 10:15:30 [error] 4242#4242: *1 open() \"/srv/x\" failed (2: No such file or directory)",
            "2024/01/02 10:15:31 [warn] 4242#4242: *2 upstream response is buffered",
            "2024/01/02 10:15:32 [notice] 4250#4250: signal process started",
        ],
        &[
            "*1 open() \"/srv/x\" failed (2: No such file or directory)",
            "*2 upstream response is buffered",
            "signal process started",
        ],
    ),
    (
        "Apache httpd 2.4 error log",
        &[
            "[Tue Jan 02 10:15:30.902022 2024] [core:error] [pid 4242:tid 140] [client 10.0.0.9:5123] File does not exist: /srv/favicon.ico",
            "[Tue Jan 02 10:15:31.000001 2024] [mpm_event:notice] [pid 4242:tid 140] AH00489: Apache configured",
            "[Tue Jan 02 10:15:32.500000 2024] [ssl:warn] [pid 4250:tid 141] AH01909: certificate mismatch",
        ],
        &[
            "[client 10.0.0.9:5123] File does not exist: /srv/favicon.ico",
            // A tag in most lines where tags stand is taken as one, codes too.
            "Apache configured",
            "certificate mismatch",
        ],
    ),
    (
        "PostgreSQL",
        &[
            "2024-01-02 10:15:30.123 UTC [4242] LOG:  database system is ready to accept connections",
            "2024-01-02 10:15:31.456 UTC [4250] ERROR:  relation \"users\" does not exist at character 15",
            "2024-01-02 10:15:31.456 UTC [4250] STATEMENT:  select * from users",
        ],
        &[
            "database system is ready to accept connections",
            "relation \"users\" does not exist at character 15",
            "select * from users",
        ],
    ),
    (
        "MySQL 8 error log",
        &[
            "2024-01-02T10:15:30.123456Z 0 [System] [MY-010116] [Server] /usr/sbin/mysqld starting as process 1",
            "2024-01-02T10:15:31.123456Z 0 [Warning] [MY-010068] [Server] CA certificate is self signed.",
            "2024-01-02T10:15:32.123456Z 8 [Note] [MY-010914] [Server] Aborted connection 8 to db",
        ],
        &[
            "/usr/sbin/mysqld starting as process 1",
            "CA certificate is self signed.",
            "Aborted connection 8 to db",
        ],
    ),
    (
        "MongoDB before 4.4",
        &[
            "2024-01-02T10:15:30.123+0000 I  NETWORK  [conn12] end connection 10.0.0.9:5123 (3 connections now open)",
            "2024-01-02T10:15:31.123+0000 I  COMMAND  [conn13] command test.users took 120ms",
            "2024-01-02T10:15:32.123+0000 W  STORAGE  [initandlisten] disk is slow",
        ],
        &[
            "end connection 10.0.0.9:5123 (3 connections now open)",
            "command test.users took 120ms",
            "disk is slow",
        ],
    ),
    (
        "Redis",
        &[
            "4242:M 02 Jan 2024 10:15:30.123 * Ready to accept connections tcp",
            "4242:M 02 Jan 2024 10:15:31.456 # Warning: memory overcommit is disabled",
            "4250:C 02 Jan 2024 10:15:32.789 * DB saved on disk",
        ],
        &[
            "Ready to accept connections tcp",
            "Warning: memory overcommit is disabled",
            "DB saved on disk",
        ],
    ),
    (
        "RabbitMQ",
        &[
            "2024-01-02 10:15:30.123456+00:00 [info] <0.230.0> accepting AMQP connection 10.0.0.9:5123",
            "2024-01-02 10:15:31.123456+00:00 [warning] <0.231.0> closing AMQP connection",
            "2024-01-02 10:15:32.123456+00:00 [error] <0.232.0> connection refused",
        ],
        &[
            "accepting AMQP connection 10.0.0.9:5123",
            "closing AMQP connection",
            "connection refused",
        ],
    ),
    (
        "Kafka (log4j with bracketed time)",
        &[
            "[2024-01-02 10:15:30,123] INFO [KafkaServer id=0] started (kafka.server.KafkaServer)",
            "[2024-01-02 10:15:31,123] WARN [Controller id=0] broker 2 is down (kafka.controller.KafkaController)",
            "[2024-01-02 10:15:32,123] ERROR Error while fetching metadata (kafka.client)",
        ],
        &[
            "[KafkaServer id=0] started (kafka.server.KafkaServer)",
            "[Controller id=0] broker 2 is down (kafka.controller.KafkaController)",
            "Error while fetching metadata (kafka.client)",
        ],
    ),
    (
        "Elasticsearch",
        &[
            "[2024-01-02T10:15:30,123][INFO ][o.e.n.Node               ] [node-1] started",
            "[2024-01-02T10:15:31,123][WARN ][o.e.c.r.a.DiskThresholdMonitor] [node-1] high disk watermark exceeded",
            "[2024-01-02T10:15:32,123][INFO ][o.e.c.m.MetadataCreateIndexService] [node-2] creating index",
        ],
        &["started", "high disk watermark exceeded", "creating index"],
    ),
    (
        "Cassandra (level first)",
        &[
            "INFO  [main] 2024-01-02 10:15:30,123 CassandraDaemon.java:507 - Starting listening for CQL clients",
            "WARN  [GossipTasks:1] 2024-01-02 10:15:31,123 Gossiper.java:1020 - Node /10.0.0.9 is down",
            "ERROR [CompactionExecutor:2] 2024-01-02 10:15:32,123 CassandraDaemon.java:228 - Exception in thread",
        ],
        &[
            "Starting listening for CQL clients",
            "Node /10.0.0.9 is down",
            "Exception in thread",
        ],
    ),
    (
        "HashiCorp hclog",
        &[
            "2024-01-02T10:15:30.123Z [INFO]  agent: Starting server: address=127.0.0.1",
            "2024-01-02T10:15:31.123Z [WARN]  agent.router: Non-server in server-only area",
            "2024-01-02T10:15:32.123Z [ERROR] agent.server: failed to join",
        ],
        &[
            "Starting server: address=127.0.0.1",
            "Non-server in server-only area",
            "failed to join",
        ],
    ),
    (
        "Airflow task log",
        &[
            "[2024-01-02T10:15:30.123+0000] {scheduler_job.py:123} INFO - Starting the scheduler",
            "[2024-01-02T10:15:31.123+0000] {taskinstance.py:1100} WARNING - Task is late",
            "[2024-01-02T10:15:32.123+0000] {dagbag.py:500} ERROR - Failed to import",
        ],
        &["Starting the scheduler", "Task is late", "Failed to import"],
    ),
    (
        "gunicorn",
        &[
            "[2024-01-02 10:15:30 +0000] [4242] [INFO] Starting gunicorn 21.2.0",
            "[2024-01-02 10:15:31 +0000] [4242] [INFO] Booting worker with pid: 4250",
            "[2024-01-02 10:15:32 +0000] [4250] [ERROR] Worker timeout",
        ],
        &[
            "Starting gunicorn 21.2.0",
            "Booting worker with pid: 4250",
            "Worker timeout",
        ],
    ),
    (
        "Tomcat catalina",
        &[
            "02-Jan-2024 10:15:30.123 INFO [main] org.apache.catalina.startup.Catalina.start Server startup in [1234] milliseconds",
            "02-Jan-2024 10:15:31.123 WARNING [main] org.apache.catalina.loader.WebappClassLoaderBase.clearReferences thread leak",
            "02-Jan-2024 10:15:32.123 SEVERE [main] org.apache.catalina.core.StandardContext.startInternal One or more listeners failed",
        ],
        &[
            "org.apache.catalina.startup.Catalina.start Server startup in [1234] milliseconds",
            "org.apache.catalina.loader.WebappClassLoaderBase.clearReferences thread leak",
            "org.apache.catalina.core.StandardContext.startInternal One or more listeners failed",
        ],
    ),
    (
        "container runtime (CRI)",
        &[
            "2024-01-02T10:15:30.123456789Z stdout F starting server",
            "2024-01-02T10:15:31.123456789Z stderr F warning: slow disk",
            "2024-01-02T10:15:31.223456789Z stdout F listening on :8080",
            "2024-01-02T10:15:31.323456789Z stdout F accepted connection",
            "2024-01-02T10:15:31.423456789Z stdout F accepted connection",
            "2024-01-02T10:15:31.523456789Z stderr F request failed",
            "2024-01-02T10:15:31.623456789Z stdout F closed connection",
            "2024-01-02T10:15:31.723456789Z stdout F accepted connection",
            "2024-01-02T10:15:31.823456789Z stdout F closed connection",
            "2024-01-02T10:15:32.123456789Z stdout P a partial li",
        ],
        &[
            "starting server",
            "warning: slow disk",
            "listening on :8080",
            "accepted connection",
            "accepted connection",
            "request failed",
            "closed connection",
            "accepted connection",
            "closed connection",
            // A class only one line shows is that line's oddity: the line does not fit and is
            // parsed on its own, keeping its stream and flag.
            "stdout P a partial li",
        ],
    ),
    (
        "kernel ring buffer",
        &[
            "[    0.000000] Linux version 6.1.0 (gcc 12.2)",
            "[    0.004000] Command line: BOOT_IMAGE=/vmlinuz root=/dev/sda1",
            "[   12.345678] usb 1-1: new high-speed USB device number 2",
        ],
        &[
            "Linux version 6.1.0 (gcc 12.2)",
            "Command line: BOOT_IMAGE=/vmlinuz root=/dev/sda1",
            "usb 1-1: new high-speed USB device number 2",
        ],
    ),
    (
        "Ansible",
        &[
            "2024-01-02 10:15:30,123 p=4242 u=deploy n=ansible | PLAY [web] ***",
            "2024-01-02 10:15:31,123 p=4242 u=deploy n=ansible | TASK [Gathering Facts] ***",
            "2024-01-02 10:15:32,123 p=4242 u=deploy n=ansible | ok: [web01]",
        ],
        &[
            "PLAY [web] ***",
            "TASK [Gathering Facts] ***",
            "ok: [web01]",
        ],
    ),
    (
        "Jenkins",
        &[
            "2024-01-02 10:15:30.123+0000 [id=42]\tINFO\thudson.WebAppMain$3#run: Jenkins is fully up and running",
            "2024-01-02 10:15:31.123+0000 [id=43]\tWARNING\thudson.model.Run#execute: Build failed",
            "2024-01-02 10:15:32.123+0000 [id=44]\tINFO\tjenkins.InitReactorRunner$1#onAttained: Loaded all jobs",
        ],
        &[
            "Jenkins is fully up and running",
            "Build failed",
            "Loaded all jobs",
        ],
    ),
    (
        "Celery worker",
        &[
            "[2024-01-02 10:15:30,123: INFO/MainProcess] Connected to redis://localhost:6379/0",
            "[2024-01-02 10:15:31,123: WARNING/MainProcess] Restoring 2 unacknowledged message(s)",
            "[2024-01-02 10:15:32,123: ERROR/ForkPoolWorker-1] Task failed",
        ],
        &[
            "Connected to redis://localhost:6379/0",
            "Restoring 2 unacknowledged message(s)",
            "Task failed",
        ],
    ),
    (
        "Squid native access log",
        &[
            "1704190530.123    123 10.0.0.9 TCP_MISS/200 1234 GET http://example.com/ - HIER_DIRECT/93.184.216.34 text/html",
            "1704190531.456     12 10.0.0.9 TCP_HIT/200 5678 GET http://example.com/a.css - HIER_NONE/- text/css",
            "1704190532.789    300 10.0.0.7 TCP_DENIED/403 0 CONNECT bad.example:443 - HIER_NONE/- -",
        ],
        &[
            "GET http://example.com/ - HIER_DIRECT/93.184.216.34 text/html",
            "GET http://example.com/a.css - HIER_NONE/- text/css",
            "CONNECT bad.example:443 - HIER_NONE/- -",
        ],
    ),
];

#[test]
fn messages_of_documented_shapes() {
    let mut failures = Vec::new();
    for (shape, lines, want) in CASES {
        assert_eq!(lines.len(), want.len(), "{shape}");
        let parser = Parser::learn(lines);
        for (line, want) in lines.iter().zip(*want) {
            let got = parser.parse(line);
            if got.message != *want {
                failures.push(format!(
                    "{shape}: {line:?}\n   got  {:?} ({:?}, {:?})\n   want {want:?}",
                    got.message,
                    parser.format(),
                    parser.columns().shape()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} shapes:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn record_syntaxes_are_recognized() {
    let json = [r#"{"time":"2024-01-02T10:15:30Z","level":"info","msg":"started","port":8080}"#];
    assert_eq!(Parser::learn(&json).format(), Format::Json);
    let logfmt =
        [r#"ts=2024-01-02T10:15:30Z caller=main.go:42 level=info msg="Starting Prometheus""#];
    assert_eq!(Parser::learn(&logfmt).format(), Format::Logfmt);
    let access = [
        r#"10.0.0.9 - - [02/Jan/2024:10:15:30 +0000] "GET /index.html HTTP/1.1" 200 612 "-" "curl/8.0""#,
    ];
    assert_eq!(Parser::learn(&access).format(), Format::Access);
    let rfc5424 = [r#"<165>1 2024-01-02T10:15:30.003Z host app 4242 ID47 - started"#];
    assert_eq!(Parser::learn(&rfc5424).format(), Format::Syslog5424);
}
