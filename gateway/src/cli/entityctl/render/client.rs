//! Clients as `entityctl` shows them.

use entity_proto::v1 as pb;
use serde_json::{Value, json};

use super::{
    Resource, label, nonempty_or,
    tenant::{profile_json, profile_lines},
};

write_answer!(pb::ClientResponse { client: pb::Client });
write_answer!(pb::ProvisionClientTenantResponse { client: pb::Client }, secret owner_invitation_token);
labels! { pb::ClientStatus: "CLIENT_STATUS_" }

impl Resource for pb::Client {
    const KIND: &'static str = "client";

    id_and_stamps!();

    /// The business profile's lines only when it is set (listings leave it unset).
    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("tenant_id", self.tenant_id.clone()),
            ("name", self.name.clone()),
            ("external_id", self.external_id.clone()),
            ("status", label::<pb::ClientStatus>(self.status)),
        ];
        out.extend(profile_lines(self.business_profile.as_ref()));
        if !self.provisioned_tenant_id.is_empty() {
            out.push(("provisioned_tenant_id", self.provisioned_tenant_id.clone()));
        }
        out
    }

    fn json_fields(&self) -> Value {
        json!({
            "tenant_id": self.tenant_id,
            "id": self.id,
            "name": self.name,
            "external_id": (!self.external_id.is_empty()).then_some(&self.external_id),
            "business_profile": self.business_profile.as_ref().map(profile_json),
            "status": label::<pb::ClientStatus>(self.status),
            "provisioned_tenant_id":
                (!self.provisioned_tenant_id.is_empty()).then_some(&self.provisioned_tenant_id),
        })
    }

    /// `ID  STATUS  EXTERNAL_ID  NAME` (`-` for no external id).
    fn row(&self) -> String {
        format!(
            "{}  {:<8}  {}  {}",
            self.id,
            label::<pb::ClientStatus>(self.status),
            nonempty_or(&self.external_id, "-"),
            self.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::entityctl::{
        args::Output,
        render::{Listed, One, Rendered, View, Written, printed},
    };

    fn client() -> pb::Client {
        pb::Client {
            tenant_id: "t1".into(),
            id: "c1".into(),
            name: "Globex".into(),
            external_id: "crm-7".into(),
            business_profile: Some(pb::BusinessProfile {
                legal_name: "Globex Corporation".into(),
                address: Some(pb::Address {
                    country: "US".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            status: pb::ClientStatus::Disabled as i32,
            version: 2,
            ..Default::default()
        }
    }

    #[test]
    fn clients_show_their_profile_and_status() {
        let text = printed(&One(client()), Output::Text);
        assert_eq!(
            text,
            "id: c1\ntenant_id: t1\nname: Globex\nexternal_id: crm-7\nstatus: disabled\n\
             legal_name: Globex Corporation\ncountry: US\nversion: 2\ncreated: \nupdated: "
        );
        let json = One(client()).json();
        assert_eq!(json["status"], "disabled");
        assert_eq!(json["business_profile"]["address"]["country"], "US");
        assert_eq!(json["provisioned_tenant_id"], Value::Null);
        assert_eq!(json["version"], 2);
        assert_eq!(json["create_time"], Value::Null);
    }

    #[test]
    fn rows_and_write_answers() {
        let listed = pb::Client {
            business_profile: None,
            external_id: String::new(),
            status: pb::ClientStatus::Active as i32,
            ..client()
        };
        let page = Listed::new(vec![client(), listed], String::new());
        assert_eq!(
            printed(&page, Output::Text),
            "c1  disabled  crm-7  Globex\nc1  active    -  Globex\n(2 clients)"
        );
        let answer = pb::ClientResponse {
            client: Some(client()),
            result: Some(pb::WriteResult {
                version: 2,
                consistency_token: "ct1.1.2".into(),
                replayed: false,
            }),
        };
        let written = Written::new("disabled", answer);
        assert!(
            printed(&written, Output::Text)
                .starts_with("disabled client c1 (version 2, consistency token ct1.1.2)\n")
        );
        assert_eq!(written.json()["client"]["external_id"], "crm-7");
        assert_eq!(Rendered::new(written).format(Output::Id), "c1");
    }
}
