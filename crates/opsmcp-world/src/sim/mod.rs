//! The simulated world: a scenario played out in real time, deterministically.
//!
//! Every value is a pure function of (scenario, seed, start time, applied actions, the time asked
//! about): noise comes from a counter-based generator keyed by service, signal and time, not from
//! a stream, so any window can be computed without replaying history, and the same inputs give
//! byte-identical metrics and logs.

pub mod builtin;
pub mod generate;
mod noise;
pub mod scenario;
mod style;
mod world;

use crate::signals::{self, SignalKind, kind};
use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use self::noise::Noise;
use self::scenario::{
    Action, Effect, Level, LogTemplate, Outcome, Param, ParamValue, Piece, Service, Shape,
    TimeFormat,
};
pub use self::scenario::{Scenario, ScenarioError};
pub use self::world::{Journal, SimulatedWorld};

/// Seconds per noise step: metrics change every 10 s, as a scrape interval would show them.
const TICK_S: i64 = 10;
/// Requests in flight a second that `{trace_id}` picks from: few enough that a caller's line
/// and the failing component's share one often.
const TRACES_PER_SECOND: u64 = 4;
/// Days left on a certificate just issued (a common lifetime for automated issuance).
const RENEWED_CERT_DAYS: f64 = 90.0;

/// An action applied to the world, and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Applied {
    /// The action's name.
    pub action: String,
    /// The service it was applied to.
    pub target: String,
    /// When it was applied.
    pub at: Timestamp,
    /// This entry undoes the latest earlier application of the same action on the same target.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rollback: bool,
}

/// One log line as the service wrote it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogLine {
    /// When.
    pub at: Timestamp,
    /// Which service.
    pub service: String,
    /// Its level.
    pub level: Level,
    /// The line, in the service's format.
    pub text: String,
}

/// Errors acting on the simulated world.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The action is not one the scenario offers.
    #[error("no action '{action}' on service '{target}'; the actions offered are: {offered}")]
    UnknownAction {
        /// What was asked.
        action: String,
        /// On which service.
        target: String,
        /// What exists, `name@service`.
        offered: String,
    },
    /// A rollback of an action that is not in effect or cannot be undone.
    #[error("'{action}' on '{target}' is not in effect or cannot be undone; nothing was changed")]
    NothingToUndo {
        /// What was asked.
        action: String,
        /// On which service.
        target: String,
    },
}

/// A scenario in play.
#[derive(Debug, Clone)]
pub struct SimWorld {
    scenario: Scenario,
    seed: u64,
    started: Timestamp,
    applied: Vec<Applied>,
    log_rate: f64,
    effect_speed: f64,
    /// Hops from each service down to the fault's component ([`SimWorld::hops_from_fault`]),
    /// worked out once: every second of logs and every metric point asks it of every service,
    /// and walking the graph each time made a world of N services cost N³ a second.
    hops: BTreeMap<String, u32>,
    /// The fault's effects on what its component's callers feel (latency, errors, throughput,
    /// availability), picked out once: [`SimWorld::felt_strength`] is asked on every point.
    felt: Vec<Effect>,
    /// What each service's signal names say ([`Traits`]), by service in scenario order and
    /// signal in baseline order, read once: every metric point and every second of logs ask
    /// them of every signal, and reading them from the names each time (words split and
    /// allocated, matched against word lists) was most of what a world cost.
    traits: std::sync::Arc<Vec<Vec<Traits>>>,
}

/// One signal of a service at a time, as [`SimWorld::readings`] works it out.
struct SimReading<'a> {
    signal: &'a String,
    traits: &'a Traits,
    base: f64,
    value: f64,
}

/// What the simulator needs to know of one signal, from its name alone (see [`signals`]).
#[derive(Debug, Clone, Copy)]
struct Traits {
    kind: SignalKind,
    expired_flag: bool,
    error_share: bool,
    success_share: bool,
    percent: bool,
    /// Neither a configured limit nor the whole of a pool: it jitters.
    jitters: bool,
    /// Work done that reaches the service (not misses nor retries).
    work: bool,
    /// For a pool in use, its bound among all the service's signals, by baseline position.
    bound: Option<usize>,
}

