//! The one escape for everything `entityctl` prints.
//!
//! Names, descriptions, reasons, emails, audit payloads and error messages come from the
//! server, and so from any tenant: printed raw, an ESC sequence could clear or retitle another
//! operator's terminal, and a bidirectional override or an invisible character could make a
//! value look like another. [`escape`] writes every such character as an escape in JSON string
//! syntax, which is unambiguous and decodes back to the exact value:
//!
//! | character                                         | printed as                        |
//! |---------------------------------------------------|-----------------------------------|
//! | backslash                                         | `\\`                              |
//! | line feed, carriage return, tab                   | `\n`, `\r`, `\t`                  |
//! | any other [`is_unsafe`] character                 | `\uXXXX` (UTF-16, lower-case hex) |
//!
//! Newlines are escaped too, so one printed line is one line a renderer meant (a description
//! cannot forge a `status: active` line or a table row). Everything else, any script or emoji,
//! is printed as it is.
//!
//! Callers do not escape: the printers do ([`printable`] for text lines and ids,
//! [`json_text`] for JSON), so a new view cannot forget it.

use std::{borrow::Cow, io};

use serde::Serialize;
use serde_json::{Value, json};

/// Whether `c` is escaped rather than printed: whatever single-line text may not hold
/// ([`entity_text::check_char`]: control characters, line and paragraph separators,
/// bidirectional controls, invisible characters). The client applies the server's own rules
/// rather than trusting the server to have applied them.
pub fn is_unsafe(c: char) -> bool {
    entity_text::check_char(c, entity_text::TextKind::SingleLine).is_err()
}

/// `s` with backslashes and [`is_unsafe`] characters escaped (see the module docs); borrowed
/// when there is nothing to escape.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c == '\\' || is_unsafe(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => {
                for unit in c.encode_utf16(&mut [0; 2]) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// How many characters `s` takes once escaped (for aligning columns).
pub fn escaped_width(s: &str) -> usize {
    escape(s).chars().count()
}

/// `s` followed by the spaces that make it `width` characters wide once escaped.
pub fn pad(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(escaped_width(s))))
}

/// Lines as printed: each escaped in full (a newline inside a line is data), joined by `\n`.
pub fn printable(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| escape(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `value` as compact JSON whose strings (keys too) have their [`is_unsafe`] characters as
/// `\uXXXX` escapes: still the same JSON value, but nothing raw reaches the terminal.
pub fn json_text(value: &Value) -> String {
    let mut out = Vec::new();
    let written = value.serialize(&mut serde_json::Serializer::with_formatter(
        &mut out,
        EscapingFormatter,
    ));
    match written {
        Ok(()) => String::from_utf8_lossy(&out).into_owned(),
        // Writing a `Value` to memory does not fail; should it ever, say so in JSON.
        Err(e) => json!({ "error": escape(&e.to_string()) }).to_string(),
    }
}

/// Compact JSON whose string fragments go through [`escape`]. serde_json has already escaped
/// `"`, `\` and C0 controls in a fragment, so only `\uXXXX` escapes are added: valid JSON.
struct EscapingFormatter;

impl serde_json::ser::Formatter for EscapingFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        writer.write_all(escape(fragment).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character of `s` is one a terminal shows as itself.
    fn all_printable(s: &str) -> bool {
        s.chars().all(|c| c == '\n' || !is_unsafe(c))
    }

    /// The value `escape` stood for, decoded as the JSON string it is.
    fn unescape(s: &str) -> String {
        let quoted = format!("\"{}\"", s.replace('"', "\\\""));
        serde_json::from_str(&quoted).unwrap_or_else(|e| panic!("{s:?} does not decode: {e}"))
    }

    #[test]
    fn controls_are_escaped_visibly() {
        for (raw, shown) in [
            ("\u{1b}[2Jx", "\\u001b[2Jx"),
            ("\u{1b}]0;title\u{7}", "\\u001b]0;title\\u0007"),
            ("a\0b", "a\\u0000b"),
            ("del\u{7f}", "del\\u007f"),
            ("c1\u{9b}31m\u{85}", "c1\\u009b31m\\u0085"),
            ("line\nnext\r\ttab", "line\\nnext\\r\\ttab"),
        ] {
            assert_eq!(escape(raw), shown, "{raw:?}");
        }
    }

    #[test]
    fn bidi_and_invisible_characters_are_escaped() {
        for (raw, shown) in [
            ("admin\u{202E}gnp.exe", "admin\\u202egnp.exe"),
            ("\u{2066}x\u{2069}", "\\u2066x\\u2069"),
            ("\u{200E}\u{200F}\u{061C}", "\\u200e\\u200f\\u061c"),
            ("zero\u{200B}width", "zero\\u200bwidth"),
            ("\u{FEFF}bom", "\\ufeffbom"),
            ("soft\u{AD}hyphen\u{2060}", "soft\\u00adhyphen\\u2060"),
            ("tag\u{E0041}", "tag\\udb40\\udc41"),
        ] {
            assert_eq!(escape(raw), shown, "{raw:?}");
        }
    }

    #[test]
    fn a_literal_backslash_stays_distinguishable() {
        assert_eq!(escape("a\\b"), "a\\\\b");
        // the text `\u001b` and a real ESC print differently
        assert_eq!(escape("\\u001b"), "\\\\u001b");
        assert_ne!(escape("\\u001b"), escape("\u{1b}"));
        for raw in [
            "\\u001b",
            "\u{1b}[31m\\n\n\u{202E}\\\\\u{E0041}\"q\"",
            "C:\\temp\\new",
        ] {
            assert_eq!(unescape(&escape(raw)), raw, "round trip of {raw:?}");
        }
    }

    #[test]
    fn ordinary_text_is_untouched() {
        for text in [
            "Acme Corp",
            "Zürich",
            "東京",
            "🎉 launch 👍🏽",
            "مرحبا بالعالم",
            "ann@acme.example",
            "naïve café",
        ] {
            assert!(
                matches!(escape(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
    }

    #[test]
    fn padding_counts_the_escapes() {
        assert_eq!(pad("ab", 5), "ab   ");
        assert_eq!(pad("a\u{1b}", 8), "a\u{1b} ", "`a\\u001b` is 7 wide");
        assert_eq!(pad("toolong", 3), "toolong");
        assert_eq!(escaped_width("東京"), 2);
    }

    #[test]
    fn printed_lines_are_escaped_in_full() {
        let lines = vec![
            "name: evil\u{1b}[2J".to_owned(),
            "description: one\nstatus: active".to_owned(),
        ];
        let out = printable(&lines);
        assert_eq!(
            out,
            "name: evil\\u001b[2J\ndescription: one\\nstatus: active"
        );
        assert!(all_printable(&out));
        assert_eq!(out.lines().count(), 2, "an embedded newline is not a line");
    }

    #[test]
    fn json_keeps_its_value_but_prints_nothing_raw() {
        let value = json!({
            "name": "x\u{1b}]0;t\u{7}\u{7f}\u{9b}\u{202E}\u{200B}\u{FEFF}\u{E0041}\\\"",
            "k\u{202E}ey": ["Zürich", "東京", "🎉", "مرحبا"],
        });
        let out = json_text(&value);
        assert!(all_printable(&out), "{out}");
        assert!(!out.contains('\n'));
        assert!(out.contains("\\u202e"), "{out}");
        assert!(out.contains("Zürich") && out.contains("東京") && out.contains("🎉"));
        let back: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{out}: {e}"));
        assert_eq!(back, value);
    }
}
