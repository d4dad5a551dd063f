//! The primitive input rules, directly (the command tests cover them through `decide`).

use crate::domain::{
    FieldViolation,
    validation::{
        TextKind, Violations, check_grace_period, check_line, check_multiline, check_name,
        check_products, check_slug, check_text, check_url, exceeds_chars,
    },
};

use super::support::{days, repeat, t0};

fn fields(v: &Violations) -> Vec<&str> {
    v.as_slice().iter().map(|f| f.field.as_str()).collect()
}

#[test]
fn violations_collect_and_convert() {
    let v = Violations::new();
    assert!(v.is_empty());
    assert_eq!(v.into_result(5), Ok(5));
    let mut v = Violations::new();
    v.push("a", "bad");
    v.push("b", "worse");
    assert_eq!(
        v.into_result(()),
        Err(crate::domain::DomainError::Invalid(vec![
            FieldViolation::new("a", "bad"),
            FieldViolation::new("b", "worse"),
        ]))
    );
}

#[test]
fn char_counting() {
    assert!(!exceeds_chars("", 0));
    assert!(exceeds_chars("a", 0));
    assert!(!exceeds_chars("ééé", 3));
    assert!(exceeds_chars("éééé", 3));
}

#[test]
fn text_rules_are_the_shared_ones() {
    let mut v = Violations::new();
    check_text(&mut v, "a", "a\u{9f}", TextKind::MultiLine);
    check_text(&mut v, "b", "x\u{202E}y", TextKind::SingleLine);
    check_text(&mut v, "c", "a b-ü", TextKind::SingleLine);
    check_line(&mut v, "d", "two\nlines", 100);
    check_multiline(&mut v, "e", "two\nlines\twith a tab", 100);
    check_multiline(&mut v, "f", "nul\0", 100);
    check_line(&mut v, "g", "zero\u{200B}width", 100);
    assert_eq!(fields(&v), ["a", "b", "d", "f", "g"]);
}

#[test]
fn names_are_stored_in_nfc() {
    let mut v = Violations::new();
    assert_eq!(check_name(&mut v, "name", " Cafe\u{301} "), "Caf\u{e9}");
    assert!(v.is_empty());
}

#[test]
fn name_is_trimmed_and_each_problem_reported() {
    let mut v = Violations::new();
    assert_eq!(check_name(&mut v, "name", "  Acme  "), "Acme");
    assert!(v.is_empty());
    check_name(&mut v, "title", &format!("{}\u{0}", repeat('a', 201)));
    assert_eq!(
        fields(&v),
        vec!["title", "title"],
        "too long and a control character"
    );
}

#[test]
fn slug_is_ascii_only() {
    for bad in ["ab", "AB", "a_b", "ａｂｃ", "abc\u{0}", "ab€"] {
        let mut v = Violations::new();
        check_slug(&mut v, "slug", bad);
        assert_eq!(fields(&v), vec!["slug"], "{bad:?}");
    }
}

#[test]
fn products_report_each_item() {
    let mut v = Violations::new();
    let products = vec![
        "a".to_owned(),
        String::new(),
        "a".to_owned(),
        repeat('p', 65),
    ];
    check_products(&mut v, "products", &products);
    assert_eq!(
        fields(&v),
        vec!["products[1]", "products[2]", "products[3]"]
    );
}

#[test]
fn urls() {
    let mut v = Violations::new();
    check_url(&mut v, "u", "https://example.test/path?q=1");
    check_url(&mut v, "u", "http://x");
    assert!(v.is_empty());
    check_url(&mut v, "u", "file:///etc/passwd");
    assert_eq!(fields(&v), vec!["u"]);
}

#[test]
fn grace_period_bounds() {
    let mut v = Violations::new();
    check_grace_period(&mut v, "g", days(1), t0());
    check_grace_period(&mut v, "g", days(365), t0());
    assert!(v.is_empty());
    check_grace_period(&mut v, "g", t0(), t0());
    check_grace_period(&mut v, "g", days(366), t0());
    assert_eq!(fields(&v), vec!["g", "g"]);
}

#[test]
fn grace_period_near_the_end_of_time_does_not_panic() {
    let mut v = Violations::new();
    let max = chrono::DateTime::<chrono::Utc>::MAX_UTC;
    check_grace_period(&mut v, "g", max, max - chrono::TimeDelta::days(1));
    assert!(v.is_empty());
}
