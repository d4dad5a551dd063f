//! The character rules of free text (SPEC §4), in one place: the request codec checks every
//! string of every request with them, and the domain's validators use them for the values
//! they store.
//!
//! Every string is of one of two kinds ([`TextKind`]):
//!
//! | characters                                                        | single line | multi-line |
//! |-------------------------------------------------------------------|-------------|------------|
//! | NUL and the other control characters (Unicode `Cc`)               | refused     | refused, except line feed and tab |
//! | line and paragraph separators (U+2028, U+2029)                    | refused     | allowed    |
//! | bidirectional embeddings, overrides, isolates (U+202A–E, U+2066–9) | refused     | refused    |
//! | bidirectional marks (U+200E, U+200F, U+061C)                      | refused     | allowed    |
//! | invisible characters (zero-width space and joiners, word joiner, BOM, soft hyphen, fillers, tags, …) | refused | allowed, but for tags |
//! | length, in Unicode scalar values                                  | ≤ [`MAX_LINE_CHARS`] | ≤ [`MAX_MULTILINE_CHARS`] |
//!
//! Single line is the default: names, identifiers, emails, queries, tokens, reasons. A field
//! is multi-line only where the contract says so (`[(entity.v1.text) = MULTI_LINE]` in the
//! proto files: descriptions and free-form feedback). Multi-line text keeps the joiners and
//! marks that emoji sequences and right-to-left or Indic scripts need; names do not, because
//! a name must look like what it is (the Trojan Source and homoglyph-spoofing class of
//! attacks). The lengths here are ceilings for any string; each field's own limit (a name's
//! 200 characters, say) is the domain's.
//!
//! Normalization: [`normalize_name`] trims and converts to Unicode Normalization Form C, so a
//! name typed with a composed "é" and one with "e" + U+0301 are the same stored name. Text is
//! otherwise stored exactly as sent.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// Longest single-line string of any request, in characters.
pub const MAX_LINE_CHARS: usize = 4096;
/// Longest multi-line string of any request, in characters.
pub const MAX_MULTILINE_CHARS: usize = 16_384;

/// Which characters a string may hold (see the crate docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TextKind {
    /// Names, identifiers, queries, tokens: no control, bidirectional or invisible characters.
    #[default]
    SingleLine,
    /// Descriptions and free-form text: line feeds and tabs allowed, and the marks and joiners
    /// that real-world scripts need.
    MultiLine,
}

impl TextKind {
    /// The longest string of this kind, in characters.
    pub const fn max_chars(self) -> usize {
        match self {
            TextKind::SingleLine => MAX_LINE_CHARS,
            TextKind::MultiLine => MAX_MULTILINE_CHARS,
        }
    }
}

/// Why a string breaks the rules (the first problem found).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextViolation {
    /// U+0000.
    Nul,
    /// A control character (Unicode `Cc`) other than NUL.
    Control(char),
    /// A line or paragraph separator (U+2028, U+2029) in single-line text.
    LineSeparator(char),
    /// A bidirectional control character.
    Bidi(char),
    /// An invisible character.
    Invisible(char),
    /// Longer than the kind allows.
    TooLong {
        /// The limit, in characters.
        max: usize,
    },
}

impl fmt::Display for TextViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextViolation::Nul => f.write_str("must not contain the NUL character (U+0000)"),
            TextViolation::Control(c) => write!(
                f,
                "must not contain control characters (found U+{:04X})",
                u32::from(*c)
            ),
            TextViolation::LineSeparator(c) => write!(
                f,
                "must not contain line or paragraph separators (found U+{:04X})",
                u32::from(*c)
            ),
            TextViolation::Bidi(c) => write!(
                f,
                "must not contain bidirectional control characters (found U+{:04X})",
                u32::from(*c)
            ),
            TextViolation::Invisible(c) => write!(
                f,
                "must not contain invisible characters (found U+{:04X})",
                u32::from(*c)
            ),
            TextViolation::TooLong { max } => write!(f, "must be at most {max} characters"),
        }
    }
}

impl std::error::Error for TextViolation {}

/// Checks `s` against the rules of `kind`.
///
/// # Errors
/// The first [`TextViolation`] found, scanning from the start.
pub fn check(s: &str, kind: TextKind) -> Result<(), TextViolation> {
    let max = kind.max_chars();
    // ASCII fast path: most strings are short ASCII identifiers and names.
    if s.is_ascii() {
        let bad = s
            .bytes()
            .take(max)
            .find(|b| b.is_ascii_control() && !allowed_control(char::from(*b), kind));
        return match bad {
            Some(0) => Err(TextViolation::Nul),
            Some(b) => Err(TextViolation::Control(char::from(b))),
            None if s.len() > max => Err(TextViolation::TooLong { max }),
            None => Ok(()),
        };
    }
    let mut count = 0usize;
    for c in s.chars() {
        count += 1;
        if count > max {
            return Err(TextViolation::TooLong { max });
        }
        check_char(c, kind)?;
    }
    Ok(())
}

/// Checks one character against the rules of `kind`.
///
/// # Errors
/// The [`TextViolation`] the character is.
pub fn check_char(c: char, kind: TextKind) -> Result<(), TextViolation> {
    if c == '\0' {
        Err(TextViolation::Nul)
    } else if c.is_control() {
        if allowed_control(c, kind) {
            Ok(())
        } else {
            Err(TextViolation::Control(c))
        }
    } else if kind == TextKind::SingleLine && matches!(c, '\u{2028}' | '\u{2029}') {
        Err(TextViolation::LineSeparator(c))
    } else if is_bidi_override(c) || (kind == TextKind::SingleLine && is_bidi_mark(c)) {
        Err(TextViolation::Bidi(c))
    } else if is_tag(c) || (kind == TextKind::SingleLine && is_invisible(c)) {
        Err(TextViolation::Invisible(c))
    } else {
        Ok(())
    }
}

