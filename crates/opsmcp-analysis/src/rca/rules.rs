//! One rule per kind of cause: how strongly the evidence on a component says "this kind".
//!
//! Each rule reads the component's signals by kind ([`crate::signals::SignalKind`], never by
//! one exporter's name), the change events just before its onset, and the words of its new
//! and bursting log templates (and, at half weight, its direct callers'). It returns an
//! absolute strength — not a share among rules — in evidence units: about 1 is a hint, 2 a
//! clear sign, 3 or more a decisive one (a pool at its maximum, a disk full, a certificate
//! expired). [`super::confidence`] turns strength into a probability.

use jiff::{SignedDuration, Timestamp};
use opsmcp_world::WorldEvent;

use super::{
    CHANGE_LEAD, Evidence, Facts, Inputs, RootCause, at, changes_before, describe, keyword_hits,
};
use crate::{
    metrics::SeriesChange,
    signals::{self, SignalKind},
};

/// What a rule found.
pub(crate) struct Rule {
    pub cause: RootCause,
    pub strength: f64,
    pub pro: Vec<Evidence>,
    pub con: Vec<Evidence>,
}

/// A pool at its maximum: decisive.
const AT_LIMIT: f64 = 2.5;
/// A pool well above its normal use but below its maximum: busy, not exhausted.
const BUSY: f64 = 0.5;
/// Work waiting for a pool unit.
const WAITING: f64 = 1.5;
/// Latency on a saturated component: callers wait for a unit.
const SATURATED_AND_SLOW: f64 = 0.5;
/// Memory climbing.
const MEMORY: f64 = 1.5;
/// Each supporting sign of memory pressure (GC pauses, restarts, OOM kills).
const MEMORY_SIGN: f64 = 0.5;
/// What is left of a change that names nothing of what moved when more work than usual
/// arrives from above, sent by a run or a scale-out on what calls it.
const SENT_FROM_ABOVE: f64 = 0.5;
/// How long memory must go on climbing to be a leak's ramp rather than a step.
pub(crate) const LEAK_CLIMB: SignedDuration = SignedDuration::from_mins(30);
/// How long before memory filled work must have begun to wait for the memory to be its.
const WAITED_FIRST: SignedDuration = SignedDuration::from_mins(1);
/// How long memory must have held level, with the trouble going on, to be no leak's climb.
const LEVEL_HELD: SignedDuration = SignedDuration::from_mins(10);
/// Disk or inodes out of range, and again when full.
const DISK: f64 = 2.0;
/// A certificate expired.
const EXPIRED: f64 = 3.0;
/// The cache hit ratio fell.
const CACHE_HIT: f64 = 2.0;
/// A hit ratio below this share of its normal value has collapsed: the cache is as good as
/// empty.
const COLLAPSED: f64 = 0.5;
/// A collapsed hit ratio: decisive.
const CACHE_COLLAPSED: f64 = 1.0;
/// A scheduled job started just before the onset.
const JOB_STARTED: f64 = 1.5;
/// The component's own resources rose with it.
const JOB_RESOURCE: f64 = 1.0;
/// … and drove one of them to its limit.
const JOB_AT_LIMIT: f64 = 0.5;
/// A service that normally idles now burning this many times its usual CPU is spinning; a
/// busy one getting busier (a database at three times its load) is not.
const SPINNING_RATIO: f64 = 4.0;
/// A CPU rise, in points, that is most of a core's worth of work: what a runaway loop uses.
const SPINNING_RISE: f64 = 60.0;
/// What is left of a runaway without a scheduled job to name, when the CPU spins without more
/// work arriving.
const UNSCHEDULED_SPIN: f64 = 1.0;
/// Latency is what we see of a slow dependency.
const SLOW: f64 = 1.0;
/// An external service: its slowness is not ours to fix in code.
const EXTERNAL: f64 = 1.5;
/// Slow without any saturation of its own.
const SLOW_ONLY: f64 = 0.5;
/// The most "slow" can say of an internal service, whatever its logs add: slowness is a
/// symptom there, and why it is slow is the cause we have not found.
const INTERNAL_SLOWNESS_CAP: f64 = 1.0;
/// The storage beneath an internal service waits (its disk queue, its I/O time) with its
/// latency, and nothing of its own — no change, no job, nothing full — explains why: the
/// volume under it is slow, which is a slow dependency of its own.
const STORAGE_SLOW: f64 = 1.0;
/// The most slowness over slow storage can say of an internal service.
const STORAGE_SLOWNESS_CAP: f64 = 2.5;
/// What is left of "slow" when a signal of the component's own explains the latency.
const EXPLAINED_SLOWNESS: f64 = 0.5;
/// A deploy just before the onset.
const DEPLOYED: f64 = 2.5;
/// A config push just before the onset.
const CONFIGURED: f64 = 2.0;
/// How soon after a change its trouble shows at full weight.
const PROMPT: SignedDuration = SignedDuration::from_mins(5);
/// Errors or latency on the changed component.
const CHANGE_HURT: f64 = 0.5;
/// A change whose description names what moved on the component (the MR that set an
/// ejection rule, and ejections are what rose): it touched what broke.
const NAMES_WHAT_MOVED: f64 = 1.0;
/// What is left of a change beside another change on the same component that names what
/// moved while this one does not.
const BESIDE_ONE_THAT_NAMES_IT: f64 = 0.5;
/// What is left of a change beside another of the other kind on the same component, landed
/// within minutes of it, when neither names what moved.
const SAME_MINUTES: f64 = 0.5;
/// Distinct words a change and what moved must share to name it: one shared word is often
/// chance.
const NAMING_WORDS: usize = 2;
/// What is left of a change when nothing of the changed component's own moved.
const UNHURT: f64 = 0.3;
/// Nothing of it answers or runs any more: decisive when all of it is gone.
const GONE: f64 = 3.0;
/// Part of it is gone.
const PARTLY_GONE: f64 = 2.0;
/// Its processes keep dying and coming back: what happens, not why — short of acting on alone.
const RESTARTING: f64 = 1.5;
/// … many times: a crash loop.
const LOOPING: f64 = 0.3;
/// How close the end of a memory climb and a death must be for the one to explain the other.
const DIED_WITHIN: SignedDuration = SignedDuration::from_mins(2);
/// The most a crash loop can say, whatever its logs add: that it dies is what happens; why
/// (a change, a leak, a message it cannot read) is the cause, and unknown until found.
const CRASH_LOOP_CAP: f64 = 1.0;
/// What is left of an outage or a crash loop when a change on the component came just before
/// it, or a specific trouble of its own is there: that is the cause, the outage how it shows.
const CHANGED_BEFORE: f64 = 0.4;
/// The component's logs and a caller's agree on the kind, with no signal of its own.
const AGREED_WORDS: f64 = 1.5;
/// Each log template with the cause's words (at most [`MAX_WORDS`] in all).
const WORD: f64 = 1.0;
const MAX_WORDS: f64 = 1.5;

/// What the rules look at for one component.
pub(crate) struct Ctx<'a, 'b> {
    pub inp: &'a Inputs<'b>,
    pub component: &'a str,
    pub facts: &'a Facts,
    /// Direct callers of the component.
    pub callers: Vec<String>,
}

impl Ctx<'_, '_> {
    /// Its hit ratio fell below half its normal: the cache is (nearly) empty.
    fn cache_collapsed(&self) -> bool {
        self.of(SignalKind::CacheHit)
            .iter()
            .any(|s| s.current < COLLAPSED * s.reference)
    }

    fn of(&self, kind: SignalKind) -> Vec<&SeriesChange> {
        self.inp.of_kind(self.component, kind)
    }

    fn metric(&self, c: &SeriesChange) -> Evidence {
        Evidence {
            kind: "metric",
            service: c.service.clone(),
            detail: describe(c),
            at: c.onset.map(at),
            example: None,
        }
    }

    fn event(&self, e: &WorldEvent, why: &str) -> Evidence {
        Evidence {
            kind: "event",
            service: e.service.clone(),
            detail: format!("{} on {}: {}{why}", e.kind, e.service, e.detail),
            at: Some(at(e.at)),
            example: None,
        }
    }

    fn note(&self, detail: String) -> Evidence {
        Evidence {
            kind: "metric",
            service: self.component.to_string(),
            detail,
            at: None,
            example: None,
        }
    }

    /// Signals of `kind` that the world has for the component but that are normal now.
    fn normal(&self, kind: SignalKind) -> Vec<String> {
        self.inp
            .scan
            .series
            .iter()
            .filter(|s| s.service == self.component && !s.anomalous_now)
            .filter(|s| crate::signals::kind(&s.signal) == kind)
            .map(|s| s.signal.clone())
            .collect()
    }

    /// Adds each out-of-range signal of `kind` as evidence; `hit` for the first, `limit_bonus`
    /// when one reached a hard limit. Notes a normal one against.
    fn signals(&self, kind: SignalKind, hit: f64, limit_bonus: f64, r: &mut Rule) -> f64 {
        let found = self.of(kind);
        if found.is_empty() {
            for name in self.normal(kind) {
                r.con
                    .push(self.note(format!("{name} is within its normal range")));
            }
            return 0.0;
        }
        r.pro.extend(found.iter().map(|c| self.metric(c)));
        hit + if found.iter().any(|c| c.limit.is_some()) {
            limit_bonus
        } else {
            0.0
        }
    }

    fn latency(&self) -> Vec<&SeriesChange> {
        self.of(SignalKind::Latency)
    }

    fn errors(&self) -> bool {
        !self.of(SignalKind::Errors).is_empty()
    }

