//! Self-registration as `entityctl` shows it: a tenant's registration settings and domains
//! (the TXT record to publish right under the summary of `add-domain`), and the answers of
//! `registration resolve`.
//!
//! Settings text: `tenant_id`, `enabled`, `auto_roles` (`ROLE at SCOPE`, comma-separated),
//! `custom_host` (`(none)`), one `domain:` line per domain (`NAME  STATUS[ (METHOD,
//! VERIFIED_AT)][  client CLIENT]  TXT_RECORD`; `domains: (none)` without any), then `version`
//! (the tenant's). JSON: every field, the custom host and clients null when empty, lower-case
//! enums, RFC 3339 times.

use entity_proto::v1 as pb;
use serde_json::{Value, json};

use super::{
    Resource, View, WriteAnswer,
    access::{assignment_json, assignment_text},
    label, list_text, nonempty, reference, rfc3339,
};

write_answer!(pb::RegistrationSettingsResponse {
    settings: pb::RegistrationSettings
});
labels! {
    pb::DomainStatus: "DOMAIN_STATUS_",
    pb::VerificationMethod: "VERIFICATION_METHOD_",
}

impl Resource for pb::RegistrationSettings {
    const KIND: &'static str = "registration";
    const ID_KEY: &'static str = "tenant_id";

    fn id(&self) -> &str {
        &self.tenant_id
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        let roles: Vec<String> = self.auto_roles.iter().map(assignment_text).collect();
        let mut out = vec![
            ("enabled", self.enabled.to_string()),
            ("auto_roles", list_text(&roles)),
            ("custom_host", reference(&self.custom_host)),
        ];
        if self.domains.is_empty() {
            out.push(("domains", list_text(&[])));
        }
        out.extend(self.domains.iter().map(|d| ("domain", domain_text(d))));
        // a version, but no creation or update time of its own: not the stamps
        out.push(("version", self.version.to_string()));
        out
    }

    fn json_fields(&self) -> Value {
        json!({
            "tenant_id": self.tenant_id,
            "enabled": self.enabled,
            "auto_roles": self.auto_roles.iter().map(assignment_json).collect::<Vec<_>>(),
            "custom_host": nonempty(&self.custom_host),
            "domains": self.domains.iter().map(domain_json).collect::<Vec<_>>(),
            "version": self.version,
        })
    }

    /// `TENANT  ENABLED|DISABLED  DOMAINS` (not listed by any command, but a resource has one).
    fn row(&self) -> String {
        let domains: Vec<String> = self.domains.iter().map(|d| d.domain.clone()).collect();
        format!(
            "{}  {:<8}  {}",
            self.tenant_id,
            if self.enabled { "enabled" } else { "disabled" },
            list_text(&domains)
        )
    }
}

/// `NAME  STATUS[ (METHOD, VERIFIED_AT)][  client CLIENT]  TXT_RECORD`.
fn domain_text(d: &pb::RegistrationDomain) -> String {
    let mut out = format!("{}  {}", d.domain, label::<pb::DomainStatus>(d.status));
    if let Some(at) = &d.verify_time {
        out.push_str(&format!(
            " ({}, {})",
            label::<pb::VerificationMethod>(d.verification_method),
            rfc3339(at)
        ));
    }
    if !d.client_id.is_empty() {
        out.push_str(&format!("  client {}", d.client_id));
    }
    out.push_str(&format!("  {}", d.txt_record));
    out
}

fn domain_json(d: &pb::RegistrationDomain) -> Value {
    json!({
        "domain": d.domain,
        "status": label::<pb::DomainStatus>(d.status),
        "txt_record": d.txt_record,
        "client_id": nonempty(&d.client_id),
        "add_time": d.add_time.as_ref().map(rfc3339),
        "verify_time": d.verify_time.as_ref().map(rfc3339),
        "verification_method": d.verify_time.is_some().then(|| {
            label::<pb::VerificationMethod>(d.verification_method)
        }),
    })
}

/// The answer to `registration add-domain`: the settings, with the added domain's TXT record
/// (`txt_record: …`) right under the summary.
pub struct AddedDomain {
    /// The domain added, normalized as the server stores it (lower case, no final dot).
    pub domain: String,
    /// The answer.
    pub answer: pb::RegistrationSettingsResponse,
}

