//! Remedies by meaning: which of the actions a world offers fits a kind of cause, read from the
//! words of the action's name and description, its target and its risk — never from a list of
//! exact action names, because operators name their actions their own way
//! (`grow-filesystem`, `purge-old-segments`, `bump-connection-limit`).
//!
//! Each kind of cause has words that say "this acts on it" ([`Vocabulary::acts`]) and words
//! for what it is about ([`Vocabulary::about`]). An action fits when its name or description
//! has an acting word, and fits better with a word about the cause; its name counts twice its
//! description. Words that do harm for that cause ([`Vocabulary::harms`]: flushing an emptied
//! cache, restarting a pool's clients) rule it out. Among fitting actions, lower risk and no
//! approval wins a tie.

use opsmcp_world::{ActionInfo, Risk};

use super::RootCause;
use crate::signals::words;

/// The words of one kind of cause.
pub(crate) struct Vocabulary {
    /// Verbs and phrases of acting on it.
    pub acts: &'static [&'static str],
    /// Nouns of what it is about.
    pub about: &'static [&'static str],
    /// Words of actions that make it worse.
    pub harms: &'static [&'static str],
}

/// The vocabulary of `cause`. `deployed_before`: a version went out before the onset, so for a
/// leak undoing it is the fix, not a restart.
pub(crate) fn vocabulary(cause: RootCause) -> Vocabulary {
    const UNDO: &[&str] = &[
        "rollback",
        "roll",
        "revert",
        "undo",
        "downgrade",
        "previous",
        "pin",
        "restore",
        "back",
    ];
    match cause {
        RootCause::ConnectionPoolExhaustion => Vocabulary {
            acts: &[
                "increase",
                "raise",
                "bump",
                "grow",
                "expand",
                "enlarge",
                "resize",
                "scale",
                "more",
                "add",
                "kill",
                "terminate",
                "reap",
                "release",
                "extend",
                "double",
                "set",
            ],
            about: &[
                "pool",
                "connections",
                "connection",
                "conn",
                "conns",
                "threads",
                "thread",
                "workers",
                "worker",
                "limit",
                "max",
                "size",
                "capacity",
                "slots",
                "clients",
                "idle",
                "executor",
                "sessions",
            ],
            harms: &["restart", "bounce", "recycle", "flush"],
        },
        RootCause::MemoryLeak => Vocabulary {
            acts: &[
                "restart",
                "recycle",
                "bounce",
                "reboot",
                "respawn",
                "cycle",
                "rollback",
                "roll",
                "revert",
                "downgrade",
                "previous",
                "pin",
                "redeploy",
                "hotfix",
                "patch",
                // Bounding what grows without end (a cache that never evicts) stops the leak
                // where it is, without a restart.
                "cap",
                "bound",
                "evict",
                "evicts",
                "shrink",
            ],
            about: &[
                "memory",
                "heap",
                "leak",
                "pods",
                "pod",
                "process",
                "instances",
                "version",
                "image",
                "release",
            ],
            harms: &["flush", "delete", "purge"],
        },
        RootCause::BadDeploy => Vocabulary {
            acts: UNDO,
            about: &[
                "deploy",
                "deployment",
                "version",
                "release",
                "image",
                "build",
                "artifact",
                "previous",
                "last",
                "known",
                "good",
            ],
            harms: &["flush", "purge", "delete"],
        },
        RootCause::DiskFull => Vocabulary {
            acts: &[
                "clear",
                "clean",
                "cleanup",
                "purge",
                "delete",
                "prune",
                "rotate",
                "compact",
                "vacuum",
                "expand",
                "grow",
                "resize",
                "extend",
                "enlarge",
                "free",
                "archive",
                "evict",
                "trim",
                "gc",
                "remove",
                "add",
                "drop",
                "increase",
                "raise",
                "bump",
                "provision",
                "allocate",
                "set",
            ],
            about: &[
                "disk",
                "disks",
                "volume",
                "filesystem",
                "fs",
                "space",
                "logs",
                "log",
                "segments",
                "storage",
                "partition",
                "inodes",
                "files",
                "tmp",
                "wal",
                "retention",
                "pvc",
                // What is kept and forgotten: snapshots, backups, dumps.
                "snapshot",
                "backup",
                "dump",
            ],
            // Moving the line an alarm fires at frees nothing: the disk fills on past it.
            harms: &[
                "restart",
                "bounce",
                "threshold",
                "watermark",
                "alarm",
                "limit",
            ],
        },
        RootCause::SlowDependency => Vocabulary {
            acts: &[
                "failover",
                "fail",
                "switch",
                "switchover",
                "cutover",
                "reroute",
                "route",
                "drain",
                "shift",
                "promote",
                "circuit",
                "breaker",
                "shed",
                "bypass",
                "degrade",
                "disable",
            ],
            about: &[
                "secondary",
                "replica",
                "standby",
                "region",
                "zone",
                "backup",
                "provider",
                "fallback",
                "timeout",
                "timeouts",
                "upstream",
                "dependency",
                "traffic",
            ],
            harms: &["restart", "flush"],
        },
        RootCause::CertificateExpired => Vocabulary {
            acts: &[
                "renew",
                "rotate",
                "reissue",
                "replace",
                "refresh",
                "regenerate",
                "install",
                "update",
                "reload",
            ],
            about: &[
                "certificate",
                "certificates",
                "cert",
                "certs",
                "tls",
                "ssl",
                "x509",
                "keypair",
                "mtls",
            ],
            harms: &["restart", "flush"],
        },
        RootCause::RunawayJob => Vocabulary {
            acts: &[
                "disable",
                "stop",
                "kill",
                "pause",
                "suspend",
                "cancel",
                "terminate",
                "abort",
                "unschedule",
                "halt",
                "throttle",
                "deschedule",
            ],
            about: &[
                "job",
                "jobs",
                "cron",
                "batch",
                "task",
                "backfill",
                "report",
                "reindex",
                "export",
                "import",
                "schedule",
                "scheduled",
                "migration",
            ],
            harms: &["restart", "flush"],
        },
        RootCause::CacheStampede => Vocabulary {
            acts: &[
                "warm",
                "prewarm",
                "preload",
                "prime",
                "prefill",
                "populate",
                "rate",
                "throttle",
                "coalesce",
                "coalescing",
                "shed",
                // A shield in front of the origin collapses the misses into one fetch; stale
                // content served while the cache refills keeps them from the origin at all.
                "shield",
                "shielding",
                "collapse",
                "collapses",
                "collapsing",
                "stale",
                "refill",
                "refills",
                // Filling it from elsewhere (a warm peer, a snapshot) before it takes traffic.
                "warmup",
                "fill",
                // The job that loads it, run again.
                "reload",
                "loader",
            ],
            about: &[
                "cache", "caches", "keys", "requests", "load", "backend", "traffic",
            ],
            harms: &["flush", "clear", "purge", "invalidate", "restart", "evict"],
        },
        RootCause::BadConfigPush => Vocabulary {
            // Undoing it, or switching off what it switched on.
            acts: &[
                "rollback",
                "roll",
                "revert",
                "undo",
                "previous",
                "restore",
                "back",
                "disable",
                "off",
                "deactivate",
                "unset",
                "false",
                // Setting it back (a verb of amount: only with a word of settings).
                "set",
            ],
            about: &[
                "config",
                "configuration",
                "settings",
                "setting",
                "flag",
                "flags",
                "feature",
                "toggle",
                "parameters",
                "values",
                "change",
                "secret",
                "secrets",
                "env",
                "environment",
                "variable",
                "variables",
                "parameter",
                // What a proxy or a policy engine is configured with.
                "routes",
                "route",
                "rules",
                "rule",
                "policy",
                "policies",
            ],
            harms: &["flush", "purge"],
        },
        RootCause::ServiceDown => Vocabulary {
            acts: &[
                "start", "restart", "bounce", "relaunch", "respawn", "revive", "recover", "spawn",
                "launch", "failover", "promote",
            ],
            about: &["service", "process", "daemon", "server", "instance", "unit"],
            harms: &["stop", "kill", "delete", "flush", "purge"],
        },
        RootCause::CrashLoop => Vocabulary {
            acts: UNDO,
            about: &[
                "config",
                "configuration",
                "version",
                "release",
                "deploy",
                "build",
                "change",
            ],
            harms: &["flush", "purge", "delete"],
        },
    }
}

