//! OpenAI-compatible chat completions (`POST {base_url}/chat/completions`, streamed): OpenAI
//! itself, and the servers that copy its API (Ollama, vLLM, llama.cpp's server, LiteLLM).

mod client;
mod config;
#[cfg(test)]
mod tests;

pub use client::OpenAi;
pub use config::OpenAiConfig;
