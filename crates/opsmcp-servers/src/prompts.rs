//! The MCP prompts: the phases an incident is worked through (`prompts/phases/*.md` at the
//! repository root, the same texts the agent's model brains are given) and the log-analytics
//! skill, each served by the server whose tools it uses. The workflow server, which
//! orchestrates, also serves the whole responder prompt (`incident-response`).
//!
//! The texts are compiled in (`include_str!`), so a binary install serves them with no files
//! beside it. Every prompt has one shape — name, description, text — and `list`/`get` are the
//! only code the servers' handlers call.

use std::sync::OnceLock;

use rmcp::{
    ErrorData,
    model::{GetPromptResult, ListPromptsResult, Prompt, PromptMessage, Role},
};

/// One prompt a server offers.
#[derive(Debug, Clone, Copy)]
pub struct ServedPrompt {
    /// Its name in `prompts/list`.
    pub name: &'static str,
    /// What it is for, shown by clients beside the name.
    pub description: &'static str,
    /// The text, sent as one user message (a function, so the composed responder prompt can
    /// be built once at first use).
    pub text: fn() -> &'static str,
}

const SYSTEM: &str = include_str!("../../../prompts/system.md");
const DETECT: &str = include_str!("../../../prompts/phases/detect.md");
const INVESTIGATE: &str = include_str!("../../../prompts/phases/investigate.md");
const ROOT_CAUSE: &str = include_str!("../../../prompts/phases/root-cause.md");
const REMEDIATE: &str = include_str!("../../../prompts/phases/remediate.md");
const VERIFY: &str = include_str!("../../../prompts/phases/verify.md");
const DOCUMENT: &str = include_str!("../../../prompts/phases/document.md");
const NOTIFY: &str = include_str!("../../../prompts/phases/notify.md");

/// The `log-analytics` skill (Claude Code format).
pub const SKILL: &str = include_str!("../../../skills/log-analytics/SKILL.md");

/// Detect, root cause and verify read health, metrics and analyses: monitoring's tools.
pub const MONITORING: &[ServedPrompt] = &[
    ServedPrompt {
        name: "detect",
        description: "Phase 1 of working an incident: read health and metrics, say what is \
                      unhealthy, open an incident with a dedup key.",
        text: || DETECT,
    },
    ServedPrompt {
        name: "root-cause",
        description: "Phase 3: rank root-cause hypotheses with root_cause_analysis, weigh them \
                      against the logs and metrics, beware of red herrings.",
        text: || ROOT_CAUSE,
    },
    ServedPrompt {
        name: "verify",
        description: "Phase 5: check with verify_health that the fix worked and nothing else \
                      broke; go back to remediation or escalate if not.",
        text: || VERIFY,
    },
];

/// Investigation is the fetch → script → run loop over raw logs: log analytics' tools.
pub const LOG_ANALYTICS: &[ServedPrompt] = &[
    ServedPrompt {
        name: "log-analytics",
        description: "How to analyse large log sets: fetch them with get_raw_logs, write a \
                      Python script into analytics/, run it with execute_analysis_script, read \
                      the result.",
        text: || SKILL,
    },
    ServedPrompt {
        name: "investigate",
        description: "Phase 2 of working an incident: error patterns with analyze_logs, then \
                      the raw logs counted by a script run in the sandbox.",
        text: || INVESTIGATE,
    },
];

/// Remediate, document and notify change things through workflow's tools; the whole responder
/// prompt lives here too, as the workflow server orchestrates the others.
pub const WORKFLOW: &[ServedPrompt] = &[
    ServedPrompt {
        name: "incident-response",
        description: "The whole responder prompt: the rules, then every phase in order \
                      (detect, investigate, root-cause, remediate, verify, document, notify), \
                      for an agent connected to all three opsmcp servers.",
        text: responder,
    },
    ServedPrompt {
        name: "remediate",
        description: "Phase 4: run the action the most likely hypothesis suggests with \
                      execute_remediation, with an idempotency key; handle pending approval.",
        text: || REMEDIATE,
    },
    ServedPrompt {
        name: "document",
        description: "Phase 6: write the postmortem with document_resolution: root cause, \
                      resolution, evidence, action items.",
        text: || DOCUMENT,
    },
    ServedPrompt {
        name: "notify",
        description: "Phase 7: tell the team with notify_team, then summarise.",
        text: || NOTIFY,
    },
];

/// The phases in the order they are worked, with their texts.
const PHASES: [(&str, &str); 7] = [
    ("detect", DETECT),
    ("investigate", INVESTIGATE),
    ("root-cause", ROOT_CAUSE),
    ("remediate", REMEDIATE),
    ("verify", VERIFY),
    ("document", DOCUMENT),
    ("notify", NOTIFY),
];

/// The system prompt followed by every phase, exactly as `opsmcp agent` gives it to a model
/// brain (`opsmcp_responder::Prompts::system_prompt`, which this side cannot depend on: the
/// servers and the agent meet only over MCP; `crates/opsmcp/tests/prompts.rs` checks the two
/// agree).
fn responder() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let mut out = SYSTEM.trim_end().to_string();
        out.push_str("\n\n# Phases\n");
        for (phase, text) in PHASES {
            out.push_str(&format!("\n## {phase}\n\n{}\n", text.trim()));
        }
        out
    })
}

/// `prompts/list` for a server offering `prompts`.
pub fn list(prompts: &[ServedPrompt]) -> ListPromptsResult {
    ListPromptsResult::with_all_items(
        prompts
            .iter()
            .map(|p| Prompt::new(p.name, Some(p.description), None))
            .collect(),
    )
}

/// `prompts/get` of `name` among `prompts`; an unknown name is an error listing the known ones.
pub fn get(prompts: &[ServedPrompt], name: &str) -> Result<GetPromptResult, ErrorData> {
    let Some(p) = prompts.iter().find(|p| p.name == name) else {
        return Err(ErrorData::invalid_params(
            format!(
                "unknown prompt '{name}'; this server's prompts are: {} (prompts/list describes \
                 them)",
                prompts
                    .iter()
                    .map(|p| p.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None,
        ));
    };
    Ok(
        GetPromptResult::new(vec![PromptMessage::new_text(Role::User, (p.text)())])
            .with_description(p.description),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_phase_is_served_once_and_the_responder_prompt_has_them_all() {
        let served: Vec<&str> = [MONITORING, LOG_ANALYTICS, WORKFLOW]
            .concat()
            .iter()
            .map(|p| p.name)
            .collect();
        for phase in [
            "detect",
            "investigate",
            "root-cause",
            "remediate",
            "verify",
            "document",
            "notify",
        ] {
            assert_eq!(served.iter().filter(|n| **n == phase).count(), 1, "{phase}");
            assert!(responder().contains(&format!("## {phase}\n")), "{phase}");
        }
        assert!(responder().starts_with(SYSTEM.trim_end()));
    }

    #[test]
    fn the_skill_has_front_matter() {
        assert!(SKILL.starts_with("---\nname: log-analytics\ndescription: "));
        assert!(SKILL.contains("sys.argv[1]") && SKILL.contains("no network"));
    }
}
