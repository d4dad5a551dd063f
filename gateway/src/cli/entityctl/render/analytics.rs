//! What `entityctl analytics export` reports (the rows themselves go to the file).

use serde_json::{Value, json};

use super::View;

/// The answer to `analytics export`: where the rows went and where the next export resumes.
pub struct Exported {
    /// The file written.
    pub file: String,
    /// `jsonl` or `csv`.
    pub format: &'static str,
    /// Rows written.
    pub changes: u64,
    /// The position the next export resumes after (`--since <position>`).
    pub resume_after: i64,
}

impl View for Exported {
    fn text(&self) -> Vec<String> {
        let plural = if self.changes == 1 { "" } else { "s" };
        vec![
            format!(
                "exported {} change{plural} to {} ({})",
                self.changes, self.file, self.format
            ),
            format!("resume_after: {}", self.resume_after),
            format!("next export: --since {}", self.resume_after),
        ]
    }

    fn json(&self) -> Value {
        json!({
            "file": self.file,
            "format": self.format,
            "changes": self.changes,
            "resume_after": self.resume_after,
        })
    }

    /// The position to resume after.
    fn ids(&self) -> Vec<String> {
        vec![self.resume_after.to_string()]
    }
}