    /// Any of its own resources out of range: the component is doing more than usual.
    fn own_pressure(&self) -> Vec<&SeriesChange> {
        [
            SignalKind::Cpu,
            SignalKind::Io,
            SignalKind::Memory,
            SignalKind::PoolUsage,
            SignalKind::PoolWaiting,
            SignalKind::Disk,
        ]
        .into_iter()
        .flat_map(|k| self.of(k))
        .collect()
    }

    /// Slow at the bottom of the call graph with nothing to say why: it calls nothing of ours,
    /// no more work reached it, nothing of its own is saturated, full or out of range, nothing
    /// beneath it moved, it throttles nothing (a store refusing work over a limit of its own,
    /// a hot partition, is in trouble of that limit), nothing changed or started on it, and
    /// nothing on what calls it changed how it calls: a caller scaled or a job started on it
    /// (more clients, other traffic), or a release or setting that speaks of it (names it or
    /// what moved on it) — a new way of calling it is a cause of its own; a caller's routine
    /// release that names nothing of it is not. A managed store degraded on its provider's
    /// side looks like this; so does a cause nobody measures, which is why it stays short of
    /// decisive.
    pub(crate) fn slow_alone(&self) -> bool {
        let throttles = self
            .inp
            .changes(self.component)
            .any(|s| signals::is_throttled(&s.signal));
        let changes = |service: &str| {
            ["deploy", "config", "cron", "scale"]
                .iter()
                .flat_map(|k| changes_before(self.inp, service, k, self.facts.onset))
                .collect::<Vec<_>>()
        };
        let named: Vec<String> = signals::words(self.component)
            .into_iter()
            .filter(|w| w.len() >= 3)
            .collect();
        let speaks_of_it = |e: &WorldEvent| {
            signals::words(&e.detail).iter().any(|w| named.contains(w))
                || names_what_moved(self.inp, self.component, e).is_some()
        };
        let changed = |service: &str| !changes(service).is_empty();
        let caller_changed = |service: &str| {
            changes(service)
                .into_iter()
                .any(|e| matches!(e.kind.as_str(), "scale" | "cron") || speaks_of_it(e))
        };
        self.inp.deps(self.component).is_empty()
            && !throttles
            && !self.fails_for_a_reason_it_states()
            && !self.facts.load
            && self.own_pressure().is_empty()
            && self.specific().is_empty()
            && self.of(SignalKind::Platform).is_empty()
            && !changed(self.component)
            && !self.callers.iter().any(|c| caller_changed(c))
    }

    /// New lines of its own at error level, none of which speaks of time (`canceling statement
    /// due to conflict with recovery`): it turns work away for a reason it states, one no rule
    /// reads. Slowness is then how that reason shows, not all there is to see.
    fn fails_for_a_reason_it_states(&self) -> bool {
        // Beside the words of a call that waited past its deadline, those of slowness itself.
        const SLOW_WORDS: &[&str] = &[
            "deadline", "slow", "took", "latency", "duration", "waiting", "elapsed",
        ];
        self.inp.logs_of(self.component).is_some_and(|l| {
            let own_errors: Vec<String> = l
                .new_templates
                .iter()
                .filter(|t| t.errors > 0)
                .map(|t| super::template_text(&t.template, &t.example))
                .collect();
            !own_errors.is_empty()
                && own_errors.iter().all(|t| {
                    !super::TIMEOUT_WORDS
                        .iter()
                        .chain(SLOW_WORDS)
                        .any(|w| t.contains(w))
                })
        })
    }

    /// The I/O of its storage waiting (a disk queue, I/O time, fsyncs) with nothing of its
    /// own to explain it: no change or job on it just before the onset, nothing full. Lock
    /// waits and transactions held open are contention, not storage.
    pub(crate) fn storage_waits(&self) -> Option<&SeriesChange> {
        let unexplained = self.specific().is_empty()
            && ["deploy", "config", "cron", "scale"]
                .iter()
                .all(|k| self.changes(k).is_empty());
        unexplained
            .then(|| {
                self.of(SignalKind::Io)
                    .into_iter()
                    .find(|s| signals::is_storage_io(&s.signal))
            })
            .flatten()
    }

    /// Signals that name a specific kind of trouble of its own (not pressure, not symptoms).
    fn specific(&self) -> Vec<&SeriesChange> {
        [
            SignalKind::CacheHit,
            SignalKind::CertExpiry,
            SignalKind::Restarts,
        ]
        .into_iter()
        .flat_map(|k| self.of(k))
        .chain(
            [SignalKind::PoolUsage, SignalKind::Disk, SignalKind::Memory]
                .into_iter()
                .flat_map(|k| self.of(k))
                .filter(|s| s.limit.is_some()),
        )
        .collect()
    }

    /// Memory signals of the component that rose and came back down when its processes died
    /// or restarted (within [`DIED_WITHIN`] of it): what a kill for memory looks like once the
    /// memory is freed.
    fn climbed_until_it_died(&self) -> Vec<&SeriesChange> {
        let deaths: Vec<Timestamp> = [SignalKind::Availability, SignalKind::Restarts]
            .into_iter()
            .flat_map(|k| self.of(k))
            .filter_map(|s| s.onset)
            .collect();
        self.inp
            .scan
            .series
            .iter()
            .filter(|s| s.service == self.component && !s.anomalous_now)
            .filter(|s| crate::signals::kind(&s.signal) == SignalKind::Memory)
            .filter(|s| {
                s.excursion.is_some_and(|(_, end)| {
                    deaths
                        .iter()
                        .any(|d| end <= *d + DIED_WITHIN && end + DIED_WITHIN >= *d)
                })
            })
            .collect()
    }

    fn changes(&self, kind: &str) -> Vec<&WorldEvent> {
        changes_before(self.inp, self.component, kind, self.facts.onset)
    }

    /// Work that began to wait in it (a queue, callers waiting for a unit) a minute or more
    /// before any of its memory went out of range, with every memory signal level for
    /// [`LEVEL_HELD`] or more since: the waiting signal and how long memory has held.
    fn memory_of_waiting_work(&self) -> Option<(&SeriesChange, SignedDuration)> {
        let memory = self.of(SignalKind::Memory);
        let filled = memory.iter().filter_map(|s| s.onset).min()?;
        let level_since = memory
            .iter()
            .map(|s| s.worsening_until.or(s.onset))
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .max()?;
        let held = self.inp.window.to.duration_since(level_since);
        if held < LEVEL_HELD {
            return None;
        }
        // How far a reader is behind (a consumer's lag) is work held where it was sent, in
        // the broker, not in the reader's memory.
        let waits = [SignalKind::Backlog, SignalKind::PoolWaiting]
            .into_iter()
            .flat_map(|k| self.of(k))
            .filter(|s| !signals::is_reader_behind(&s.signal))
            .filter(|s| s.onset.is_some_and(|t| t + WAITED_FIRST <= filled))
            .min_by_key(|s| s.onset)?;
        Some((waits, held))
    }
}

fn rule(cause: RootCause) -> Rule {
    Rule {
        cause,
        strength: 0.0,
        pro: Vec::new(),
        con: Vec::new(),
    }
}

/// What is left of a change, or of slowness, when trouble beneath the service moved (the
/// network losing packets or cutting its largest packet, CPU stolen, the clock off): a change
/// to its code or settings does not bring that about, and slowness is how it shows.
const BENEATH: f64 = 0.4;
/// The share of calls an external service fails from which it is down rather than slow.
const FAILS_MOST: f64 = 0.5;
/// What is left of "slow" for a vendor that fails most calls: the kind does not describe it.
const DOWN_NOT_SLOW: f64 = 0.15;

/// A pool (connections, threads, workers, clients) at its maximum, or work waiting for one.
pub(crate) fn pool(c: &Ctx) -> Rule {
    let mut r = rule(RootCause::ConnectionPoolExhaustion);
    let usage = c.of(SignalKind::PoolUsage);
    let at_limit: Vec<&&SeriesChange> = usage.iter().filter(|s| s.limit.is_some()).collect();
    if !at_limit.is_empty() {
        r.pro.extend(at_limit.iter().map(|s| c.metric(s)));
        r.strength += AT_LIMIT;
        // Slow, or turning work away (`rejected_connections`, "max number of clients
        // reached"): what a pool at its maximum does to what asks it for more.
        if !c.latency().is_empty() || refuses(c) {
            r.strength += SATURATED_AND_SLOW;
        }
    } else if let Some(s) = usage.first() {
        r.con.push(c.note(format!(
            "{}, but below its maximum: busy, not exhausted",
            describe(s)
        )));
        r.strength += BUSY;
    }
    let waiting = c.of(SignalKind::PoolWaiting);
    if !waiting.is_empty() {
        r.pro.extend(waiting.iter().map(|s| c.metric(s)));
        r.strength += if at_limit.is_empty() {
            WAITING
        } else {
            SATURATED_AND_SLOW
        };
    }
    resized_by_a_change(c, &at_limit, &mut r);
    r
}

/// A pool full at a maximum a change just moved. A change that says it resized the pool (its
/// words name what moved) was a decision about capacity, and the work outgrew it: the pool is
/// the cause to name. So is a change of capacity itself (nodes, replicas or workers lost or
/// removed): it is what a pool's maximum is made of. A release or setting that moved the
/// maximum and says nothing of it did what it did not say: the change is the likelier cause,
/// and the full pool how it shows.
fn resized_by_a_change(c: &Ctx, at_limit: &[&&SeriesChange], r: &mut Rule) {
    let Some((s, before)) = at_limit
        .iter()
        .find_map(|s| s.resized_from.map(|b| (*s, b)))
    else {
        return;
    };
    let Some(e) = ["config", "deploy", "scale"]
        .into_iter()
        .flat_map(|k| c.changes(k))
        .max_by_key(|e| e.at)
    else {
        return;
    };
    if e.kind == "scale" {
        r.pro.push(c.event(
            e,
            &format!(
                " — capacity changed, and with it the pool's maximum (it was {before}): the \
                 pool is now smaller than the work: {}",
                describe(s)
            ),
        ));
    } else if names_what_moved(c.inp, c.component, e).is_some() {
        r.pro.push(c.event(
            e,
            &format!(
                " — it resized the pool (its maximum was {before}), and the work outgrew the \
                 new size: {}",
                describe(s)
            ),
        ));
    } else {
        r.con.push(c.event(
            e,
            &format!(
                " — the maximum moved from {before} with this change, which says nothing of \
                 it: the change did what it did not say, and the full pool is how it shows"
            ),
        ));
        r.strength *= CHANGED_BEFORE;
    }
}

