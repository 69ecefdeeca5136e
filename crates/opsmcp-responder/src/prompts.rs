//! The system prompt and the phase texts given to model brains (the seed's system prompt plus
//! phase files). The defaults ship inside the binary (`prompts/` at the repository root); a
//! folder of the same shape overrides them, and [`Prompts::write`] makes one (`opsmcp prompts
//! export`) for a binary install, whose users have no repository to read them from.

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

    /// The files [`Prompts::write`] makes under `dir`, in order: `system.md`, then
    /// `phases/<phase>.md` — the layout [`Prompts::load`] reads.
    pub fn files(&self, dir: &Path) -> Vec<(PathBuf, &str)> {
        std::iter::once((dir.join("system.md"), self.system.as_str()))
            .chain(self.phases.iter().map(|(phase, text)| {
                (
                    dir.join("phases").join(format!("{phase}.md")),
                    text.as_str(),
                )
            }))
            .collect()
    }

    /// Writes the prompts under `dir` in the layout [`Prompts::load`] reads and returns the
    /// files written. Without `overwrite`, an existing file stops it before anything is
    /// written, so edits made to an earlier export are never lost by running it again.
    pub fn write(&self, dir: &Path, overwrite: bool) -> Result<Vec<PathBuf>, PromptError> {
        let files = self.files(dir);
        if !overwrite && let Some((path, _)) = files.iter().find(|(path, _)| path.exists()) {
            return Err(PromptError {
                path: path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "already exists; nothing was written (pass --force to overwrite, or choose \
                     another folder)",
                ),
            });
        }
        let phases = dir.join("phases");
        std::fs::create_dir_all(&phases).map_err(|source| PromptError {
            path: phases.clone(),
            source,
        })?;
        for (path, text) in &files {
            std::fs::write(path, text).map_err(|source| PromptError {
                path: path.clone(),
                source,
            })?;
        }
        Ok(files.into_iter().map(|(path, _)| path).collect())
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
