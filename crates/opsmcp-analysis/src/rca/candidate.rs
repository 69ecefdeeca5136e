//! Step 2 of the reasoning: each sick service judged as the origin of the others' trouble —
//! which sick callers its trouble explains, what explains its own, and which sick services it
//! accounts for — and scored. [`candidates`] judges them all; the report weighs them against
//! each other.

use std::collections::{BTreeMap, BTreeSet};

use jiff::SignedDuration;

use super::{
    DEPENDENCY_LEAD, Evidence, FELT, FLOOD_LAG, Facts, LOAD_LAG, Survey, at, changed_first,
    changes_before,
};
use crate::signals::{self, SignalKind};

/// What is left of a service's score when a dependency that degraded no later explains it.
const EXPLAINED_BY_DEPENDENCY: f64 = 0.35;
/// How much resource pressure callers need not feel counts beside what they do feel.
const RESOURCE_WEIGHT: f64 = 0.5;
/// Added for being among the first of its connected services to go out of range.
const FIRST_BONUS: f64 = 0.5;
/// How soon after the earliest onset among its connected services "among the first" still is.
const FIRST_MARGIN: SignedDuration = SignedDuration::from_secs(60);
/// Added when the report names it, or a service that calls it.
const REPORTED_BONUS: f64 = 0.5;

/// A sick service as a candidate component: score, evidence for and against, paths.
pub(super) struct Candidate {
    pub(super) name: String,
    pub(super) score: f64,
    /// Share of the sick services it accounts for: itself, its sick callers, and the
    /// dependencies its load swamped.
    pub(super) coverage: f64,
    /// Those services.
    pub(super) covered: BTreeSet<String>,
    /// The sick services it has to account for, and whose candidates are its rivals.
    pub(super) scope: BTreeSet<String>,
    pub(super) pro: Vec<Evidence>,
    pub(super) con: Vec<Evidence>,
    pub(super) paths: Vec<String>,
    /// It floods a store others feel with the work of a run started on it: what users feel is
    /// its work, though it answers nobody itself.
    pub(super) floods: bool,
}

/// Every sick service judged, best score first (ties by name, so the order is stable).
pub(super) fn candidates(s: &Survey<'_>) -> Vec<Candidate> {
    let mut scored: Vec<Candidate> = s
        .sick
        .iter()
        .map(|name| Judged::new(s, name).candidate())
        .collect();
    scored.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.name.cmp(&b.name))
    });
    scored
}

/// Words of a log line that says a call went wrong.
const TROUBLE_WORDS: &[&str] = &[
    "fail",
    "error",
    "timed out",
    "timeout",
    "refused",
    "unavailable",
    "reset",
    "rejected",
];

/// Whether `text` names the service `name` as a word of its own (`campaigns-api 504`,
/// `host=campaigns-api-7d9f`), not inside a longer name (`new-campaigns-api`). Names shorter
/// than four letters (`db`, `api`) say too little to count.
fn mentions(text: &str, name: &str) -> bool {
    if name.len() < 4 {
        return false;
    }
    let inside = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        !before.is_some_and(|c| inside(c) || c == '-') && !after.is_some_and(inside)
    })
}

/// A sick caller of the judged service: its name, and its hops away and the service it calls
/// through.
type SickCaller<'c> = (&'c String, &'c (usize, String));

/// One sick service being judged, with what its steps read more than once.
struct Judged<'s> {
    s: &'s Survey<'s>,
    name: &'s String,
    f: &'s Facts,
    /// What calls it, directly or through others.
    callers: BTreeMap<String, (usize, String)>,
    /// What it calls, directly or through others.
    deps: BTreeSet<String>,
    /// A scheduled run started here, busy with work of its own: it sends that work down.
    job_started: bool,
    /// Doing several times its usual work just after a change of its own, with nothing above
    /// it sending more: the surge is its own, and it sends it down.
    surging: bool,
}

impl<'s> Judged<'s> {
    fn new(s: &'s Survey<'s>, name: &'s String) -> Self {
        let f = &s.all[name];
        let callers = s.inp.callers(name);
        let surging = f.load
            && ["deploy", "config"]
                .iter()
                .any(|k| !changes_before(s.inp, name, k, f.onset).is_empty())
            && callers
                .keys()
                .all(|c| !s.all.get(c).is_some_and(|x| x.load));
        Judged {
            s,
            name,
            f,
            callers,
            deps: s.inp.dependencies(name),
            job_started: !changes_before(s.inp, name, "cron", f.onset).is_empty()
                && f.resource > 0.0,
            surging,
        }
    }

