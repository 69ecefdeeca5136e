//! What the host knows about each tool without knowing what it does: the scope a caller needs
//! for it, whether it is expensive (its own rate limit and concurrency limit), and whether this
//! deployment offers it at all (`--read-only`, `--enabled-tools`, `--disabled-tools`).

use std::collections::HashMap;

use rmcp::{handler::server::router::tool::ToolRouter, model::Tool};

use crate::auth::Scope;

/// One tool's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolRule {
    /// What a caller needs to call it.
    pub scope: Scope,
    /// Counts against the expensive-call limits (scripts, root-cause analysis).
    pub expensive: bool,
}

/// Rules of every tool of one server.
#[derive(Debug, Clone, Default)]
pub struct ToolRules {
    rules: HashMap<String, ToolRule>,
}

impl ToolRules {
    /// Rules for `tools`: `read` for tools annotated read-only, `write` for the others, unless
    /// `scopes` names the tool; `expensive` lists the expensive ones.
    pub fn new(tools: &[Tool], scopes: &[(&str, Scope)], expensive: &[&str]) -> Self {
        let rules = tools
            .iter()
            .map(|t| {
                let read_only = t.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true);
                let scope = scopes
                    .iter()
                    .find(|(n, _)| *n == t.name)
                    .map(|(_, s)| *s)
                    .unwrap_or(if read_only { Scope::Read } else { Scope::Write });
                (
                    t.name.to_string(),
                    ToolRule {
                        scope,
                        expensive: expensive.contains(&t.name.as_ref()),
                    },
                )
            })
            .collect();
        Self { rules }
    }

    /// The rule of `tool`; an unknown tool needs `read` (the server answers that it does not
    /// exist).
    pub fn get(&self, tool: &str) -> ToolRule {
        self.rules.get(tool).copied().unwrap_or(ToolRule {
            scope: Scope::Read,
            expensive: false,
        })
    }

    /// Tool names, for metrics and limits.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.rules.keys().map(String::as_str)
    }
}

/// Which tools a deployment offers. Tools switched off are neither listed nor callable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolSwitches {
    /// Offer only tools annotated read-only.
    pub read_only: bool,
    /// If not empty, offer only these.
    pub enabled: Vec<String>,
    /// Never offer these.
    pub disabled: Vec<String>,
}

impl ToolSwitches {
    /// Whether `tool` is offered.
    pub fn allows(&self, tool: &Tool) -> bool {
        let name = tool.name.as_ref();
        let read_only = tool.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true);
        (!self.read_only || read_only)
            && (self.enabled.is_empty() || self.enabled.iter().any(|n| n == name))
            && !self.disabled.iter().any(|n| n == name)
    }

    /// Removes from `router` the tools not offered.
    pub fn prune<S: Send + Sync + 'static>(&self, router: &mut ToolRouter<S>) {
        let off: Vec<String> = router
            .list_all()
            .iter()
            .filter(|t| !self.allows(t))
            .map(|t| t.name.to_string())
            .collect();
        for name in off {
            router.remove_route(&name);
        }
    }

    /// Names in `enabled` or `disabled` that are not among `known` (a typo would otherwise
    /// silently offer everything or nothing).
    pub fn unknown(&self, known: &[&str]) -> Vec<String> {
        self.enabled
            .iter()
            .chain(&self.disabled)
            .filter(|n| !known.contains(&n.as_str()))
            .cloned()
            .collect()
    }
}
