//! `opsmcp token create`: a new API token, printed once, and the lines to put in the config.

use clap::Subcommand;
use opsmcp_mcp::auth::{Scope, tokens};

use crate::serve::Exit;

/// API tokens.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a new random token. The token is printed once; the config keeps only its hash.
    Create {
        /// Who will hold it (recorded as `token:NAME` in the audit log and incident timelines).
        #[arg(long)]
        name: String,
        /// What it may do: read, write, remediate, analyze, admin (comma-separated).
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
    },
    /// Print the hash of a token read from standard input (to rebuild a lost config line).
    Hash,
}

pub fn run(cmd: TokenCommand) -> anyhow::Result<Exit> {
    match cmd {
        TokenCommand::Create { name, scopes } => {
            let scopes = scopes
                .iter()
                .map(|s| s.trim().parse::<Scope>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(crate::report::Usage)?;
            if name.trim().is_empty() || name.contains('"') {
                return Err(crate::report::Usage(
                    "--name must be a non-empty name without quotes, e.g. --name oncall-agent"
                        .into(),
                )
                .into());
            }
            let (token, hash) = tokens::generate()?;
            let list: Vec<String> = scopes.iter().map(|s| format!("\"{s}\"")).collect();
            eprintln!("New token for '{name}' (shown once; store it in your secret manager):");
            println!("{token}");
            eprintln!("\nAdd to opsmcp.toml (the config holds only the hash):\n");
            eprintln!(
                "[[auth.tokens]]\nname = \"{name}\"\nhash = \"{hash}\"\nscopes = [{}]",
                list.join(", ")
            );
            eprintln!("\nClients send it as `Authorization: Bearer <token>`.");
            Ok(Exit::Ok)
        }
        TokenCommand::Hash => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            let token = line.trim();
            if token.is_empty() {
                anyhow::bail!("no token on standard input: echo \"$TOKEN\" | opsmcp token hash");
            }
            println!("{}", tokens::hash(token));
            Ok(Exit::Ok)
        }
    }
}
