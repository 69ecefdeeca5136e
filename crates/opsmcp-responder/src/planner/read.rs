//! Reading tool results defensively: the planner relies on the tool contracts, not on exact
//! field names, so every reader accepts missing fields and the usual alternatives
//! (`root_cause` or `type`, `action` as `"name@target"` or `{name, target}`, …).

use serde_json::Value;

/// How deep the key search goes: results nest a level or two (`{incident: {id}}`), never more
/// usefully than this.
const MAX_DEPTH: usize = 4;

/// The first of `keys` whose value is a non-empty string, at the top level of `v`.
pub(crate) fn str_at<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .filter_map(|k| v.get(*k))
        .find_map(|x| x.as_str().filter(|s| !s.trim().is_empty()))
}

/// The first of `keys` found anywhere in `v` (breadth-first, so the shallowest wins).
pub(crate) fn find<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    let mut level = vec![v];
    for _ in 0..MAX_DEPTH {
        for node in &level {
            if let Some(found) = keys.iter().find_map(|k| node.get(*k)) {
                return Some(found);
            }
        }
        level = level
            .iter()
            .flat_map(|node| match node {
                Value::Object(map) => map.values().collect::<Vec<_>>(),
                Value::Array(items) => items.iter().collect(),
                _ => Vec::new(),
            })
            .collect();
        if level.is_empty() {
            break;
        }
    }
    None
}

/// [`find`] for a non-empty string.
pub(crate) fn find_str<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a str> {
    find(v, keys)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// A JSON object cut short — a result truncated to the brain's budget, as a model is shown
/// it when no structured content comes along — as the object of its complete leading members:
/// `{"a":1,"b":{"c":2},"d":"tru…` reads as `{"a":1,"b":{"c":2}}`. A complete object followed by
/// other text (the truncation note) reads whole. `None` when the text does not start an
/// object or no member is complete.
pub(crate) fn leading_fields(text: &str) -> Option<Value> {
    let t = text.trim_start();
    if !t.starts_with('{') {
        return None;
    }
    // Byte scan: every delimiter is ASCII, and UTF-8 never uses ASCII bytes inside a
    // multi-byte character, so each index found is a character boundary.
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut last_member_end = None;
    for (i, &b) in t.as_bytes().iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return serde_json::from_str(&t[..=i]).ok();
                }
            }
            b',' if depth == 1 => last_member_end = Some(i),
            _ => {}
        }
    }
    serde_json::from_str(&format!("{}}}", &t[..last_member_end?])).ok()
}

/// A number, also when sent as a string.
pub(crate) fn number(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| {
        v.as_str()
            .and_then(|s| s.trim().trim_end_matches('%').parse().ok())
    })
}

/// A short human line for any value: strings as they are, objects by their summary-like
/// field, else compact JSON.
pub(crate) fn line(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(_) => str_at(
            v,
            &[
                "summary",
                "message",
                "description",
                "detail",
                "text",
                "finding",
            ],
        )
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string()),
        other => other.to_string(),
    }
}

/// One service's verdict from `verify_health`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceVerdict {
    /// Service name.
    pub service: String,
    /// `healthy`, `degraded`, `unhealthy` (or whatever the server said, lowercased).
    pub status: String,
    /// The messages of its failing checks.
    pub problems: Vec<String>,
    /// Its failing checks.
    pub failing: Vec<FailingCheck>,
}

/// A check out of range in a `verify_health` result.
#[derive(Debug, Clone, PartialEq)]
pub struct FailingCheck {
    /// What was checked, when the server names it.
    pub name: Option<String>,
    /// `degraded`, `unhealthy` (lowercased).
    pub status: String,
    /// It reads what callers feel (`felt: true`): latency, errors, availability.
    pub felt: bool,
    /// It counts queued work (`backlog: true`): what piled up while the service could not
    /// work, which drains after a fix at its consumers' pace.
    pub backlog: bool,
}