/// Errors of its own that say work was turned away (rejected, refused).
fn refuses(c: &Ctx) -> bool {
    c.of(SignalKind::Errors).iter().any(|s| {
        signals::words(&s.signal)
            .iter()
            .any(|w| matches!(w.as_str(), "rejected" | "refused" | "rejections"))
    })
}

/// Memory climbing, with the runtime's and the kernel's signs of it.
pub(crate) fn memory(c: &Ctx) -> Rule {
    let mut r = rule(RootCause::MemoryLeak);
    let mut mem = c.signals(SignalKind::Memory, MEMORY, 1.0, &mut r);
    if mem == 0.0
        && let Some(climb) = c.climbed_until_it_died().first()
    {
        // Memory is back to nothing because the process that held it is gone.
        r.pro.push(c.note(format!(
            "{} climbed to {} until its process died",
            climb.signal, climb.peak
        )));
        mem = MEMORY + MEMORY_SIGN;
    }
    r.strength += mem;
    // Still climbing long after it began: a leak's ramp, which a version that merely needs
    // more memory (a step, then level) does not draw.
    let leak_ramp = c
        .of(SignalKind::Memory)
        .into_iter()
        .filter_map(|s| Some((s, s.worsening_until?.duration_since(s.onset?))))
        .max_by_key(|(_, climb)| *climb)
        .filter(|(_, climb)| *climb >= LEAK_CLIMB);
    if let Some((s, climb)) = leak_ramp {
        let mut e = c.metric(s);
        e.detail = format!(
            "{} — still climbing {} min after it began: a leak's ramp",
            e.detail,
            climb.as_mins()
        );
        r.pro.push(e);
        r.strength += MEMORY_SIGN;
    }
    for kind in [SignalKind::GcPause, SignalKind::Restarts] {
        let found = c.of(kind);
        if !found.is_empty() {
            r.pro.extend(found.iter().map(|s| c.metric(s)));
            r.strength += MEMORY_SIGN;
        }
    }
    if mem == 0.0 {
        // Pauses or restarts alone are not a leak.
        r.strength *= 0.5;
    }
    // Memory that filled only after work began to wait here, and has held level since, is
    // what the waiting work holds (queued requests, their buffers): a leak fills first and
    // its trouble follows, and it does not stop climbing while its process lives.
    if leak_ramp.is_none()
        && let Some((waits, held)) = c.memory_of_waiting_work()
    {
        r.con.push(c.note(format!(
            "{} began to wait before memory filled, and memory has held level for {} min: \
             what waits holds that memory, not a leak",
            waits.signal,
            held.as_mins()
        )));
        r.strength *= CHANGED_BEFORE;
    }
    // Memory that fills minutes after its settings changed (a cache size, an eviction
    // policy) is the change showing, not a leak: leaks take hours. A new version that leaks
    // is a leak either way, and undoing it is the fix for both.
    if let Some(e) = c.changes("config").first() {
        r.con.push(c.event(
            e,
            " — its settings changed just before memory filled: the likelier cause",
        ));
        r.strength *= CHANGED_BEFORE;
    }
    // Memory that fills as a run started here begins (a backfill, a batch) is that run's
    // work, unless it kept climbing as a leak does: a leak does not start with a job.
    if leak_ramp.is_none()
        && let Some(e) = c.changes("cron").into_iter().find(|e| !is_over(e))
    {
        r.con.push(c.event(
            e,
            " — a run started here just before memory filled: its work, not a leak",
        ));
        r.strength *= CHANGED_BEFORE;
    }
    r
}

/// Whether a run's record says it is over, or that it only put work on a queue.
fn is_over(e: &WorldEvent) -> bool {
    signals::words(&e.detail).iter().any(|w| {
        matches!(
            w.as_str(),
            "completed" | "finished" | "succeeded" | "done" | "ended" | "exited"
        ) || HANDED_OVER.contains(&w.as_str())
    })
}

/// A disk or its inodes filling.
pub(crate) fn disk(c: &Ctx) -> Rule {
    let mut r = rule(RootCause::DiskFull);
    r.strength += c.signals(SignalKind::Disk, DISK, 1.0, &mut r);
    r
}

/// A certificate past its expiry. Expired is a fact, not a matter of degree.
pub(crate) fn certificate(c: &Ctx) -> Rule {
    let mut r = rule(RootCause::CertificateExpired);
    if c.signals(SignalKind::CertExpiry, EXPIRED, 0.0, &mut r) > 0.0 {
        r.strength = EXPIRED;
    }
    r
}

/// A cache that stopped hitting, so its load fell through.
pub(crate) fn cache(c: &Ctx) -> Rule {
    let mut r = rule(RootCause::CacheStampede);
    r.strength += c.signals(SignalKind::CacheHit, CACHE_HIT, 0.0, &mut r);
    if c.cache_collapsed() {
        r.strength += CACHE_COLLAPSED;
    }
    let evicted = c.of(SignalKind::Evictions);
    if !evicted.is_empty() && r.strength > 0.0 {
        r.pro.extend(evicted.iter().map(|s| c.metric(s)));
        r.strength += MEMORY_SIGN;
    }
    r
}

/// A scheduled job that started just before the onset and loads the component — by CPU, I/O,
/// locks, memory or its pool: its harm need not be CPU.
pub(crate) fn job(c: &Ctx) -> Rule {
    let mut r = rule(RootCause::RunawayJob);
    // A job scheduled from a caller that shows no pressure of its own, only what it feels of
    // this component (a maintenance CronJob that asks a database for a force-merge or a full
    // vacuum), runs its work here.
    let quiet_callers = c
        .callers
        .iter()
        .filter(|caller| {
            c.inp.changes(caller).all(|s| {
                matches!(
                    signals::kind(&s.signal),
                    SignalKind::Latency | SignalKind::Errors | SignalKind::Throughput
                )
            })
        })
        .flat_map(|caller| changes_before(c.inp, caller, "cron", c.facts.onset));
    // A run above it that arrives here as more requests than usual, while a pool of its own is
    // at its maximum, is a surge of ordinary work: what that work runs out of is the cause.
    // A job that only asks for work here shows it here: more CPU, more requests, more I/O
    // done, work under way. Storage that only waits longer (and is busy the longer for it),
    // for the same work, is slower, not busier: a job elsewhere explains none of it.
    let waits_only = !c.facts.load
        && c.of(SignalKind::Cpu).is_empty()
        && c.inp.changes(c.component).all(|s| !shows_work(s));
    let quiet_callers: Vec<&WorldEvent> = if waits_only {
        for e in quiet_callers {
            r.con.push(c.event(
                e,
                " — scheduled elsewhere, and nothing here shows its work (no more CPU, requests \
                 or I/O done): only storage that waits longer for the same work",
            ));
        }
        Vec::new()
    } else if c.facts.load && c.inp.pool_at_max(c.component) {
        for e in quiet_callers {
            r.con.push(c.event(
                e,
                " — its work arrives as more requests than usual, and what they run out of here \
                 (a pool at its maximum) is the cause to work on",
            ));
        }
        Vec::new()
    } else {
        quiet_callers.collect()
    };
    // A run its own record says is over loads nothing now; nor does one that only put work
    // on a queue: what it enqueued is the component's ordinary work, and what that work
    // runs out of (its pool, its threads) is the cause to work on.
    let (over, crons): (Vec<&WorldEvent>, Vec<&WorldEvent>) = c
        .changes("cron")
        .into_iter()
        .chain(quiet_callers)
        .partition(|e| is_over(e));
    for e in over {
        r.con.push(c.event(
            e,
            " — its record says it is over, or only queued work: the job itself loads nothing now",
        ));
    }
    for e in &crons {
        r.pro
            .push(c.event(e, " — a scheduled job started just before the onset"));
    }
    let pressure = c.own_pressure();
    if !pressure.is_empty() {
        r.pro.extend(pressure.iter().take(2).map(|s| c.metric(s)));
        r.strength += JOB_RESOURCE;
        if pressure.iter().any(|s| s.limit.is_some()) {
            r.strength += JOB_AT_LIMIT;
        }
    }
    // Its own processes at a core's worth with no more work arriving than usual: something
    // in it is spinning, scheduled or not.
    let spinning = !c.facts.load
        && c.of(SignalKind::Cpu).iter().any(|s| {
            crate::signals::is_percent(&s.signal)
                && s.current - s.reference >= SPINNING_RISE
                && s.current >= SPINNING_RATIO * s.reference
        });
    // A line saying a run started is weaker than a record of one: it counts only while the
    // run is what loads the service (CPU, I/O, a pool). A disk it filled stays full once it
    // ends: the full disk is the story to act on.
    let working = pressure
        .iter()
        .any(|s| signals::kind(&s.signal) != SignalKind::Disk);
    let announced = if crons.is_empty() && working {
        announced_run(c)
    } else {
        None
    };
    if let Some(t) = &announced {
        r.pro.push(Evidence {
            kind: "log",
            service: c.component.to_string(),
            detail: format!(
                "{} says a run started just before the onset (a scheduler inside the service \
                 leaves no other record): {}",
                c.component, t.template
            ),
            at: t.first_seen.clone(),
            example: Some(t.example.clone()),
        });
    }
    if !crons.is_empty() || announced.is_some() {
        r.strength += JOB_STARTED;
    } else {
        r.con.push(c.note(format!(
            "no scheduled job started on {} in the {} minutes before the onset",
            c.component,
            CHANGE_LEAD.as_mins()
        )));
        r.strength *= if spinning { UNSCHEDULED_SPIN } else { 0.3 };
    }
    r
}