fn allowed_control(c: char, kind: TextKind) -> bool {
    kind == TextKind::MultiLine && matches!(c, '\n' | '\t')
}

/// Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): they
/// reorder the text that follows them (the Trojan Source attack).
fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Bidirectional marks (U+200E, U+200F, U+061C): invisible direction hints.
fn is_bidi_mark(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Characters that render as nothing: zero-width space, non-joiner and joiner, word joiner and
/// invisible operators, deprecated format controls, byte-order mark, soft hyphen, combining
/// grapheme joiner, Hangul and Khmer fillers, Mongolian vowel separator, interlinear annotation
/// marks, and tag characters.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'..='\u{2064}'
            | '\u{206A}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
    ) || is_tag(c)
}

/// Tag characters (U+E0000–U+E007F): invisible ASCII look-alikes that can smuggle hidden text.
fn is_tag(c: char) -> bool {
    matches!(c, '\u{E0000}'..='\u{E007F}')
}

/// A name as it is stored: trimmed, in Unicode Normalization Form C.
pub fn normalize_name(raw: &str) -> String {
    let trimmed = raw.trim();
    if trimmed.is_ascii() {
        trimmed.to_owned()
    } else {
        trimmed.nfc().collect()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use TextKind::{MultiLine, SingleLine};

    #[test]
    fn ordinary_text_of_every_script_passes() {
        for s in [
            "",
            "Acme Inc.",
            "Zürich",
            "東京",
            "Ελληνικά",
            "مرحبا",
            "עברית",
            "😀 team",
            "a\u{FE0F}",
        ] {
            assert_eq!(check(s, SingleLine), Ok(()), "{s:?}");
            assert_eq!(check(s, MultiLine), Ok(()), "{s:?}");
        }
    }

    #[test]
    fn nul_and_controls_are_refused() {
        assert_eq!(check("a\0b", SingleLine), Err(TextViolation::Nul));
        assert_eq!(check("a\0b", MultiLine), Err(TextViolation::Nul));
        assert_eq!(check("é\0", SingleLine), Err(TextViolation::Nul));
        for c in ['\u{1b}', '\u{7}', '\u{7f}', '\u{85}', '\u{9b}', '\r'] {
            let s = format!("x{c}y");
            assert_eq!(check(&s, SingleLine), Err(TextViolation::Control(c)));
            assert_eq!(check(&s, MultiLine), Err(TextViolation::Control(c)));
        }
    }

    #[test]
    fn newline_and_tab_only_in_multi_line_text() {
        for s in ["line\nline", "a\tb", "a\u{2028}b", "a\u{2029}b"] {
            assert!(check(s, SingleLine).is_err());
            assert_eq!(check(s, MultiLine), Ok(()));
        }
    }

    #[test]
    fn bidi_and_invisible_characters() {
        for c in ['\u{202E}', '\u{2066}', '\u{2069}'] {
            let s = format!("x{c}y");
            assert_eq!(check(&s, SingleLine), Err(TextViolation::Bidi(c)));
            assert_eq!(check(&s, MultiLine), Err(TextViolation::Bidi(c)));
        }
        for c in ['\u{200E}', '\u{200F}', '\u{061C}'] {
            let s = format!("x{c}y");
            assert_eq!(check(&s, SingleLine), Err(TextViolation::Bidi(c)));
            assert_eq!(check(&s, MultiLine), Ok(()));
        }
        for c in [
            '\u{200B}', '\u{200D}', '\u{FEFF}', '\u{2060}', '\u{AD}', '\u{206F}',
        ] {
            let s = format!("x{c}y");
            assert_eq!(check(&s, SingleLine), Err(TextViolation::Invisible(c)));
            assert_eq!(check(&s, MultiLine), Ok(()));
        }
        let tag = "flag\u{E0067}";
        assert_eq!(
            check(tag, MultiLine),
            Err(TextViolation::Invisible('\u{E0067}'))
        );
    }

    #[test]
    fn lengths_are_counted_in_characters() {
        let ascii = "a".repeat(MAX_LINE_CHARS);
        assert_eq!(check(&ascii, SingleLine), Ok(()));
        let over = "a".repeat(MAX_LINE_CHARS + 1);
        assert_eq!(
            check(&over, SingleLine),
            Err(TextViolation::TooLong {
                max: MAX_LINE_CHARS
            })
        );
        // 4096 three-byte characters are 12 KiB but within the limit
        let wide = "東".repeat(MAX_LINE_CHARS);
        assert_eq!(check(&wide, SingleLine), Ok(()));
        assert!(check(&format!("{wide}東"), SingleLine).is_err());
        assert_eq!(check(&over, MultiLine), Ok(()));
    }

    #[test]
    fn names_are_trimmed_and_composed() {
        assert_eq!(normalize_name("  Cafe\u{301}  "), "Caf\u{e9}");
        assert_eq!(normalize_name(" plain "), "plain");
    }

    proptest! {
        #[test]
        fn the_ascii_fast_path_agrees_with_the_character_rules(s in "[\\x00-\\x7f]{0,40}") {
            for kind in [SingleLine, MultiLine] {
                let slow = s.chars().try_for_each(|c| check_char(c, kind));
                prop_assert_eq!(check(&s, kind), slow);
            }
        }
    }
}
