//! A client of the 2024-11-05 HTTP+SSE transport, which rmcp no longer ships.
//!
//! `GET {url}` opens an event stream whose first event is `endpoint`, carrying the URL (usually
//! relative, `/messages?sessionId=…`) to POST JSON-RPC messages to; the server's messages then
//! arrive on the stream as `message` events. POSTs are answered `202 Accepted` with no body.
//! This plugs into rmcp as a [`Transport`], so the rmcp client runs the protocol on top.

use std::{borrow::Cow, time::Duration};

use futures::{StreamExt, stream::BoxStream};
use reqwest::{Url, header::HeaderMap};
use rmcp::{
    RoleClient,
    model::{ClientJsonRpcMessage, ServerJsonRpcMessage},
    transport::Transport,
};
use tokio::sync::mpsc;

use crate::sse::SseParser;

/// Why the HTTP+SSE transport failed.
#[derive(Debug, thiserror::Error)]
pub enum LegacySseError {
    /// An HTTP request failed.
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    /// The server did not behave like an HTTP+SSE MCP server.
    #[error("{0}")]
    Protocol(String),
}

/// The client end of one `/sse` session.
pub struct LegacySseTransport {
    http: reqwest::Client,
    endpoint: Url,
    rx: mpsc::Receiver<ServerJsonRpcMessage>,
    reader: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for LegacySseTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegacySseTransport")
            .field("endpoint", &self.endpoint.as_str())
            .finish()
    }
}

impl LegacySseTransport {
    /// Opens the event stream at `url` (sending `headers` on it and on every POST) and waits up
    /// to `timeout` for the `endpoint` event.
    pub async fn connect(
        url: &str,
        headers: HeaderMap,
        timeout: Duration,
    ) -> Result<Self, LegacySseError> {
        let base =
            Url::parse(url).map_err(|e| LegacySseError::Protocol(format!("bad URL: {e}")))?;
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(timeout)
            .build()?;
        let response = tokio::time::timeout(
            timeout,
            http.get(base.clone())
                .header("accept", "text/event-stream")
                .send(),
        )
        .await
        .map_err(|_| LegacySseError::Protocol(format!("no answer to GET within {timeout:?}")))??;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(LegacySseError::Protocol(format!(
                "GET answered {status}: {}",
                body.trim()
            )));
        }
        let mut stream: BoxStream<'static, reqwest::Result<bytes::Bytes>> =
            Box::pin(response.bytes_stream());
        let mut parser = SseParser::default();
        let mut early = Vec::new();
        let endpoint = tokio::time::timeout(timeout, async {
            while let Some(chunk) = stream.next().await {
                for ev in parser.push(&chunk?) {
                    if ev.event == "endpoint" {
                        return Ok(Some(ev.data));
                    }
                    early.push(ev);
                }
            }
            Ok::<_, LegacySseError>(None)
        })
        .await
        .map_err(|_| LegacySseError::Protocol(format!("no `endpoint` event within {timeout:?}")))??
        .ok_or_else(|| {
            LegacySseError::Protocol("the stream ended before the `endpoint` event".into())
        })?;
        let endpoint = base
            .join(endpoint.trim())
            .map_err(|e| LegacySseError::Protocol(format!("bad endpoint `{endpoint}`: {e}")))?;
        tracing::debug!(%endpoint, "HTTP+SSE session open");

        let (tx, rx) = mpsc::channel(64);
        let reader = tokio::spawn(async move {
            for ev in early {
                deliver(&tx, &ev.event, &ev.data).await;
            }
            while let Some(chunk) = stream.next().await {
                let Ok(chunk) = chunk else {
                    tracing::warn!("HTTP+SSE stream broke");
                    break;
                };
                for ev in parser.push(&chunk) {
                    if !deliver(&tx, &ev.event, &ev.data).await {
                        return;
                    }
                }
            }
            tracing::debug!("HTTP+SSE stream ended");
        });
        Ok(Self {
            http,
            endpoint,
            rx,
            reader,
        })
    }
}

/// Hands a `message` event to the client; false once the client is gone.
async fn deliver(tx: &mpsc::Sender<ServerJsonRpcMessage>, event: &str, data: &str) -> bool {
    if event != "message" {
        tracing::debug!(event, "ignoring SSE event");
        return true;
    }
    match serde_json::from_str::<ServerJsonRpcMessage>(data) {
        Ok(msg) => tx.send(msg).await.is_ok(),
        Err(e) => {
            tracing::warn!(error = %e, data, "ignoring an SSE message that is not JSON-RPC");
            true
        }
    }
}

impl Transport<RoleClient> for LegacySseTransport {
    type Error = LegacySseError;

    fn name() -> Cow<'static, str> {
        "http+sse".into()
    }

    fn send(
        &mut self,
        item: ClientJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let http = self.http.clone();
        let url = self.endpoint.clone();
        async move {
            let response = http.post(url).json(&item).send().await?;
            let status = response.status();
            if status.is_success() {
                Ok(())
            } else {
                let body = response.text().await.unwrap_or_default();
                Err(LegacySseError::Protocol(format!(
                    "POST answered {status}: {}",
                    body.trim()
                )))
            }
        }
    }

    fn receive(&mut self) -> impl Future<Output = Option<ServerJsonRpcMessage>> + Send {
        self.rx.recv()
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.reader.abort();
        Ok(())
    }
}

impl Drop for LegacySseTransport {
    fn drop(&mut self) {
        self.reader.abort();
    }
}