/// Words saying an action is about the code that runs (a version, an image), as opposed to
/// the settings it runs with.
const CODE: &[&str] = &[
    "version",
    "image",
    "build",
    "release",
    "artifact",
    "binary",
    "tag",
    "deploy",
    "deployment",
];

/// Verbs that change an amount: they act on a cause only with a word of what the cause is
/// about (`raise-compaction-throughput` grows no disk, `set-pool-size` is a pool's).
const ADJUSTS: &[&str] = &[
    "set",
    "raise",
    "increase",
    "bump",
    "add",
    "more",
    "extend",
    "grow",
    "expand",
    "enlarge",
    "double",
    "provision",
    "allocate",
];

/// How well `action` fits `cause`: `None` when it does not (no acting word, or a harming one);
/// otherwise a score, higher is better.
pub(crate) fn fit(cause: RootCause, action: &ActionInfo) -> Option<f64> {
    let v = vocabulary(cause);
    let (name, desc) = (
        towards_a_copy(known_good(words(&action.name))),
        towards_a_copy(known_good(words(&action.description))),
    );
    let (name, desc) = (unglue(&name, &desc, v.acts), unglue(&desc, &name, v.acts));
    let count = |ws: &[String], set: &[&str]| ws.iter().filter(|w| inflects(w, set)).count();
    if count(&name, v.harms) > 0 || destroys_the_write_ahead_log(action) {
        return None;
    }
    let acts = 2 * count(&name, v.acts) + count(&desc, v.acts).min(2);
    if acts == 0 {
        return None;
    }
    let about = 2 * count(&name, v.about) + count(&desc, v.about).min(3);
    let only_adjusts = name
        .iter()
        .chain(&desc)
        .filter(|w| inflects(w, v.acts))
        .all(|w| inflects(w, ADJUSTS));
    if only_adjusts && about == 0 {
        return None;
    }
    // A description that warns of what it breaks is taken at its word.
    let warns = desc.iter().any(|w| {
        matches!(
            w.as_str(),
            "loss" | "lose" | "lost" | "destroys" | "irreversible"
        )
    });
    // Undoing the code does not undo a config push, and reverting settings does not undo a bad
    // version: an action about only the other half is a last resort.
    let code = count(&name, CODE) + count(&desc, CODE);
    let settings_about = vocabulary(RootCause::BadConfigPush).about;
    let settings = count(&name, settings_about) + count(&desc, settings_about);
    let other_half = match cause {
        RootCause::BadConfigPush => code > 0 && settings == 0,
        RootCause::BadDeploy => settings > 0 && code == 0,
        _ => false,
    };
    let risk = match action.risk {
        Risk::Low => 0.0,
        Risk::Medium => 0.25,
        Risk::High => 0.75,
    };
    Some(
        acts as f64 + about as f64 * 0.75
            - risk
            - if action.needs_approval { 0.25 } else { 0.0 }
            - if warns { 1.5 } else { 0.0 }
            - if other_half { 2.0 } else { 0.0 },
    )
}