    fn candidate(&self) -> Candidate {
        let (name, f) = (self.name, self.f);
        let mut pro = Vec::new();
        let mut con = Vec::new();
        let (explained, unexplained) = self.sick_callers();
        con.extend(self.cannot_explain(&unexplained));
        let explains = explained
            .iter()
            .map(|(_, (h, _))| 1.0 / *h as f64)
            .sum::<f64>();
        // A service at a hard limit of its own (a full disk, a pool at its maximum) is not
        // explained by a dependency that degraded less than it did: one at least as much
        // slower (its pool then fills with callers waiting on it) or failing at least as much
        // does explain it.
        let own_limit = self.s.inp.changes(name).any(|c| c.limit.is_some());
        let loaded_below = self.loaded_below();
        let followed = self.followed();
        for d in &followed {
            pro.push(Evidence {
                kind: "dependency",
                service: name.clone(),
                detail: format!(
                    "{d} below it went out of range only with {name}, just after a change here that names what moved (and none of its own does): the change explains both"
                ),
                at: self.s.all[d].onset.map(at),
                example: None,
            });
        }
        if let Some(d) = &loaded_below {
            pro.push(Evidence {
                kind: "dependency",
                service: name.clone(),
                detail: format!(
                    "{name} changed just before the onset, and {d} below it has been sent much more work since: the load went down from here"
                ),
                at: f.onset.map(at),
                example: None,
            });
        }
        let missed_by = self.missed_by_a_cache();
        let culprit = missed_by
            .clone()
            .or_else(|| self.culprit(own_limit, loaded_below.is_some(), &followed));
        let mut score = f.service_level + RESOURCE_WEIGHT * f.resource + f.logs + explains;
        if let Some(d) = &culprit {
            score *= EXPLAINED_BY_DEPENDENCY;
            let since = self.s.all[d]
                .onset
                .map(|t| format!("from {}", at(t)))
                .unwrap_or_else(|| "as well".into());
            con.push(Evidence {
                kind: "dependency",
                service: name.clone(),
                detail: if missed_by.is_some() {
                    format!(
                        "{d}, a cache {name}'s callers also read, stopped hitting {since}, and {name} has been sent much more work since: the misses fall through to {name} — {name}'s trouble is explained by it"
                    )
                } else {
                    format!(
                        "{name} depends on {d}, which degraded {since} — {name}'s trouble is explained by it"
                    )
                },
                at: self.s.all[d].onset.map(at),
                example: None,
            });
        } else if !self.s.inp.deps(name).is_empty() {
            pro.push(Evidence {
                kind: "dependency",
                service: name.clone(),
                detail: format!(
                    "nothing {name} calls ({}) degraded before it",
                    self.s.inp.deps(name).join(", ")
                ),
                at: None,
                example: None,
            });
        }
        if self.among_the_first() {
            score += FIRST_BONUS;
            pro.push(Evidence {
                kind: "metric",
                service: name.clone(),
                detail: format!("{name} was among the first services to go out of range"),
                at: f.onset.map(at),
                example: None,
            });
        }
        if self
            .s
            .symptoms
            .iter()
            .any(|x| x == name || self.callers.contains_key(x))
        {
            score += REPORTED_BONUS;
        }
        let paths = self.paths(&explained);
        let scope = self.scope();
        let swamped = self.swamped(&explained);
        let floods: Vec<String> = swamped
            .iter()
            .filter(|d| self.flooded(d))
            .cloned()
            .collect();
        // Stores it sent its own work to (a run's, a surge's): their other callers wait on them.
        let sent_to: Vec<String> = swamped
            .iter()
            .filter(|d| self.flooded(d) || self.took_its_surge(d))
            .cloned()
            .collect();
        let covered = self.covered(
            &explained,
            swamped,
            &sent_to,
            &followed,
            loaded_below.as_ref(),
        );
        Candidate {
            name: name.clone(),
            score,
            coverage: covered.intersection(&scope).count() as f64 / scope.len().max(1) as f64,
            scope,
            covered,
            pro,
            con,
            paths,
            floods: floods.iter().any(|d| self.s.all[d].felt()),
        }
    }

