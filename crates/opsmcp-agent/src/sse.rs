//! A minimal Server-Sent Events parser (the `text/event-stream` format), shared by the
//! streaming model providers and the legacy MCP HTTP+SSE transport.
//!
//! Bytes go in as they arrive from the network, complete events come out. Comments (`:` lines,
//! used for keep-alives) are skipped; several `data:` lines join with `\n`; CRLF is accepted.

/// One event: its `event:` name (`message` when absent, as the spec says) and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    pub event: String,
    pub data: String,
}

/// Incremental parser: [`SseParser::push`] bytes, get the events they completed.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    buf: Vec<u8>,
    event: Option<String>,
    data: Vec<String>,
}

impl SseParser {
    /// Feeds `chunk` and returns the events it completed, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8_lossy(&line).into_owned();
            if let Some(ev) = self.line(&line) {
                out.push(ev);
            }
        }
        out
    }

    /// Ends the stream: an event whose blank line never came is still delivered.
    pub fn finish(&mut self) -> Option<SseEvent> {
        let rest = std::mem::take(&mut self.buf);
        if !rest.is_empty() {
            let line = String::from_utf8_lossy(&rest).into_owned();
            if let Some(ev) = self.line(&line) {
                return Some(ev);
            }
        }
        self.dispatch()
    }

    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => self.data.push(value.to_string()),
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        if self.data.is_empty() {
            return None;
        }
        let data = std::mem::take(&mut self.data).join("\n");
        Some(SseEvent {
            event: event.unwrap_or_else(|| "message".to_string()),
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_and_comments_skipped() {
        let mut p = SseParser::default();
        assert!(p.push(b": keep-alive\n\nevent: endpoint\r\nda").is_empty());
        let evs = p.push(b"ta: /messages?sessionId=1\r\n\r\ndata: a\ndata: b\n\n");
        assert_eq!(
            evs,
            vec![
                SseEvent {
                    event: "endpoint".into(),
                    data: "/messages?sessionId=1".into()
                },
                SseEvent {
                    event: "message".into(),
                    data: "a\nb".into()
                },
            ]
        );
        p.push(b"data: [DONE]");
        assert_eq!(p.finish().map(|e| e.data), Some("[DONE]".to_string()));
    }
}
