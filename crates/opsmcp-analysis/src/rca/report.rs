//! Steps 3 and 4 of the reasoning: the judged candidates weighed against each other (where
//! the trouble began), typed by the rules (what kind of cause, what to do), joined by the
//! changes looked at and ruled out, and written up as the report.

use super::{
    Evidence, Hypothesis, MIN_OWN_EVIDENCE, NAMED_STORY, NOT_FELT, RIVAL_WEIGHT, RcaReport,
    RootCause, STORY_FLOOR, SickService, Survey, UNKNOWN, accounted, at, calibrated,
    candidate::Candidate, conclude, confidence, describe, hypothesis, metric_evidence, rules,
};

/// How many of the best candidates are typed by the rules; the rest are not worth a report
/// line.
const TYPED_CANDIDATES: usize = 4;
/// How strong the top component's second kind of cause must be to be reported beside its
/// first.
const RUNNER_UP_STRENGTH: f64 = 1.5;
/// How many hypotheses a report holds.
const MAX_HYPOTHESES: usize = 6;
/// The confidence of a change on a service that is fine now: looked at, and ruled out.
const RULED_OUT: f64 = 0.02;
/// How much more of its log lines a service must show as errors than before for the report
/// to mention its logs.
const LOG_ERROR_MARGIN: f64 = 0.005;

/// The report over the judged candidates `scored` (best first).
pub(super) fn write(s: &Survey<'_>, scored: &[Candidate]) -> RcaReport {
    let inp = s.inp;
    let mut hyps = typed(s, scored);
    hyps.extend(ruled_out_changes(s, &hyps));
    let hypotheses = ranked(hyps);
    let conclusion = conclude(inp, &hypotheses, &s.sick);
    let summary = summary(s, &hypotheses, &conclusion);
    RcaReport {
        window: inp.window,
        summary,
        conclusion,
        sick_services: sick_services(s),
        events: events(s),
        hypotheses,
    }
}

/// How much the candidate at `i` looks like where the trouble began, from 0 to 1: its score
/// against its strongest rival, the share of its scope it accounts for, whether callers feel
/// it, and whether its story is the one reported.
fn origin(s: &Survey<'_>, scored: &[Candidate], i: usize) -> f64 {
    let c = &scored[i];
    // Busy but answering as usual while others suffer: whatever it has, it is not what the
    // users feel.
    let others_felt = s.sick.iter().any(|x| *x != c.name && s.all[x].felt());
    let felt = if !s.all[&c.name].felt() && others_felt && !c.floods {
        NOT_FELT
    } else {
        1.0
    };
    let (rival, story) = (rival(scored, i), story(s, scored, i));
    let origin = if c.score > 0.0 {
        c.score / (c.score + RIVAL_WEIGHT * rival) * (0.5 + 0.5 * c.coverage) * felt * story
    } else {
        0.0
    };
    tracing::debug!(
        component = %c.name, score = c.score, rival, coverage = c.coverage, felt, story, origin,
        "candidate weighed"
    );
    origin
}

/// The strongest rival of the candidate at `i`: a candidate in its scope it does not account
/// for (its victims are no rivals, nor is an older, unrelated story) — so a component that
/// explains the others stands out and a tie stays a tie.
fn rival(scored: &[Candidate], i: usize) -> f64 {
    scored
        .iter()
        .enumerate()
        .filter(|(j, c)| {
            *j != i && !scored[i].covered.contains(&c.name) && scored[i].scope.contains(&c.name)
        })
        .map(|(_, c)| c.score)
        .fold(0.0f64, f64::max)
}

/// Two stories that do not touch (neither in the other's scope: unconnected, and begun well
/// apart) cannot both be what was reported: the incident is the one that hurts more, counted
/// by what its services' callers feel, and more yet when it holds a service named in the
/// report. The other goes on alongside; it is no origin of this incident. 1 for the
/// candidate at `i` when its story is that one, else its weight against it.
fn story(s: &Survey<'_>, scored: &[Candidate], i: usize) -> f64 {
    let weight = |c: &Candidate| {
        let felt: f64 = c
            .covered
            .iter()
            .filter(|x| s.sick.contains(*x))
            .map(|x| s.all[x].service_level.max(STORY_FLOOR))
            .sum();
        if c.covered.iter().any(|x| s.symptoms.contains(x)) {
            felt * NAMED_STORY
        } else {
            felt
        }
    };
    let own = weight(&scored[i]);
    let other = scored
        .iter()
        .filter(|d| !scored[i].scope.contains(&d.name) && !d.scope.contains(&scored[i].name))
        .map(weight)
        .fold(0.0f64, f64::max);
    if own >= other { 1.0 } else { own / other }
}