    /// Its sick callers whose trouble its own explains, and those it cannot explain. Left out
    /// of both: callers whose trouble came from elsewhere — down with a load from above, or
    /// up from their own change.
    fn sick_callers(&self) -> (Vec<SickCaller<'_>>, Vec<&String>) {
        let (s, f) = (self.s, self.f);
        let saw_more_work = self.saw_more_work();
        let candidates: Vec<SickCaller<'_>> = self
            .callers
            .iter()
            .filter(|(c, _)| s.sick.contains(*c))
            .filter(|(c, _)| !saw_more_work || !self.through_load(c))
            .filter(|(c, _)| !self.after_its_change(c))
            .filter(|(c, (_, via))| !self.blames_another(c, via))
            .collect();
        let unexplained = candidates
            .iter()
            .filter(|(c, _)| !f.transmits_to(&s.all[*c]))
            .map(|(c, _)| *c)
            .collect();
        // A caller at a hard limit of its own (a pool at its maximum) is explained only by a
        // dependency at least as degraded as it is: one a little slower does not fill it.
        let explained = candidates
            .into_iter()
            .filter(|(c, _)| f.transmits_to(&s.all[*c]))
            .filter(|(c, _)| !s.inp.pool_at_max(c) || f.worse_than(&s.all[*c]))
            .collect();
        (explained, unexplained)
    }

    /// A surge it never saw did not swamp it: when its own throughput is measured and did not
    /// rise, the load stopped above it.
    fn saw_more_work(&self) -> bool {
        let mut throughput = self
            .s
            .inp
            .scan
            .series
            .iter()
            .filter(|x| {
                x.service == *self.name && signals::kind(&x.signal) == SignalKind::Throughput
            })
            .peekable();
        throughput.peek().is_none()
            || throughput.any(|x| x.anomalous_now && x.current > x.reference)
    }

    /// A caller reached through a service swamped by load is not explained from here: its
    /// trouble came down with the load, not up from this service.
    fn through_load(&self, caller: &str) -> bool {
        let mut cur = caller.to_string();
        loop {
            if self.s.all.get(&cur).is_some_and(|x| x.load) {
                return true;
            }
            match self.callers.get(&cur) {
                Some((_, via)) if via != self.name => cur = via.clone(),
                _ => return false,
            }
        }
    }

    /// Nor is a caller whose own change explains this service's trouble (see
    /// [`Self::followed`]), nor what its trouble reached.
    fn after_its_change(&self, caller: &str) -> bool {
        let mut cur = caller.to_string();
        loop {
            match self.callers.get(&cur) {
                Some((_, via)) if via == self.name => {
                    return changed_first(&self.s.all, &self.s.named, &cur, self.name);
                }
                Some((_, via)) => cur = via.clone(),
                None => return false,
            }
        }
    }

    /// Nor is a caller whose own new lines of trouble name another of its dependencies and
    /// never the one it reaches this service through (`audience resolution timed out
    /// (campaigns-api 504)`): it says which call failed it.
    fn blames_another(&self, caller: &str, via: &str) -> bool {
        let Some(l) = self.s.inp.logs_of(caller) else {
            return false;
        };
        let texts: Vec<String> = l
            .new_templates
            .iter()
            .map(|t| super::template_text(&t.template, &t.example))
            .filter(|t| TROUBLE_WORDS.iter().any(|w| t.contains(w)))
            .collect();
        let named = |d: &str| texts.iter().any(|t| mentions(t, &d.to_lowercase()));
        !named(via)
            && !named(self.name)
            && self.s.inp.deps(caller).iter().any(|d| d != via && named(d))
    }

