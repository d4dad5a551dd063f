//! API keys as `entityctl` shows them: masked (`eek_…` and the last four characters), the key
//! itself only in the answer that issued it (`key: eek_…`), and the answers of `verify`.
//!
//! Text: `id`, `tenant_id`, `partition_id`, `client_id` (`(none)`: the tenant's), `name`,
//! `admin`, `scopes`, `foreign_key`, `masked_key`, `expire_time` (`(never)`), `state`, then
//! `revocation_reason` and `revoke_time` once revoked, `rotated_from` and `replaced_by`, then
//! the stamps. JSON: every field, empty ids and texts null. Row: `ID  STATE  MASKED_KEY  NAME`.

use entity_proto::v1::{self as pb, verify_api_key_response::Reason};
use serde_json::{Value, json};

use super::{Resource, View, label, list_text, nonempty, reference, rfc3339};

write_answer!(pb::IssuedApiKey { api_key: pb::ApiKey }, secret key);
write_answer!(pb::ApiKeyResponse {
    api_key: pb::ApiKey
});
labels! {
    pb::ApiKeyState: "API_KEY_STATE_",
    Reason: "",
}

impl Resource for pb::ApiKey {
    const KIND: &'static str = "api_key";

    id_and_stamps!();

    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("tenant_id", self.tenant_id.clone()),
            ("partition_id", self.partition_id.clone()),
            ("client_id", reference(&self.client_id)),
            ("name", self.name.clone()),
            ("admin", self.admin.to_string()),
            ("scopes", list_text(&self.scopes)),
            ("foreign_key", self.foreign_key.clone()),
            ("masked_key", self.masked_key.clone()),
            ("expire_time", expiry_text(self.expire_time.as_ref())),
            ("state", label::<pb::ApiKeyState>(self.state)),
        ];
        if !self.revocation_reason.is_empty() || self.revoke_time.is_some() {
            out.push(("revocation_reason", self.revocation_reason.clone()));
            out.push((
                "revoke_time",
                self.revoke_time.as_ref().map(rfc3339).unwrap_or_default(),
            ));
        }
        out.push(("rotated_from", reference(&self.rotated_from)));
        out.push(("replaced_by", reference(&self.replaced_by)));
        out
    }

    fn json_fields(&self) -> Value {
        json!({
            "tenant_id": self.tenant_id,
            "id": self.id,
            "partition_id": self.partition_id,
            "client_id": nonempty(&self.client_id),
            "name": self.name,
            "admin": self.admin,
            "scopes": self.scopes,
            "foreign_key": nonempty(&self.foreign_key),
            "masked_key": self.masked_key,
            "expire_time": self.expire_time.as_ref().map(rfc3339),
            "state": label::<pb::ApiKeyState>(self.state),
            "revocation_reason": nonempty(&self.revocation_reason),
            "revoke_time": self.revoke_time.as_ref().map(rfc3339),
            "rotated_from": nonempty(&self.rotated_from),
            "replaced_by": nonempty(&self.replaced_by),
        })
    }

    /// `ID  STATE  MASKED_KEY  NAME`.
    fn row(&self) -> String {
        format!(
            "{}  {:<7}  {}  {}",
            self.id,
            label::<pb::ApiKeyState>(self.state),
            self.masked_key,
            self.name
        )
    }
}

/// The answer to `api-key verify`: `valid` and what the key grants, or `invalid (REASON)`.
pub struct Verified(pub pb::VerifyApiKeyResponse);

impl View for Verified {
    fn text(&self) -> Vec<String> {
        let v = &self.0;
        if !v.valid {
            return vec![format!("invalid ({})", label::<Reason>(v.reason))];
        }
        let pairs = [
            ("tenant_id", v.tenant_id.clone()),
            ("client_id", reference(&v.client_id)),
            ("partition_id", v.partition_id.clone()),
            ("key_id", v.key_id.clone()),
            ("admin", v.admin.to_string()),
            ("scopes", list_text(&v.scopes)),
            ("expire_time", expiry_text(v.expire_time.as_ref())),
        ];
        let mut out = vec!["valid".to_owned()];
        out.extend(pairs.iter().map(|(k, v)| format!("{k}: {v}")));
        out
    }