/// The best candidates typed by the rules, each with its confidence, beside the strength of
/// its rule (to break ties). The top component gets its runner-up kind too, when there is a
/// real one.
fn typed(s: &Survey<'_>, scored: &[Candidate]) -> Vec<(f64, Hypothesis)> {
    let inp = s.inp;
    let mut hyps: Vec<(f64, Hypothesis)> = Vec::new();
    for (i, c) in scored.iter().take(TYPED_CANDIDATES).enumerate() {
        let name = &c.name;
        let ctx = rules::Ctx {
            inp,
            component: name,
            facts: &s.all[name],
            callers: inp
                .callers(name)
                .into_iter()
                .filter(|(_, (hops, _))| *hops == 1)
                .map(|(n, _)| n)
                .collect(),
        };
        let found = rules::all(&ctx);
        let runner_up = found.get(1).map_or(0.0, |r| r.strength);
        let origin = origin(s, scored, i);
        let keep = if i == 0 { 2 } else { 1 };
        for (j, r) in found.into_iter().take(keep).enumerate() {
            if j > 0 && r.strength < RUNNER_UP_STRENGTH {
                continue;
            }
            let competitor = if j == 0 {
                runner_up
            } else {
                hyps.last().map_or(0.0, |h| h.0)
            };
            let share = accounted(inp, name, r.cause);
            let p = calibrated(confidence(r.strength, competitor, origin) * share);
            // The factors behind the number, for whoever asks why it is what it is.
            tracing::debug!(
                component = %name, cause = ?r.cause, strength = r.strength, competitor,
                origin, share, p, "hypothesis scored"
            );
            let mut evidence_for = r.pro;
            evidence_for.extend(metric_evidence(inp, name, &evidence_for));
            evidence_for.extend(c.pro.iter().cloned());
            let mut evidence_against = r.con;
            evidence_against.extend(c.con.iter().cloned());
            let mut h = hypothesis(
                inp,
                r.cause,
                name,
                c.paths.clone(),
                evidence_for,
                evidence_against,
                r.strength >= MIN_OWN_EVIDENCE,
            );
            h.confidence = p;
            h.accounts_for = off_the_paths(c);
            hyps.push((r.strength, h));
        }
    }
    hyps
}

/// The sick services a candidate accounts for that are neither it nor on its paths to its
/// callers.
fn off_the_paths(c: &Candidate) -> Vec<String> {
    c.covered
        .iter()
        .filter(|x| **x != c.name)
        .filter(|x| {
            !c.paths
                .iter()
                .any(|p| p.split(" → ").any(|hop| hop == x.as_str()))
        })
        .cloned()
        .collect()
}

/// Changes on services that are fine now: looked at, and why they are not the cause. They
/// carry no action: nothing of their own says they are.
fn ruled_out_changes(s: &Survey<'_>, hyps: &[(f64, Hypothesis)]) -> Vec<(f64, Hypothesis)> {
    let inp = s.inp;
    let mut out: Vec<(f64, Hypothesis)> = Vec::new();
    for e in inp
        .events
        .iter()
        .filter(|e| e.at >= inp.window.from && (e.kind == "deploy" || e.kind == "config"))
        .filter(|e| !s.sick.contains(&e.service))
    {
        let cause = if e.kind == "deploy" {
            RootCause::BadDeploy
        } else {
            RootCause::BadConfigPush
        };
        if hyps
            .iter()
            .chain(&out)
            .any(|(_, h)| h.component == e.service && h.root_cause == cause)
        {
            continue;
        }
        let mut against = vec![Evidence {
            kind: "metric",
            service: e.service.clone(),
            detail: format!("{} shows no signal out of its normal range now", e.service),
            at: None,
            example: None,
        }];
        if let Some(ended) = inp
            .scan
            .series
            .iter()
            .filter(|x| x.service == e.service)
            .filter_map(|x| x.excursion.map(|ex| (x, ex)))
            .next()
        {
            against.push(Evidence {
                kind: "metric",
                service: e.service.clone(),
                detail: format!(
                    "{} was out of range from {} to {} (peak {}) and recovered on its own",
                    ended.0.signal,
                    at(ended.1.0),
                    at(ended.1.1),
                    ended.0.peak
                ),
                at: Some(at(ended.1.0)),
                example: None,
            });
        }
        let pro = vec![Evidence {
            kind: "event",
            service: e.service.clone(),
            detail: format!("{} on {}: {}", e.kind, e.service, e.detail),
            at: Some(at(e.at)),
            example: None,
        }];
        let mut h = hypothesis(inp, cause, &e.service, Vec::new(), pro, against, false);
        h.confidence = RULED_OUT;
        out.push((0.0, h));
    }
    out
}