/// `ws`, with "restore" added where it names the last (known-)good state: putting that back
/// (`push-last-good-config`, "load the last known-good file") is an undo, whatever the verb.
fn known_good(mut ws: Vec<String>) -> Vec<String> {
    let says = ws
        .windows(2)
        .any(|p| matches!(p[0].as_str(), "last" | "known") && p[1] == "good");
    if says {
        ws.push("restore".to_string());
    }
    ws
}

/// Other copies of what is read: pointing callers at one moves them off the slow original.
const COPIES: &[&str] = &[
    "replica",
    "replicas",
    "secondary",
    "standby",
    "mirror",
    "fallback",
    "backup",
];

/// `ws`, with "reroute" added where it sends the reads to another copy (`read-from-replica`,
/// "point the endpoint to the standby bucket"): a direction (`from`, `to`, `onto`, `via`)
/// and a copy within the next three words, whatever the verb. Putting a copy back in place
/// of the original (`restore-from-backup`) moves nobody and is not read so.
fn towards_a_copy(mut ws: Vec<String>) -> Vec<String> {
    let rebuilds = ws.iter().any(|w| {
        matches!(
            w.as_str(),
            "restore" | "recover" | "rebuild" | "resync" | "reseed" | "copy" | "snapshot"
                // A count of copies (`scale-to-3-replicas`) adds capacity, moves nobody.
                | "scale" | "scaling" | "add" | "increase" | "resize"
        )
    });
    let moves = ws.iter().enumerate().any(|(i, w)| {
        matches!(w.as_str(), "from" | "to" | "onto" | "via")
            && !ws
                .get(i + 1)
                .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
            && ws[i + 1..]
                .iter()
                .take(3)
                .any(|x| COPIES.contains(&x.as_str()))
    });
    if moves && !rebuilds {
        ws.push("reroute".to_string());
    }
    ws
}

