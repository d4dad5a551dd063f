//! How an update event stores its business-profile change: `business_profile` holds the new
//! profile (`null` or absent: unchanged) and `business_profile_cleared: true` says it was
//! removed. A bare `null` cannot say both, and journal payloads written before the flag existed
//! read as they always did (`null`: unchanged).
//!
//! Use on an `Option<Option<BusinessProfile>>` field with
//! `#[serde(flatten, with = "super::profile_change")]`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::BusinessProfile;

#[derive(Serialize)]
struct Written<'a> {
    business_profile: Option<&'a BusinessProfile>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    business_profile_cleared: bool,
}

#[derive(Deserialize)]
struct Read {
    #[serde(default)]
    business_profile: Option<BusinessProfile>,
    #[serde(default)]
    business_profile_cleared: bool,
}

/// Writes the change as its two fields.
pub(crate) fn serialize<S: Serializer>(
    change: &Option<Option<BusinessProfile>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    Written {
        business_profile: change.as_ref().and_then(Option::as_ref),
        business_profile_cleared: matches!(change, Some(None)),
    }
    .serialize(serializer)
}

/// Reads the change back: cleared, replaced or unchanged.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<BusinessProfile>>, D::Error> {
    let read = Read::deserialize(deserializer)?;
    Ok(
        match (read.business_profile, read.business_profile_cleared) {
            (_, true) => Some(None),
            (Some(profile), false) => Some(Some(profile)),
            (None, false) => None,
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use crate::domain::{BusinessProfile, ClientEvent, ClientId, TenantEvent};

    fn update(change: Option<Option<BusinessProfile>>) -> TenantEvent {
        TenantEvent::TenantUpdated {
            name: None,
            settings: None,
            products: None,
            business_profile: change,
        }
    }

    #[test]
    fn a_cleared_profile_reads_back_cleared_not_unchanged() {
        let profile = BusinessProfile {
            legal_name: "Acme GmbH".into(),
            ..Default::default()
        };
        for change in [None, Some(None), Some(Some(profile))] {
            let stored = serde_json::to_value(update(change.clone())).unwrap();
            let read: TenantEvent = serde_json::from_value(stored.clone()).unwrap();
            assert_eq!(read, update(change), "{stored}");
        }
        let client = ClientEvent::ClientUpdated {
            id: ClientId::new_v7(),
            name: None,
            external_id: None,
            business_profile: Some(None),
        };
        let stored = serde_json::to_value(&client).unwrap();
        assert_eq!(stored["business_profile_cleared"], json!(true), "{stored}");
        assert_eq!(
            serde_json::from_value::<ClientEvent>(stored).unwrap(),
            client
        );
    }

    #[test]
    fn payloads_written_before_the_flag_read_as_they_always_did() {
        let old = json!({"type": "TenantUpdated", "name": "New", "settings": null,
            "products": null, "business_profile": null});
        let read: TenantEvent = serde_json::from_value(old).unwrap();
        assert_eq!(
            read,
            TenantEvent::TenantUpdated {
                name: Some("New".into()),
                settings: None,
                products: None,
                business_profile: None,
            }
        );
        let unchanged = serde_json::to_value(update(None)).unwrap();
        assert_eq!(unchanged.get("business_profile_cleared"), None);
    }
}
