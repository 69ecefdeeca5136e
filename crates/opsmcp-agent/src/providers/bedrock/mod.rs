//! Amazon Bedrock's Converse API (`POST /model/{modelId}/converse`), SigV4-signed.
//!
//! Non-streaming: Converse answers in one JSON body, and the text is handed to the text callback
//! in one piece. (ConverseStream uses AWS's binary event-stream framing; not needed yet.)
//! Credentials come from the environment only (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! optional `AWS_SESSION_TOKEN`, `AWS_REGION` / `AWS_DEFAULT_REGION`): the `aws-sigv4` crate
//! signs, without `aws-config`'s full credential chain (profiles, SSO, IMDS), which would pull
//! in a second HTTP stack for a feature `aws configure export-credentials --format env` gives.

mod client;
mod config;
#[cfg(test)]
mod tests;

pub use client::Bedrock;
pub use config::{AwsCredentials, BedrockConfig};