/// `ws` with each word that glues an acting verb to its object (`clearsnapshot`, `purgequeue`,
/// as command-line tools name their subcommands) also read as the two: only when the object
/// stands as a word of its own in `ws` or `other`, so `address` is never "add" + "ress".
fn unglue(ws: &[String], other: &[String], acts: &[&str]) -> Vec<String> {
    let singular = |w: &str| w.strip_suffix('s').unwrap_or(w).to_string();
    let elsewhere = |rest: &str| {
        ws.iter()
            .chain(other)
            .any(|x| singular(x) == singular(rest))
    };
    let mut out = Vec::with_capacity(ws.len());
    for w in ws {
        let glued = (!inflects(w, acts))
            .then(|| {
                acts.iter().find_map(|a| {
                    w.strip_prefix(a)
                        .filter(|rest| a.len() >= 3 && rest.len() >= 4 && elsewhere(rest))
                        .map(|rest| [a.to_string(), rest.to_string()])
                })
            })
            .flatten();
        // A bound glued to what it bounds (`maxclients`, `maxconn`): both words count.
        let bound = ["max", "min"].iter().find_map(|b| {
            w.strip_prefix(b)
                .filter(|rest| rest.len() >= 4 && !rest.starts_with("im"))
                .map(|rest| [b.to_string(), rest.to_string()])
        });
        match glued.or(bound) {
            Some(two) => out.extend(two),
            None => out.push(w.clone()),
        }
    }
    out
}

/// Whether `word` is one of `set` or an inflection of one (`warmer`, `shedding`, `rolled`).
fn inflects(word: &str, set: &[&str]) -> bool {
    const ENDINGS: &[&str] = &["s", "es", "d", "ed", "er", "ers", "ing"];
    // Words that look inflected and mean something else: a rolling restart undoes nothing.
    const NOT_INFLECTED: &[&str] = &["rolling"];
    set.iter().any(|base| {
        word == *base
            || (base.len() >= 3
                && !NOT_INFLECTED.contains(&word)
                && word.strip_prefix(base).is_some_and(|rest| {
                    // A doubled last letter (`shed` → `shedding`).
                    let rest = match (rest.chars().next(), base.chars().last()) {
                        (Some(a), Some(b)) if a == b => &rest[1..],
                        _ => rest,
                    };
                    ENDINGS.contains(&rest)
                }))
    })
}

/// Deleting a database's write-ahead or redo log by hand: what it needs to recover. Never a
/// fix for a full disk, whatever it frees. Read step by step (the name is one step; a
/// description's steps end at `;`, `,`, brackets, `&&`, "and", "then"): deleting one thing
/// and then checking the log has room is no deletion of the log.
fn destroys_the_write_ahead_log(action: &ActionInfo) -> bool {
    let deletes_the_log = |step: &str| {
        let ws = words(step);
        ws.iter()
            .any(|w| matches!(w.as_str(), "rm" | "delete" | "remove" | "unlink"))
            && ws
                .iter()
                .any(|w| matches!(w.as_str(), "wal" | "xlog" | "redo"))
    };
    let lower = action.description.to_lowercase();
    let steps = lower
        .split([';', ',', '(', ')', '\n', '|'])
        .flat_map(|s| s.split("&&"))
        .flat_map(|s| s.split(". "))
        .flat_map(|s| s.split(" and "))
        .flat_map(|s| s.split(" then "));
    deletes_the_log(&action.name) || steps.into_iter().any(deletes_the_log)
}

/// Words of a metric's name that say how it is measured or whose it is, not what it stores.
const NOT_A_FILLER: &[&str] = &[
    "bytes", "size", "total", "used", "max", "min", "sum", "avg", "per", "sec", "cnt", "num",
    "pct", "aws", "gcp",
];

