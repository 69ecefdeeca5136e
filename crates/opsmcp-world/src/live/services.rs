//! The service map of a live system: which services there are, what each depends on, and how
//! to recognise what belongs to it on this host (its processes, its unit, its files).
//!
//! Every other source (`[[probes]]`, `[[log_files]]`, `[[journald]]`, `[[runbook]]`,
//! `[prometheus]`) names services by name; a name used there but not declared here is still a
//! service, with no dependencies. Declaring it adds what only a declaration can say: whom it
//! calls, which processes are its own, which files are its configuration or data.
//!
//! ```toml
//! [[services]]
//! name = "shop-web"
//! depends_on = ["catalog", "postgres"]
//! process = "gunicorn .*shop_web"        # a regex on the command line
//! unit = "shop-web.service"
//! watch_files = ["/etc/shop-web/app.conf"] # a change is a config change event
//! data_paths = ["/var/lib/shop-web"]       # the file systems it needs space on
//! ```

use std::{collections::BTreeMap, path::PathBuf};

use regex::Regex;
use serde::{Deserialize, Serialize};

/// One `[[services]]` entry.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// The service's name, as the other sections use it.
    pub name: String,
    /// The services it calls (or reads from, or writes to): trouble there can travel here.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// A regular expression on a process's command line (arguments joined by spaces) that
    /// marks the process as this service's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// Its systemd unit, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Its configuration files: a change to one is a `config` change event on the service.
    #[serde(default)]
    pub watch_files: Vec<PathBuf>,
    /// Where it keeps data: the file systems holding these (and its log files) are its disks.
    #[serde(default)]
    pub data_paths: Vec<PathBuf>,
}

/// A `[[services]]` entry that cannot work as written.
#[derive(Debug, thiserror::Error)]
#[error("[[services]] '{service}': {problem}")]
pub struct InvalidService {
    /// The entry's name.
    pub service: String,
    /// What is wrong and what to write instead.
    pub problem: String,
}

/// The declared services, with their process patterns compiled.
#[derive(Debug, Clone, Default)]
pub struct ServiceMap {
    declared: Vec<Declared>,
}

#[derive(Debug, Clone)]
struct Declared {
    spec: ServiceSpec,
    process: Option<Regex>,
}

impl ServiceMap {
    /// Checks every entry: names present, unique and not `host` (the machine itself), process
    /// patterns valid regular expressions, no service depending on itself.
    pub fn new(specs: Vec<ServiceSpec>) -> Result<Self, InvalidService> {
        let mut seen = BTreeMap::new();
        let mut declared = Vec::with_capacity(specs.len());
        for spec in specs {
            let bad = |problem: String| InvalidService {
                service: spec.name.clone(),
                problem,
            };
            if spec.name.trim().is_empty() {
                return Err(bad("name must not be empty".into()));
            }
            if spec.name == HOST {
                return Err(bad(
                    "'host' is this machine itself, which is always watched; pick another name"
                        .into(),
                ));
            }
            if seen.insert(spec.name.clone(), ()).is_some() {
                return Err(bad(
                    "declared twice; merge the two entries into one".to_string()
                ));
            }
            if spec.depends_on.contains(&spec.name) {
                return Err(bad("depends_on lists the service itself; remove it".into()));
            }
            let process = match &spec.process {
                Some(p) => Some(Regex::new(p).map_err(|e| {
                    bad(format!(
                        "process = \"{p}\" is not a regular expression ({e}); write a pattern \
                         that matches the command line, e.g. \"python3 .*app.py\""
                    ))
                })?),
                None => None,
            };
            declared.push(Declared { spec, process });
        }
        Ok(Self { declared })
    }

    /// Every declared entry, in the order of the config.
    pub fn specs(&self) -> impl Iterator<Item = &ServiceSpec> {
        self.declared.iter().map(|d| &d.spec)
    }

    /// The declared entry of a service.
    pub fn spec(&self, name: &str) -> Option<&ServiceSpec> {
        self.specs().find(|s| s.name == name)
    }

    /// Which declared service a command line belongs to: the first whose pattern matches.
    pub fn owner_of(&self, command: &str) -> Option<&str> {
        self.declared
            .iter()
            .find(|d| d.process.as_ref().is_some_and(|r| r.is_match(command)))
            .map(|d| d.spec.name.as_str())
    }

    /// Whether any service names its processes.
    pub fn attributes_processes(&self) -> bool {
        self.declared.iter().any(|d| d.process.is_some())
    }

    /// Dependencies on services nobody declared or used anywhere, as `(service, dependency)`:
    /// `known` holds every name the other sections use.
    pub fn unknown_dependencies<'a>(
        &'a self,
        known: &'a [String],
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.specs().flat_map(move |s| {
            s.depends_on
                .iter()
                .filter(move |d| self.spec(d).is_none() && !known.contains(d))
                .map(move |d| (s.name.as_str(), d.as_str()))
        })
    }
}

/// The machine itself, as a service.
pub const HOST: &str = "host";

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, deps: &[&str], process: Option<&str>) -> ServiceSpec {
        ServiceSpec {
            name: name.into(),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            process: process.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn processes_are_attributed_by_their_command_line() {
        let map = ServiceMap::new(vec![
            spec("web", &["api"], Some(r"python3 .*web\.py")),
            spec("api", &[], Some(r"api-server --port \d+")),
        ])
        .unwrap();
        assert_eq!(
            map.owner_of("/usr/bin/python3 /srv/web.py --x"),
            Some("web")
        );
        assert_eq!(map.owner_of("api-server --port 8080"), Some("api"));
        assert_eq!(map.owner_of("bash"), None);
        assert!(map.attributes_processes());
    }

    #[test]
    fn bad_entries_say_what_to_write() {
        let err = ServiceMap::new(vec![spec("web", &[], Some("(unclosed"))]).unwrap_err();
        assert!(
            err.to_string().contains("not a regular expression"),
            "{err}"
        );
        let err = ServiceMap::new(vec![spec("web", &["web"], None)]).unwrap_err();
        assert!(err.to_string().contains("itself"), "{err}");
        let err = ServiceMap::new(vec![spec("a", &[], None), spec("a", &[], None)]).unwrap_err();
        assert!(err.to_string().contains("twice"), "{err}");
        let err = ServiceMap::new(vec![spec("host", &[], None)]).unwrap_err();
        assert!(err.to_string().contains("this machine"), "{err}");
        let typo: Result<ServiceSpec, _> = toml::from_str("name = \"a\"\ndepends = [\"b\"]\n");
        assert!(typo.unwrap_err().to_string().contains("depends"));
    }

    #[test]
    fn a_dependency_on_an_unknown_service_is_reported() {
        let map = ServiceMap::new(vec![spec("web", &["api", "cache"], None)]).unwrap();
        let known = vec!["api".to_string()];
        let unknown: Vec<_> = map.unknown_dependencies(&known).collect();
        assert_eq!(unknown, vec![("web", "cache")]);
    }
}
