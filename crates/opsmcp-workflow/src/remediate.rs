//! Closed-loop remediation: resolve the action among what the world offers, check its
//! parameters, require an approval where the action asks for one, record the state before,
//! run it, watch health recover, roll back if it does not — every step on the incident's
//! timeline, and an idempotency key that never runs an action twice.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use opsmcp_store::{NewRemediation, Remediation, Status, Store};
use opsmcp_world::{
    ActionInfo, ActionRequest, ServiceInfo, World,
    health::{Check, ServiceHealth, Status as Health},
};
use serde::Serialize;
use serde_json::json;

use crate::WorkflowError;

/// How long to watch health after an action, and how often.
#[derive(Debug, Clone, Copy)]
pub struct Verify {
    /// Give up (and roll back where possible) after this long.
    pub timeout: Duration,
    /// Look this often.
    pub interval: Duration,
}

impl Default for Verify {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(180),
            interval: Duration::from_secs(2),
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Request {
    /// The incident it is for.
    pub incident_id: String,
    /// `name` or `name@service`.
    pub action: String,
    /// The service, when not in `action`.
    pub target: Option<String>,
    /// The action's parameters.
    pub params: BTreeMap<String, serde_json::Value>,
    /// Check everything, change nothing.
    pub dry_run: bool,
    /// A repeat with the same key returns the first run's record.
    pub idempotency_key: Option<String>,
    /// Who asks.
    pub actor: String,
    /// Why: the diagnosis and evidence the action answers, shown to whoever approves it.
    pub reason: Option<String>,
    /// The services the diagnosis says this action heals (its component and where its
    /// trouble reaches). Empty: every service unhealthy before must heal.
    pub heals: Vec<String>,
    /// Hold the run for a human's approval even when the action does not require one: a
    /// caller unsure enough of a risky action asks instead of running it.
    pub ask_approval: bool,
}

/// How a remediation request ended.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The action needs a human's approval first; nothing ran.
    PendingApproval {
        /// The action.
        action: String,
        /// The service.
        target: String,
        /// Its risk.
        risk: opsmcp_world::Risk,
        /// What it does, as the operator described it.
        description: String,
        /// What undoes it, or `None` when nothing does.
        rollback: Option<String>,
        /// Why it was asked for (the diagnosis and its evidence), when the caller said.
        reason: Option<String>,
        /// The command that approves it.
        approve_with: String,
    },
    /// It ran (or was dry-run, or had run before under the same key).
    Ran {
        /// The record, with state before and after and what happened.
        #[schemars(with = "serde_json::Value")]
        remediation: Box<Remediation>,
        /// The idempotency key had been used: this is the earlier run, nothing ran now.
        repeated: bool,
    },
}

/// Finds `name` (or `name@target`) among the world's actions.
pub fn resolve<'a>(
    offered: &'a [ActionInfo],
    action: &str,
    target: Option<&str>,
) -> Result<&'a ActionInfo, WorkflowError> {
    let (name, target) = match action.split_once('@') {
        Some((n, t)) => (n, Some(t)),
        None => (action, target),
    };
    let list = || {
        if offered.is_empty() {
            "this world offers no actions".to_string()
        } else {
            let names: Vec<String> = offered
                .iter()
                .map(|a| format!("{}@{}", a.name, a.target))
                .collect();
            format!("the actions offered are: {}", names.join(", "))
        }
    };
    let found: Vec<&ActionInfo> = offered
        .iter()
        .filter(|a| a.name == name && target.is_none_or(|t| a.target == t))
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(WorkflowError::BadRequest(format!(
            "unknown action '{}'; {}",
            target.map_or(name.to_string(), |t| format!("{name}@{t}")),
            list()
        ))),
        _ => Err(WorkflowError::BadRequest(format!(
            "'{name}' is offered on several services; name one as {name}@SERVICE ({})",
            list()
        ))),
    }
}