/// How closely `action` is about what filled the disk — 0 when its name says it, 1 when only
/// its description does, 2 otherwise — by a word (of at least three letters, plural or not,
/// not one of [`NOT_A_FILLER`]) of a stored quantity that grew
/// (`pg_replication_slots_retained_bytes` → a replication slot; `pg_wal_directory_size_bytes`
/// → the WAL). Removing what holds the bytes fixes; freeing or growing around it only buys
/// time.
pub(crate) fn about_the_filler(action: &ActionInfo, fillers: &[String]) -> u8 {
    let singular = |w: &str| w.strip_suffix('s').unwrap_or(w).to_string();
    let fill: Vec<String> = fillers
        .iter()
        .flat_map(|f| words(f))
        .filter(|w| w.len() >= 3 && !NOT_A_FILLER.contains(&w.as_str()))
        .map(|w| singular(&w))
        .collect();
    let says = |text: &str| words(text).iter().any(|w| fill.contains(&singular(w)));
    if says(&action.name) {
        0
    } else if says(&action.description) {
        1
    } else {
        2
    }
}

/// Whether `action` makes room by adding capacity (a bigger volume) rather than by freeing
/// what fills it. Growing a filesystem adds bytes, not always inodes: when only the inodes are
/// exhausted, freeing files is what helps.
pub(crate) fn grows(action: &ActionInfo) -> bool {
    const GROW: &[&str] = &[
        "expand", "grow", "resize", "extend", "enlarge", "add", "bigger", "larger",
    ];
    words(&action.name)
        .iter()
        .any(|w| GROW.contains(&w.as_str()))
}

/// The actions on `targets` that fit `cause`, best first.
pub(crate) fn rank<'a>(
    cause: RootCause,
    targets: &[&str],
    offered: &'a [ActionInfo],
) -> Vec<&'a ActionInfo> {
    let mut fits: Vec<(f64, usize, &ActionInfo)> = offered
        .iter()
        .filter(|a| targets.contains(&a.target.as_str()))
        .filter_map(|a| {
            let rank = targets
                .iter()
                .position(|t| *t == a.target)
                .unwrap_or(usize::MAX);
            fit(cause, a).map(|s| (s, rank, a))
        })
        .collect();
    fits.sort_by(|a, b| {
        a.1.cmp(&b.1)
            .then(b.0.total_cmp(&a.0))
            .then_with(|| a.2.name.cmp(&b.2.name))
    });
    fits.into_iter().map(|(_, _, a)| a).collect()
}

/// Words of a service name that say nothing of which service it is.
const GENERIC_NAME_WORDS: &[&str] = &[
    "api", "app", "svc", "service", "server", "srv", "web", "db", "backend", "frontend", "prod",
    "main", "core", "internal", "external", "worker", "v1", "v2",
];

/// Actions on the callers of `component` that route around it — fail over, switch away,
/// break the circuit, degrade without it — and say which dependency they route around (a
/// word of its name in theirs or their description). Trouble in a dependency the team does
/// not run (a vendor slow or down, its certificate expired) is fixed where it is called.
pub(crate) fn route_around<'a>(
    component: &str,
    callers: &[&str],
    offered: &'a [ActionInfo],
) -> Vec<&'a ActionInfo> {
    let named: Vec<String> = words(component)
        .into_iter()
        .filter(|w| w.len() >= 3 && !GENERIC_NAME_WORDS.contains(&w.as_str()))
        .collect();
    if named.is_empty() {
        return Vec::new();
    }
    rank(RootCause::SlowDependency, callers, offered)
        .into_iter()
        .filter(|a| {
            words(&a.name)
                .into_iter()
                .chain(words(&a.description))
                .any(|w| named.contains(&w))
        })
        .collect()
}

/// Words of an action that holds back how much a service sends: a cap on its concurrency, a
/// rate limit, a pause.
const HOLDS_BACK: &[&str] = &[
    "throttle",
    "limit",
    "cap",
    "concurrency",
    "concurrent",
    "pause",
    "rate",
    "ratelimit",
    "reserved",
    "slow",
    "shed",
    "suspend",
    "backoff",
];

/// Actions on `surging` (callers whose traffic to `component`'s pool surged) that hold them
/// back: the pool fills with their surge, and capping it frees the pool without touching
/// what every other caller shares. Restarts and rollbacks are not among them.
pub(crate) fn hold_back<'a>(surging: &[&str], offered: &'a [ActionInfo]) -> Vec<&'a ActionInfo> {
    let mut out: Vec<&ActionInfo> = offered
        .iter()
        .filter(|a| surging.contains(&a.target.as_str()))
        .filter(|a| {
            let (name, desc) = (words(&a.name), words(&a.description));
            name.iter().chain(&desc).any(|w| inflects(w, HOLDS_BACK))
                && !name
                    .iter()
                    .any(|w| inflects(w, &["restart", "bounce", "rollback", "revert", "flush"]))
        })
        .collect();
    out.sort_by_key(|a| (a.needs_approval, a.risk as u8, a.name.clone()));
    out
}