    /// Why it cannot explain the sick callers in `unexplained`, if there are any.
    fn cannot_explain(&self, unexplained: &[&String]) -> Option<Evidence> {
        if unexplained.is_empty() {
            return None;
        }
        let (name, f) = (self.name, self.f);
        let names = unexplained
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let detail = if !f.felt() && f.starved >= FELT {
            format!(
                "{name} receives less work than usual but answers what it gets as usual: it is starved by what calls it, so it cannot explain {names}"
            )
        } else if !f.felt() {
            format!(
                "{name} is busy but answers as usual (latency and errors normal), so it cannot explain {names}"
            )
        } else {
            format!(
                "{name}'s trouble does not match {names}'s: it began at another time, or {name} is only slower while they fail fast"
            )
        };
        Some(Evidence {
            kind: "dependency",
            service: name.clone(),
            detail,
            at: None,
            example: None,
        })
    }

    /// A change on it just before the onset that names what moved, and more work than usual
    /// arriving below it since: it sent the load down (a flag that fans out), so what slowed
    /// beneath it under that load does not explain it. The loaded service, if so.
    fn loaded_below(&self) -> Option<String> {
        if !self.s.named.contains(self.name) {
            return None;
        }
        self.deps
            .iter()
            .find(|d| self.s.sick.contains(*d) && self.s.all[*d].load)
            .cloned()
    }

    /// Dependencies that went out of range only with it, just after a change here that names
    /// what moved: the change explains both.
    fn followed(&self) -> Vec<String> {
        self.deps
            .iter()
            .filter(|d| {
                self.s.sick.contains(*d) && changed_first(&self.s.all, &self.s.named, self.name, d)
            })
            .cloned()
            .collect()
    }

    /// A cache its callers also read, which stopped hitting no later than this service was
    /// sent more work than usual: the callers read the cache and, on a miss, this service (a
    /// cache beside a store, not in front of it), so the work swamping it is the cache's
    /// misses. The cache, if so.
    fn missed_by_a_cache(&self) -> Option<String> {
        let (s, f) = (self.s, self.f);
        if !f.load {
            return None;
        }
        let began = f.trouble_onset.or(f.onset)?;
        let readers: Vec<&String> = self
            .callers
            .iter()
            .filter(|(_, (hops, _))| *hops == 1)
            .map(|(c, _)| c)
            .collect();
        s.sick
            .iter()
            .filter(|c| *c != self.name && !s.inp.of_kind(c, SignalKind::CacheHit).is_empty())
            .filter(|c| readers.iter().any(|r| s.inp.deps(r).contains(*c)))
            .filter_map(|c| {
                s.all[c]
                    .onset
                    .filter(|o| *o <= began + LOAD_LAG)
                    .map(|o| (o, c))
            })
            .min()
            .map(|(_, c)| c.clone())
    }

    /// The dependency whose trouble explains its own, if one does.
    fn culprit(&self, own_limit: bool, sent_the_load: bool, followed: &[String]) -> Option<String> {
        if sent_the_load {
            return None;
        }
        let (s, f) = (self.s, self.f);
        s.inp
            .dependencies_before_load(self.name, &s.all)
            .into_iter()
            .find(|d| {
                s.sick.contains(d)
                    && s.all[d].transmits_to(f)
                    && (!own_limit || s.all[d].worse_than(f))
                    // A dependency swamped by more work than usual is a victim of its callers'
                    // load, not the cause of their trouble.
                    && !s.all[d].load
                    && !followed.contains(d)
            })
    }

    /// First among the services its trouble can be tied to (what calls it and what it calls):
    /// an unrelated service that wandered out of range earlier is another story.
    fn among_the_first(&self) -> bool {
        let earliest = self
            .s
            .sick
            .iter()
            .filter(|x| *x == self.name || self.callers.contains_key(*x) || self.deps.contains(*x))
            .filter_map(|n| self.s.all[n].onset)
            .min();
        earliest.is_some()
            && self.f.onset.is_some()
            && self.f.onset <= earliest.map(|e| e + FIRST_MARGIN)
    }

    /// Paths to every sick caller it explains that is not on the way to another. Only trouble
    /// callers feel travels: a busy service that answers as usual has no path.
    fn paths(&self, explained: &[SickCaller<'_>]) -> Vec<String> {
        if !self.f.felt() {
            return Vec::new();
        }
        explained
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| !explained.iter().any(|(_, (_, via))| via == *c))
            .map(|leaf| {
                let mut chain = vec![leaf.clone()];
                let mut cur = leaf.clone();
                while let Some((_, via)) = self.callers.get(&cur) {
                    chain.push(via.clone());
                    if via == self.name {
                        break;
                    }
                    cur = via.clone();
                }
                chain.reverse();
                chain.join(" → ")
            })
            .collect()
    }

