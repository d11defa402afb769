//! Streamed response bodies cut into events as their bytes arrive, whatever the split:
//! Server-Sent Events (`data:` lines, an event per blank line, WHATWG rules), newline-delimited
//! JSON (an event per line), or raw (each piece of bytes that arrived is one event).

/// How a stream's body is cut into events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Sse,
    Ndjson,
    Raw,
}

impl Format {
    /// The format a Content-Type names; `None` when it names none of them.
    pub fn of_content_type(content_type: &str) -> Option<Format> {
        let ct = content_type.trim().to_ascii_lowercase();
        if ct.starts_with("text/event-stream") {
            Some(Format::Sse)
        } else if ["ndjson", "jsonl", "json-lines", "jsonlines", "json-seq"]
            .iter()
            .any(|k| ct.contains(k))
        {
            Some(Format::Ndjson)
        } else {
            None
        }
    }

    /// The format the first bytes of a body look like: `data:`, `event:`, `id:` or a
    /// comment is SSE, a JSON object or array NDJSON, anything else raw.
    pub fn sniff(first: &[u8]) -> Format {
        let start = first
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map_or(&first[first.len()..], |i| &first[i..]);
        let sse = [&b"data:"[..], b"event:", b"id:", b"retry:", b":"];
        if sse.iter().any(|p| start.starts_with(p)) {
            Format::Sse
        } else if matches!(start.first(), Some(b'{' | b'[')) {
            Format::Ndjson
        } else {
            Format::Raw
        }
    }
}

/// Cuts a byte stream into events.
#[derive(Debug)]
pub struct Framer {
    format: Format,
    /// Bytes of a line not yet ended.
    line: Vec<u8>,
    /// SSE: the data of the event being built, and whether it has any data field.
    data: Vec<u8>,
    has_data: bool,
    /// The last byte pushed was a CR (a CRLF may be split across pushes).
    after_cr: bool,
}

impl Framer {
    pub fn new(format: Format) -> Self {
        Framer {
            format,
            line: Vec::new(),
            data: Vec::new(),
            has_data: false,
            after_cr: false,
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Adds bytes that arrived; the events they complete go to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Vec<u8>>) {
        if self.format == Format::Raw {
            if !bytes.is_empty() {
                out.push(bytes.to_vec());
            }
            return;
        }
        for &b in bytes {
            match b {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.line);
                    self.end_line(&line, out);
                }
                _ => {
                    self.after_cr = false;
                    self.line.push(b);
                }
            }
        }
    }

    /// The stream ended: an unfinished line or event still counts (servers that omit the
    /// last blank line still sent those tokens).
    pub fn finish(&mut self, out: &mut Vec<Vec<u8>>) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.end_line(&line, out);
        }
        if self.format == Format::Sse {
            self.dispatch(out);
        }
    }

    fn end_line(&mut self, line: &[u8], out: &mut Vec<Vec<u8>>) {
        match self.format {
            Format::Ndjson => {
                let trimmed = line.trim_ascii();
                if !trimmed.is_empty() {
                    out.push(trimmed.to_vec());
                }
            }
            Format::Sse => self.sse_line(line, out),
            Format::Raw => {}
        }
    }

    /// One SSE line: a blank line dispatches the event; `data` appends to it; comments and
    /// the other fields (`event`, `id`, `retry`) carry nothing a load test reads.
    fn sse_line(&mut self, line: &[u8], out: &mut Vec<Vec<u8>>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        if field == b"data" {
            if self.has_data {
                self.data.push(b'\n');
            }
            self.data.extend_from_slice(value);
            self.has_data = true;
        }
    }

    fn dispatch(&mut self, out: &mut Vec<Vec<u8>>) {
        if self.has_data {
            out.push(std::mem::take(&mut self.data));
            self.has_data = false;
        }
    }
}