fn check_params(
    info: &ActionInfo,
    params: &BTreeMap<String, serde_json::Value>,
) -> Result<(), WorkflowError> {
    let expected = || {
        if info.params.is_empty() {
            "it takes no parameters".to_string()
        } else {
            let p: Vec<String> = info
                .params
                .iter()
                .map(|(k, v)| format!("{k} ({v})"))
                .collect();
            format!("it takes: {}", p.join(", "))
        }
    };
    if let Some(unknown) = params.keys().find(|k| !info.params.contains_key(*k)) {
        return Err(WorkflowError::BadRequest(format!(
            "action '{}' has no parameter '{unknown}'; {}",
            info.name,
            expected()
        )));
    }
    if let Some(missing) = info.params.keys().find(|k| !params.contains_key(*k)) {
        return Err(WorkflowError::BadRequest(format!(
            "action '{}' needs parameter '{missing}'; {}",
            info.name,
            expected()
        )));
    }
    Ok(())
}

/// Health as recorded before and after: each service's status and the checks that failed.
fn snapshot(health: &[ServiceHealth]) -> serde_json::Value {
    json!(
        health
            .iter()
            .map(|s| {
                let failing: Vec<String> = s
                    .checks
                    .iter()
                    .filter(|c| c.status != Health::Healthy)
                    .map(|c| c.message.clone())
                    .collect();
                (
                    s.service.clone(),
                    json!({ "status": s.status, "failing": failing }),
                )
            })
            .collect::<serde_json::Map<_, _>>()
    )
}

/// The services an action on `target` can heal: the target and everything that calls it,
/// directly or through others. Trouble elsewhere (a noisy neighbour, a dependency busy for its
/// own reasons) is not this action's to fix and must not get a right fix rolled back.
fn reach(target: &str, services: &[ServiceInfo]) -> Vec<String> {
    let mut reached = vec![target.to_string()];
    let mut i = 0;
    while i < reached.len() {
        let current = reached[i].clone();
        for s in services {
            if s.depends_on.contains(&current) && !reached.contains(&s.name) {
                reached.push(s.name.clone());
            }
        }
        i += 1;
    }
    reached
}

/// The target is healthy, nothing that calls it or that the incident was opened for
/// (`reach`) is unhealthy, and every service that was unhealthy before the action (`sick`)
/// is healthy again: an action is credited only when the incident's trouble is gone, not
/// when its own target looks fine (an innocent rollback on a healthy service would otherwise
/// "recover"). A service merely degraded for reasons of its own (a partner's latency
/// wobble) need not heal for the action to count, nor one that answers again and is only
/// left with work queued while it could not ([`only_held_over_left`]).
fn recovered(
    target: &str,
    reach: &[String],
    sick: &[String],
    before: &[ServiceHealth],
    now: &[ServiceHealth],
) -> bool {
    now.iter()
        .filter(|s| reach.contains(&s.service) || sick.contains(&s.service))
        .all(|s| {
            let well = s.status != Health::Unhealthy
                && ((s.service != target && !sick.contains(&s.service))
                    || s.status == Health::Healthy);
            well || before
                .iter()
                .find(|b| b.service == s.service)
                .is_some_and(|b| only_held_over_left(b, s))
        })
}

/// A service whose errors, latency and other troubles of before are gone, and whose only
/// checks still out of range are held over ([`held_over`]): it answers again. Something
/// other than what is held over must have been wrong before and be well now: a service whose
/// only trouble was a backlog or a standing warning shows nothing healed.
fn only_held_over_left(before: &ServiceHealth, now: &ServiceHealth) -> bool {
    let healed_other = before.checks.iter().any(|b| {
        b.status != Health::Healthy
            && !b.backlog
            && now
                .checks
                .iter()
                .any(|c| c.name == b.name && c.status == Health::Healthy)
    });
    healed_other
        && now
            .checks
            .iter()
            .all(|c| c.status == Health::Healthy || held_over(before, c))
}

/// A check still out of range after an action that does not say the incident's trouble
/// remains: work queued while the service could not do it (a queue's depth, a consumer's
/// lag), which drains at its consumers' pace minutes to hours after the fix — judging it
/// would roll back the fix that ends it; or a standing warning of its own, out of range
/// before the action and no worse now, of a kind its callers do not feel (a certificate's
/// days left, a disk filling slowly): older than the action, which neither caused nor was
/// meant to heal it.
fn held_over(before: &ServiceHealth, check: &Check) -> bool {
    let standing = check.status == Health::Degraded
        && !check.felt
        && before
            .checks
            .iter()
            .any(|b| b.name == check.name && b.status >= check.status);
    check.backlog || standing
}