impl Traits {
    fn of_service(svc: &Service) -> Vec<Self> {
        let names = || svc.baseline.keys().map(String::as_str);
        svc.baseline
            .keys()
            .map(|signal| {
                let kind = kind(signal);
                let bound = (kind == SignalKind::PoolUsage)
                    .then(|| signals::limit_for(signal, names()))
                    .flatten()
                    .and_then(|limit| names().position(|n| n == limit));
                Self {
                    kind,
                    expired_flag: signals::is_expired_flag(signal),
                    error_share: signals::is_error_share(signal),
                    success_share: signals::is_success_share(signal),
                    percent: signals::is_percent(signal),
                    jitters: !matches!(kind, SignalKind::Limit | SignalKind::CertExpiry)
                        && !signals::is_whole_of_a_pool(signal, names()),
                    work: kind == SignalKind::Throughput
                        && !signals::is_miss(signal)
                        && !signals::is_retry(signal),
                    bound,
                }
            })
            .collect()
    }

    /// An error or success share: what [`SimWorld::done_share`] reads failing work from.
    fn share(&self) -> bool {
        self.error_share || self.success_share
    }
}

impl SimWorld {
    /// The world of `scenario` with `seed`, started at `started` (the fault began
    /// `onset_minutes_ago` before that).
    pub fn new(scenario: Scenario, seed: u64, started: Timestamp) -> Self {
        Self {
            hops: hops_to(&scenario, &scenario.fault.component),
            felt: scenario
                .fault
                .effects
                .iter()
                .filter(|(signal, effect)| {
                    crate::health::felt_by_callers(signal)
                        && !more_work_arriving(&scenario, signal, effect)
                })
                .map(|(_, effect)| *effect)
                .collect(),
            traits: std::sync::Arc::new(scenario.services.iter().map(Traits::of_service).collect()),
            scenario,
            seed,
            started,
            applied: Vec::new(),
            log_rate: 1.0,
            effect_speed: 1.0,
        }
    }

    /// Makes remediations take effect `factor` times sooner than their `minutes_to_effect`
    /// (1.0 = as written): a demo should not wait two real minutes for a pool to grow.
    pub fn with_effect_speed(mut self, factor: f64) -> Self {
        self.effect_speed = if factor.is_finite() && factor > 0.0 {
            factor
        } else {
            1.0
        };
        self
    }

    /// Multiplies every log template's rate (1.0 = as written): benchmarks ask for millions of
    /// lines, which are generated a second at a time like any other volume.
    pub fn with_log_rate(mut self, factor: f64) -> Self {
        self.log_rate = factor.max(0.0);
        self
    }

    /// The scenario being played.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// When the world started.
    pub fn started(&self) -> Timestamp {
        self.started
    }

    /// When the fault began.
    pub fn onset(&self) -> Timestamp {
        self.started - minutes(self.scenario.fault.onset_minutes_ago)
    }

    /// Actions applied so far.
    pub fn applied(&self) -> &[Applied] {
        &self.applied
    }

