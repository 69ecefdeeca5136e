//! What every server's rmcp handler shares: [`answer`], a tool's result as its `#[tool]` fn
//! returns it.

use rmcp::Json;

use crate::ToolError;

/// A tool's result as its `#[tool]` fn returns it: the output as structured content, or the
/// error's message as a tool error the model reads and can act on.
///
/// The `#[tool]` fns write the type out, `Result<Json<Output>, String>`, rather than through an
/// alias: rmcp's macro finds a tool's output schema by reading that spelling.
pub fn answer<T>(result: Result<T, ToolError>) -> Result<Json<T>, String> {
    result.map(Json).map_err(|e| e.to_string())
}
