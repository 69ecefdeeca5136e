//! The scenarios that ship inside the binary (`scenarios/*.toml` at the repository root).

use super::{Scenario, ScenarioError};

/// (name, TOML text) of every built-in scenario.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "db-connection-pool-exhaustion",
        include_str!("../../../../scenarios/db-connection-pool-exhaustion.toml"),
    ),
    (
        "bad-deploy-error-spike",
        include_str!("../../../../scenarios/bad-deploy-error-spike.toml"),
    ),
    (
        "memory-leak-oom",
        include_str!("../../../../scenarios/memory-leak-oom.toml"),
    ),
    (
        "disk-full-log-volume",
        include_str!("../../../../scenarios/disk-full-log-volume.toml"),
    ),
    (
        "slow-upstream-dependency",
        include_str!("../../../../scenarios/slow-upstream-dependency.toml"),
    ),
    (
        "expired-tls-certificate",
        include_str!("../../../../scenarios/expired-tls-certificate.toml"),
    ),
    (
        "runaway-cron-cpu",
        include_str!("../../../../scenarios/runaway-cron-cpu.toml"),
    ),
    (
        "cache-stampede",
        include_str!("../../../../scenarios/cache-stampede.toml"),
    ),
];

/// Loads a built-in scenario by name, or a scenario file by path. An unknown name lists the
/// known ones.
pub fn load(name_or_path: &str) -> Result<Scenario, ScenarioError> {
    if let Some((name, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
        return Scenario::parse(text, &format!("built-in scenario {name}"));
    }
    let path = std::path::Path::new(name_or_path);
    if path.extension().is_some_and(|e| e == "toml") || path.exists() {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Invalid {
            origin: name_or_path.to_string(),
            problem: format!("cannot read the file: {e}"),
        })?;
        return Scenario::parse(&text, name_or_path);
    }
    Err(ScenarioError::Invalid {
        origin: name_or_path.to_string(),
        problem: format!(
            "no built-in scenario of that name and no such file; built-in scenarios: {}",
            BUILTIN
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// Every built-in scenario, parsed.
pub fn all() -> Result<Vec<Scenario>, ScenarioError> {
    BUILTIN.iter().map(|(name, _)| load(name)).collect()
}
