//! Where reports and logs go, and what keeps them safe to print.

use std::io::Write;

use serde::Serialize;

use crate::config::OutputFormat;
use crate::http::redact;
use crate::text;

/// A report that can be printed as text; JSON comes from `Serialize`.
pub trait Render: Serialize {
    fn text(&self) -> String;

    /// CSV, for the reports that are lists (`history`).
    fn csv(&self) -> Option<String> {
        None
    }

    /// One self-contained HTML page (`engagement`), already escaped by its renderer.
    fn html(&self) -> Option<String> {
        None
    }
}

/// Where reports go: stdout, in the chosen format.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub format: OutputFormat,
    /// Colour in text output (`--color`, `NO_COLOR`).
    pub color: bool,
    /// The source the settings name, for error documents (`source`), when they name one.
    pub source: Option<&'static str>,
}

impl Output {
    /// Prints a report. Whatever it holds from outside (names, server messages) is scrubbed
    /// of secrets; text has its control characters escaped; JSON escapes C0 itself, and the
    /// other controls (DEL, C1, bidi) as `\uXXXX`.
    pub fn emit(&self, report: &impl Render) {
        match self.format {
            OutputFormat::Text => {
                let text = redact::scrub(&report.text());
                let safe = text::escape_keeping_newlines(&text);
                // Colour is added after the escape, to text the tool wrote itself.
                if self.color {
                    print_stdout(&colorize(&safe));
                } else {
                    print_stdout(&safe);
                }
            }
            OutputFormat::Json => match serde_json::to_string_pretty(report) {
                Ok(json) => print_stdout(&format!("{}\n", json_safe(&redact::scrub(&json)))),
                Err(e) => self.emit_error(&format!("cannot print the report as JSON ({e})"), 1),
            },
            OutputFormat::Html => match report.html() {
                Some(html) => print_stdout(&redact::scrub(&html)),
                None => print_stdout(&text::escape_keeping_newlines(&redact::scrub(
                    &report.text(),
                ))),
            },
            OutputFormat::Csv => match report.csv() {
                Some(csv) => {
                    print_stdout(&text::escape_keeping_newlines(&redact::scrub(&csv)));
                }
                None => print_stdout(&text::escape_keeping_newlines(&redact::scrub(
                    &report.text(),
                ))),
            },
        }
    }

    /// In JSON mode a failed run still prints one document, so a pipeline can parse it.
    pub fn emit_error(&self, message: &str, exit_code: u8) {
        self.emit_failure(message, exit_code, None, None);
    }

    /// Like [`Output::emit_error`]; a run refused by a guard also says which guard and why, an
    /// API failure which side failed (`synthesize`, `connectwise`, `autotask`).
    pub fn emit_failure(
        &self,
        message: &str,
        exit_code: u8,
        refused: Option<(&str, &str)>,
        side: Option<&str>,
    ) {
        if self.format == OutputFormat::Json {
            let mut doc = serde_json::json!({ "error": message, "exit_code": exit_code });
            if let Some(source) = self.source {
                doc["source"] = serde_json::json!(source);
            }
            if let Some(side) = side {
                doc["side"] = serde_json::json!(side);
            }
            if let Some((guard, why)) = refused {
                doc["refused"] = serde_json::json!({ "guard": guard, "why": why });
            }
            if exit_code == 130 || exit_code == 143 {
                doc["interrupted"] = serde_json::json!(true);
            }
            print_stdout(&format!(
                "{}\n",
                json_safe(&redact::scrub(&doc.to_string()))
            ));
        }
    }
}

/// Colours the results the tool wrote at the end of a table's lines (`set`, `unmapped`,
/// `failed: …`) and the marks at the start of `doctor`'s (`ok`, `warn`, `FAIL`). Names and
/// server text sit in the middle columns and were escaped before: they cannot add colour.
fn colorize(text: &str) -> String {
    const GREEN: &str = "\x1b[32m";
    const YELLOW: &str = "\x1b[33m";
    const RED: &str = "\x1b[31m";
    const RESET: &str = "\x1b[0m";
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let head = [("ok  ", GREEN), ("warn  ", YELLOW), ("FAIL  ", RED)]
            .into_iter()
            .find(|(word, _)| body.starts_with(word));
        let tail = [
            ("  set", GREEN),
            ("  unmapped", YELLOW),
            ("  planned", GREEN),
            ("  missing-account", RED),
        ]
        .into_iter()
        .find(|(word, _)| body.ends_with(word));
        // doctor's marks first: its lines end in server text (an organization's name).
        if let Some((word, color)) = head {
            let w = word.trim_end().len();
            out.push_str(&format!("{color}{}{RESET}{}", &body[..w], &body[w..]));
        } else if let Some((word, color)) = tail {
            let cut = body.len() - word.len() + 2;
            out.push_str(&format!("{}{color}{}{RESET}", &body[..cut], &body[cut..]));
        } else if let Some(i) = body.rfind("  failed: ").or_else(|| body.rfind("  failed")) {
            // The last one: a name in the middle columns could hold the words too.
            out.push_str(&format!("{}{RED}{}{RESET}", &body[..i + 2], &body[i + 2..]));
        } else {
            out.push_str(body);
        }
        out.push_str(end);
    }
    out
}

/// `--color auto`: colour when stdout is a terminal, `NO_COLOR` is unset or empty
/// (no-color.org) and the terminal is not `dumb`.
pub fn auto_color(
    stdout_is_terminal: bool,
    no_color: Option<&std::ffi::OsStr>,
    term: Option<&std::ffi::OsStr>,
) -> bool {
    stdout_is_terminal && no_color.is_none_or(|v| v.is_empty()) && term.is_none_or(|t| t != "dumb")
}

/// Writes to stdout. A closed pipe (`| head`) ends the output quietly instead of a panic.
pub fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// A JSON document with the characters a terminal must not receive raw written as `\uXXXX`
/// escapes. They can only appear inside strings, where the escape means the same.
pub fn json_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if text::is_unsafe(c) && (c as u32) >= 0x20 {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
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
        let safe = text::escape(&redact::scrub(body)).into_owned();
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(safe.as_bytes());
        let _ = err.write_all(end.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn auto_colour_needs_a_terminal_and_no_no_color() {
        assert!(auto_color(true, None, None));
        assert!(auto_color(
            true,
            Some(OsStr::new("")),
            Some(OsStr::new("xterm"))
        ));
        assert!(!auto_color(false, None, None));
        assert!(!auto_color(true, Some(OsStr::new("1")), None));
        assert!(!auto_color(true, None, Some(OsStr::new("dumb"))));
    }

    #[test]
    fn colour_marks_only_the_tools_own_words() {
        let doctor = colorize("ok    Gradient tokens        connected to Evil  failed: x\n");
        assert!(doctor.starts_with("\x1b[32mok\x1b[0m"), "{doctor:?}");
        assert!(!doctor.contains("\x1b[31m"), "{doctor:?}");
        let row = colorize("250  Evil  set  Billed User  3  failed: HTTP 500\n");
        assert!(row.contains("\x1b[31mfailed: HTTP 500\x1b[0m"), "{row:?}");
        assert!(!row.contains("\x1b[32m"), "{row:?}");
        assert_eq!(colorize("plain\n"), "plain\n");
    }
}