/// Words of a line that names a run of work.
const RUN_WORDS: &[&str] = &[
    "job",
    "jobs",
    "cronjob",
    "cron",
    "batch",
    "backfill",
    "reindex",
    "scheduled",
    "scheduler",
];
/// Words of a line that says something began.
const START_WORDS: &[&str] = &[
    "start",
    "starting",
    "started",
    "begin",
    "beginning",
    "began",
    "launching",
    "launched",
    "triggered",
    "kicked",
];

/// A line of the component's own, new and written once or twice, from [`CHANGE_LEAD`] before
/// its onset to a minute after, that says a run of work started (`Starting job
/// SeasonSnapshot trigger=cron(…)`): a scheduler inside the service keeps no record but its
/// log. A line that recurs is the trouble talking, not a start.
fn announced_run(c: &Ctx) -> Option<super::Telling> {
    let onset = c.facts.onset?;
    super::telling_templates(c.inp, c.component)
        .into_iter()
        .find(|t| {
            let w = signals::words(&t.template);
            let has = |any: &[&str]| w.iter().any(|x| any.contains(&x.as_str()));
            t.lines <= 2
                && t.first_at.is_some_and(|f| {
                    f + CHANGE_LEAD >= onset && f <= onset + SignedDuration::from_mins(1)
                })
                && has(RUN_WORDS)
                && has(START_WORDS)
        })
}

/// Whether `s` counts work done: work under way, or I/O that is not a wait (`…_await_ms`,
/// `…_util_percent`: a slower device waits and is busy longer for the same work).
fn shows_work(s: &SeriesChange) -> bool {
    const WAITS: &[&str] = &[
        "await",
        "wait",
        "waits",
        "latency",
        "util",
        "utilization",
        "busy",
        "time",
        "seconds",
        "ms",
        "fsync",
    ];
    explains_quantity(RootCause::RunawayJob, s)
        || (signals::kind(&s.signal) == SignalKind::Io
            && !signals::words(&s.signal)
                .iter()
                .any(|w| WAITS.contains(&w.as_str())))
}

/// The component answers slowly. Strong only for an external service or when nothing of its
/// own is saturated: latency is what every cause looks like from outside.
pub(crate) fn slow(c: &Ctx) -> Rule {
    let mut r = rule(RootCause::SlowDependency);
    let latency = c.latency();
    let Some(first) = latency.first() else {
        return r;
    };
    r.pro.extend(latency.iter().map(|s| c.metric(s)));
    r.strength += SLOW + (first.magnitude / 3.0).min(0.5);
    // Not ours to fix only when it calls nothing of ours: a vendor in front of us (a CDN, a
    // hosted load balancer) is slow because what it calls is.
    let external = c.inp.kind(c.component) == "external" && c.inp.deps(c.component).is_empty();
    if external {
        r.strength += EXTERNAL;
        r.pro.push(Evidence {
            kind: "dependency",
            service: c.component.to_string(),
            detail: format!(
                "{} is an external service: its slowness is not ours to fix in code",
                c.component
            ),
            at: None,
            example: None,
        });
    }
    let beneath = c.of(SignalKind::Platform);
    if (external && c.own_pressure().is_empty() && c.specific().is_empty() && beneath.is_empty())
        || c.slow_alone()
    {
        r.strength += SLOW_ONLY;
    }
    if let Some(io) = c.storage_waits() {
        r.strength += STORAGE_SLOW;
        let mut e = c.metric(io);
        e.detail = format!(
            "{} — the storage beneath {} waits with its latency, and nothing of its own explains why",
            e.detail, c.component
        );
        r.pro.push(e);
    }
    let fails_most = c
        .of(SignalKind::Errors)
        .into_iter()
        .filter(|s| signals::is_error_share(&s.signal))
        .map(|s| signals::failing_fraction(&s.signal, s.current))
        .fold(0.0f64, f64::max);
    if !c.specific().is_empty() {
        // Something of its own explains the latency (a cache that stopped hitting, an
        // expired certificate, a full disk): slowness is then the symptom, not the cause.
        r.strength *= EXPLAINED_SLOWNESS;
    } else if let Some(lost) = external.then(|| lost_inside(c)).flatten() {
        // A vendor that lost a good part of what it holds or serves (attached devices,
        // registered members, live links) is broken inside: slowness is how that shows, and
        // nothing here says what broke.
        r.con.push(c.note(format!(
            "{} fell from {} to {}: {} lost what it serves, an outage inside it rather than \
             slowness, and nothing here says why",
            lost.signal, lost.reference, lost.current, c.component
        )));
        r.strength *= DOWN_NOT_SLOW;
    } else if external && fails_most >= FAILS_MOST {
        // A vendor that turns most calls away is down inside, not slow: what broke in it is
        // not known here, and waiting on it or routing around it is a human's call.
        r.con.push(c.note(format!(
            "{} fails {:.0} % of calls: an outage inside it rather than slowness, and nothing \
             here says why",
            c.component,
            fails_most * 100.0
        )));
        r.strength *= DOWN_NOT_SLOW;
    } else if let Some(beneath) = beneath.first() {
        // The network, host or clock beneath it moved: its slowness is how that shows, and
        // failing over from it, or waiting for it, is no answer to what moved.
        let mut e = c.metric(beneath);
        e.detail = format!(
            "{} — trouble beneath {} (its network, host or clock): the slowness is how that shows",
            e.detail, c.component
        );
        r.con.push(e);
        r.strength *= BENEATH;
    }
    r
}

/// What is left of an unnamed quantity that lost a third or more of its normal.
const LOST_A_THIRD: f64 = 2.0 / 3.0;

/// A quantity of the component that no kind names (neither latency, errors, load nor a
/// resource) and that fell to two thirds of its normal or less, now — not an allowance spent
/// (that is a throttle, and slowness), whether or not it was big enough to count as out of
/// range on its own.
fn lost_inside<'a>(c: &Ctx<'a, '_>) -> Option<&'a SeriesChange> {
    c.inp.scan.series.iter().find(|s| {
        s.service == c.component
            && signals::kind(&s.signal) == SignalKind::Other
            && !signals::is_health_verdict(&s.signal)
            && s.reference > 0.0
            && s.current <= LOST_A_THIRD * s.reference
            && !explains_quantity(RootCause::SlowDependency, s)
    })
}

/// The component is gone: its probes refused or its processes ended.
pub(crate) fn down(c: &Ctx) -> Rule {
    let mut r = rule(RootCause::ServiceDown);
    let gone = c.of(SignalKind::Availability);
    if gone.is_empty() {
        return r;
    }
    r.pro.extend(gone.iter().map(|s| c.metric(s)));
    r.strength += if gone.iter().any(|s| s.limit.is_some()) {
        GONE
    } else {
        PARTLY_GONE
    };
    if let Some(climb) = c.climbed_until_it_died().first() {
        r.con.push(c.note(format!(
            "{} climbed to {} until the process died: memory took it down",
            climb.signal, climb.peak
        )));
        r.strength *= CHANGED_BEFORE;
    } else if let Some(own) = c.specific().first() {
        // A full disk, an expired certificate, a pool at its maximum: the outage is how that
        // shows.
        r.con.push(c.note(format!(
            "{} — a trouble of its own that takes a service down",
            describe(own)
        )));
        r.strength *= CHANGED_BEFORE;
    }
    explained_by_a_change(c, &mut r);
    r
}

/// The component's processes keep dying and being replaced.
pub(crate) fn crash(c: &Ctx) -> Rule {
    let mut r = rule(RootCause::CrashLoop);
    let restarts = c.of(SignalKind::Restarts);
    let Some(most) = restarts
        .iter()
        .map(|s| s.current - s.reference)
        .reduce(f64::max)
    else {
        return r;
    };
    r.pro.extend(restarts.iter().map(|s| c.metric(s)));
    r.strength += RESTARTING + if most >= 3.0 { LOOPING } else { 0.0 };
    if !c.of(SignalKind::Memory).is_empty() || !c.climbed_until_it_died().is_empty() {
        // Memory climbing before each death: a leak killed it, which its own rule says.
        r.con
            .push(c.note("memory climbed too: the restarts may be how a leak ends".to_string()));
        r.strength *= 0.5;
    }
    explained_by_a_change(c, &mut r);
    r
}

/// A deploy or config change on the component just before the onset explains its outage.
fn explained_by_a_change(c: &Ctx, r: &mut Rule) {
    let changes: Vec<&WorldEvent> = ["deploy", "config"]
        .into_iter()
        .flat_map(|k| c.changes(k))
        .collect();
    if let Some(e) = changes.first() {
        r.con.push(c.event(
            e,
            " — a change just before: it is the likelier cause, and this how it shows",
        ));
        r.strength *= CHANGED_BEFORE;
    }
}

/// A new version just before the onset, and errors with it.
pub(crate) fn deploy(c: &Ctx) -> Rule {
    change(c, RootCause::BadDeploy, "deploy", DEPLOYED)
}

/// A configuration push just before the onset, and trouble with it.
pub(crate) fn config(c: &Ctx) -> Rule {
    change(c, RootCause::BadConfigPush, "config", CONFIGURED)
}