    /// Applies `action` on `target` at `at`; its effect unfolds over the action's
    /// `minutes_to_effect`.
    pub fn apply(
        &mut self,
        action: &str,
        target: &str,
        at: Timestamp,
    ) -> Result<&Action, SimError> {
        let Some(index) = self
            .scenario
            .actions
            .iter()
            .position(|a| a.name == action && a.target == target)
        else {
            return Err(SimError::UnknownAction {
                action: action.into(),
                target: target.into(),
                offered: self
                    .scenario
                    .actions
                    .iter()
                    .map(|a| format!("{}@{}", a.name, a.target))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        self.applied.push(Applied {
            action: action.into(),
            target: target.into(),
            at,
            rollback: false,
        });
        Ok(&self.scenario.actions[index])
    }

    /// Undoes the latest application of `action` on `target` at `at`: its effect ends then.
    pub fn undo(&mut self, action: &str, target: &str, at: Timestamp) -> Result<(), SimError> {
        let live = self.applied_actions().any(|(a, x, until)| {
            a.action == action && a.target == target && until.is_none() && x.reversible
        });
        if !live {
            return Err(SimError::NothingToUndo {
                action: action.into(),
                target: target.into(),
            });
        }
        self.applied.push(Applied {
            action: action.into(),
            target: target.into(),
            at,
            rollback: true,
        });
        Ok(())
    }

    /// Replays actions applied elsewhere (kept in the store), so worlds on one data directory agree.
    pub fn with_applied(mut self, applied: Vec<Applied>) -> Self {
        self.applied = applied;
        self
    }

    /// How strongly the fault acts at `at`: 0 before onset, up to 1, back to 0 once fixed.
    pub fn fault_strength(&self, at: Timestamp) -> f64 {
        let fault = &self.scenario.fault;
        let since = minutes_between(self.onset(), at);
        if since < 0.0 {
            return 0.0;
        }
        let grown = match fault.shape {
            Shape::Step => 1.0,
            Shape::Ramp => (since / fault.ramp_minutes).min(1.0),
        };
        grown * self.remedied(at)
    }

    /// How strongly one of the fault's effects acts at `at`: as the fault, or by its own delay,
    /// shape and decay; a fix ends it all the same.
    fn effect_strength(&self, effect: &Effect, at: Timestamp) -> f64 {
        let fault = &self.scenario.fault;
        let since = minutes_between(self.onset(), at) - effect.delay_minutes;
        if since < 0.0 {
            return 0.0;
        }
        let ramp = effect.ramp_minutes.unwrap_or(fault.ramp_minutes);
        let (grown, full_after) = match effect.shape.unwrap_or(fault.shape) {
            Shape::Step => (1.0, 0.0),
            Shape::Ramp => ((since / ramp).min(1.0), ramp),
        };
        let left = effect
            .decay_minutes
            .map_or(1.0, |d| (1.0 - (since - full_after).max(0.0) / d).max(0.0));
        grown * left * self.remedied(at)
    }

    /// How strongly the fault's component shows its trouble to its callers at `at`: what its
    /// own latency, errors, lost throughput or availability do, when the fault says (a disk
    /// filling for an hour fails writes only once it is full, and callers feel nothing
    /// before); the fault's strength when it says nothing of them.
    fn felt_strength(&self, at: Timestamp) -> f64 {
        if self.felt.is_empty() {
            return self.fault_strength(at);
        }
        self.felt
            .iter()
            .map(|e| {
                if e.timed() {
                    self.effect_strength(e, at)
                } else {
                    self.fault_strength(at)
                }
            })
            .fold(0.0, f64::max)
    }

    /// What the actions applied so far leave of the fault at `at` (1: untouched).
    fn remedied(&self, at: Timestamp) -> f64 {
        let mut strength = 1.0;
        for (applied, action, until) in self.applied_actions() {
            let after = minutes_between(applied.at, at);
            if after < 0.0 || until.is_some_and(|u| at >= u) {
                continue;
            }
            let to_effect = action.minutes_to_effect / self.effect_speed;
            let progress = (after / to_effect.max(f64::EPSILON)).min(1.0);
            strength *= match action.outcome {
                Outcome::Fixes => 1.0 - progress,
                // Relief for a while, then the fault is back.
                Outcome::Masks if after < to_effect + 10.0 / self.effect_speed => 0.3,
                // The fault stays where it is; only what reaches the callers ends.
                Outcome::Masks | Outcome::Nothing | Outcome::Worsens | Outcome::Reroutes => 1.0,
            };
        }
        strength
    }

    /// How much of the fault still reaches `service` through its calls at `at`: 1, falling to
    /// 0 as an action that moves callers off the fault's component — or off a service between
    /// it and `service` — takes effect. The component itself stays as it is.
    fn still_routed(&self, service: &str, at: Timestamp) -> f64 {
        let mut share = 1.0;
        for (applied, action, until) in self.applied_actions() {
            let after = minutes_between(applied.at, at);
            if action.outcome != Outcome::Reroutes || after < 0.0 || until.is_some_and(|u| at >= u)
            {
                continue;
            }
            let moved = action.target == self.scenario.fault.component
                || action.target == service
                || self
                    .scenario
                    .dependents_through(&action.target)
                    .contains(service);
            if moved {
                let to_effect = action.minutes_to_effect / self.effect_speed;
                share *= 1.0 - (after / to_effect.max(f64::EPSILON)).min(1.0);
            }
        }
        share
    }

    /// A fixing action is applied and not rolled back at `at`.
    fn fixing(&self, at: Timestamp) -> bool {
        self.applied_actions().any(|(applied, action, until)| {
            action.outcome == Outcome::Fixes && applied.at <= at && until.is_none_or(|u| at < u)
        })
    }

    /// Each application with its action and, if it was rolled back, when.
    fn applied_actions(&self) -> impl Iterator<Item = (&Applied, &Action, Option<Timestamp>)> {
        self.applied.iter().enumerate().filter_map(|(i, a)| {
            if a.rollback {
                return None;
            }
            let until = self.applied[i + 1..]
                .iter()
                .find(|r| r.rollback && r.action == a.action && r.target == a.target)
                .map(|r| r.at);
            self.scenario
                .actions
                .iter()
                .find(|x| x.name == a.action && x.target == a.target)
                .map(|x| (a, x, until))
        })
    }

    /// Every signal of `service` at `at`; `None` for an unknown service.
    pub fn signals(&self, service: &str, at: Timestamp) -> Option<BTreeMap<String, f64>> {
        let index = self
            .scenario
            .services
            .iter()
            .position(|s| s.name == service)?;
        Some(
            self.readings(index, at, |_| true)
                .into_iter()
                .map(|r| (r.signal.clone(), r.value))
                .collect(),
        )
    }

    /// The signals of the service at `index` at `at` that `keep` accepts (the others are not
    /// computed), in baseline order.
    fn readings(
        &self,
        index: usize,
        at: Timestamp,
        keep: impl Fn(&Traits) -> bool,
    ) -> Vec<SimReading<'_>> {
        let svc = &self.scenario.services[index];
        let service = svc.name.as_str();
        // Noise is keyed to time since the world started, not to the clock: the same seed then
        // gives the same series whenever it is run, so an evaluation can be repeated.
        let tick = (at.as_second() - self.started.as_second()).div_euclid(TICK_S);
        let strength = self.fault_strength(at);
        let fault = &self.scenario.fault;
        let hops = self.hops_from_fault(service);
        let felt = if hops.is_some() {
            self.felt_strength(at)
        } else {
            0.0
        };
        let mut out = Vec::with_capacity(svc.baseline.len());
        let kept = svc
            .baseline
            .iter()
            .zip(self.traits[index].iter())
            .filter(|(_, t)| keep(t));
        for ((signal, base), t) in kept {
            let mut value = *base;
            if service == fault.component
                && let Some(effect) = fault.effects.get(signal)
            {
                // A fix of an expired certificate installs a new one: what it counts down
                // from then is a fresh certificate's lifetime, not the few days the old one
                // had left when the story began.
                if t.kind == SignalKind::CertExpiry && self.fixing(at) {
                    value = if t.expired_flag {
                        0.0
                    } else {
                        value.max(RENEWED_CERT_DAYS)
                    };
                }
                let strength = if effect.timed() {
                    self.effect_strength(effect, at)
                } else {
                    strength
                };
                value = apply_effect(value, effect, strength);
            }
            if let Some(h) = hops {
                let reach = felt / 2f64.powi(h as i32 - 1) * self.still_routed(service, at);
                if t.kind == SignalKind::Latency
                    && let Some(f) = fault.propagation.latency_factor
                {
                    value *= 1.0 + (f - 1.0) * reach;
                }
                if t.error_share
                    && let Some(e) = fault.propagation.error_rate
                {
                    value += failing_delta(t, e * reach);
                }
            }
            for v in fault.victims.iter().filter(|v| v.service == service) {
                if let Some(effect) = v.effects.get(signal) {
                    let strength = if effect.timed() {
                        self.effect_strength(effect, at)
                    } else {
                        strength
                    };
                    value = apply_effect(value, effect, strength);
                }
            }
            for r in &self.scenario.red_herrings {
                if r.service == service
                    && self.within(r.start_minutes_ago, r.duration_minutes, at)
                    && let Some(effect) = r.effects.get(signal)
                {
                    // Load the fault pushes here ends with the fault, or when callers are
                    // moved off it.
                    let strength = if r.follows_fault {
                        strength * self.still_routed(&r.service, at)
                    } else {
                        1.0
                    };
                    value = apply_effect(value, effect, strength);
                }
            }
            for (applied, action, until) in self.applied_actions() {
                let after = minutes_between(applied.at, at);
                if until.is_some_and(|u| at >= u) {
                    continue;
                }
                if action.outcome == Outcome::Worsens
                    && action.target == service
                    && (0.0..action.minutes_to_effect / self.effect_speed).contains(&after)
                {
                    // A restart drops in-flight work: errors, then a cold start.
                    if t.error_share {
                        value += failing_delta(t, 0.25);
                    }
                    if t.kind == SignalKind::Latency {
                        value *= 3.0;
                    }
                }
            }
            // Configured limits (a pool's size, a certificate's expiry) do not jitter.
            if t.jitters {
                let jitter = Noise::new(self.seed).signed(&[service, signal], tick as u64);
                value *= 1.0 + svc.noise * jitter;
            }
            out.push(SimReading {
                signal,
                traits: t,
                base: *base,
                value: round(value, signal),
            });
        }
        // What cannot exceed its bound does not: a pool's units in use, percentages, fractions.
        // Every bound is read before any is applied.
        let every = out.len() == svc.baseline.len();
        let bounds: Vec<(usize, f64)> = out
            .iter()
            .enumerate()
            .filter(|(_, r)| r.traits.kind == SignalKind::PoolUsage)
            .filter_map(|(i, r)| {
                // With every signal read, positions in `out` are baseline positions; with
                // some, the bound is sought among those read.
                let limit = if every {
                    r.traits.bound?
                } else {
                    let name = signals::limit_for(r.signal, out.iter().map(|o| o.signal.as_str()))?;
                    out.iter().position(|o| o.signal == name)?
                };
                let max = out[limit].value;
                // A bound the signal's normal value exceeds is not its bound.
                (r.base <= max).then_some((i, max))
            })
            .collect();
        for (i, max) in bounds {
            out[i].value = out[i].value.min(max);
        }
        for r in &mut out {
            if r.traits.percent {
                r.value = r.value.min(100.0);
            } else if r.signal.ends_with("_ratio") || r.traits.error_share {
                r.value = r.value.min(1.0);
            }
            if r.traits.success_share {
                r.value = r.value.max(0.0);
            }
        }
        out
    }

    /// The share of its usual work the service at `index` is doing at `at`, from 0 to 1: what
    /// reaches it, less what fails beyond its normal. What reaches it is its requests (or
    /// messages, or queries) per second against their baseline, the best kept of them when it
    /// counts several; within a tenth of the baseline (its noise) it is all, and it is all when
    /// it counts none or has more than usual — which of its routine lines are per request is
    /// not known, so more work writes no more of them. What fails is read from its error (or
    /// success) share signals.
    fn done_share(&self, index: usize, at: Timestamp) -> f64 {
        let now = self.readings(index, at, |t| t.share() || t.work);
        let failing = now
            .iter()
            .filter(|r| r.traits.share())
            .map(|r| {
                let whole = if r.traits.percent { 100.0 } else { 1.0 };
                if r.traits.error_share {
                    (r.value - r.base) / whole
                } else {
                    (r.base - r.value) / whole
                }
            })
            .fold(0.0, f64::max)
            .clamp(0.0, 1.0);
        let reaching = now
            .iter()
            .filter(|r| r.traits.work && r.base > 0.0)
            .map(|r| r.value / (0.9 * r.base))
            .reduce(f64::max)
            .unwrap_or(1.0)
            .clamp(0.0, 1.0);
        (1.0 - failing) * reaching
    }

    /// Hops from `service` down to the faulty component through `depends_on` (1 = calls it).
    fn hops_from_fault(&self, service: &str) -> Option<u32> {
        self.hops.get(service).copied()
    }

    fn within(&self, start_minutes_ago: f64, duration_minutes: f64, at: Timestamp) -> bool {
        let start = self.started - minutes(start_minutes_ago);
        let m = minutes_between(start, at);
        (0.0..duration_minutes).contains(&m)
    }

    /// Log lines of every service from `from` (inclusive) to `to` (exclusive), in time order,
    /// generated a second at a time: memory stays bounded whatever the window.
    pub fn logs(&self, from: Timestamp, to: Timestamp) -> impl Iterator<Item = LogLine> + '_ {
        let first = from.as_second();
        let last = to.as_second();
        (first..last).flat_map(move |second| {
            let mut lines = self.second_of_logs(second);
            lines.retain(|l| l.at >= from && l.at < to);
            lines.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.service.cmp(&b.service)));
            lines
        })
    }

    /// [`SimWorld::logs`] for a shared world: the iterator owns what it needs and can move to
    /// a blocking thread.
    pub fn logs_shared(
        world: std::sync::Arc<Self>,
        from: Timestamp,
        to: Timestamp,
    ) -> impl Iterator<Item = LogLine> + Send + 'static {
        (from.as_second()..to.as_second()).flat_map(move |second| {
            let mut lines = world.second_of_logs(second);
            lines.retain(|l| l.at >= from && l.at < to);
            lines.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.service.cmp(&b.service)));
            lines
        })
    }

    fn second_of_logs(&self, second: i64) -> Vec<LogLine> {
        let at = Timestamp::from_second(second).unwrap_or(self.started);
        let strength = self.fault_strength(at);
        let felt = self.felt_strength(at);
        let fault = &self.scenario.fault;
        let noise = Noise::new(self.seed);
        // Keyed to seconds since the start, like the metrics' noise (see `signals`).
        let since = (second - self.started.as_second()) as u64;
        let mut lines = Vec::new();
        for (index, svc) in self.scenario.services.iter().enumerate() {
            // Work that fails is not also logged as done, nor is work that never arrives: a
            // service's routine lines thin out by the share of its work failing beyond
            // normal, and when less work reaches it than usual (gone, or starved).
            let done = self.done_share(index, at);
            let mut sources: Vec<(&LogTemplate, f64, &str)> = svc
                .logs
                .iter()
                .map(|t| {
                    let routine = matches!(t.level, Level::Info | Level::Debug);
                    (t, if routine { done } else { 1.0 }, "base")
                })
                .collect();
            // Lines written once, when what writes them begins: (template, when).
            let mut once: Vec<(&LogTemplate, Timestamp)> = Vec::new();
            let onset = self.onset();
            let begins_now = |t: Timestamp| t.as_second() == second;
            // The fault's lines begin at onset, or `delay_minutes` after it.
            let from = |t: &LogTemplate| onset + minutes(t.delay_minutes);
            let begun = |t: &&LogTemplate| at >= from(t);
            if svc.name == fault.component {
                if strength > 0.0 {
                    sources.extend(
                        fault
                            .logs
                            .iter()
                            .filter(|t| !t.once)
                            .filter(begun)
                            .map(|t| (t, strength, "fault")),
                    );
                }
                once.extend(
                    fault
                        .logs
                        .iter()
                        .filter(|t| t.once && begins_now(from(t)))
                        .map(|t| (t, from(t))),
                );
            }
            if let Some(h) = self.hops_from_fault(&svc.name) {
                let own = |t: &&LogTemplate| t.written_by(&svc.name);
                let reach = felt / 2f64.powi(h as i32 - 1) * self.still_routed(&svc.name, at);
                if reach > 0.0 {
                    sources.extend(
                        fault
                            .propagation
                            .logs
                            .iter()
                            .filter(|t| !t.once)
                            .filter(own)
                            .filter(begun)
                            .map(|t| (t, reach, "propagation")),
                    );
                }
                once.extend(
                    fault
                        .propagation
                        .logs
                        .iter()
                        .filter(|t| t.once && begins_now(from(t)))
                        .filter(own)
                        .map(|t| (t, from(t))),
                );
            }
            for v in fault.victims.iter().filter(|v| v.service == svc.name) {
                if strength > 0.0 {
                    sources.extend(
                        v.logs
                            .iter()
                            .filter(|t| !t.once)
                            .filter(begun)
                            .map(|t| (t, strength, "victim")),
                    );
                }
                once.extend(
                    v.logs
                        .iter()
                        .filter(|t| t.once && begins_now(from(t)))
                        .map(|t| (t, from(t))),
                );
            }
            for r in &self.scenario.red_herrings {
                if r.service != svc.name {
                    continue;
                }
                if self.within(r.start_minutes_ago, r.duration_minutes, at) {
                    let scale = if r.follows_fault {
                        strength * self.still_routed(&r.service, at)
                    } else {
                        1.0
                    };
                    sources.extend(
                        r.logs
                            .iter()
                            .filter(|t| !t.once)
                            .map(|t| (t, scale, "herring")),
                    );
                }
                let begins = self.started - minutes(r.start_minutes_ago);
                if begins_now(begins) {
                    once.extend(r.logs.iter().filter(|t| t.once).map(|t| (t, begins)));
                }
            }
            for (i, (template, when)) in once.into_iter().enumerate() {
                let key = [svc.name.as_str(), "once", template.message.as_str()];
                lines.push(self.line(svc, template, &noise, &key, i as u64, when));
            }
            for (i, (template, scale, origin)) in sources.into_iter().enumerate() {
                let key = [svc.name.as_str(), origin, template.message.as_str()];
                let expected = template.per_minute / 60.0 * scale * self.log_rate;
                // Stochastic rounding keeps the average rate exact without a stream RNG.
                let count = (expected + noise.unit(&key, since)).floor() as u64;
                for n in 0..count {
                    // Distinct per line even at high rates: second, template, line number.
                    let salt = since << 32 | (i as u64) << 24 | n;
                    let ms = (noise.unit(&[&svc.name, "ms"], salt) * 1000.0) as i64;
                    let when = at + SignedDuration::from_millis(ms);
                    lines.push(self.line(svc, template, &noise, &key, salt, when));
                }
            }
        }
        lines
    }

    /// The value of `key` in `svc`'s state at `at`: the latest event, or action in effect
    /// and not undone, that set it, else the service's own.
    fn state_at<'a>(
        &'a self,
        svc: &'a Service,
        key: &str,
        at: Timestamp,
    ) -> Option<&'a ParamValue> {
        let own = svc.state.get(key)?;
        let events = self
            .scenario
            .events
            .iter()
            .filter(|e| e.service == svc.name)
            .filter_map(|e| Some((self.started - minutes(e.minutes_ago), e.sets.get(key)?)));
        let actions = self
            .applied_actions()
            .filter(|(a, _, until)| a.target == svc.name && until.is_none_or(|u| at < u))
            .filter_map(|(a, x, _)| {
                let from = a.at + minutes(x.minutes_to_effect / self.effect_speed);
                Some((from, x.sets.get(key)?))
            });
        let latest = events
            .chain(actions)
            .filter(|(from, _)| *from <= at)
            .max_by_key(|(from, _)| *from);
        Some(latest.map_or(own, |(_, v)| v))
    }

    /// One line of `template` written by `svc` at `when`.
    fn line(
        &self,
        svc: &Service,
        template: &LogTemplate,
        noise: &Noise,
        key: &[&str; 3],
        salt: u64,
        when: Timestamp,
    ) -> LogLine {
        let message = render(template, noise, key, salt, when, |k| {
            self.state_at(svc, k, when)
        });
        let native = style::Line {
            at: when,
            service: &svc.name,
            kind: svc.kind,
            level: template.level,
            template: &template.message,
            message: &message,
            noise,
            salt,
        };
        LogLine {
            at: when,
            service: svc.name.clone(),
            level: template.level,
            text: style::format_line(svc.log_format, &native),
        }
    }
}