impl WriteAnswer for AddedDomain {
    type Resource = pb::RegistrationSettings;

    fn resource(&self) -> Option<&pb::RegistrationSettings> {
        self.answer.resource()
    }

    fn result(&self) -> Option<&pb::WriteResult> {
        self.answer.result()
    }

    /// The TXT record to publish (none when the answer does not list the domain).
    fn secrets(&self) -> Vec<(&'static str, String)> {
        let record = self
            .resource()
            .and_then(|s| s.domains.iter().find(|d| d.domain == self.domain))
            .map(|d| d.txt_record.clone())
            .unwrap_or_default();
        vec![("txt_record", record)]
    }
}

/// The answer to `registration resolve`: `accepted` and the tenant, or `not accepted
/// (REASON)`.
pub struct Resolved(pub pb::ResolveRegistrationResponse);

impl View for Resolved {
    fn text(&self) -> Vec<String> {
        let r = &self.0;
        if !r.accepted {
            return vec![format!("not accepted ({})", r.reason)];
        }
        vec![
            "accepted".to_owned(),
            format!("tenant_id: {}", r.tenant_id),
            format!("tenant_name: {}", r.tenant_name),
        ]
    }

    fn json(&self) -> Value {
        let r = &self.0;
        json!({
            "accepted": r.accepted,
            "tenant_id": nonempty(&r.tenant_id),
            "tenant_name": nonempty(&r.tenant_name),
            "reason": nonempty(&r.reason),
        })
    }

    /// The tenant's id when accepted, nothing otherwise.
    fn ids(&self) -> Vec<String> {
        if self.0.accepted {
            vec![self.0.tenant_id.clone()]
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::entityctl::{
        args::Output,
        render::{One, Written, printed},
    };

    fn at(seconds: i64) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp { seconds, nanos: 0 })
    }

    fn settings() -> pb::RegistrationSettings {
        pb::RegistrationSettings {
            tenant_id: "t1".into(),
            enabled: true,
            auto_roles: vec![
                pb::RoleAssignment {
                    role: "viewer".into(),
                    scope: Some(pb::Scope {
                        kind: pb::ScopeKind::Tenant as i32,
                        id: String::new(),
                    }),
                },
                pb::RoleAssignment {
                    role: "team-member".into(),
                    scope: Some(pb::Scope {
                        kind: pb::ScopeKind::Team as i32,
                        id: "tm1".into(),
                    }),
                },
            ],
            custom_host: String::new(),
            domains: vec![
                pb::RegistrationDomain {
                    domain: "acme.example".into(),
                    status: pb::DomainStatus::Verified as i32,
                    txt_record: "entity-engine-verification=abc".into(),
                    add_time: at(1_900_000_000),
                    verify_time: at(1_900_000_060),
                    verification_method: pb::VerificationMethod::Dns as i32,
                    ..Default::default()
                },
                pb::RegistrationDomain {
                    domain: "beta.example".into(),
                    status: pb::DomainStatus::Pending as i32,
                    txt_record: "entity-engine-verification=def".into(),
                    client_id: "c1".into(),
                    add_time: at(1_900_000_000),
                    ..Default::default()
                },
            ],
            version: 4,
        }
    }

