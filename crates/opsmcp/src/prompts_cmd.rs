//! `opsmcp prompts`: the prompts built into the binary, written out for tools that read them
//! from files (the Claude Agent SDK's `system_prompt`, `opsmcp agent --prompts DIR` after an
//! edit). The same texts are served as MCP prompts by the servers.

use std::path::PathBuf;

use opsmcp_responder::prompts::Prompts;

use crate::serve::Exit;

#[derive(Debug, clap::Subcommand)]
pub enum PromptsCommand {
    /// Write the built-in prompts to DIR: system.md and phases/<phase>.md, the layout
    /// `--prompts DIR` reads. Refuses to overwrite an existing file without --force.
    Export {
        /// The folder (created if missing).
        dir: PathBuf,
        /// Overwrite files that already exist.
        #[arg(long)]
        force: bool,
    },
}

pub fn run(cmd: PromptsCommand) -> anyhow::Result<Exit> {
    match cmd {
        PromptsCommand::Export { dir, force } => {
            for path in Prompts::builtin().write(&dir, force)? {
                println!("{}", path.display());
            }
            Ok(Exit::Ok)
        }
    }
}
