//! Anthropic's Messages API (`POST {base_url}/v1/messages`, streamed).

mod client;
mod config;
#[cfg(test)]
mod tests;

pub use client::Anthropic;
pub use config::AnthropicConfig;