/// The hypotheses most likely first (ties: the stronger rule, then by name and kind), cut to
/// [`MAX_HYPOTHESES`] and numbered.
fn ranked(mut hyps: Vec<(f64, Hypothesis)>) -> Vec<Hypothesis> {
    hyps.sort_by(|a, b| {
        b.1.confidence
            .total_cmp(&a.1.confidence)
            .then(b.0.total_cmp(&a.0))
            .then_with(|| a.1.component.cmp(&b.1.component))
            .then(a.1.root_cause.cmp(&b.1.root_cause))
    });
    hyps.truncate(MAX_HYPOTHESES);
    hyps.into_iter()
        .enumerate()
        .map(|(i, (_, mut h))| {
            h.rank = i + 1;
            h
        })
        .collect()
}

/// The sick services, earliest onset first, each with its signals out of range and what its
/// logs say.
fn sick_services(s: &Survey<'_>) -> Vec<SickService> {
    let inp = s.inp;
    let mut out: Vec<SickService> = s
        .sick
        .iter()
        .map(|n| SickService {
            service: n.clone(),
            onset: s.all[n].onset.map(at),
            signals: inp.changes(n).map(describe).collect(),
            logs: inp.logs_of(n).and_then(|l| {
                (l.error_rate > l.baseline_error_rate + LOG_ERROR_MARGIN).then(|| {
                    format!(
                        "error share of log lines {:.1}% (was {:.1}%), {} new template(s)",
                        l.error_rate * 100.0,
                        l.baseline_error_rate * 100.0,
                        l.new_templates.len()
                    )
                })
            }),
        })
        .collect();
    out.sort_by(|a, b| {
        a.onset
            .cmp(&b.onset)
            .then_with(|| a.service.cmp(&b.service))
    });
    out
}

/// The change events of the window, and deploys on sick services however old.
fn events(s: &Survey<'_>) -> Vec<Evidence> {
    let inp = s.inp;
    inp.events
        .iter()
        .filter(|e| e.at >= inp.window.from || (e.kind == "deploy" && s.sick.contains(&e.service)))
        .map(|e| Evidence {
            kind: "event",
            service: e.service.clone(),
            detail: format!("{}: {}", e.kind, e.detail),
            at: Some(at(e.at)),
            example: None,
        })
        .collect()
}

/// One paragraph: the conclusion and what to try, or why it is unknown and what to look at.
fn summary(s: &Survey<'_>, hypotheses: &[Hypothesis], conclusion: &super::Conclusion) -> String {
    let inp = s.inp;
    match hypotheses.first() {
        Some(h) if conclusion.root_cause != UNKNOWN => format!(
            "Most likely {} on {} (confidence {:.0}%). {} Try: {}.",
            h.root_cause.as_str(),
            h.component,
            h.confidence * 100.0,
            h.summary,
            h.suggested_action
                .as_ref()
                .map(|a| format!("{} on {}", a.action, a.target))
                .unwrap_or_else(|| h.remediation.clone())
        ),
        Some(h) => format!(
            "Root cause unknown: the best hypothesis, {} on {}, reaches only {:.0}% — too weak to act on. Checked: {}. Next: {}.",
            h.root_cause.as_str(),
            h.component,
            h.confidence * 100.0,
            conclusion.checked.join("; "),
            conclusion.next.join("; ")
        ),
        None if !s.sick.is_empty() => format!(
            "Root cause unknown: {} out of range, but no rule explains it. Checked: {}. Next: {}.",
            s.sick.iter().cloned().collect::<Vec<_>>().join(", "),
            conclusion.checked.join("; "),
            conclusion.next.join("; ")
        ),
        None => format!(
            "No service is out of its normal range between {} and {}, and no change event stands out; widen the timeframe or check the services' own dashboards.",
            at(inp.window.from),
            at(inp.window.to)
        ),
    }
}