fn change(c: &Ctx, cause: RootCause, kind: &str, weight: f64) -> Rule {
    let mut r = rule(cause);
    let changes = c.changes(kind);
    let named: Vec<Option<Vec<String>>> = changes
        .iter()
        .map(|e| names_what_moved(c.inp, c.component, e))
        .collect();
    for (e, named) in changes.iter().zip(&named) {
        let why = match named {
            Some(shared) => format!(
                " — just before the onset, and it names what moved on {}: {}",
                c.component,
                shared.join(", ")
            ),
            None => " — just before the onset".to_string(),
        };
        r.pro.push(c.event(e, &why));
    }
    if changes.is_empty() {
        r.con.push(Evidence {
            kind: "event",
            service: c.component.to_string(),
            detail: format!(
                "no {kind} on {} in the {} minutes before the onset",
                c.component,
                CHANGE_LEAD.as_mins()
            ),
            at: None,
            example: None,
        });
        return r;
    }
    // A change on a component whose only trouble is less (or more) work reaching it: the
    // traffic moved because of something above it, not because of what changed in it.
    let own_trouble = c.inp.changes(c.component).any(|s| {
        !matches!(
            crate::signals::kind(&s.signal),
            SignalKind::Throughput | SignalKind::Backlog
        )
    }) || c.facts.logs >= 1.0;
    if !own_trouble {
        r.strength += weight * UNHURT;
        r.con.push(c.note(format!(
            "{} changed, but only its traffic moved: its own errors, latency and resources are normal",
            c.component
        )));
        return r;
    }
    // A change acts within minutes of landing (a rollout takes a few): one that landed long
    // before the trouble began says less, down to half at the edge of the lead.
    let nearest = changes.iter().map(|e| e.at).max();
    let gap = match (nearest, c.facts.onset) {
        (Some(at), Some(onset)) => onset.duration_since(at).max(SignedDuration::ZERO),
        _ => SignedDuration::ZERO,
    };
    let late = (gap - PROMPT).max(SignedDuration::ZERO).as_secs_f64()
        / (CHANGE_LEAD - PROMPT).as_secs_f64();
    r.strength += weight * (1.0 - 0.5 * late.min(1.0));
    if gap > PROMPT {
        r.con.push(c.note(format!(
            "the trouble began {} min after the {kind}: a change acts within minutes",
            gap.as_mins()
        )));
    }
    if named.iter().any(Option::is_some) {
        r.strength += NAMES_WHAT_MOVED;
    } else {
        // Another change on it, of the other kind, names what moved and this one does not.
        let other = if kind == "deploy" { "config" } else { "deploy" };
        if let Some((e, shared)) = c
            .changes(other)
            .into_iter()
            .find_map(|e| names_what_moved(c.inp, c.component, e).map(|w| (e, w)))
        {
            r.strength *= BESIDE_ONE_THAT_NAMES_IT;
            r.con.push(c.event(
                e,
                &format!(
                    " — names what moved ({}); the {kind} does not",
                    shared.join(", ")
                ),
            ));
        } else if let Some(e) = c
            .changes(other)
            .into_iter()
            .find(|e| nearest.is_some_and(|n| (e.at.duration_since(n)).abs() <= PROMPT))
        {
            // Two changes within minutes of each other, and nothing in either names what
            // moved: the timing that speaks for one speaks for the other as much.
            r.strength *= SAME_MINUTES;
            r.con.push(c.event(
                e,
                &format!(
                    " — landed within minutes of the {kind}, and neither names what moved: \
                     nothing tells them apart"
                ),
            ));
        }
    }
    // More work than usual arriving, sent by a run or a scale-out on what calls it just
    // before: a change here that names nothing of what moved did not send it.
    let surge_from_above = c
        .callers
        .iter()
        .find_map(|caller| {
            ["cron", "scale"].iter().find_map(|k| {
                changes_before(c.inp, caller, k, c.facts.onset)
                    .first()
                    .copied()
            })
        })
        .filter(|_| c.facts.load && named.iter().all(Option::is_none));
    if let Some(e) = surge_from_above {
        r.strength *= SENT_FROM_ABOVE;
        r.con.push(c.event(
            e,
            &format!(
                " — more work than usual reaches {} since, sent from above; the {kind} names nothing of it",
                c.component
            ),
        ));
    }
    if c.errors()
        || !c.latency().is_empty()
        || !c.of(SignalKind::Availability).is_empty()
        || !c.of(SignalKind::Restarts).is_empty()
    {
        r.strength += CHANGE_HURT;
    }
    // A change that emptied a cache (a purge, a flush) on a component whose hit ratio then
    // collapsed set off a stampede: undoing it refills nothing, so the stampede is the cause
    // to work on. That it names what moved (the purge's own log lines do) changes nothing.
    let emptied = changes.iter().find(|e| {
        signals::words(&e.detail)
            .iter()
            .any(|w| EMPTIES_A_CACHE.contains(&w.as_str()))
    });
    if let Some(e) = emptied
        && c.cache_collapsed()
    {
        r.strength *= BENEATH;
        r.con.push(c.event(
            e,
            " — it emptied the cache, and what followed is a stampede on what the cache fronts: \
             undoing it refills nothing",
        ));
    }
    if let Some(beneath) = c.of(SignalKind::Platform).first() {
        r.strength *= BENEATH;
        let mut e = c.metric(beneath);
        e.detail = format!(
            "{} — trouble beneath {} (its network, host or clock), which a change to its code \
             or settings does not bring about",
            e.detail, c.component
        );
        r.con.push(e);
    } else if let Some(spent) = c
        .inp
        .changes(c.component)
        .find(|s| explains_quantity(RootCause::SlowDependency, s))
        .filter(|_| named.iter().all(Option::is_none))
    {
        // An allowance spent to nothing (burst credits, a quota) is the platform throttling
        // it; a change that names nothing of it did not spend it.
        r.strength *= BENEATH;
        let mut e = c.metric(spent);
        e.detail = format!(
            "{} — an allowance of {} spent to nothing: throttled beneath it, which the {kind} \
             names nothing of",
            e.detail, c.component
        );
        r.con.push(e);
    }
    r
}

/// Verbs of a scheduled run that only handed work over to a queue.
const HANDED_OVER: &[&str] = &["enqueued", "queued", "dispatched", "submitted"];

/// Verbs of a change that empties a cache.
const EMPTIES_A_CACHE: &[&str] = &[
    "purge",
    "purged",
    "flush",
    "flushed",
    "flushall",
    "flushdb",
    "invalidate",
    "invalidated",
    "invalidation",
    "ban",
    // A cache held in memory comes back from a restart or a move empty.
    "restart",
    "restarted",
    "reboot",
    "rebooted",
    "recreated",
    "rescheduled",
];

/// Words too common in change notes, signal names and log lines to say what a change touched.
const COMMON_WORDS: &[&str] = &[
    "error",
    "errors",
    "fail",
    "failed",
    "failure",
    "rate",
    "total",
    "request",
    "requests",
    "count",
    "latency",
    "time",
    "timeout",
    "service",
    "server",
    "status",
    "code",
    "response",
    "http",
    "https",
    "percent",
    "ratio",
    "bytes",
    "seconds",
    "level",
    "info",
    "warn",
    "warning",
    "debug",
    "value",
    "true",
    "false",
    "null",
    "none",
    "from",
    "with",
    "into",
    "this",
    "that",
    "after",
    "before",
    "version",
    "release",
    "deploy",
    "deployed",
    "config",
    "change",
    "changed",
    "update",
    "updated",
    "cluster",
    "node",
    "nodes",
    "host",
    "instance",
    "pods",
    "container",
    "default",
    "enabled",
    "disabled",
    "used",
    "active",
    "current",
    "max",
    "min",
    "size",
    "process",
    "rollout",
    "synced",
    "sync",
    "merged",
    "applied",
];

/// The words `event`'s description shares with what moved on the component — the names of
/// its out-of-range signals and its new or bursting log lines — when there are at least
/// [`NAMING_WORDS`] of them: words of four letters or more, plural or not, that are neither
/// common nor part of the component's name, and at most one from other services' names.
pub(crate) fn names_what_moved(
    inp: &Inputs<'_>,
    component: &str,
    event: &WorldEvent,
) -> Option<Vec<String>> {
    let own: Vec<String> = signals::words(component);
    let others: Vec<String> = inp
        .services
        .iter()
        .filter(|s| s.name != component)
        .flat_map(|s| signals::words(&s.name))
        .collect();
    let telling = |text: &str| -> Vec<String> {
        signals::words(text)
            .into_iter()
            .filter(|w| {
                w.len() >= 4 && w.chars().filter(|ch| ch.is_ascii_alphabetic()).count() >= 4
            })
            .filter(|w| !COMMON_WORDS.contains(&w.as_str()) && !own.contains(w))
            .map(|w| w.strip_suffix('s').map(str::to_string).unwrap_or(w))
            .collect()
    };
    let mut moved: Vec<String> = inp
        .changes(component)
        .flat_map(|s| telling(&s.signal))
        .collect();
    for t in super::telling_templates(inp, component) {
        moved.extend(telling(&t.template));
        moved.extend(telling(&t.example));
    }
    let mut shared: Vec<String> = telling(&event.detail)
        .into_iter()
        .filter(|w| moved.contains(w))
        .collect();
    shared.sort();
    shared.dedup();
    // The component's own name is in every line it writes and every change made to it, so
    // it names nothing. Another service's name (the broker, the store a change points at)
    // is one word of evidence, however many words the name has: its lines name it whenever
    // it is in trouble, whatever the change was.
    let of_names = shared
        .iter()
        .filter(|w| {
            others
                .iter()
                .any(|o| o == *w || o.strip_suffix('s') == Some(w.as_str()))
        })
        .count();
    let weight = shared.len() - of_names + of_names.min(1);
    (weight >= NAMING_WORDS).then_some(shared)
}

