//! Customers as `entityctl` shows them.

use entity_proto::v1 as pb;
use serde_json::Value;

use super::{Resource, label, tenant::Party};

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
        party(self).lines(Vec::new())
    }

    fn json_fields(&self) -> Value {
        party(self).json(Value::Null)
    }

    /// `ID  STATUS  SLUG  NAME`.
    fn row(&self) -> String {
        party(self).row()
    }
}

/// A customer's [`Party`] fields.
fn party(c: &pb::Customer) -> Party<'_> {
    Party {
        id: &c.id,
        name: &c.name,
        slug: &c.slug,
        kind: label::<pb::CustomerKind>(c.kind),
        plan: None,
        status: label::<pb::CustomerStatus>(c.status),
        profile: c.business_profile.as_ref(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_show_no_plan() {
        let customer = pb::Customer {
            id: "c1".into(),
            name: "Acme".into(),
            slug: "acme".into(),
            kind: pb::CustomerKind::Business as i32,
            status: pb::CustomerStatus::Active as i32,
            ..Default::default()
        };
        assert_eq!(customer.row(), "c1  active       acme  Acme");
        let keys: Vec<_> = customer.fields().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["name", "slug", "kind", "status"]);
        let json = customer.json_fields();
        assert_eq!(
            (json["kind"].as_str(), json.get("plan")),
            (Some("business"), None)
        );
    }
}