/// A `verify_health` result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Health {
    /// Overall status, lowercased (`unknown` when absent).
    pub status: String,
    /// The server's one-line summary.
    pub summary: String,
    /// Each service.
    pub services: Vec<ServiceVerdict>,
}

impl Health {
    /// Reads a `verify_health` result: `{status, summary, services: [{service, status,
    /// checks: [{status, message}]}]}`, tolerating missing parts.
    pub fn read(v: &Value) -> Option<Self> {
        let services: Vec<ServiceVerdict> = find(v, &["services", "results"])
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|s| {
                        let service = str_at(s, &["service", "name", "component"])?.to_string();
                        let status = str_at(s, &["status", "state", "health"])
                            .unwrap_or("unknown")
                            .to_ascii_lowercase();
                        let failing: Vec<&Value> = s
                            .get("checks")
                            .and_then(Value::as_array)
                            .map(|checks| {
                                checks
                                    .iter()
                                    .filter(|c| {
                                        str_at(c, &["status"])
                                            .is_some_and(|st| !st.eq_ignore_ascii_case("healthy"))
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                        let flag = |c: &Value, key: &str| {
                            c.get(key).and_then(Value::as_bool) == Some(true)
                        };
                        let checks = failing
                            .iter()
                            .map(|c| FailingCheck {
                                name: str_at(c, &["name", "check"]).map(str::to_string),
                                status: str_at(c, &["status"])
                                    .unwrap_or("unknown")
                                    .to_ascii_lowercase(),
                                felt: flag(c, "felt"),
                                backlog: flag(c, "backlog"),
                            })
                            .collect();
                        let problems = failing
                            .iter()
                            .map(|c| {
                                str_at(c, &["message", "summary", "name"])
                                    .unwrap_or("a failing check")
                                    .to_string()
                            })
                            .collect();
                        Some(ServiceVerdict {
                            service,
                            status,
                            problems,
                            failing: checks,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let status = str_at(v, &["status", "overall", "health"]).map(str::to_ascii_lowercase);
        if status.is_none() && services.is_empty() {
            return None;
        }
        let status = status.unwrap_or_else(|| {
            // No overall verdict: the worst of the services'.
            ["unhealthy", "degraded", "healthy"]
                .into_iter()
                .find(|w| services.iter().any(|s| s.status == *w))
                .unwrap_or("unknown")
                .to_string()
        });
        Some(Self {
            status,
            summary: str_at(v, &["summary", "message"]).unwrap_or("").to_string(),
            services,
        })
    }

    /// Services with this status.
    pub fn with_status(&self, status: &str) -> Vec<&ServiceVerdict> {
        self.services
            .iter()
            .filter(|s| s.status == status)
            .collect()
    }

    /// Services that are not healthy, the unhealthy first.
    pub fn sick(&self) -> Vec<&ServiceVerdict> {
        let mut sick = self.with_status("unhealthy");
        sick.extend(
            self.services
                .iter()
                .filter(|s| s.status != "healthy" && s.status != "unhealthy"),
        );
        sick
    }
}

/// A remediation action suggested by a hypothesis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRef {
    /// Action name (`increase-pool-size`).
    pub name: String,
    /// The service it acts on, when known.
    pub target: Option<String>,
    /// `high` risk, as the server described it: never run unattended; asked for on a strong
    /// hypothesis.
    pub risky: bool,
    /// Held for a human's approval: asked for on a likely hypothesis (the human decides,
    /// shown the risk, the evidence and the undo).
    pub gated: bool,
    /// What it does and its risk, as the server described them (`risk high: deletes …`),
    /// for whoever approves it.
    pub about: Option<String>,
    /// It moves the callers off the component instead of repairing it (`routes_around`, as
    /// the analysis said): it is judged on the callers, and the component may stay sick.
    pub routes_around: bool,
}

impl ActionRef {
    /// `name@target`, or `name`.
    pub fn label(&self) -> String {
        match &self.target {
            Some(t) => format!("{}@{t}", self.name),
            None => self.name.clone(),
        }
    }

    /// Reads `"name@target"`, `"name"`, `{name|action|id, target|service|component}` or an
    /// array of those; `default_target` fills a missing target.
    pub fn read_all(v: &Value, default_target: Option<&str>) -> Vec<Self> {
        match v {
            Value::Array(items) => items
                .iter()
                .flat_map(|i| Self::read_all(i, default_target))
                .collect(),
            Value::String(s) => {
                let s = s.trim();
                if s.is_empty() || s.contains(char::is_whitespace) {
                    // Prose ("restart the api"), not an action name.
                    return Vec::new();
                }
                let (name, target) = match s.split_once('@') {
                    Some((n, t)) => (n, Some(t.to_string())),
                    None => (s, default_target.map(str::to_string)),
                };
                vec![Self {
                    name: name.to_string(),
                    target,
                    risky: false,
                    gated: false,
                    about: None,
                    routes_around: false,
                }]
            }
            Value::Object(_) => {
                let Some(name) = str_at(v, &["name", "action", "id", "kind"]) else {
                    // A wrapper such as {action: {name, target}}.
                    return ["action", "remediation"]
                        .iter()
                        .filter_map(|k| v.get(*k))
                        .flat_map(|x| Self::read_all(x, default_target))
                        .collect();
                };
                let target = str_at(v, &["target", "service", "component"]).or(default_target);
                let risky = str_at(v, &["risk"]).is_some_and(|r| r.eq_ignore_ascii_case("high"));
                let gated = v.get("needs_approval").and_then(Value::as_bool) == Some(true);
                let routes_around = v.get("routes_around").and_then(Value::as_bool) == Some(true);
                let about = match (str_at(v, &["risk"]), str_at(v, &["description"])) {
                    (Some(r), Some(d)) => Some(format!("risk {r}: {d}")),
                    (Some(r), None) => Some(format!("risk {r}")),
                    (None, d) => d.map(str::to_string),
                };
                // A `name@target` string wins over the fields beside it.
                Self::read_all(&Value::String(name.to_string()), target)
                    .into_iter()
                    .map(|a| Self {
                        risky,
                        gated,
                        about: about.clone(),
                        routes_around,
                        ..a
                    })
                    .collect()
            }
            _ => Vec::new(),
        }
    }
}

/// One ranked hypothesis from `root_cause_analysis`.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// Root-cause type (`connection-pool-exhaustion`), or the best description there is.
    pub root_cause: String,
    /// The service at fault.
    pub component: Option<String>,
    /// 0..1 (or whatever scale the server uses; only the order matters).
    pub confidence: Option<f64>,
    /// A sentence explaining it.
    pub summary: Option<String>,
    /// Evidence lines (`evidence`, or `evidence_for`).
    pub evidence: Vec<String>,
    /// Evidence against it (`evidence_against`): why it may be ruled out.
    pub evidence_against: Vec<String>,
    /// The signals its metric evidence names, as (service, signal), in the order given.
    pub signals: Vec<(String, String)>,
    /// Suggested actions, best first.
    pub actions: Vec<ActionRef>,
    /// The services its trouble reaches (`propagation_path`: `a → b → c`), in order, then
    /// those it accounts for off those paths (`accounts_for`).
    pub reaches: Vec<String>,
}

/// Below this a hypothesis is not acted on (the servers' `CONFIDENCE_FLOOR`).
pub const CONFIDENCE_FLOOR: f64 = 0.5;
/// From this a hypothesis may carry a high-risk action (asked for), and a diagnosis stands
/// over a fix found on another component.
pub const CONFIDENCE_STRONG: f64 = 0.8;

impl Hypothesis {
    /// Likely enough to act on: at or above [`CONFIDENCE_FLOOR`], or from a server that gives
    /// no confidence on a 0..1 scale (only its order is known).
    pub fn likely(&self) -> bool {
        self.confidence
            .is_none_or(|c| !(0.0..=1.0).contains(&c) || c >= CONFIDENCE_FLOOR)
    }

    /// Strong enough to ask for a risky action, or to stand over a fix found elsewhere.
    pub fn strong(&self) -> bool {
        self.confidence
            .is_none_or(|c| !(0.0..=1.0).contains(&c) || c >= CONFIDENCE_STRONG)
    }

    /// `TYPE in COMPONENT`.
    pub fn headline(&self) -> String {
        match &self.component {
            Some(c) => format!("{} in {c}", self.root_cause),
            None => self.root_cause.clone(),
        }
    }

    /// Reads the hypotheses of an RCA result, best first: the list under `hypotheses` (or
    /// `ranked`, `candidates`, `causes`, `root_causes`), or the result itself when it is a
    /// list. Sorted by confidence, highest first, keeping the server's order among equals.
    pub fn read_all(v: &Value) -> Vec<Self> {
        let list = match v {
            Value::Array(items) => Some(items),
            _ => find(
                v,
                &[
                    "hypotheses",
                    "ranked",
                    "candidates",
                    "causes",
                    "root_causes",
                ],
            )
            .and_then(Value::as_array),
        };
        let mut out: Vec<Self> = list
            .map(|items| items.iter().filter_map(Self::read).collect())
            .unwrap_or_default();
        out.sort_by(|a, b| {
            let (x, y) = (
                a.confidence.unwrap_or(f64::MIN),
                b.confidence.unwrap_or(f64::MIN),
            );
            y.total_cmp(&x)
        });
        out
    }

    fn read(h: &Value) -> Option<Self> {
        // `root_cause` may be a string or an object carrying type and component.
        let cause_obj = h.get("root_cause").filter(|c| c.is_object());
        let root_cause = str_at(h, &["root_cause", "type", "kind", "cause", "category"])
            .or_else(|| cause_obj.and_then(|c| str_at(c, &["type", "kind", "name"])))
            .or_else(|| str_at(h, &["title", "summary", "description"]))?
            .to_string();
        let component = str_at(h, &["component", "service", "suspect", "target"])
            .or_else(|| cause_obj.and_then(|c| str_at(c, &["component", "service"])))
            .map(str::to_string);
        let confidence = ["confidence", "score", "probability", "likelihood"]
            .iter()
            .find_map(|k| h.get(*k).and_then(number));
        let summary = str_at(
            h,
            &[
                "summary",
                "explanation",
                "description",
                "reasoning",
                "title",
            ],
        )
        .map(str::to_string);
        let lines = |key: &str| match h.get(key) {
            Some(Value::Array(items)) => items.iter().map(line).collect(),
            Some(other) if !other.is_null() => vec![line(other)],
            _ => Vec::new(),
        };
        let mut evidence = lines("evidence");
        if evidence.is_empty() {
            evidence = lines("evidence_for");
        }
        let evidence_against = lines("evidence_against");
        let signals = metric_signals(h, component.as_deref());
        let mut reaches: Vec<String> = Vec::new();
        for path in lines("propagation_path") {
            for hop in path.split(['→', '>']).map(|x| x.trim_matches(['-', ' '])) {
                if !hop.is_empty() && !reaches.iter().any(|r| r == hop) {
                    reaches.push(hop.to_string());
                }
            }
        }
        // What its load or its work swamped below it, off the paths to its callers.
        for other in lines("accounts_for") {
            if !reaches.contains(&other) {
                reaches.push(other);
            }
        }
        let mut actions = Vec::new();
        for key in [
            "suggested_action",
            "suggested_remediation",
            "action",
            "remediation",
            "suggested_actions",
            "candidate_actions",
            "remediations",
            "actions",
            "fix",
        ] {
            if let Some(a) = h.get(key) {
                for found in ActionRef::read_all(a, component.as_deref()) {
                    if !actions.contains(&found) {
                        actions.push(found);
                    }
                }
            }
        }
        Some(Self {
            root_cause,
            component,
            confidence,
            summary,
            evidence,
            evidence_against,
            signals,
            actions,
            reaches,
        })
    }
}

/// The (service, signal) pairs of a hypothesis's metric evidence: items of kind `metric`
/// whose detail opens with the signal's name (`db_connections_in_use 38 → 48.9 …`).
fn metric_signals(h: &Value, component: Option<&str>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for key in ["evidence", "evidence_for"] {
        let Some(items) = h.get(key).and_then(Value::as_array) else {
            continue;
        };
        for item in items
            .iter()
            .filter(|i| str_at(i, &["kind"]) == Some("metric"))
        {
            let Some(service) = str_at(item, &["service", "component"]).or(component) else {
                continue;
            };
            let Some(signal) = str_at(item, &["signal"]).or_else(|| {
                str_at(item, &["detail", "summary"])
                    .and_then(|d| d.split_whitespace().next())
                    .filter(|w| {
                        w.contains('_') && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    })
            }) else {
                continue;
            };
            let pair = (service.to_string(), signal.to_string());
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
    }
    out
}

/// What `execute_remediation` said.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RemediationResult {
    /// `ran`, `pending_approval`, … (lowercased; empty when absent).
    pub outcome: String,
    /// `succeeded`, `failed`, `rolled_back`, `dry_run`, … (lowercased; empty when absent).
    pub status: String,
    /// The workflow's own verification, when it reported one.
    pub recovered: Option<bool>,
    /// How to approve it, when approval is pending.
    pub approve_with: Option<String>,
}

impl RemediationResult {
    /// Reads `{outcome, remediation: {status, …}, …}`.
    pub fn read(v: &Value) -> Self {
        let status = v
            .get("remediation")
            .and_then(|r| str_at(r, &["status", "state"]))
            .or_else(|| str_at(v, &["status", "state"]))
            .or_else(|| find_str(v, &["status"]))
            .unwrap_or("")
            .to_ascii_lowercase();
        Self {
            outcome: str_at(v, &["outcome"]).unwrap_or("").to_ascii_lowercase(),
            status,
            recovered: find(v, &["recovered"]).and_then(Value::as_bool),
            approve_with: find_str(v, &["approve_with"]).map(str::to_string),
        }
    }

    /// The action did not stick: it failed, was rolled back, or only pretended.
    pub fn did_not_hold(&self) -> bool {
        matches!(
            self.status.as_str(),
            "failed" | "rolled_back" | "dry_run" | "error" | "cancelled" | "canceled"
        ) || self.recovered == Some(false)
    }

    /// It waits for a human.
    pub fn pending_approval(&self) -> bool {
        self.outcome == "pending_approval" || self.status == "pending_approval"
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn leading_fields_of_a_cut_object() {
        let full = json!({"log_data_path": "INC-1/logs-1.json", "n": 3,
            "page": {"entries": [{"message": "a \\\" , } ] é"}]}, "tail": "x"});
        let text = full.to_string();
        assert_eq!(leading_fields(&text), Some(full.clone()));
        assert_eq!(
            leading_fields(&format!("{text}\n\n[truncated: 10 of 20 bytes shown]")),
            Some(full.clone())
        );
        // Cut inside the nested page, inside a string with delimiters and an escaped quote.
        let cut = &text[..text.find(" ] é").unwrap()];
        assert_eq!(
            leading_fields(cut),
            Some(json!({"log_data_path": "INC-1/logs-1.json", "n": 3}))
        );
        assert_eq!(leading_fields(r#"{"log_data_path":"INC-1/lo"#), None);
        assert_eq!(leading_fields("plain words"), None);
        assert_eq!(leading_fields("[1, 2"), None);
    }

    #[test]
    fn evidence_for_and_against_and_the_signals_it_names() {
        let hs = Hypothesis::read_all(&json!({"hypotheses": [{
            "root_cause": "connection-pool-exhaustion", "component": "db", "confidence": 0.8,
            "evidence_for": [
                {"kind": "log", "service": "db", "detail": "FATAL: remaining connection slots"},
                {"kind": "metric", "service": "db", "detail": "db_connections_in_use 38 → 49"},
                {"kind": "metric", "service": "db", "detail": "db was among the first"}],
            "evidence_against": [{"kind": "dependency", "detail": "explained by its upstream"}]
        }]}));
        assert_eq!(hs[0].evidence.len(), 3);
        assert_eq!(hs[0].evidence_against, ["explained by its upstream"]);
        assert_eq!(
            hs[0].signals,
            [("db".to_string(), "db_connections_in_use".to_string())]
        );
    }

    #[test]
    fn where_a_hypothesis_reaches_from_its_propagation_paths() {
        let hs = Hypothesis::read_all(&json!({"hypotheses": [{
            "root_cause": "slow-dependency", "component": "db", "confidence": 0.9,
            "propagation_path": ["db → api → web", "db -> worker"]
        }]}));
        assert_eq!(hs[0].reaches, ["db", "api", "web", "worker"]);
        // What it swamped below it, off those paths, is reached too.
        let hs = Hypothesis::read_all(&json!({"hypotheses": [{
            "root_cause": "bad-deploy", "component": "fanout", "confidence": 0.9,
            "propagation_path": [], "accounts_for": ["broker", "ingest"]
        }]}));
        assert_eq!(hs[0].reaches, ["broker", "ingest"]);
    }

    #[test]
    fn health_with_and_without_overall_status() {
        let h = Health::read(&json!({
            "status": "unhealthy", "summary": "x",
            "services": [
                {"service": "api", "status": "unhealthy",
                 "checks": [{"status": "unhealthy", "message": "error rate 12x"},
                            {"status": "healthy", "message": "cpu ok"}]},
                {"service": "db", "status": "degraded", "checks": []},
                {"service": "web", "status": "healthy", "checks": []}
            ]
        }))
        .unwrap();
        assert_eq!(h.status, "unhealthy");
        let sick: Vec<_> = h.sick().iter().map(|s| s.service.as_str()).collect();
        assert_eq!(sick, ["api", "db"]);
        assert_eq!(h.services[0].problems, ["error rate 12x"]);

        let h = Health::read(&json!({"health": {"services": [
            {"name": "api", "status": "Degraded"}]}}))
        .unwrap();
        assert_eq!(h.status, "degraded");
        assert!(Health::read(&json!({"nothing": 1})).is_none());
    }

    #[test]
    fn hypotheses_in_several_shapes() {
        let hs = Hypothesis::read_all(&json!({"analysis": {"hypotheses": [
            {"type": "memory-leak", "component": "api", "confidence": 0.3,
             "remediation": "restart@api"},
            {"root_cause": {"type": "connection-pool-exhaustion", "component": "db"},
             "confidence": "0.8", "evidence": ["pool 50/50", {"summary": "FATAL slots"}],
             "suggested_action": {"name": "increase-pool-size"},
             "actions": ["disable-job@db", "increase-pool-size"]},
            {"cause": "prose only", "action": "restart the api please"}
        ]}}));
        assert_eq!(hs.len(), 3);
        assert_eq!(hs[0].root_cause, "connection-pool-exhaustion");
        assert_eq!(hs[0].component.as_deref(), Some("db"));
        assert_eq!(hs[0].evidence, ["pool 50/50", "FATAL slots"]);
        let labels: Vec<_> = hs[0].actions.iter().map(ActionRef::label).collect();
        assert_eq!(labels, ["increase-pool-size@db", "disable-job@db"]);
        assert_eq!(hs[1].actions[0].label(), "restart@api");
        assert!(hs[2].actions.is_empty(), "prose is not an action");
    }

    #[test]
    fn remediation_results() {
        let r = RemediationResult::read(&json!({"outcome": "ran",
            "remediation": {"status": "rolled_back", "result": {"verification": {"recovered": false}}}}));
        assert!(r.did_not_hold());
        let r = RemediationResult::read(&json!({"outcome": "ran",
            "remediation": {"status": "succeeded"}}));
        assert!(!r.did_not_hold());
        let r = RemediationResult::read(&json!({"outcome": "pending_approval",
            "approve_with": "opsmcp incidents approve INC-1 failover@db"}));
        assert!(r.pending_approval());
        assert!(r.approve_with.is_some());
    }
}
