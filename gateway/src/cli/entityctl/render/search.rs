//! Search hits and search keys as `entityctl` shows them.
//!
//! A hit's row: `ID  ENTRY  STATUS  NAME`, a client's followed by `(of CUSTOMER)`. Its JSON:
//! every field, empty texts and unset enums null. A new search key: `search_key`, `scope`,
//! `tenant_id` (an own-clients key's) and `valid_until` lines; `--output id` prints the key.

use entity_proto::v1 as pb;
use serde_json::{Value, json};

use super::{Label, Resource, View, label, lines, nonempty, rfc3339};

labels! {
    pb::SearchScope: "SEARCH_SCOPE_",
    pb::SearchEntryKind: "SEARCH_ENTRY_KIND_",
    pb::SearchStatus: "SEARCH_STATUS_",
}

impl Resource for pb::SearchHit {
    const KIND: &'static str = "hit";

    id_and_stamps!();

    /// A customer's slug, kind and plan; a client's provisioned tenant, when it has one.
    fn fields(&self) -> Vec<(&'static str, String)> {
        let customer = is_customer(self);
        let mut out = vec![
            ("entry", label::<pb::SearchEntryKind>(self.entry)),
            ("tenant_id", self.tenant_id.clone()),
            ("name", self.name.clone()),
        ];
        if customer {
            out.push(("slug", self.slug.clone()));
            out.push(("kind", label::<pb::TenantKind>(self.kind)));
        }
        out.push(("status", label::<pb::SearchStatus>(self.status)));
        if customer {
            out.push(("plan", label::<pb::Plan>(self.plan)));
        }
        out.extend([
            ("external_id", self.external_id.clone()),
            ("legal_name", self.legal_name.clone()),
            (
                "industry_sector",
                label::<pb::IndustrySector>(self.industry_sector),
            ),
            (
                "industry_group",
                label::<pb::IndustryGroup>(self.industry_group),
            ),
            ("size_range", label::<pb::SizeRange>(self.size_range)),
            ("legal_form", label::<pb::LegalForm>(self.legal_form)),
        ]);
        if !self.provisioned_tenant_id.is_empty() {
            out.push(("provisioned_tenant_id", self.provisioned_tenant_id.clone()));
        }
        out
    }

    fn json_fields(&self) -> Value {
        json!({
            "entry": set::<pb::SearchEntryKind>(self.entry),
            "id": self.id,
            "tenant_id": self.tenant_id,
            "name": self.name,
            "slug": nonempty(&self.slug),
            "external_id": nonempty(&self.external_id),
            "legal_name": nonempty(&self.legal_name),
            "kind": set::<pb::TenantKind>(self.kind),
            "status": set::<pb::SearchStatus>(self.status),
            "plan": set::<pb::Plan>(self.plan),
            "industry_sector": set::<pb::IndustrySector>(self.industry_sector),
            "industry_group": set::<pb::IndustryGroup>(self.industry_group),
            "size_range": set::<pb::SizeRange>(self.size_range),
            "legal_form": set::<pb::LegalForm>(self.legal_form),
            "provisioned_tenant_id": nonempty(&self.provisioned_tenant_id),
        })
    }

    /// `ID  ENTRY  STATUS  NAME`, then `(of CUSTOMER)` for a client.
    fn row(&self) -> String {
        let of = if is_customer(self) {
            String::new()
        } else {
            format!("  (of {})", self.tenant_id)
        };
        format!(
            "{}  {:<8}  {:<11}  {}{of}",
            self.id,
            label::<pb::SearchEntryKind>(self.entry),
            label::<pb::SearchStatus>(self.status),
            self.name
        )
    }
}

/// Whether a hit is a customer (rather than a client).
fn is_customer(hit: &pb::SearchHit) -> bool {
    hit.entry == pb::SearchEntryKind::Customer as i32
}

/// The label of a set enum value; null for UNSPECIFIED.
fn set<E: Label>(value: i32) -> Option<String> {
    (value != 0).then(|| label::<E>(value))
}

/// The answer to `search create-key`: the key (shown this once) and what it allows.
pub struct SearchKey(pub pb::CreateSearchKeyResponse);

impl View for SearchKey {
    fn text(&self) -> Vec<String> {
        let k = &self.0;
        let mut pairs = vec![
            ("search_key", k.search_key.clone()),
            ("scope", label::<pb::SearchScope>(k.scope)),
        ];
        if !k.tenant_id.is_empty() {
            pairs.push(("tenant_id", k.tenant_id.clone()));
        }
        pairs.push((
            "valid_until",
            k.valid_until.as_ref().map(rfc3339).unwrap_or_default(),
        ));
        lines(&pairs)
    }