    /// Whether `d`'s trouble began no earlier than a minute before its own.
    fn began_after(&self, d: &str) -> bool {
        match (self.s.all[d].onset, self.f.onset) {
            (Some(a), Some(b)) => a + SignedDuration::from_mins(1) >= b,
            _ => false,
        }
    }

    /// Merely busy (answering as usual) since its onset.
    fn busy_since(&self, d: &str) -> bool {
        !self.s.all[d].felt() && self.began_after(d)
    }

    /// A store with a change or a run of its own at its onset has its own story.
    fn changed_itself(&self, d: &str) -> bool {
        ["deploy", "config", "cron"]
            .iter()
            .any(|k| !changes_before(self.s.inp, d, k, self.s.all[d].onset).is_empty())
    }

    /// A scheduled run started here sends its work down: a store it calls, in trouble since
    /// (within minutes of the run's start, not long after) with no change of its own, is
    /// flooded by it even where nobody counts the store's requests and its other callers
    /// feel it.
    fn flooded(&self, d: &str) -> bool {
        let with_it = match (self.s.all[d].onset, self.f.onset) {
            (Some(a), Some(b)) => a <= b + FLOOD_LAG,
            _ => false,
        };
        self.job_started
            && self.s.inp.deps(self.name).iter().any(|x| x == d)
            && self.began_after(d)
            && with_it
            && !self.changed_itself(d)
    }

    /// A dependency it calls whose trouble began only after its own surge did (two readings
    /// later): a retry storm, a fan-out gone wild after a change, lands there first.
    fn took_its_surge(&self, d: &str) -> bool {
        let later = match (self.s.all[d].trouble_onset, self.f.onset) {
            (Some(a), Some(b)) => a >= b + LOAD_LAG,
            _ => false,
        };
        self.surging && later && self.s.inp.deps(self.name).iter().any(|x| x == d)
    }

