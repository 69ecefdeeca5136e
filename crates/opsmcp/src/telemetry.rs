//! Logs on stderr (text or JSON, one object per line, with the request id of the request a line
//! belongs to) and, with `--otlp-endpoint`, the same spans exported as OpenTelemetry traces over
//! OTLP/HTTP for latency breakdowns and error tracking.

use anyhow::Context;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::{EnvFilter, Layer, fmt, layer::SubscriberExt, util::SubscriberInitExt};

/// Log line format.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Flushes exported traces when dropped (at exit).
pub struct Telemetry(Option<SdkTracerProvider>);

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("opsmcp: could not flush traces to the OTLP endpoint: {e}");
        }
    }
}

/// Installs the subscriber: `OPSMCP_LOG` (or `RUST_LOG`) filters, else `default_filter`.
pub fn init(
    format: LogFormat,
    default_filter: &str,
    otlp_endpoint: Option<&str>,
) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_from_env("OPSMCP_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new(default_filter));
    let stderr = match format {
        LogFormat::Json => fmt::layer().json().with_writer(std::io::stderr).boxed(),
        // Colour only for a person at a terminal: none in a pipe, a file or a journal.
        LogFormat::Text => fmt::layer()
            .with_ansi(crate::report::colour_on_stderr())
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let provider = otlp_endpoint.map(provider).transpose()?;
    let otel = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer(env!("CARGO_PKG_NAME"))));
    tracing_subscriber::registry()
        .with(filter)
        .with(stderr)
        .with(otel)
        .init();
    Ok(Telemetry(provider))
}

/// A batching exporter to `endpoint` (the collector's base URL; `/v1/traces` is added).
fn provider(endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    let base = endpoint.trim_end_matches('/');
    let url = if base.ends_with("/v1/traces") {
        base.to_string()
    } else {
        format!("{base}/v1/traces")
    };
    use opentelemetry_otlp::WithExportConfig;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(url.clone())
        .build()
        .with_context(|| format!("cannot set up OTLP export to {url}"))?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name("opsmcp")
                .build(),
        )
        .build())
}
