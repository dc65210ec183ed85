//! Printing reports: text for people, one JSON document for machines (contract §5).

use serde::Serialize;

use crate::settings::OutputFormat;

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
    pub fn emit(&self, report: &impl Render) {
        match self.format {
            OutputFormat::Text => print!("{}", report.text()),
            OutputFormat::Json => println!(
                "{}",
                serde_json::to_string_pretty(report).expect("reports serialise")
            ),
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