#[cfg(test)]
mod tests {
    use opsmcp_world::{ActionInfo, Risk};

    use super::{RootCause, about_the_filler, fit, rank, route_around};

    fn action(name: &str, description: &str, risk: Risk) -> ActionInfo {
        ActionInfo {
            name: name.into(),
            target: "svc".into(),
            description: description.into(),
            risk,
            needs_approval: false,
            rollback: None,
            params: Default::default(),
        }
    }

    #[test]
    fn operators_names_and_descriptions_are_understood() {
        let offered = [
            action(
                "grow-filesystem",
                "Extend the data volume by 50 GiB",
                Risk::Low,
            ),
            action(
                "purge-old-segments",
                "Delete log segments past retention",
                Risk::Medium,
            ),
            action("restart", "Restart the service", Risk::Medium),
            action(
                "bump-connection-limit",
                "Raise max_connections to 200",
                Risk::Low,
            ),
            action(
                "pin-previous-image",
                "Redeploy the last known good image",
                Risk::Low,
            ),
            action("flush-cache", "Empty the cache", Risk::Low),
            action("prewarm", "Load the hot keys into the cache", Risk::Low),
        ];
        let names = |c| {
            rank(c, &["svc"], &offered)
                .into_iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
        };
        let disk = names(RootCause::DiskFull);
        assert!(disk.contains(&"grow-filesystem") && disk.contains(&"purge-old-segments"));
        assert!(!disk.contains(&"restart"));
        assert_eq!(
            names(RootCause::ConnectionPoolExhaustion)[0],
            "bump-connection-limit"
        );
        assert_eq!(names(RootCause::BadDeploy), vec!["pin-previous-image"]);
        assert_eq!(names(RootCause::CacheStampede), vec!["prewarm"]);
        assert!(
            fit(RootCause::CacheStampede, &offered[5]).is_none(),
            "flushing harms"
        );
    }

    #[test]
    fn deleting_the_write_ahead_log_is_no_fix_but_checking_it_after_deleting_else_is() {
        let frees = action(
            "purge-coredumps-and-stop-agent",
            "systemctl stop agent; rm /var/lib/systemd/coredump/core.agent.*; check pg_wal has room",
            Risk::Medium,
        );
        assert!(fit(RootCause::DiskFull, &frees).is_some());
        for destroys in [
            action("free-space", "rm pg_wal/0000000100000A*", Risk::Low),
            action(
                "free-space",
                "stop the db && rm -rf data/pg_xlog/*",
                Risk::Low,
            ),
            action("delete-old-wal", "Frees the disk", Risk::Low),
        ] {
            assert!(
                fit(RootCause::DiskFull, &destroys).is_none(),
                "{}",
                destroys.description
            );
        }
    }

    #[test]
    fn running_the_job_that_loads_a_cache_again_refills_it() {
        let rerun = action(
            "rerun-batch-loader",
            "Trigger the nightly job now, with its expiry spread over hours",
            Risk::Medium,
        );
        assert!(fit(RootCause::CacheStampede, &rerun).is_some());
        let restart = action("restart-loader", "Restart the loader", Risk::Low);
        assert!(fit(RootCause::CacheStampede, &restart).is_none());
    }

    #[test]
    fn switching_a_flag_off_undoes_a_config_push_better_than_a_version_rollback() {
        let offered = [
            action("rollback", "Roll the service back to 14.1.3", Risk::Medium),
            action(
                "flag-off-new-rounding",
                "Set checkout.rounding-v2 = false in the flag service",
                Risk::Low,
            ),
        ];
        let best = rank(RootCause::BadConfigPush, &["svc"], &offered);
        assert_eq!(best[0].name, "flag-off-new-rounding");
    }