/// For every service with a path to `target` through `depends_on`, the length of the shortest
/// one (1 = calls it; `target` itself only when a cycle leads back to it): one walk up the
/// callers from `target`, instead of one walk down from every service.
fn hops_to(scenario: &Scenario, target: &str) -> BTreeMap<String, u32> {
    let mut callers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in &scenario.services {
        for d in &s.depends_on {
            callers.entry(d.as_str()).or_default().push(s.name.as_str());
        }
    }
    let mut hops = BTreeMap::new();
    let mut frontier = vec![target];
    let mut hop = 0;
    while !frontier.is_empty() {
        hop += 1;
        let mut next = Vec::new();
        for s in frontier {
            for &c in callers.get(s).map(Vec::as_slice).unwrap_or(&[]) {
                if !hops.contains_key(c) {
                    hops.insert(c.to_string(), hop);
                    next.push(c);
                }
            }
        }
        frontier = next;
    }
    hops
}

/// Whether `effect` on the fault's `signal` is more work reaching its component (its
/// request rate raised): that arrives from its callers, they do not feel it.
fn more_work_arriving(scenario: &Scenario, signal: &str, effect: &Effect) -> bool {
    if kind(signal) != SignalKind::Throughput {
        return false;
    }
    let base = scenario
        .services
        .iter()
        .find(|s| s.name == scenario.fault.component)
        .and_then(|s| s.baseline.get(signal).copied());
    match base {
        Some(b) => apply_effect(b, effect, 1.0) > b,
        None => effect.factor.is_some_and(|f| f > 1.0),
    }
}