    fn json(&self) -> Value {
        let v = &self.0;
        json!({
            "valid": v.valid,
            "reason": (!v.valid).then(|| label::<Reason>(v.reason)),
            "tenant_id": nonempty(&v.tenant_id),
            "client_id": nonempty(&v.client_id),
            "partition_id": nonempty(&v.partition_id),
            "key_id": nonempty(&v.key_id),
            "admin": v.admin,
            "scopes": v.scopes,
            "expire_time": v.expire_time.as_ref().map(rfc3339),
        })
    }

    /// The key's id when it is valid, nothing otherwise (`[ -n "$(… --output id)" ]` tests
    /// validity).
    fn ids(&self) -> Vec<String> {
        if self.0.valid {
            vec![self.0.key_id.clone()]
        } else {
            Vec::new()
        }
    }
}

/// When a key stops working, in text; unset: `(never)`.
fn expiry_text(t: Option<&prost_types::Timestamp>) -> String {
    t.map_or_else(|| "(never)".to_owned(), rfc3339)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::entityctl::{
        args::Output,
        render::{Listed, One, Rendered, Written, printed},
    };

    fn at(seconds: i64) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp { seconds, nanos: 0 })
    }

    fn key() -> pb::ApiKey {
        pb::ApiKey {
            tenant_id: "t1".into(),
            id: "k1".into(),
            partition_id: "p1".into(),
            name: "ci".into(),
            scopes: vec!["organization:read".into(), "user:*".into()],
            foreign_key: "gh-7".into(),
            masked_key: "eek_…wxyz".into(),
            expire_time: at(1_900_000_000),
            state: pb::ApiKeyState::Active as i32,
            rotated_from: "k0".into(),
            version: 2,
            ..Default::default()
        }
    }

    #[test]
    fn keys_show_their_partition_scopes_and_state() {
        assert_eq!(
            printed(&One(key()), Output::Text),
            "id: k1\ntenant_id: t1\npartition_id: p1\nclient_id: (none)\nname: ci\n\
             admin: false\nscopes: organization:read, user:*\nforeign_key: gh-7\n\
             masked_key: eek_…wxyz\nexpire_time: 2030-03-17T17:46:40Z\nstate: active\n\
             rotated_from: k0\nreplaced_by: (none)\nversion: 2\ncreated: \nupdated: "
        );
        assert_eq!(
            One(key()).json(),
            json!({
                "tenant_id": "t1",
                "id": "k1",
                "partition_id": "p1",
                "client_id": null,
                "name": "ci",
                "admin": false,
                "scopes": ["organization:read", "user:*"],
                "foreign_key": "gh-7",
                "masked_key": "eek_…wxyz",
                "expire_time": "2030-03-17T17:46:40Z",
                "state": "active",
                "revocation_reason": null,
                "revoke_time": null,
                "rotated_from": "k0",
                "replaced_by": null,
                "version": 2,
                "create_time": null,
                "update_time": null,
            })
        );
        let revoked = pb::ApiKey {
            client_id: "c1".into(),
            admin: true,
            scopes: Vec::new(),
            expire_time: None,
            state: pb::ApiKeyState::Revoked as i32,
            revocation_reason: "partition_deleted".into(),
            revoke_time: at(1_900_000_000),
            ..key()
        };
        let text = printed(&One(revoked.clone()), Output::Text);
        for line in [
            "client_id: c1",
            "admin: true",
            "scopes: (none)",
            "expire_time: (never)",
            "state: revoked",
            "revocation_reason: partition_deleted",
            "revoke_time: 2030-03-17T17:46:40Z",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}: {text}");
        }
        let json = One(revoked).json();
        assert_eq!(json["state"], "revoked");
        assert_eq!(json["client_id"], "c1");
        assert_eq!(json["expire_time"], Value::Null);
    }

    #[test]
    fn rows_show_the_masked_key() {
        let expired = pb::ApiKey {
            id: "k2".into(),
            state: pb::ApiKeyState::Expired as i32,
            name: "old".into(),
            ..key()
        };
        let page = Listed::new(vec![key(), expired], "p2".into());
        assert_eq!(
            printed(&page, Output::Text),
            "k1  active   eek_…wxyz  ci\nk2  expired  eek_…wxyz  old\n\
             (2 api_keys; next page: --page-token p2)"
        );
        assert_eq!(printed(&page, Output::Id), "k1\nk2");
        assert_eq!(page.json()["api_keys"][1]["state"], "expired");
    }

    #[test]
    fn the_key_is_shown_once_under_the_summary() {
        let issued = pb::IssuedApiKey {
            api_key: Some(key()),
            key: "eek_secret".into(),
            result: Some(pb::WriteResult {
                version: 1,
                consistency_token: "ct1.1.1".into(),
                replayed: false,
            }),
        };
        let text = printed(&Written::new("created", issued.clone()), Output::Text);
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("created api_key k1 (version 1, consistency token ct1.1.1)")
        );
        assert_eq!(lines.next(), Some("key: eek_secret"));
        assert_eq!(lines.next(), Some("id: k1"));
        let json = Written::new("created", issued.clone()).json();
        assert_eq!(json["key"], "eek_secret");
        assert_eq!(json["api_key"]["masked_key"], "eek_…wxyz");
        assert_eq!(json["result"]["version"], 1);
        assert_eq!(
            Rendered::new(Written::new("created", issued.clone())).format(Output::Id),
            "k1"
        );
        // a replay has no key to show
        let replay = pb::IssuedApiKey {
            key: String::new(),
            ..issued
        };
        let text = printed(&Written::new("created", replay.clone()), Output::Text);
        assert!(!text.lines().any(|l| l.starts_with("key: ")), "{text}");
        assert_eq!(Written::new("created", replay).json()["key"], Value::Null);
        let revoked = Written::new(
            "revoked",
            pb::ApiKeyResponse {
                api_key: Some(key()),
                result: None,
            },
        );
        assert!(printed(&revoked, Output::Text).starts_with("revoked api_key k1\nid: k1\n"));
    }

    #[test]
    fn verify_answers_valid_or_why_not() {
        let valid = Verified(pb::VerifyApiKeyResponse {
            valid: true,
            tenant_id: "t1".into(),
            partition_id: "p1".into(),
            key_id: "k1".into(),
            scopes: vec!["user:read".into()],
            ..Default::default()
        });
        assert_eq!(
            printed(&valid, Output::Text),
            "valid\ntenant_id: t1\nclient_id: (none)\npartition_id: p1\nkey_id: k1\n\
             admin: false\nscopes: user:read\nexpire_time: (never)"
        );
        assert_eq!(
            valid.json(),
            json!({
                "valid": true,
                "reason": null,
                "tenant_id": "t1",
                "client_id": null,
                "partition_id": "p1",
                "key_id": "k1",
                "admin": false,
                "scopes": ["user:read"],
                "expire_time": null,
            })
        );
        assert_eq!(printed(&valid, Output::Id), "k1");
        let revoked = Verified(pb::VerifyApiKeyResponse {
            reason: Reason::TenantNotActive as i32,
            ..Default::default()
        });
        assert_eq!(
            printed(&revoked, Output::Text),
            "invalid (tenant_not_active)"
        );
        assert_eq!(revoked.json()["reason"], "tenant_not_active");
        assert_eq!(revoked.json()["valid"], false);
        assert_eq!(revoked.json()["key_id"], Value::Null);
        assert_eq!(printed(&revoked, Output::Id), "");
        let odd = Verified(pb::VerifyApiKeyResponse {
            reason: 99,
            ..Default::default()
        });
        assert_eq!(odd.text(), ["invalid (unknown(99))"]);
    }
}