    #[test]
    fn undoing_the_code_is_a_last_resort_for_a_config_push() {
        let offered = [
            action(
                "rollback-dispatcher",
                "Roll the image back to 3.7.0",
                Risk::Low,
            ),
            ActionInfo {
                needs_approval: true,
                ..action(
                    "revert-dispatcher-secret",
                    "git revert the secrets rotation commit and resync",
                    Risk::Low,
                )
            },
        ];
        let best = rank(RootCause::BadConfigPush, &["svc"], &offered);
        assert_eq!(best[0].name, "revert-dispatcher-secret");
        let best = rank(RootCause::BadDeploy, &["svc"], &offered);
        assert_eq!(best[0].name, "rollback-dispatcher");
    }

    #[test]
    fn putting_back_the_last_good_state_undoes_a_push() {
        let offered = [
            action(
                "ship-last-known-good-rules",
                "Publish that bundle to every edge node",
                Risk::Medium,
            ),
            action("reboot-edge", "Reboot the edge fleet", Risk::High),
        ];
        let best = rank(RootCause::BadConfigPush, &["svc"], &offered);
        assert_eq!(best.len(), 1, "{best:?}");
        assert_eq!(best[0].name, "ship-last-known-good-rules");
        // Only "last good" or "known good" says it: a good word alone undoes nothing.
        let good = [action("make-good", "Apply the good settings", Risk::Low)];
        assert!(rank(RootCause::BadConfigPush, &["svc"], &good).is_empty());
    }

    #[test]
    fn warming_a_cold_cache_from_a_peer_meets_a_stampede() {
        let offered = [
            action(
                "enable-peer-warmup",
                "Misses are filled from the sibling cache tier instead of the database",
                Risk::Low,
            ),
            action(
                "restart-cache",
                "Rolling restart of the cache nodes",
                Risk::High,
            ),
        ];
        let best = rank(RootCause::CacheStampede, &["svc"], &offered);
        assert_eq!(best.len(), 1, "{best:?}");
        assert_eq!(best[0].name, "enable-peer-warmup");
    }

    #[test]
    fn a_warning_of_data_loss_ranks_last() {
        let offered = [
            action(
                "wipe-and-grow-volume",
                "Recreate the volume larger; all data is lost",
                Risk::High,
            ),
            action("rotate-logs", "Rotate and compress logs", Risk::Low),
        ];
        assert_eq!(
            rank(RootCause::DiskFull, &["svc"], &offered)[0].name,
            "rotate-logs"
        );
    }

    #[test]
    fn a_vendors_trouble_is_routed_around_where_it_is_called_naming_the_vendor() {
        let on = |target: &str, a: ActionInfo| ActionInfo {
            target: target.into(),
            ..a
        };
        let offered = [
            on(
                "checkout",
                action("restart-checkout", "Rolling restart", Risk::Low),
            ),
            on(
                "checkout",
                action(
                    "failover-search-to-replica",
                    "Send search reads to the replica",
                    Risk::Low,
                ),
            ),
            on(
                "checkout",
                action(
                    "use-cached-quotes",
                    "Disable live Acme quotes; answer from the nightly table",
                    Risk::Medium,
                ),
            ),
            on(
                "elsewhere",
                action("disable-acme-sync", "Stop the Acme sync", Risk::Low),
            ),
        ];
        let picked: Vec<&str> = route_around("acme-rates-api", &["checkout"], &offered)
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(picked, ["use-cached-quotes"]);
        // A dependency named only in generic words is never guessed at.
        assert!(route_around("api", &["checkout"], &offered).is_empty());
    }

    #[test]
    fn inflected_words_act_and_the_write_ahead_log_is_never_deleted() {
        let warmer = action("run-cache-warmer", "Run the warmer job", Risk::Low);
        assert!(fit(RootCause::CacheStampede, &warmer).is_some());
        let shedding = action("enable-load-shedding", "", Risk::Low);
        assert!(fit(RootCause::CacheStampede, &shedding).is_some());
        // `backup` is no inflection of `back`.
        let backup = action("backup-db", "Take a backup", Risk::Low);
        assert!(fit(RootCause::BadDeploy, &backup).is_none());
        let rm = action("free-space", "rm old files under pg_wal by hand", Risk::Low);
        assert!(fit(RootCause::DiskFull, &rm).is_none());
        let archive = action("archive-logs", "Archive old application logs", Risk::Low);
        assert!(fit(RootCause::DiskFull, &archive).is_some());
        // Growing the storage is a disk fix in whatever verb it is written.
        let storage = action("increase-storage", "", Risk::High);
        assert!(fit(RootCause::DiskFull, &storage).is_some());
        let rolling = action("restart-fleet", "Rolling restart, same config", Risk::High);
        assert!(fit(RootCause::BadConfigPush, &rolling).is_none());
        let rolled = action("undo-push", "Config rolled back", Risk::Low);
        assert!(fit(RootCause::BadConfigPush, &rolled).is_some());
    }