/// Runs one remediation request to its end: checked, approved if it must be, recorded, applied,
/// watched until health recovers or time is up, undone when it did not help, and the incident
/// marked mitigated when it did.
pub async fn execute(
    store: &Store,
    world: &Arc<dyn World>,
    verify: Verify,
    req: Request,
) -> Result<Outcome, WorkflowError> {
    let incident = store.get_incident(&req.incident_id).await?.incident;
    if !incident.status.is_open() && !req.dry_run {
        return Err(WorkflowError::BadRequest(format!(
            "incident {} is {}; remediations run on open incidents only (reopen by creating a \
             new incident, or use dry_run to check the action)",
            incident.id, incident.status
        )));
    }
    let offered = world.actions();
    let info = resolve(&offered, &req.action, req.target.as_deref())?.clone();
    check_params(&info, &req.params)?;
    let services = world.services();
    check_heals(&req.heals, &services)?;
    if let Some(pending) = ask_approval(store, &incident.id, &info, &req).await? {
        return Ok(pending);
    }

    let before = world.health().await?;
    let (record, repeated) = store
        .begin_remediation(&NewRemediation {
            incident_id: incident.id.clone(),
            action: info.name.clone(),
            target: info.target.clone(),
            params: json!(req.params),
            dry_run: req.dry_run,
            idempotency_key: req.idempotency_key.clone(),
            requested_by: req.actor.clone(),
            before: snapshot(&before),
        })
        .await?;
    if repeated {
        return Ok(Outcome::Ran {
            remediation: Box::new(record),
            repeated: true,
        });
    }
    let id = record.id;
    let finish = |status, result| ended(store, id, status, &before, result, &req.actor);

    let applied = world
        .apply(ActionRequest {
            action: info.name.clone(),
            target: info.target.clone(),
            params: req.params.clone(),
            dry_run: req.dry_run,
        })
        .await;
    let report = match applied {
        Ok(report) => report,
        Err(e) => return finish("failed", json!({ "error": e.to_string() })).await,
    };
    if req.dry_run || !report.succeeded {
        let status = if req.dry_run { "dry_run" } else { "failed" };
        return finish(
            status,
            json!({ "output": report.output, "succeeded": report.succeeded }),
        )
        .await;
    }

    let judged = Judged::of(
        &info.target,
        &incident.services,
        &services,
        &before,
        &req.heals,
    );
    let (ok, after, waited_s) =
        watch(world.as_ref(), verify, &info.target, &judged, &before).await?;
    let mut result = json!({
        "output": report.output,
        "verification": {
            "recovered": ok,
            "judged": judged.reach,
            "waited_s": waited_s,
        },
    });
    let still: Vec<&String> = judged
        .left
        .iter()
        .filter(|l| {
            after
                .iter()
                .any(|s| &s.service == *l && s.status == Health::Unhealthy)
        })
        .collect();
    if !still.is_empty() {
        // Not this action's to heal, by the diagnosis it was run on: still to look at.
        result["verification"]["left_unhealthy"] = json!(still);
    }
    let status = if ok {
        "succeeded"
    } else {
        undo(world.as_ref(), &info, &mut result).await
    };
    let done = store
        .finish_remediation(record.id, status, &snapshot(&after), &result, &req.actor)
        .await?;
    if ok {
        mark_mitigated(store, &incident, &info, &req.actor).await?;
    }
    Ok(Outcome::Ran {
        remediation: Box::new(done),
        repeated: false,
    })
}

/// A remediation that ends before it is watched (failed, or a dry run), recorded with
/// `result`.
async fn ended(
    store: &Store,
    id: i64,
    status: &str,
    before: &[ServiceHealth],
    result: serde_json::Value,
    actor: &str,
) -> Result<Outcome, WorkflowError> {
    let done = store
        .finish_remediation(id, status, &snapshot(before), &result, actor)
        .await?;
    Ok(Outcome::Ran {
        remediation: Box::new(done),
        repeated: false,
    })
}

