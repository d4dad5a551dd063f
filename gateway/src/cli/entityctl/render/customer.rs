//! Customers as `entityctl` shows them.

use entity_proto::v1 as pb;
use serde_json::{Value, json};

use super::{
    Resource, label,
    tenant::{profile_json, profile_lines},
};

write_answer!(pb::CustomerResponse {
    customer: pb::Customer
});
labels! {
    pb::CustomerKind: "CUSTOMER_KIND_",
    pb::CustomerStatus: "CUSTOMER_STATUS_",
}

impl Resource for pb::Customer {
    const KIND: &'static str = "customer";

    id_and_stamps!();

    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("name", self.name.clone()),
            ("slug", self.slug.clone()),
            ("kind", label::<pb::CustomerKind>(self.kind)),
            ("status", label::<pb::CustomerStatus>(self.status)),
        ];
        out.extend(profile_lines(self.business_profile.as_ref()));
        out
    }

    fn json_fields(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "slug": self.slug,
            "kind": label::<pb::CustomerKind>(self.kind),
            "status": label::<pb::CustomerStatus>(self.status),
            "business_profile": self.business_profile.as_ref().map(profile_json),
        })
    }

    /// `ID  STATUS  SLUG  NAME`.
    fn row(&self) -> String {
        format!(
            "{}  {:<11}  {}  {}",
            self.id,
            label::<pb::CustomerStatus>(self.status),
            self.slug,
            self.name
        )
    }
}