/// Every rule, on one component, with the words of the logs added; strongest first.
pub(crate) fn all(c: &Ctx) -> Vec<Rule> {
    let mut out: Vec<Rule> = [
        pool,
        memory,
        disk,
        certificate,
        cache,
        job,
        slow,
        deploy,
        config,
        down,
        crash,
    ]
    .iter()
    .map(|f| f(c))
    .collect();
    for r in &mut out {
        words(c, r);
        if r.cause == RootCause::SlowDependency
            && (c.inp.kind(c.component) != "external" || !c.inp.deps(c.component).is_empty())
        {
            let cap = if c.storage_waits().is_some() {
                STORAGE_SLOWNESS_CAP
            } else if c.slow_alone() {
                INTERNAL_SLOWNESS_CAP + SLOW_ONLY
            } else {
                INTERNAL_SLOWNESS_CAP
            };
            r.strength = r.strength.min(cap);
        }
        if r.cause == RootCause::CrashLoop {
            r.strength = r.strength.min(CRASH_LOOP_CAP);
        }
    }
    out.sort_by(|a, b| {
        b.strength
            .total_cmp(&a.strength)
            .then(a.cause.cmp(&b.cause))
    });
    out
}

/// What the logs say, on the component and (at half weight) on its direct callers. Words
/// support a kind only alongside a sign of their own for the kinds that need a change
/// (a deploy, a config push): "exception" is not a deploy.
fn words(c: &Ctx, r: &mut Rule) {
    let needs_change = matches!(r.cause, RootCause::BadDeploy | RootCause::BadConfigPush);
    if needs_change && r.strength == 0.0 {
        return;
    }
    let mut w: f64 = 0.0;
    // A service that logs refused connections is a client that cannot connect: the words
    // speak for what it calls, not for itself.
    let own = if r.cause == RootCause::ServiceDown {
        Vec::new()
    } else {
        keyword_hits(c.inp, c.component, r.cause)
    };
    // A change announces itself ("refresh keys changed", "started v3.40"): a line written
    // before the trouble began says it happened, not that it hurt.
    let own = own
        .into_iter()
        .filter(|t| !(needs_change && t.announced_before(c.facts.onset)));
    for t in own.take(2) {
        w += WORD;
        r.pro.push(Evidence {
            kind: "log",
            service: c.component.to_string(),
            detail: format!(
                "{} line(s) of a new or bursting template: {}",
                t.lines, t.template
            ),
            at: t.first_seen,
            example: Some(t.example),
        });
    }
    let own_words = w > 0.0;
    let mut caller_words = false;
    for caller in &c.callers {
        for t in keyword_hits(c.inp, caller, r.cause).into_iter().take(1) {
            w += WORD / 2.0;
            caller_words = true;
            r.pro.push(Evidence {
                kind: "log",
                service: caller.clone(),
                detail: format!("{} line(s) on caller {caller}: {}", t.lines, t.template),
                at: t.first_seen,
                example: Some(t.example),
            });
        }
    }
    r.strength += if r.strength > 0.0 {
        w.min(MAX_WORDS)
    } else if own_words && caller_words {
        // The component says it and what calls it says it too (a database refusing
        // connections, its client refused): two witnesses, where no metric is kept.
        AGREED_WORDS
    } else {
        // Words with no signal of their own are a hint only.
        w.min(1.0) * 0.5
    };
}

/// Whether a kind of cause accounts for a kind of signal being out of range: what a
/// hypothesis must explain. A new version or a config change can do anything but trouble
/// beneath the service (its network, host or clock).
pub(crate) fn explains(cause: RootCause, kind: SignalKind) -> bool {
    use SignalKind::*;
    // What any trouble looks like from outside, and the work that piles up behind it.
    let symptom = matches!(kind, Latency | Errors | Throughput | Backlog | Availability);
    symptom
        || match cause {
            RootCause::BadDeploy | RootCause::BadConfigPush => kind != Platform,
            // A pool's own maximum moving is how it came to be too small.
            RootCause::ConnectionPoolExhaustion => {
                matches!(kind, PoolUsage | PoolWaiting | Backlog | Limit)
            }
            // What is never given back grows: memory, and the threads or goroutines that
            // hold it.
            RootCause::MemoryLeak => matches!(kind, Memory | GcPause | Restarts | Cpu | PoolUsage),
            RootCause::DiskFull => matches!(kind, Disk | Io),
            RootCause::CertificateExpired => matches!(kind, CertExpiry),
            RootCause::CacheStampede => matches!(kind, CacheHit | Evictions | PoolUsage | Cpu),
            // A job that reads everything (a dump, a reindex, a scan) also pushes the
            // working set out of the cache it reads through.
            RootCause::RunawayJob => matches!(
                kind,
                Cpu | Io | Memory | PoolUsage | PoolWaiting | Disk | Backlog | Evictions
            ),
            // Slowness explains only what slowness looks like.
            RootCause::SlowDependency => false,
            RootCause::ServiceDown => matches!(kind, Restarts | Memory | Cpu),
            RootCause::CrashLoop => matches!(kind, Restarts | Memory | Cpu),
        }
}

/// What is left of a quantity that has run out, as a share of its normal.
const SPENT: f64 = 0.05;