/// Every service `heals` names must exist here.
fn check_heals(heals: &[String], services: &[ServiceInfo]) -> Result<(), WorkflowError> {
    match heals
        .iter()
        .find(|h| !services.iter().any(|k| &k.name == *h))
    {
        Some(unknown) => Err(WorkflowError::BadRequest(format!(
            "heals names {unknown:?}, which is no service here; name services among: {}",
            services
                .iter()
                .map(|k| k.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        None => Ok(()),
    }
}

/// When the action needs approval (or the caller asked for it) and none is recorded: the
/// request, written to the incident's timeline, as the outcome. Dry runs need none.
async fn ask_approval(
    store: &Store,
    incident_id: &str,
    info: &ActionInfo,
    req: &Request,
) -> Result<Option<Outcome>, WorkflowError> {
    if !(info.needs_approval || req.ask_approval) || req.dry_run {
        return Ok(None);
    }
    if store
        .approval_for(incident_id, &info.name, &info.target)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let approve_with = format!(
        "opsmcp incidents approve {} {}@{}",
        incident_id, info.name, info.target
    );
    store
        .add_timeline(
            incident_id,
            &req.actor,
            "approval_requested",
            json!({ "action": info.name, "target": info.target, "risk": info.risk,
                     "description": info.description, "rollback": info.rollback,
                     "reason": req.reason, "approve_with": approve_with }),
        )
        .await?;
    Ok(Some(Outcome::PendingApproval {
        action: info.name.clone(),
        target: info.target.clone(),
        risk: info.risk,
        description: info.description.clone(),
        rollback: info.rollback.clone(),
        reason: req.reason.clone(),
        approve_with,
    }))
}

/// What an action's verdict judges: which services must be well, which sick ones it must
/// heal, and the sick ones left out as another story.
struct Judged {
    /// The target, what calls it and the incident's services, but for `left`.
    reach: Vec<String>,
    /// The services unhealthy before that it must heal.
    sick: Vec<String>,
    /// Services unhealthy before that the diagnosis says this action does not heal.
    left: Vec<String>,
}

impl Judged {
    fn of(
        target: &str,
        incident_services: &[String],
        services: &[ServiceInfo],
        before: &[ServiceHealth],
        heals: &[String],
    ) -> Self {
        let causal = reach(target, services);
        let mut reach = causal.clone();
        let named: Vec<String> = incident_services
            .iter()
            .filter(|s| services.iter().any(|k| &k.name == *s) && !reach.contains(s))
            .cloned()
            .collect();
        reach.extend(named);
        let sick: Vec<String> = before
            .iter()
            .filter(|s| s.status == Health::Unhealthy)
            .map(|s| s.service.clone())
            .collect();
        // What the diagnosis says this action heals, with the target and what calls it, must
        // heal; a sick service outside it is another story (a backlog of its own) and is left
        // out of the verdict and reported. Only when something it claims was sick: a claim of
        // nothing sick credits nothing.
        // A claim that leaves the target out says the action moves the callers off the
        // target instead of repairing it (a failover): the target's own trouble is then
        // another story, for a human, and its callers are what must heal.
        let routed_around = !heals.is_empty() && !heals.iter().any(|h| h == target);
        let claims: Vec<String> = causal
            .into_iter()
            .filter(|s| !(routed_around && s == target))
            .chain(heals.iter().cloned())
            .collect();
        let (sick, left): (Vec<String>, Vec<String>) =
            if heals.is_empty() || !sick.iter().any(|s| claims.contains(s)) {
                (sick, Vec::new())
            } else {
                sick.into_iter().partition(|s| claims.contains(s))
            };
        reach.retain(|s| !left.contains(s));
        Judged { reach, sick, left }
    }
}

/// Watches health until what `judged` names has recovered or `verify.timeout` is up: whether
/// it recovered, the last health read, and the seconds waited.
async fn watch(
    world: &dyn World,
    verify: Verify,
    target: &str,
    judged: &Judged,
    before: &[ServiceHealth],
) -> Result<(bool, Vec<ServiceHealth>, u64), WorkflowError> {
    let started = tokio::time::Instant::now();
    let healed =
        |after: &[ServiceHealth]| recovered(target, &judged.reach, &judged.sick, before, after);
    let mut after = world.health().await?;
    while !healed(&after) && started.elapsed() < verify.timeout {
        tokio::time::sleep(verify.interval).await;
        after = world.health().await?;
    }
    Ok((healed(&after), after, started.elapsed().as_secs()))
}

/// An action that did not help is undone when it can be: the status it ends in, with the
/// rollback's output (or error) in `result`.
async fn undo(
    world: &dyn World,
    info: &ActionInfo,
    result: &mut serde_json::Value,
) -> &'static str {
    if info.rollback.is_none() {
        return "failed";
    }
    match world.rollback(&info.name, &info.target).await {
        Ok(undo) => {
            result["rollback"] = json!({ "output": undo.output, "succeeded": undo.succeeded });
            "rolled_back"
        }
        Err(e) => {
            result["rollback"] = json!({ "error": e.to_string() });
            "failed"
        }
    }
}

/// The incident is mitigated by an action that recovered health, when its lifecycle allows
/// that step now.
async fn mark_mitigated(
    store: &Store,
    incident: &opsmcp_store::Incident,
    info: &ActionInfo,
    actor: &str,
) -> Result<(), WorkflowError> {
    if incident.status == Status::Mitigated
        || !store
            .get_incident(&incident.id)
            .await?
            .incident
            .status
            .allowed_next()
            .contains(&Status::Mitigated)
    {
        return Ok(());
    }
    store
        .transition(
            &incident.id,
            Status::Mitigated,
            actor,
            Some(&format!("{}@{} recovered health", info.name, info.target)),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use opsmcp_world::{
        ServiceInfo,
        health::{ServiceHealth, Status},
    };

    fn svc(name: &str, deps: &[&str]) -> ServiceInfo {
        ServiceInfo {
            name: name.into(),
            kind: "api".into(),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
        }
    }

    fn health(name: &str, status: Status) -> ServiceHealth {
        ServiceHealth {
            service: name.into(),
            status,
            checks: Vec::new(),
        }
    }

    #[test]
    fn only_the_target_and_its_callers_decide_recovery() {
        // web -> api -> cache -> db; the db is busy for reasons of its own.
        let services = [
            svc("web", &["api"]),
            svc("api", &["cache"]),
            svc("cache", &["db"]),
            svc("db", &[]),
        ];
        let reach = super::reach("cache", &services);
        assert_eq!(reach, ["cache", "api", "web"]);
        let mut now = vec![
            health("web", Status::Degraded),
            health("api", Status::Healthy),
            health("cache", Status::Healthy),
            health("db", Status::Unhealthy),
        ];
        assert!(super::recovered("cache", &reach, &[], &[], &now));
        now[0].status = Status::Unhealthy;
        assert!(!super::recovered("cache", &reach, &[], &[], &now));
        now[0].status = Status::Healthy;
        now[2].status = Status::Degraded;
        assert!(
            !super::recovered("cache", &reach, &[], &[], &now),
            "the target itself must be healthy"
        );
    }

    #[test]
    fn an_action_is_credited_only_when_the_incidents_services_are_well() {
        // api and db were unhealthy before a rollback of a healthy web: it "recovers"
        // nothing while they are still sick.
        let services = [svc("web", &["api"]), svc("api", &["db"]), svc("db", &[])];
        let mut reach = super::reach("web", &services);
        reach.extend(["api".to_string(), "db".to_string()]);
        let sick = ["api".to_string(), "db".to_string()];
        let mut now = vec![
            health("web", Status::Healthy),
            health("api", Status::Degraded),
            health("db", Status::Degraded),
        ];
        assert!(!super::recovered("web", &reach, &sick, &[], &now));
        now[1].status = Status::Healthy;
        now[2].status = Status::Healthy;
        assert!(super::recovered("web", &reach, &sick, &[], &now));
    }

    fn checked(name: &str, checks: &[(&str, Status)]) -> ServiceHealth {
        ServiceHealth::new(
            name,
            checks
                .iter()
                .map(|(n, st)| opsmcp_world::health::Check {
                    backlog: n.contains("queue") || n.contains("lag"),
                    felt: opsmcp_world::health::felt_by_callers(n),
                    name: (*n).into(),
                    status: *st,
                    value: 0.0,
                    unit: String::new(),
                    warning_at: None,
                    critical_at: None,
                    message: format!("{n} is {st:?}"),
                })
                .collect(),
        )
    }

    #[test]
    fn a_caller_that_answers_again_and_only_has_a_queue_to_drain_is_recovered() {
        // worker -> store; the fix on the store ended the worker's errors, and the jobs it
        // could not do while the store refused it are still queued.
        let services = [svc("worker", &["store"]), svc("store", &[])];
        let reach = super::reach("store", &services);
        let sick = ["worker".to_string(), "store".to_string()];
        let before = [
            checked(
                "worker",
                &[
                    ("error rate", Status::Unhealthy),
                    ("queue depth", Status::Unhealthy),
                ],
            ),
            checked("store", &[("error rate", Status::Unhealthy)]),
        ];
        let now = [
            checked(
                "worker",
                &[
                    ("error rate", Status::Healthy),
                    ("queue depth", Status::Unhealthy),
                ],
            ),
            checked("store", &[("error rate", Status::Healthy)]),
        ];
        assert!(super::recovered("store", &reach, &sick, &before, &now));
        // Still failing besides the backlog: not recovered.
        let failing = [
            checked(
                "worker",
                &[
                    ("error rate", Status::Unhealthy),
                    ("queue depth", Status::Unhealthy),
                ],
            ),
            now[1].clone(),
        ];
        assert!(!super::recovered("store", &reach, &sick, &before, &failing));
        // A backlog that was the only trouble: nothing healed, nothing credited.
        let only_backlog = [
            checked("worker", &[("kafka consumergroup lag", Status::Unhealthy)]),
            checked("store", &[("error rate", Status::Healthy)]),
        ];
        assert!(!super::recovered(
            "store",
            &reach,
            &sick,
            &only_backlog,
            &only_backlog
        ));
    }

    #[test]
    fn a_standing_warning_older_than_the_action_does_not_undo_a_fix() {
        // edge -> api; the fix on the api ended the edge's errors; the edge's certificate
        // warning (days left under the warning level) was there before and still is.
        let services = [svc("edge", &["api"]), svc("api", &[])];
        let reach = super::reach("api", &services);
        let sick = ["edge".to_string(), "api".to_string()];
        let before = [
            checked(
                "edge",
                &[
                    ("error rate", Status::Unhealthy),
                    ("certificate days left", Status::Degraded),
                ],
            ),
            checked("api", &[("error rate", Status::Unhealthy)]),
        ];
        let now = [
            checked(
                "edge",
                &[
                    ("error rate", Status::Healthy),
                    ("certificate days left", Status::Degraded),
                ],
            ),
            checked("api", &[("error rate", Status::Healthy)]),
        ];
        assert!(super::recovered("api", &reach, &sick, &before, &now));
        // What callers feel, still degraded: not recovered.
        let slow = [
            checked(
                "edge",
                &[
                    ("error rate", Status::Healthy),
                    ("latency p99 ms", Status::Degraded),
                ],
            ),
            now[1].clone(),
        ];
        let slow_before = [
            checked(
                "edge",
                &[
                    ("error rate", Status::Unhealthy),
                    ("latency p99 ms", Status::Degraded),
                ],
            ),
            before[1].clone(),
        ];
        assert!(!super::recovered("api", &reach, &sick, &slow_before, &slow));
        // A warning that is new since the action, or worse: not held over.
        let new_warning = [
            checked(
                "edge",
                &[
                    ("error rate", Status::Healthy),
                    ("disk used percent", Status::Degraded),
                ],
            ),
            now[1].clone(),
        ];
        assert!(!super::recovered(
            "api",
            &reach,
            &sick,
            &before,
            &new_warning
        ));
        // A warning the target did not have before the action: not held over.
        let target_warned = [
            now[0].clone(),
            checked(
                "api",
                &[
                    ("error rate", Status::Healthy),
                    ("certificate days left", Status::Degraded),
                ],
            ),
        ];
        assert!(!super::recovered(
            "api",
            &reach,
            &sick,
            &before,
            &target_warned
        ));
    }
}
