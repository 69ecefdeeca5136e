//! The system prompt and the phase texts given to model brains (the seed's system prompt plus
//! phase files). The defaults ship inside the binary (`prompts/` at the repository root); a
//! folder of the same shape overrides them.

use std::path::{Path, PathBuf};

/// The phases, in the order they are worked.
pub const PHASES: [&str; 7] = [
    "detect",
    "investigate",
    "root-cause",
    "remediate",
    "verify",
    "document",
    "notify",
];

const SYSTEM: &str = include_str!("../../../prompts/system.md");
const BUILTIN_PHASES: [&str; 7] = [
    include_str!("../../../prompts/phases/detect.md"),
    include_str!("../../../prompts/phases/investigate.md"),
    include_str!("../../../prompts/phases/root-cause.md"),
    include_str!("../../../prompts/phases/remediate.md"),
    include_str!("../../../prompts/phases/verify.md"),
    include_str!("../../../prompts/phases/document.md"),
    include_str!("../../../prompts/phases/notify.md"),
];

/// A prompt folder that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("prompt file {path}: {source}; a prompts folder holds system.md and phases/<phase>.md for {phases}", phases = PHASES.join(", "))]
pub struct PromptError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// The system prompt and each phase's text.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompts {
    /// The base system prompt.
    pub system: String,
    /// (phase, text), in [`PHASES`] order.
    pub phases: Vec<(String, String)>,
}

impl Prompts {
    /// The prompts built into the binary.
    pub fn builtin() -> Self {
        Self {
            system: SYSTEM.to_string(),
            phases: PHASES
                .iter()
                .zip(BUILTIN_PHASES)
                .map(|(p, t)| (p.to_string(), t.to_string()))
                .collect(),
        }
    }

    /// Reads `dir/system.md` and `dir/phases/<phase>.md`; every file must exist, so a typo in
    /// a name is an error rather than a silently missing phase.
    pub fn load(dir: &Path) -> Result<Self, PromptError> {
        let read = |path: PathBuf| {
            std::fs::read_to_string(&path).map_err(|source| PromptError { path, source })
        };
        let system = read(dir.join("system.md"))?;
        let phases = PHASES
            .iter()
            .map(|p| {
                Ok((
                    p.to_string(),
                    read(dir.join("phases").join(format!("{p}.md")))?,
                ))
            })
            .collect::<Result<_, PromptError>>()?;
        Ok(Self { system, phases })
    }

    /// What a model brain is given as its system prompt: the base prompt, then each phase.
    pub fn system_prompt(&self) -> String {
        let mut out = self.system.trim_end().to_string();
        out.push_str("\n\n# Phases\n");
        for (phase, text) in &self.phases {
            out.push_str(&format!("\n## {phase}\n\n{}\n", text.trim()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_prompts_have_every_phase_and_the_analytics_rule() {
        let p = Prompts::builtin();
        let s = p.system_prompt();
        assert!(s.contains("`analytics/`"));
        for phase in PHASES {
            assert!(s.contains(&format!("## {phase}")), "{phase}");
        }
    }

    #[test]
    fn a_folder_overrides_and_a_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = Prompts::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("system.md"), "{err}");
        std::fs::write(dir.path().join("system.md"), "be brief").unwrap();
        std::fs::create_dir(dir.path().join("phases")).unwrap();
        for p in PHASES {
            std::fs::write(dir.path().join(format!("phases/{p}.md")), format!("do {p}")).unwrap();
        }
        let p = Prompts::load(dir.path()).unwrap();
        assert!(p.system_prompt().starts_with("be brief"));
        assert!(p.system_prompt().contains("do root-cause"));
    }
}