/// What a kind of cause accounts for among the quantities no kind names (`Other`), by which
/// way they moved: an emptied cache lost its contents (items, keys, its uptime when it was
/// restarted, the memory they took) or saw its keys expire together; a full disk holds more
/// bytes of something (WAL, segments, retained data); a process that died or was restarted
/// starts its uptime again; a dependency that slowed down spent an allowance down to nothing
/// (burst or CPU credits, a quota): it is throttled.
pub(crate) fn explains_quantity(cause: RootCause, c: &SeriesChange) -> bool {
    let (rose, fell) = (c.current > c.reference, c.current < c.reference);
    // An emptied cache holds less: its memory falls with its keys.
    if cause == RootCause::CacheStampede && signals::kind(&c.signal) == SignalKind::Memory {
        return fell;
    }
    if signals::kind(&c.signal) != SignalKind::Other {
        return false;
    }
    let w = signals::words(&c.signal);
    let has = |any: &[&str]| w.iter().any(|x| any.contains(&x.as_str()));
    match cause {
        // Keys leaving it all at once (expiring together) is how it empties.
        RootCause::CacheStampede => {
            fell || rose && has(&["expired", "expiring", "expirations", "expires"])
        }
        RootCause::DiskFull => {
            // A log position's distance (`…_wal_lsn_diff`) is bytes of log kept.
            rose && has(&["bytes", "size", "segments", "files", "lsn", "retained"])
                && !has(&[
                    "network", "net", "transmit", "receive", "rx", "tx", "sent", "received",
                    "request", "response", "http",
                ])
        }
        RootCause::ServiceDown | RootCause::CrashLoop | RootCause::MemoryLeak => {
            fell && has(&["uptime", "started", "start"])
        }
        // Run out, not merely lower: what is left of an allowance at (nearly) none.
        RootCause::SlowDependency => fell && c.current <= SPENT * c.reference,
        // Work under way piling up (merges, compactions, tasks running) is the job's work.
        RootCause::RunawayJob => {
            rose && has(&[
                "running",
                "tasks",
                "jobs",
                "merges",
                "compactions",
                "vacuums",
            ])
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    //! Each rule on a small, hand-made picture of one component: the signals it reads by
    //! kind, the changes before its onset, and what it must not be fooled by.

    use jiff::{SignedDuration, Timestamp};
    use opsmcp_world::{ServiceInfo, WorldEvent};

    use super::*;
    use crate::{
        Window,
        logs::LogReport,
        metrics::{MetricScan, SeriesChange},
        rca::{Inputs, accounted, facts},
    };

    const NOW: &str = "2026-11-26T04:00:00Z";

    fn now() -> Timestamp {
        NOW.parse().unwrap()
    }

    /// `signal` of `svc` out of range since 10 minutes ago: `reference` → `current`.
    fn out(signal: &str, reference: f64, current: f64, limit: Option<&str>) -> SeriesChange {
        SeriesChange {
            service: "svc".into(),
            signal: signal.into(),
            reference,
            reference_source: "baseline",
            current,
            change_percent: None,
            peak: current,
            peak_at: now(),
            anomalous_now: true,
            onset: Some(now() - SignedDuration::from_mins(10)),
            excursion: None,
            magnitude: 2.0,
            limit: limit.map(str::to_string),
            resized_from: None,
            worsening_until: None,
        }
    }

    /// A change event on `svc`, `mins` minutes ago.
    fn event(kind: &str, mins: i64) -> WorldEvent {
        WorldEvent {
            at: now() - SignedDuration::from_mins(mins),
            kind: kind.into(),
            service: "svc".into(),
            detail: format!("{kind} on svc"),
        }
    }

    /// Every rule's verdict on `svc` (of `kind`), strongest first.
    fn judge(kind: &str, series: Vec<SeriesChange>, events: Vec<WorldEvent>) -> Vec<Rule> {
        with_inputs(kind, series, events, |inp| {
            let f = facts(inp, "svc");
            all(&Ctx {
                inp,
                component: "svc",
                facts: &f,
                callers: Vec::new(),
            })
        })
    }

    /// `then` on the analysis inputs of a world of one service, `svc` (of `kind`).
    fn with_inputs<T>(
        kind: &str,
        series: Vec<SeriesChange>,
        events: Vec<WorldEvent>,
        then: impl FnOnce(&Inputs<'_>) -> T,
    ) -> T {
        let services = vec![ServiceInfo {
            name: "svc".into(),
            kind: kind.into(),
            depends_on: Vec::new(),
        }];
        with_services(services, series, events, then)
    }

    /// `then` on the analysis inputs of a world of `services`.
    fn with_services<T>(
        services: Vec<ServiceInfo>,
        series: Vec<SeriesChange>,
        events: Vec<WorldEvent>,
        then: impl FnOnce(&Inputs<'_>) -> T,
    ) -> T {
        let window = Window::ending(now(), SignedDuration::from_mins(30));
        let scan = MetricScan {
            window,
            step_s: 20,
            series,
        };
        let logs = LogReport {
            window,
            baseline_window: window,
            lines: 0,
            baseline_lines: 0,
            bucket_s: 60,
            services: Vec::new(),
            truncated: false,
        };
        let inp = Inputs {
            window,
            services: &services,
            scan: &scan,
            logs: &logs,
            events: &events,
            actions: &[],
            symptoms: &[],
        };
        then(&inp)
    }

    fn strength(rules: &[Rule], cause: RootCause) -> f64 {
        rules
            .iter()
            .find(|r| r.cause == cause)
            .map_or(0.0, |r| r.strength)
    }

    fn top(rules: &[Rule]) -> RootCause {
        rules[0].cause
    }

    #[test]
    fn a_change_that_emptied_a_collapsed_cache_set_off_a_stampede() {
        let collapsed = || vec![out("edge_hit_ratio", 0.9, 0.05, None)];
        let purge = WorldEvent {
            detail: "release hook ran purge --all".into(),
            ..event("config", 11)
        };
        let emptied = judge("cache", collapsed(), vec![purge.clone()]);
        let routine = judge("cache", collapsed(), vec![event("config", 11)]);
        assert_eq!(top(&emptied), RootCause::CacheStampede);
        assert!(
            strength(&emptied, RootCause::BadConfigPush)
                < 0.5 * strength(&routine, RootCause::BadConfigPush)
        );
        // A purge on a cache that still hits emptied nothing that matters.
        let hits = judge(
            "cache",
            vec![out("latency_p99_ms", 10.0, 90.0, None)],
            vec![purge],
        );
        let plain = judge(
            "cache",
            vec![out("latency_p99_ms", 10.0, 90.0, None)],
            vec![event("config", 11)],
        );
        assert_eq!(
            strength(&hits, RootCause::BadConfigPush),
            strength(&plain, RootCause::BadConfigPush)
        );
    }

    #[test]
    fn pool_at_its_maximum_is_decisive_and_a_busy_pool_is_not() {
        let full = judge(
            "api",
            vec![
                out(
                    "tomcat_threads_busy_threads",
                    60.0,
                    200.0,
                    Some("at its maximum 200"),
                ),
                out("latency_p99_ms", 40.0, 900.0, None),
            ],
            Vec::new(),
        );
        assert_eq!(top(&full), RootCause::ConnectionPoolExhaustion);
        assert!(strength(&full, RootCause::ConnectionPoolExhaustion) >= AT_LIMIT);
        let busy = judge(
            "api",
            vec![out("hikaricp_connections_active", 10.0, 25.0, None)],
            Vec::new(),
        );
        assert!(strength(&busy, RootCause::ConnectionPoolExhaustion) <= BUSY);
    }

    #[test]
    fn a_pool_full_at_a_size_a_change_set_is_the_pool_unless_the_change_hid_it() {
        let resized = || {
            let mut full = out(
                "hikaricp_connections_active",
                14.0,
                8.0,
                Some("8 in use of a maximum of 8"),
            );
            full.resized_from = Some(20.0);
            vec![
                full,
                out("hikaricp_connections_pending", 0.0, 150.0, None),
                out("latency_p99_ms", 200.0, 3600.0, None),
            ]
        };
        let config = |detail: &str| WorldEvent {
            detail: detail.into(),
            ..event("config", 12)
        };
        // The change says it resized the pool: capacity was decided, and the work outgrew it.
        let said = judge(
            "api",
            resized(),
            vec![config("hikaricp connections maximum pool size 20 -> 8")],
        );
        assert_eq!(top(&said), RootCause::ConnectionPoolExhaustion);
        // The same maximum moved by a change that says nothing of it: the change did it.
        let silent = judge(
            "api",
            resized(),
            vec![config("templates unified across environments (PR 812)")],
        );
        assert_eq!(top(&silent), RootCause::BadConfigPush);
        assert!(
            strength(&silent, RootCause::ConnectionPoolExhaustion)
                < strength(&said, RootCause::ConnectionPoolExhaustion)
        );
    }

    #[test]
    fn a_vendor_that_fails_most_calls_is_down_not_slow() {
        let vendor = |errors: f64| {
            judge(
                "external",
                vec![
                    out("latency_p99_ms", 700.0, 8400.0, None),
                    out("error_rate", 0.004, errors, None),
                ],
                Vec::new(),
            )
        };
        let slow = vendor(0.08);
        let down = vendor(0.74);
        assert_eq!(top(&slow), RootCause::SlowDependency);
        assert!(
            strength(&down, RootCause::SlowDependency)
                <= DOWN_NOT_SLOW * strength(&slow, RootCause::SlowDependency) + 1e-9
        );
    }

    #[test]
    fn work_waiting_for_a_pool_counts_without_the_maximum() {
        let r = judge(
            "api",
            vec![out("hikaricp_connections_pending", 0.0, 40.0, None)],
            Vec::new(),
        );
        assert_eq!(strength(&r, RootCause::ConnectionPoolExhaustion), WAITING);
    }

    #[test]
    fn memory_climbing_with_restarts_is_a_leak_and_restarts_alone_are_not() {
        let leak = judge(
            "worker",
            vec![
                out("jvm_heap_used_percent", 55.0, 97.0, None),
                out("kube_pod_container_status_restarts", 0.0, 4.0, None),
            ],
            Vec::new(),
        );
        assert_eq!(top(&leak), RootCause::MemoryLeak);
        assert!(strength(&leak, RootCause::MemoryLeak) >= MEMORY + MEMORY_SIGN);
        let restarts = judge(
            "worker",
            vec![out("kube_pod_container_status_restarts", 0.0, 4.0, None)],
            Vec::new(),
        );
        assert!(strength(&restarts, RootCause::MemoryLeak) < MEMORY);
    }

    #[test]
    fn a_service_that_is_gone_is_down_unless_something_of_its_own_took_it_down() {
        let gone = || out("probe_up", 1.0, 0.0, Some("down"));
        let r = judge(
            "api",
            vec![gone(), out("processes_up", 1.0, 0.0, Some("down"))],
            Vec::new(),
        );
        assert_eq!(top(&r), RootCause::ServiceDown);
        assert!(strength(&r, RootCause::ServiceDown) >= GONE);
        // A full disk took it down: the disk is the cause.
        let r = judge(
            "database",
            vec![gone(), out("disk_used_percent", 60.0, 100.0, Some("full"))],
            Vec::new(),
        );
        assert_eq!(top(&r), RootCause::DiskFull);
        assert!(
            strength(&r, RootCause::ServiceDown) < strength(&r, RootCause::DiskFull) / 2.0,
            "the outage is no rival to what caused it"
        );
        // A config push just before: the push is the cause.
        let r = judge("api", vec![gone()], vec![event("config", 11)]);
        assert_eq!(top(&r), RootCause::BadConfigPush);
    }

    #[test]
    fn memory_that_climbed_until_the_process_died_is_a_leak_not_an_outage() {
        let mut climbed = out("memory_rss_mb", 200.0, 0.0, None);
        climbed.anomalous_now = false;
        climbed.peak = 1900.0;
        climbed.excursion = Some((
            now() - SignedDuration::from_mins(9),
            now() - SignedDuration::from_mins(5),
        ));
        let mut gone = out("processes_up", 1.0, 0.0, Some("down"));
        gone.onset = Some(now() - SignedDuration::from_mins(4));
        let r = judge("api", vec![climbed.clone(), gone.clone()], Vec::new());
        assert_eq!(top(&r), RootCause::MemoryLeak);
        // A climb long over before the death explains nothing.
        climbed.excursion = Some((
            now() - SignedDuration::from_mins(30),
            now() - SignedDuration::from_mins(20),
        ));
        let r = judge("api", vec![climbed, gone], Vec::new());
        assert_eq!(top(&r), RootCause::ServiceDown);
    }

    #[test]
    fn restarts_alone_say_what_not_why() {
        let loop_ = || out("restarts", 0.0, 5.0, None);
        let r = judge("worker", vec![loop_()], Vec::new());
        assert_eq!(top(&r), RootCause::CrashLoop);
        assert!(
            strength(&r, RootCause::CrashLoop) < GONE,
            "short of decisive"
        );
        // With memory climbing, the loop is how a leak ends.
        let r = judge(
            "worker",
            vec![loop_(), out("memory_rss_mb", 200.0, 900.0, None)],
            Vec::new(),
        );
        assert_eq!(top(&r), RootCause::MemoryLeak);
        // After a deploy, the deploy.
        let r = judge("worker", vec![loop_()], vec![event("deploy", 11)]);
        assert_eq!(top(&r), RootCause::BadDeploy);
    }

    #[test]
    fn a_core_spinning_without_more_work_is_a_runaway_and_busy_with_more_work_is_not() {
        let spin = || out("cpu_percent", 2.0, 79.0, None);
        let r = judge("api", vec![spin()], Vec::new());
        assert_eq!(top(&r), RootCause::RunawayJob);
        assert!(strength(&r, RootCause::RunawayJob) >= JOB_RESOURCE);
        let busy = judge(
            "api",
            vec![spin(), out("request_rate", 100.0, 400.0, None)],
            Vec::new(),
        );
        assert!(
            strength(&busy, RootCause::RunawayJob) < strength(&r, RootCause::RunawayJob),
            "more work arriving explains the CPU"
        );
    }

    #[test]
    fn a_full_filesystem_or_inodes_is_disk_full() {
        for signal in ["node_filesystem_used_percent", "inodes_used_percent"] {
            let r = judge(
                "database",
                vec![out(signal, 60.0, 100.0, Some("full"))],
                Vec::new(),
            );
            assert_eq!(top(&r), RootCause::DiskFull, "{signal}");
            assert!(strength(&r, RootCause::DiskFull) >= DISK);
        }
    }

    #[test]
    fn an_expired_certificate_is_a_fact_whatever_else_moved() {
        let r = judge(
            "api",
            vec![
                out(
                    "probe_ssl_earliest_cert_expiry_days",
                    40.0,
                    0.0,
                    Some("expired"),
                ),
                out("latency_p99_ms", 40.0, 80.0, None),
            ],
            Vec::new(),
        );
        assert_eq!(top(&r), RootCause::CertificateExpired);
        assert_eq!(strength(&r, RootCause::CertificateExpired), EXPIRED);
    }

    #[test]
    fn a_collapsed_hit_ratio_is_a_stampede() {
        let r = judge(
            "cache",
            vec![out("cache_hit_ratio", 0.95, 0.2, None)],
            Vec::new(),
        );
        assert_eq!(top(&r), RootCause::CacheStampede);
        assert!(strength(&r, RootCause::CacheStampede) >= CACHE_HIT + CACHE_COLLAPSED);
    }

    #[test]
    fn a_job_needs_to_have_started_before_the_onset() {
        let pressure = || vec![out("cpu_percent", 30.0, 98.0, None)];
        let started = judge("database", pressure(), vec![event("cron", 12)]);
        assert_eq!(top(&started), RootCause::RunawayJob);
        assert!(strength(&started, RootCause::RunawayJob) >= JOB_STARTED + JOB_RESOURCE);
        let none = judge("database", pressure(), Vec::new());
        assert!(strength(&none, RootCause::RunawayJob) < JOB_RESOURCE);
        // A job that ran an hour ago is not "just before the onset".
        let old = judge("database", pressure(), vec![event("cron", 70)]);
        assert!(strength(&old, RootCause::RunawayJob) < JOB_RESOURCE);
    }

    #[test]
    fn a_job_its_own_record_says_is_over_loads_nothing() {
        let pressure = || vec![out("cpu_percent", 30.0, 98.0, None)];
        let mut done = event("cron", 12);
        done.detail = "weekly full backup -- completed".into();
        let r = judge("database", pressure(), vec![done]);
        assert!(strength(&r, RootCause::RunawayJob) < JOB_RESOURCE);
    }

    #[test]
    fn a_run_that_only_enqueued_work_is_not_the_job_its_pool_is_the_cause() {
        let full = || {
            vec![
                out("pool_busy", 6.0, 10.0, Some("pool_size")),
                out("pool_waiting", 0.0, 10.0, None),
                out("latency_p99_ms", 40.0, 900.0, None),
            ]
        };
        let mut queued = event("cron", 12);
        queued.detail = "monthly run enqueued 84,112 invoice jobs".into();
        let r = judge("worker", full(), vec![queued]);
        assert_eq!(top(&r), RootCause::ConnectionPoolExhaustion);
        let running = judge("worker", full(), vec![event("cron", 12)]);
        assert!(strength(&r, RootCause::RunawayJob) < strength(&running, RootCause::RunawayJob));
    }

    #[test]
    fn a_log_position_kept_far_behind_is_bytes_held_on_disk() {
        let kept = out("pg_replication_slots_pg_wal_lsn_diff", 5e7, 9.8e10, None);
        assert!(explains_quantity(RootCause::DiskFull, &kept));
    }

    #[test]
    fn a_change_that_landed_long_before_the_trouble_says_less() {
        let errors = || vec![out("error_rate", 0.002, 0.2, None)];
        let near = judge("api", errors(), vec![event("config", 11)]);
        let far = judge("api", errors(), vec![event("config", 27)]);
        assert!(
            strength(&far, RootCause::BadConfigPush)
                < strength(&near, RootCause::BadConfigPush) - 0.5
        );
    }

    #[test]
    fn slowness_is_strong_for_an_external_service_and_less_for_a_store_slow_alone() {
        let slow = || vec![out("latency_p99_ms", 300.0, 2400.0, None)];
        let external = judge("external", slow(), Vec::new());
        assert_eq!(top(&external), RootCause::SlowDependency);
        assert!(strength(&external, RootCause::SlowDependency) >= SLOW + EXTERNAL);
        // Internal and at the bottom of the call graph with nothing to say why: a little more
        // than a hint, short of what an external service's slowness says.
        let internal = judge("database", slow(), Vec::new());
        let alone = strength(&internal, RootCause::SlowDependency);
        assert!(alone > INTERNAL_SLOWNESS_CAP && alone <= INTERNAL_SLOWNESS_CAP + SLOW_ONLY);
        // With its CPU up, or a change just before, it is back to a hint.
        let busy = judge(
            "database",
            [slow(), vec![out("cpu_percent", 20.0, 90.0, None)]].concat(),
            Vec::new(),
        );
        assert!(strength(&busy, RootCause::SlowDependency) <= INTERNAL_SLOWNESS_CAP);
        let changed = judge("database", slow(), vec![event("config", 11)]);
        assert!(strength(&changed, RootCause::SlowDependency) <= INTERNAL_SLOWNESS_CAP);
        let throttling = judge(
            "database",
            [
                slow(),
                vec![out("write_throttle_events_sum", 0.0, 2600.0, None)],
            ]
            .concat(),
            Vec::new(),
        );
        assert!(strength(&throttling, RootCause::SlowDependency) <= INTERNAL_SLOWNESS_CAP);
    }

    #[test]
    fn a_deploy_or_config_before_the_onset_with_errors_is_strong() {
        let errors = || vec![out("error_rate", 0.002, 0.2, None)];
        let deployed = judge("api", errors(), vec![event("deploy", 11)]);
        assert_eq!(top(&deployed), RootCause::BadDeploy);
        assert_eq!(
            strength(&deployed, RootCause::BadDeploy),
            DEPLOYED + CHANGE_HURT
        );
        let configured = judge("api", errors(), vec![event("config", 11)]);
        assert_eq!(top(&configured), RootCause::BadConfigPush);
        assert_eq!(
            strength(&configured, RootCause::BadConfigPush),
            CONFIGURED + CHANGE_HURT
        );
        // Errors with no change are not a deploy, however loud.
        let unchanged = judge("api", errors(), Vec::new());
        assert_eq!(strength(&unchanged, RootCause::BadDeploy), 0.0);
    }

    #[test]
    fn a_change_on_a_service_whose_only_trouble_is_less_traffic_is_weak() {
        let r = judge(
            "api",
            vec![out("request_rate", 900.0, 20.0, None)],
            vec![event("deploy", 11)],
        );
        assert_eq!(strength(&r, RootCause::BadDeploy), DEPLOYED * UNHURT);
        assert!(
            r.iter()
                .find(|r| r.cause == RootCause::BadDeploy)
                .is_some_and(|r| r.con.iter().any(|e| e.detail.contains("traffic")))
        );
    }

    #[test]
    fn a_goroutine_leak_is_a_leak_and_its_goroutines_are_explained() {
        let series = || {
            vec![
                out("go_memstats_heap_inuse_bytes", 2.4e8, 2.0e9, None),
                out("go_goroutines", 850.0, 69000.0, None),
                out("kube_pod_container_status_restarts_total", 1.0, 9.0, None),
            ]
        };
        assert_eq!(
            top(&judge("api", series(), Vec::new())),
            RootCause::MemoryLeak
        );
        let share = with_inputs("api", series(), Vec::new(), |inp| {
            accounted(inp, "svc", RootCause::MemoryLeak)
        });
        assert_eq!(share, 1.0, "everything that moved is what a leak does");
    }

    #[test]
    fn a_cache_whose_keys_expired_together_is_emptied_and_its_memory_fell_with_them() {
        let series = || {
            vec![
                out("redis_keyspace_hit_ratio", 0.97, 0.18, None),
                out("redis_expired_keys_per_s", 12.0, 38000.0, None),
                out("redis_db_keys", 2.4e6, 3.0e5, None),
                out("redis_memory_used_bytes", 5.2e9, 9.0e8, None),
            ]
        };
        assert_eq!(
            top(&judge("cache", series(), Vec::new())),
            RootCause::CacheStampede
        );
        let share = with_inputs("cache", series(), Vec::new(), |inp| {
            accounted(inp, "svc", RootCause::CacheStampede)
        });
        assert_eq!(share, 1.0, "everything that moved is a cache emptying");
    }

    /// A job scheduled on a caller loads a store only where the store shows the work: slower
    /// storage for the same work is no job's.
    #[test]
    fn a_callers_job_explains_a_store_only_where_it_shows_its_work() {
        let job_strength = |series: Vec<SeriesChange>| {
            let services = vec![
                ServiceInfo {
                    name: "svc".into(),
                    kind: "database".into(),
                    depends_on: Vec::new(),
                },
                ServiceInfo {
                    name: "batch".into(),
                    kind: "worker".into(),
                    depends_on: vec!["svc".into()],
                },
            ];
            let cron = WorldEvent {
                service: "batch".into(),
                ..event("cron", 12)
            };
            with_services(services, series, vec![cron], |inp| {
                let f = facts(inp, "svc");
                job(&Ctx {
                    inp,
                    component: "svc",
                    facts: &f,
                    callers: vec!["batch".into()],
                })
                .strength
            })
        };
        let waits = vec![
            out("node_disk_io_await_ms", 1.0, 220.0, None),
            out("node_disk_io_util_percent", 14.0, 100.0, None),
        ];
        let mut working = waits.clone();
        working.push(out("cpu_percent", 18.0, 95.0, None));
        let (slower, busier) = (job_strength(waits), job_strength(working));
        assert!(
            slower < busier && slower < 1.0,
            "waits only {slower}, with its CPU {busier}"
        );
    }
}