    fn json(&self) -> Value {
        let k = &self.0;
        json!({
            "search_key": k.search_key,
            "scope": label::<pb::SearchScope>(k.scope),
            "tenant_id": nonempty(&k.tenant_id),
            "valid_until": k.valid_until.as_ref().map(rfc3339),
        })
    }

    /// The key itself, for `KEY=$(entityctl --output id search create-key …)`.
    fn ids(&self) -> Vec<String> {
        vec![self.0.search_key.clone()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::entityctl::{
        args::Output,
        render::{Listed, printed},
    };

    fn customer() -> pb::SearchHit {
        pb::SearchHit {
            entry: pb::SearchEntryKind::Customer as i32,
            id: "t1".into(),
            tenant_id: "t1".into(),
            name: "Acme".into(),
            slug: "acme".into(),
            kind: pb::TenantKind::Business as i32,
            status: pb::SearchStatus::Active as i32,
            plan: pb::Plan::Gold as i32,
            industry_sector: pb::IndustrySector::Energy as i32,
            version: 3,
            ..Default::default()
        }
    }

    fn client() -> pb::SearchHit {
        pb::SearchHit {
            entry: pb::SearchEntryKind::Client as i32,
            id: "c1".into(),
            tenant_id: "t1".into(),
            name: "Globex".into(),
            external_id: "crm-7".into(),
            status: pb::SearchStatus::Disabled as i32,
            provisioned_tenant_id: "t2".into(),
            version: 1,
            ..Default::default()
        }
    }

    #[test]
    fn hits_are_rows_of_customers_and_clients() {
        let page = Listed::new(vec![customer(), client()], "p2".into());
        assert_eq!(
            printed(&page, Output::Text),
            "t1  customer  active       Acme\nc1  client    disabled     Globex  (of t1)\n\
             (2 hits; next page: --page-token p2)"
        );
        assert_eq!(printed(&page, Output::Id), "t1\nc1");
        let json = page.json();
        assert_eq!(json["next_page_token"], "p2");
        let (acme, globex) = (&json["hits"][0], &json["hits"][1]);
        assert_eq!(
            (&acme["entry"], &acme["kind"], &acme["plan"], &acme["slug"]),
            (
                &json!("customer"),
                &json!("business"),
                &json!("gold"),
                &json!("acme")
            )
        );
        assert_eq!(acme["industry_sector"], "energy");
        assert_eq!(acme["industry_group"], Value::Null);
        assert_eq!(acme["version"], 3);
        assert_eq!(
            (&globex["entry"], &globex["status"], &globex["kind"]),
            (&json!("client"), &json!("disabled"), &Value::Null)
        );
        assert_eq!(globex["provisioned_tenant_id"], "t2");
        assert_eq!(globex["slug"], Value::Null);
    }

    #[test]
    fn a_hit_shows_the_fields_of_its_entry() {
        let keys = |hit: pb::SearchHit| -> Vec<&'static str> {
            hit.fields().into_iter().map(|(k, _)| k).collect()
        };
        assert_eq!(
            keys(customer()),
            [
                "entry",
                "tenant_id",
                "name",
                "slug",
                "kind",
                "status",
                "plan",
                "external_id",
                "legal_name",
                "industry_sector",
                "industry_group",
                "size_range",
                "legal_form"
            ]
        );
        let client_keys = keys(client());
        assert!(!client_keys.contains(&"plan") && !client_keys.contains(&"slug"));
        assert_eq!(client_keys.last(), Some(&"provisioned_tenant_id"));
    }

    #[test]
    fn a_new_key_is_shown_once_with_its_scope() {
        let key = SearchKey(pb::CreateSearchKeyResponse {
            search_key: "sk.abc".into(),
            scope: pb::SearchScope::OwnClients as i32,
            tenant_id: "t1".into(),
            valid_until: Some(prost_types::Timestamp {
                seconds: 1_900_000_000,
                nanos: 0,
            }),
        });
        assert_eq!(
            printed(&key, Output::Text),
            "search_key: sk.abc\nscope: own_clients\ntenant_id: t1\n\
             valid_until: 2030-03-17T17:46:40Z"
        );
        assert_eq!(printed(&key, Output::Id), "sk.abc");
        assert_eq!(
            key.json(),
            json!({
                "search_key": "sk.abc",
                "scope": "own_clients",
                "tenant_id": "t1",
                "valid_until": "2030-03-17T17:46:40Z",
            })
        );
        let platform = SearchKey(pb::CreateSearchKeyResponse {
            scope: pb::SearchScope::BusinessCustomers as i32,
            tenant_id: String::new(),
            ..key.0
        });
        assert!(!printed(&platform, Output::Text).contains("tenant_id"));
        assert_eq!(platform.json()["scope"], "business_customers");
        assert_eq!(platform.json()["tenant_id"], Value::Null);
    }
}
