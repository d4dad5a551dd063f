//! Users as `entityctl` shows them (the invitation token only in the answer that issued it),
//! and their token claims (`user claims`).

use entity_proto::v1 as pb;
use serde_json::{Value, json};

use super::{
    Resource, View,
    access::{assignment_json, assignment_text},
    label, list_text, nonempty, reference, rfc3339,
};

write_answer!(pb::UserResponse { user: pb::User }, secret invitation_token);
labels! { pb::UserStatus: "USER_STATUS_", pb::InvitationState: "INVITATION_STATE_" }

impl Resource for pb::User {
    const KIND: &'static str = "user";

    id_and_stamps!();

    fn fields(&self) -> Vec<(&'static str, String)> {
        let roles: Vec<String> = self.roles.iter().map(assignment_text).collect();
        let mut out = vec![
            ("tenant_id", self.tenant_id.clone()),
            ("email", erased_or(self, &self.email)),
            ("display_name", erased_or(self, &self.display_name)),
            ("status", label::<pb::UserStatus>(self.status)),
        ];
        if let Some(i) = &self.invitation {
            out.push(("invitation", label::<pb::InvitationState>(i.state)));
            out.push((
                "invitation_expires_at",
                i.expires_at.as_ref().map(rfc3339).unwrap_or_default(),
            ));
        }
        if !self.client_id.is_empty() {
            out.push(("client_id", self.client_id.clone()));
        }
        out.push(("organizations", list_text(&self.organization_ids)));
        out.push(("roles", list_text(&roles)));
        out
    }

    fn json_fields(&self) -> Value {
        json!({
            "tenant_id": self.tenant_id,
            "id": self.id,
            "email": self.email,
            "display_name": self.display_name,
            "status": label::<pb::UserStatus>(self.status),
            "invitation": self.invitation.as_ref().map(|i| json!({
                "state": label::<pb::InvitationState>(i.state),
                "expires_at": i.expires_at.as_ref().map(rfc3339),
                "sent_at": i.sent_at.as_ref().map(rfc3339),
            })),
            "client_id": (!self.client_id.is_empty()).then_some(&self.client_id),
            "organization_ids": self.organization_ids,
            "roles": self.roles.iter().map(assignment_json).collect::<Vec<_>>(),
        })
    }

    fn row(&self) -> String {
        format!(
            "{}  {:<11}  {}  {}",
            self.id,
            label::<pb::UserStatus>(self.status),
            erased_or(self, &self.email),
            if is_erased(self) {
                ""
            } else {
                &self.display_name
            }
        )
    }
}

/// Shown in text instead of an erased person's email and display name (JSON keeps them as
/// the empty strings the server sends).
pub const ERASED: &str = "(erased)";

fn is_erased(user: &pb::User) -> bool {
    user.status == pb::UserStatus::Erased as i32
}

/// `value`, or [`ERASED`] for an erased user.
fn erased_or(user: &pb::User, value: &str) -> String {
    if is_erased(user) {
        ERASED.to_owned()
    } else {
        value.to_owned()
    }
}

/// The answer to `user claims`: what an identity provider puts in the user's tokens.
///
/// Text: `user_id`, `tenant_id`, `client_id` (`(none)`), `status`, `roles` (`ROLE at SCOPE`,
/// comma-separated), `products`, `session_expiration_seconds`. JSON: the same, `client_id`
/// null when empty.
pub struct Claims(pub pb::UserClaims);

impl View for Claims {
    fn text(&self) -> Vec<String> {
        let c = &self.0;
        let roles: Vec<String> = c.roles.iter().map(assignment_text).collect();
        super::lines(&[
            ("user_id", c.user_id.clone()),
            ("tenant_id", c.tenant_id.clone()),
            ("client_id", reference(&c.client_id)),
            ("status", label::<pb::UserStatus>(c.status)),
            ("roles", list_text(&roles)),
            ("products", list_text(&c.products)),
            (
                "session_expiration_seconds",
                c.session_expiration_seconds.to_string(),
            ),
        ])
    }

    fn json(&self) -> Value {
        let c = &self.0;
        json!({
            "tenant_id": c.tenant_id,
            "user_id": c.user_id,
            "client_id": nonempty(&c.client_id),
            "roles": c.roles.iter().map(assignment_json).collect::<Vec<_>>(),
            "products": c.products,
            "session_expiration_seconds": c.session_expiration_seconds,
            "status": label::<pb::UserStatus>(c.status),
        })
    }