    #[test]
    fn a_verb_glued_to_its_object_acts_and_moving_an_alarm_line_frees_no_disk() {
        let offered = [
            action(
                "raise-merge-throughput",
                "store-tool setmergethroughput 256",
                Risk::Medium,
            ),
            action(
                "tool-clearsnapshot-nightly",
                "store-tool clearsnapshot -t nightly-* (leftover snapshot hard links)",
                Risk::Medium,
            ),
            action(
                "lower-disk-free-limit",
                "broker-ctl set_disk_free_limit 1GB",
                Risk::High,
            ),
        ];
        assert_eq!(
            rank(RootCause::DiskFull, &["svc"], &offered)
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>(),
            ["tool-clearsnapshot-nightly"],
            "a raised rate is no room, and a lower alarm line only lets the disk fill on"
        );
        // Glued only where the object stands on its own: `address` is not "add" + "ress".
        let address = action("address-book-sync", "sync the address book", Risk::Low);
        assert!(fit(RootCause::DiskFull, &address).is_none());
        // Setting a pool's size is a pool fix; setting anything else is not.
        let size = action(
            "proxy-default-pool-size-80",
            "Set default_pool_size = 80 and reload",
            Risk::Low,
        );
        assert!(fit(RootCause::ConnectionPoolExhaustion, &size).is_some());
        let verbose = action("set-verbose-logging", "", Risk::Low);
        assert!(fit(RootCause::ConnectionPoolExhaustion, &verbose).is_none());
        // A bound glued to what it bounds is about the pool.
        let maxclients = action(
            "raise-cache-maxclients",
            "CONFIG SET maxclients 10000",
            Risk::Low,
        );
        assert!(fit(RootCause::ConnectionPoolExhaustion, &maxclients).is_some());
        // Setting a setting back undoes a push; setting anything else does not.
        let policy = action(
            "set-eviction-policy-lru",
            "CONFIG SET maxmemory-policy volatile-lru",
            Risk::Low,
        );
        assert!(fit(RootCause::BadConfigPush, &policy).is_some());
        let replicas = action("set-replicas-6", "", Risk::Low);
        assert!(fit(RootCause::BadConfigPush, &replicas).is_none());
    }

    #[test]
    fn what_filled_the_disk_is_read_in_short_words_too() {
        let wal = ["pg_wal_directory_size_bytes".to_string()];
        let drop_slot = action(
            "drop-stale-slot",
            "drop the replication slot so old WAL segments are removed",
            Risk::Medium,
        );
        let grow = action(
            "grow-volume-2x",
            "resize the volume to twice its size",
            Risk::Medium,
        );
        assert_eq!(about_the_filler(&drop_slot, &wal), 1);
        assert_eq!(about_the_filler(&grow, &wal), 2);
        // How a metric is measured says nothing of what fills the disk.
        let sized = action("set-max-size", "raise the max total size", Risk::Low);
        assert_eq!(
            about_the_filler(&sized, &["queue_max_size_bytes_sum".into()]),
            2
        );
    }

    #[test]
    fn sending_reads_to_another_copy_routes_around_a_slow_store() {
        let read = action(
            "read-scenes-from-west-replica",
            "flip the read-endpoint flag to the replica bucket",
            Risk::Low,
        );
        assert!(fit(RootCause::SlowDependency, &read).is_some());
        let restore = action(
            "restore-from-backup",
            "load last night's backup",
            Risk::High,
        );
        assert!(fit(RootCause::SlowDependency, &restore).is_none());
        let more = action(
            "api-to-3-replicas",
            "kubectl scale to 3 replicas",
            Risk::Low,
        );
        assert!(fit(RootCause::SlowDependency, &more).is_none());
        let timeout = action(
            "raise-timeout-to-30s",
            "client timeout 10s -> 30s",
            Risk::Low,
        );
        assert!(fit(RootCause::SlowDependency, &timeout).is_none());
    }
}
