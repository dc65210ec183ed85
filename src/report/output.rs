//! Where reports and logs go, and what keeps them safe to print.

use std::io::Write;

use serde::Serialize;

use crate::config::OutputFormat;
use crate::http::redact;
use crate::text as terminal;

/// A report that can be printed as text; JSON comes from `Serialize`.
pub trait Render: Serialize {
    fn text(&self) -> String;
}

/// Where reports go: stdout, in the chosen format.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub format: OutputFormat,
}

impl Output {
    /// Prints a report. Whatever it holds from outside (names, server messages) is scrubbed
    /// of secrets; text has its control characters escaped (JSON escapes its own).
    pub fn emit(&self, report: &impl Render) {
        match self.format {
            OutputFormat::Text => {
                let text = redact::scrub(&report.text());
                print!("{}", terminal::escape_keeping_newlines(&text));
            }
            OutputFormat::Json => match serde_json::to_string_pretty(report) {
                Ok(json) => println!("{}", redact::scrub(&json)),
                Err(e) => self.emit_error(&format!("cannot print the report as JSON ({e})"), 1),
            },
        }
    }

    /// In JSON mode a failed run still prints one document, so a pipeline can parse it.
    pub fn emit_error(&self, message: &str, exit_code: u8) {
        if self.format == OutputFormat::Json {
            println!(
                "{}",
                serde_json::json!({ "error": message, "exit_code": exit_code })
            );
        }
    }
}

/// stderr for log records: each record is scrubbed of secrets and has its control
/// characters escaped (all but the line feed that ends it) before it is written.
#[derive(Default)]
pub struct SafeStderr {
    buffer: Vec<u8>,
}

impl Write for SafeStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for SafeStderr {
    fn drop(&mut self) {
        if self.buffer.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.buffer);
        let (body, end) = match text.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (text.as_ref(), ""),
        };
        let safe = terminal::escape(&redact::scrub(body)).into_owned();
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(safe.as_bytes());
        let _ = err.write_all(end.as_bytes());
    }
}