    #[test]
    fn settings_show_one_line_per_domain_with_its_txt_record() {
        assert_eq!(
            printed(&One(settings()), Output::Text),
            "tenant_id: t1\nenabled: true\nauto_roles: viewer at tenant, team-member at team:tm1\n\
             custom_host: (none)\n\
             domain: acme.example  verified (dns, 2030-03-17T17:47:40Z)  \
             entity-engine-verification=abc\n\
             domain: beta.example  pending  client c1  entity-engine-verification=def\n\
             version: 4"
        );
        assert_eq!(
            One(settings()).json(),
            json!({
                "tenant_id": "t1",
                "enabled": true,
                "auto_roles": [
                    {"role": "viewer", "scope": {"kind": "tenant", "id": null}},
                    {"role": "team-member", "scope": {"kind": "team", "id": "tm1"}},
                ],
                "custom_host": null,
                "domains": [
                    {
                        "domain": "acme.example",
                        "status": "verified",
                        "txt_record": "entity-engine-verification=abc",
                        "client_id": null,
                        "add_time": "2030-03-17T17:46:40Z",
                        "verify_time": "2030-03-17T17:47:40Z",
                        "verification_method": "dns",
                    },
                    {
                        "domain": "beta.example",
                        "status": "pending",
                        "txt_record": "entity-engine-verification=def",
                        "client_id": "c1",
                        "add_time": "2030-03-17T17:46:40Z",
                        "verify_time": null,
                        "verification_method": null,
                    },
                ],
                "version": 4,
            })
        );
        assert_eq!(printed(&One(settings()), Output::Id), "t1");
        let closed = pb::RegistrationSettings {
            enabled: false,
            auto_roles: Vec::new(),
            custom_host: "signup.acme.example".into(),
            domains: Vec::new(),
            ..settings()
        };
        let text = printed(&One(closed.clone()), Output::Text);
        for line in [
            "enabled: false",
            "auto_roles: (none)",
            "custom_host: signup.acme.example",
            "domains: (none)",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}: {text}");
        }
        assert_eq!(closed.row(), "t1  disabled  (none)");
        assert_eq!(settings().row(), "t1  enabled   acme.example, beta.example");
    }

    #[test]
    fn an_added_domain_shows_its_txt_record_under_the_summary() {
        let answer = pb::RegistrationSettingsResponse {
            settings: Some(settings()),
            result: Some(pb::WriteResult {
                version: 4,
                consistency_token: "ct1.2.3".into(),
                replayed: false,
            }),
        };
        let added = || AddedDomain {
            domain: "beta.example".into(),
            answer: answer.clone(),
        };
        let text = printed(
            &Written::new("added domain beta.example to", added()),
            Output::Text,
        );
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some(
                "added domain beta.example to registration t1 (version 4, consistency token \
                 ct1.2.3)"
            )
        );
        assert_eq!(
            lines.next(),
            Some("txt_record: entity-engine-verification=def")
        );
        assert_eq!(lines.next(), Some("tenant_id: t1"));
        let json = Written::new("added", added()).json();
        assert_eq!(json["txt_record"], "entity-engine-verification=def");
        assert_eq!(json["registration"]["domains"][1]["status"], "pending");
        assert_eq!(json["result"]["version"], 4);
        // other writes carry the settings alone
        let text = printed(&Written::new("configured", answer.clone()), Output::Text);
        assert!(
            text.starts_with(
                "configured registration t1 (version 4, consistency token ct1.2.3)\ntenant_id: t1\n"
            ),
            "{text}"
        );
        let unlisted = AddedDomain {
            domain: "gamma.example".into(),
            ..added()
        };
        assert!(!printed(&Written::new("added", unlisted), Output::Text).contains("txt_record"));
    }

    #[test]
    fn resolve_answers_the_tenant_or_why_not() {
        let accepted = Resolved(pb::ResolveRegistrationResponse {
            accepted: true,
            tenant_id: "t1".into(),
            tenant_name: "Acme".into(),
            reason: String::new(),
        });
        assert_eq!(
            printed(&accepted, Output::Text),
            "accepted\ntenant_id: t1\ntenant_name: Acme"
        );
        assert_eq!(
            accepted.json(),
            json!({"accepted": true, "tenant_id": "t1", "tenant_name": "Acme", "reason": null})
        );
        assert_eq!(printed(&accepted, Output::Id), "t1");
        let refused = Resolved(pb::ResolveRegistrationResponse {
            reason: "DOMAIN_NOT_ALLOWED".into(),
            ..Default::default()
        });
        assert_eq!(
            printed(&refused, Output::Text),
            "not accepted (DOMAIN_NOT_ALLOWED)"
        );
        assert_eq!(refused.json()["reason"], "DOMAIN_NOT_ALLOWED");
        assert_eq!(refused.json()["tenant_id"], Value::Null);
        assert_eq!(printed(&refused, Output::Id), "");
    }
}