fn apply_effect(value: f64, effect: &Effect, strength: f64) -> f64 {
    match (effect.factor, effect.to) {
        (Some(f), _) => value * (1.0 + (f - 1.0) * strength),
        (None, Some(to)) => value + (to - value) * strength,
        (None, None) => value,
    }
}

fn round(value: f64, signal: &str) -> f64 {
    let value = value.max(0.0);
    if signal.ends_with("_rate") && !signal.starts_with("request") || signal.ends_with("_ratio") {
        (value * 10_000.0).round() / 10_000.0
    } else {
        (value * 10.0).round() / 10.0
    }
}

fn render<'a>(
    template: &LogTemplate,
    noise: &Noise,
    key: &[&str],
    salt: u64,
    at: Timestamp,
    state: impl Fn(&str) -> Option<&'a ParamValue>,
) -> String {
    let mut out = String::with_capacity(template.message.len() + 16);
    // A message that does not walk (an unclosed brace) never passes validation.
    let _ = scenario::walk(&template.message, |piece| {
        let name = match piece {
            Piece::Text(text) => return out.push_str(text),
            Piece::Hole(name) => name,
        };
        // `{req.path}` and `{req.status}` pick the same value of `req`: one draw per param.
        let (param, field) = match name.split_once('.') {
            Some((param, field)) if template.params.contains_key(param) => (param, Some(field)),
            _ => (name, None),
        };
        let u = noise.unit(&[key[0], key[2], param], salt);
        if let Some(field) = field {
            let value = match template.params.get(param) {
                Some(Param::OneOf(values)) if !values.is_empty() => {
                    values[((u * values.len() as f64) as usize).min(values.len() - 1)].field(field)
                }
                Some(Param::One(value)) => value.field(field),
                _ => None,
            };
            if let Some(value) = value {
                let _ = write!(out, "{value}");
            }
            return;
        }
        match template.params.get(name) {
            Some(Param::OneOf(values)) if !values.is_empty() => {
                let value = &values[((u * values.len() as f64) as usize).min(values.len() - 1)];
                // Written in place: a string value costs no allocation per line.
                let _ = write!(out, "{value}");
            }
            Some(Param::Range { min, max }) => {
                let span = (max - min + 1) as f64;
                out.push_str(&(min + (u * span) as i64).min(*max).to_string());
            }
            Some(Param::One(value)) => {
                let _ = write!(out, "{value}");
            }
            // A param of that name wins over a state value, and both over the built-in time.
            Some(Param::OneOf(_)) => {}
            None => match (state(name), TimeFormat::of(name)) {
                (Some(value), _) => {
                    let _ = write!(out, "{value}");
                }
                (None, _) if name == scenario::TRACE_ID => {
                    // One of a few requests in flight this second, world-wide.
                    let second = at.as_second() as u64;
                    let k = (u * TRACES_PER_SECOND as f64) as u64;
                    let n = second * TRACES_PER_SECOND + k;
                    let _ = write!(
                        out,
                        "{:016x}{:016x}",
                        noise.bits(&["trace"], n),
                        noise.bits(&["trace", "low"], n)
                    );
                }
                (None, Some(Ok(format))) => out.push_str(&time_text(format, at)),
                _ => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            },
        }
    });
    out
}

fn time_text(format: TimeFormat, at: Timestamp) -> String {
    match format {
        TimeFormat::Rfc3339 => at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        TimeFormat::Epoch => at.as_second().to_string(),
        TimeFormat::EpochMs => at.as_millisecond().to_string(),
        TimeFormat::Clf => style::clf(at),
    }
}

/// How much a share of `more` failing work (a fraction of one) moves `signal`: an error share
/// rises by it, a success share falls by it, in the signal's own unit.
fn failing_delta(signal: &Traits, more: f64) -> f64 {
    let whole = if signal.percent { 100.0 } else { 1.0 };
    if signal.success_share {
        -more * whole
    } else {
        more * whole
    }
}

fn minutes(m: f64) -> SignedDuration {
    SignedDuration::from_millis((m * 60_000.0) as i64)
}

fn minutes_between(from: Timestamp, to: Timestamp) -> f64 {
    to.duration_since(from).as_secs_f64() / 60.0
}

#[cfg(test)]
mod style_tests;
#[cfg(test)]
mod tests;