    /// Dependencies swamped by load from here (and what they in turn made sick): those sent
    /// more work than usual, and those merely busy since its onset; its victims' other
    /// dependencies too, when swamped since — the retries and fallbacks of callers that
    /// cannot get an answer here land there.
    fn swamped(&self, explained: &[SickCaller<'_>]) -> BTreeSet<String> {
        let (s, name) = (self.s, self.name);
        let siblings: BTreeSet<String> = if self.f.felt() {
            explained
                .iter()
                .flat_map(|(c, _)| s.inp.dependencies(c))
                .filter(|d| d != name && !self.callers.contains_key(d))
                .filter(|d| self.began_after(d))
                .collect()
        } else {
            BTreeSet::new()
        };
        // A cache that stopped hitting sends every miss on to what it fronts: a backend its
        // callers also call, in trouble since, is its victim even where its request count is
        // not measured to rise.
        let misses_sent_on = !s.inp.of_kind(name, SignalKind::CacheHit).is_empty();
        self.deps
            .iter()
            .cloned()
            .chain(siblings)
            // Trouble of a limit of its own (an expired certificate, a full disk) is no work
            // sent to it, unless it measurably was.
            .filter(|d| {
                s.sick.contains(d)
                    && (s.all[d].load
                        || !s.all[d].own_limit
                            && (self.busy_since(d)
                                || (misses_sent_on && self.began_after(d))
                                || self.flooded(d)
                                || self.took_its_surge(d)))
            })
            .flat_map(|d| {
                let mut below: Vec<String> = s
                    .inp
                    .dependencies(&d)
                    .into_iter()
                    .filter(|x| s.sick.contains(x))
                    .collect();
                below.push(d);
                below
            })
            .collect()
    }

    /// What it has to account for: every sick service but those unconnected to it whose
    /// trouble began well before or well after its own — a separate story running alongside,
    /// older or newer — or that nobody feels (busy or full, answering as usual).
    fn scope(&self) -> BTreeSet<String> {
        self.s
            .sick
            .iter()
            .filter(|x| {
                *x == self.name
                    || self.callers.contains_key(*x)
                    || self.deps.contains(*x)
                    // Unconnected and answering as usual (a shared machine busy with other
                    // work): nobody feels it, so it is neither part of this story nor a rival.
                    || (self.s.all[*x].felt()
                        && match (self.s.all[*x].onset, self.f.onset) {
                            (Some(a), Some(b)) => {
                                a + DEPENDENCY_LEAD >= b && a <= b + DEPENDENCY_LEAD
                            }
                            _ => true,
                        })
            })
            .cloned()
            .collect()
    }

    /// The sick services it accounts for: itself, the callers it explains, what it swamped,
    /// what followed its change, what its load reached, and the machine it runs on.
    fn covered(
        &self,
        explained: &[SickCaller<'_>],
        swamped: BTreeSet<String>,
        sent_to: &[String],
        followed: &[String],
        loaded_below: Option<&String>,
    ) -> BTreeSet<String> {
        let (s, name) = (self.s, self.name);
        let mut covered = swamped;
        // What a store it sent its work to made sick in turn: its other callers, in trouble
        // since.
        for d in sent_to {
            covered.extend(
                s.inp
                    .callers(d)
                    .into_keys()
                    .filter(|c| c != name && s.sick.contains(c) && self.began_after(c)),
            );
        }
        covered.insert(name.clone());
        covered.extend(followed.iter().cloned());
        // The load it sent down also slowed what stands between it and the loaded service.
        if let Some(loaded) = loaded_below {
            covered.insert(loaded.clone());
            // And the loaded service's other callers, in trouble since: they wait on it.
            covered.extend(
                s.inp
                    .callers(loaded)
                    .into_keys()
                    .filter(|c| c != name && s.sick.contains(c) && self.began_after(c)),
            );
            covered.extend(
                self.deps
                    .iter()
                    .filter(|x| {
                        s.sick.contains(*x)
                            && self.began_after(x)
                            && s.inp.dependencies(x).contains(loaded)
                    })
                    .cloned(),
            );
        }
        covered.extend(self.hosts_it_loads());
        covered.extend(self.queues_left_unread());
        if self.f.felt() {
            covered.extend(explained.iter().map(|(c, _)| (*c).clone()));
        }
        covered
    }

    /// Queues it reads from whose only trouble is a backlog that began after its own did, and
    /// of whose clients it is the one in trouble: what it no longer takes off them piles up
    /// there (a consumer group's lag is its consumers' story, not the broker's). A client in
    /// trouble beside it may be the reader that fell behind, busy with work of its own.
    fn queues_left_unread(&self) -> Vec<String> {
        let inp = self.s.inp;
        let Some(own) = inp.changes(self.name).filter_map(|c| c.onset).min() else {
            return Vec::new();
        };
        self.deps
            .iter()
            .filter(|d| self.s.sick.contains(*d))
            .filter(|d| {
                inp.callers(d)
                    .into_iter()
                    .filter(|(c, (hops, _))| *hops == 1 && self.s.sick.contains(c))
                    .all(|(c, _)| c == *self.name)
            })
            .filter(|d| {
                let mut changes = inp.changes(d).peekable();
                changes.peek().is_some()
                    && changes.all(|c| {
                        signals::kind(&c.signal) == SignalKind::Backlog
                            && c.current > c.reference
                            && c.onset.is_some_and(|o| o >= own)
                    })
            })
            .cloned()
            .collect()
    }

    /// The machine the services run on shows their use of it: a sick host whose every sick
    /// signal is of a kind this service raised (its CPU, its memory, its disk) is explained.
    fn hosts_it_loads(&self) -> Vec<String> {
        let inp = self.s.inp;
        let raised: Vec<SignalKind> = inp
            .changes(self.name)
            .map(|c| signals::kind(&c.signal))
            .filter(|k| {
                matches!(
                    k,
                    SignalKind::Cpu | SignalKind::Memory | SignalKind::Io | SignalKind::Disk
                )
            })
            .collect();
        if raised.is_empty() {
            return Vec::new();
        }
        self.s
            .sick
            .iter()
            .filter(|x| *x != self.name && inp.kind(x) == "host")
            .filter(|host| {
                let mut kinds = inp
                    .changes(host)
                    .map(|c| signals::kind(&c.signal))
                    .peekable();
                kinds.peek().is_some() && kinds.all(|k| raised.contains(&k))
            })
            .cloned()
            .collect()
    }
}