    /// The user's id.
    fn ids(&self) -> Vec<String> {
        vec![self.0.user_id.clone()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::entityctl::{
        args::Output,
        render::{One, Written, printed},
    };

    #[test]
    fn invite_answers_show_the_token_once() {
        let answer = pb::UserResponse {
            user: Some(pb::User {
                id: "u1".into(),
                email: "ann@example.com".into(),
                status: pb::UserStatus::Invited as i32,
                invitation: Some(pb::Invitation {
                    state: pb::InvitationState::Pending as i32,
                    ..Default::default()
                }),
                roles: vec![pb::RoleAssignment {
                    role: "org-admin".into(),
                    scope: Some(pb::Scope {
                        kind: pb::ScopeKind::Organization as i32,
                        id: "o1".into(),
                    }),
                }],
                ..Default::default()
            }),
            result: None,
            invitation_token: "inv1.a.b".into(),
        };
        let text = printed(&Written::new("invited", answer.clone()), Output::Text);
        assert!(
            text.starts_with("invited user u1\ninvitation_token: inv1.a.b\n"),
            "{text}"
        );
        assert!(text.contains("\nstatus: invited\n"));
        assert!(text.contains("\ninvitation: pending\n"));
        assert!(text.contains("\nroles: org-admin at org:o1\n"));
        let json = Written::new("invited", answer).json();
        assert_eq!(json["invitation_token"], "inv1.a.b");
        assert_eq!(json["user"]["roles"][0]["scope"]["kind"], "organization");
    }

    #[test]
    fn claims_show_roles_and_session_expiration() {
        let claims = Claims(pb::UserClaims {
            tenant_id: "t1".into(),
            user_id: "u1".into(),
            roles: vec![pb::RoleAssignment {
                role: "viewer".into(),
                scope: Some(pb::Scope {
                    kind: pb::ScopeKind::Tenant as i32,
                    id: String::new(),
                }),
            }],
            products: vec!["crm".into()],
            session_expiration_seconds: 28_800,
            status: pb::UserStatus::Active as i32,
            ..Default::default()
        });
        assert_eq!(
            printed(&claims, Output::Text),
            "user_id: u1\ntenant_id: t1\nclient_id: (none)\nstatus: active\n\
             roles: viewer at tenant\nproducts: crm\nsession_expiration_seconds: 28800"
        );
        assert_eq!(
            claims.json(),
            json!({
                "tenant_id": "t1",
                "user_id": "u1",
                "client_id": null,
                "roles": [{"role": "viewer", "scope": {"kind": "tenant", "id": null}}],
                "products": ["crm"],
                "session_expiration_seconds": 28_800,
                "status": "active",
            })
        );
        assert_eq!(printed(&claims, Output::Id), "u1");
    }

    #[test]
    fn erased_users_show_as_erased() {
        let user = pb::User {
            id: "u1".into(),
            status: pb::UserStatus::Erased as i32,
            ..Default::default()
        };
        let text = printed(&One(user.clone()), Output::Text);
        assert!(text.contains("\nemail: (erased)\n"), "{text}");
        assert!(text.contains("\ndisplay_name: (erased)\n"), "{text}");
        assert!(text.contains("\nstatus: erased\n"), "{text}");
        assert!(!text.contains("invitation"), "{text}");
        assert_eq!(user.row(), "u1  erased       (erased)  ");
        let json = One(user).json();
        assert_eq!(json["status"], "erased");
        assert_eq!(json["email"], "");
        assert_eq!(json["display_name"], "");
    }

    #[test]
    fn users_show_their_client_when_they_have_one() {
        let user = pb::User {
            id: "u1".into(),
            client_id: "c1".into(),
            status: pb::UserStatus::Active as i32,
            ..Default::default()
        };
        let text = printed(&One(user.clone()), Output::Text);
        assert!(
            text.contains(
                "
status: active
client_id: c1
organizations: "
            ),
            "{text}"
        );
        assert_eq!(One(user.clone()).json()["client_id"], "c1");
        let none = pb::User {
            client_id: String::new(),
            ..user
        };
        assert!(!printed(&One(none.clone()), Output::Text).contains("client_id"));
        assert_eq!(One(none).json()["client_id"], Value::Null);
    }
}
