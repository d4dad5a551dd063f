//! Roles, permissions and scopes: the vocabulary of "may user U do P here?".
//!
//! - A permission is `resource:action` (`organization:create`). Other platform services use
//!   their own resources (`invoice:approve`), so any well-formed permission can be checked.
//! - A role grants permission *patterns*: an exact permission, `resource:*` or `*`, minus
//!   `except` patterns (built-in `tenant-admin` is `*` except `billing:*` and `tenant:delete`).
//! - An assignment gives a user a role at a [`Scope`]: the tenant (everywhere), an organization
//!   (it, its descendants and their teams) or a team (that team only).

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use super::ids::{OrganizationId, TeamId};

/// Where an assignment applies, and where a check is asked about.
///
/// Serialized as `{"kind": "tenant"}`, `{"kind": "organization", "id": …}` or
/// `{"kind": "team", "id": …}` in human-readable formats (event payloads); binary formats
/// (bincode snapshots), which cannot decode that adjacently tagged form, get a plain enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// The whole tenant.
    Tenant,
    /// An organization, its descendants and the teams in them.
    Organization(OrganizationId),
    /// One team.
    Team(TeamId),
}

/// The human-readable (tagged) form of [`Scope`].
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
enum TaggedScope {
    Tenant,
    Organization(OrganizationId),
    Team(TeamId),
}

/// The binary form of [`Scope`].
#[derive(Serialize, Deserialize)]
enum CompactScope {
    Tenant,
    Organization(OrganizationId),
    Team(TeamId),
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match (*self, serializer.is_human_readable()) {
            (Scope::Tenant, true) => TaggedScope::Tenant.serialize(serializer),
            (Scope::Organization(o), true) => TaggedScope::Organization(o).serialize(serializer),
            (Scope::Team(t), true) => TaggedScope::Team(t).serialize(serializer),
            (Scope::Tenant, false) => CompactScope::Tenant.serialize(serializer),
            (Scope::Organization(o), false) => CompactScope::Organization(o).serialize(serializer),
            (Scope::Team(t), false) => CompactScope::Team(t).serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(if deserializer.is_human_readable() {
            match TaggedScope::deserialize(deserializer)? {
                TaggedScope::Tenant => Scope::Tenant,
                TaggedScope::Organization(o) => Scope::Organization(o),
                TaggedScope::Team(t) => Scope::Team(t),
            }
        } else {
            match CompactScope::deserialize(deserializer)? {
                CompactScope::Tenant => Scope::Tenant,
                CompactScope::Organization(o) => Scope::Organization(o),
                CompactScope::Team(t) => Scope::Team(t),
            }
        })
    }
}

/// A permission or permission pattern, validated: `*`, `resource:*` or `resource:action`, each
/// part `[a-z][a-z0-9-]{0,62}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PermissionPattern(String);

/// Why a permission string was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "must be `resource:action`, `resource:*` or `*` with parts of [a-z0-9-] starting with a letter"
)]
pub struct PermissionSyntaxError;

impl PermissionPattern {
    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this pattern is one concrete permission (no wildcard).
    pub fn is_exact(&self) -> bool {
        !self.0.contains('*')
    }

    /// Whether the pattern covers the concrete permission `permission`.
    pub fn matches(&self, permission: &PermissionPattern) -> bool {
        if self.0 == "*" {
            return true;
        }
        match self.0.strip_suffix(":*") {
            Some(resource) => permission
                .0
                .split_once(':')
                .is_some_and(|(r, _)| r == resource),
            None => self.0 == permission.0,
        }
    }
}

impl PermissionPattern {
    /// Whether every permission this pattern covers is covered by `self` (`*` contains
    /// everything, `user:*` contains `user:*` and every `user:…`).
    pub fn contains(&self, other: &PermissionPattern) -> bool {
        if self.0 == "*" {
            return true;
        }
        match self.0.strip_suffix(":*") {
            Some(resource) => other.0.split_once(':').is_some_and(|(r, _)| r == resource),
            None => self.0 == other.0,
        }
    }

    /// Whether some permission is covered by both patterns.
    pub fn overlaps(&self, other: &PermissionPattern) -> bool {
        self.contains(other) || other.contains(self)
    }
}

fn valid_part(part: &str) -> bool {
    let mut chars = part.chars();
    matches!(chars.next(), Some('a'..='z'))
        && part.len() <= 63
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-'))
}

impl FromStr for PermissionPattern {
    type Err = PermissionSyntaxError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "*" {
            return Ok(Self(s.to_owned()));
        }
        let (resource, action) = s.split_once(':').ok_or(PermissionSyntaxError)?;
        if valid_part(resource) && (action == "*" || valid_part(action)) {
            Ok(Self(s.to_owned()))
        } else {
            Err(PermissionSyntaxError)
        }
    }
}

impl TryFrom<String> for PermissionPattern {
    type Error = PermissionSyntaxError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<PermissionPattern> for String {
    fn from(p: PermissionPattern) -> Self {
        p.0
    }
}

impl fmt::Display for PermissionPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a role grants: patterns minus exceptions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    /// Granted patterns.
    pub allow: Vec<PermissionPattern>,
    /// Patterns taken back out of `allow`.
    pub except: Vec<PermissionPattern>,
}

impl Grants {
    /// Whether these grants cover the concrete permission.
    pub fn covers(&self, permission: &PermissionPattern) -> bool {
        self.allow.iter().any(|p| p.matches(permission))
            && !self.except.iter().any(|p| p.matches(permission))
    }
}

impl Grants {
    /// Whether `other` grants nothing these grants do not: each of its patterns is within one
    /// of ours, and each of our exceptions that touches it is also an exception of `other`.
    /// (What an issuer must hold to give a key `other`.)
    pub fn includes(&self, other: &Grants) -> bool {
        other.first_outside(std::slice::from_ref(self)).is_none()
    }

    /// The first of these grants' patterns that is within none of `held` (each pattern must
    /// be within one of them, as [`Grants::includes_pattern`] says), or `None` when all are:
    /// what a holder of `held` lacks to give these grants away.
    pub fn first_outside(&self, held: &[Grants]) -> Option<&PermissionPattern> {
        self.allow
            .iter()
            .find(|p| !held.iter().any(|g| g.includes_pattern(p, &self.except)))
    }

    /// Whether the permissions of `pattern`, minus `except`, are all granted here.
    pub fn includes_pattern(
        &self,
        pattern: &PermissionPattern,
        except: &[PermissionPattern],
    ) -> bool {
        self.allow.iter().any(|a| a.contains(pattern))
            && self
                .except
                .iter()
                .filter(|e| e.overlaps(pattern))
                .all(|e| except.iter().any(|x| x.contains(e)))
    }
}

/// The roles every tenant has; they cannot be changed or deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BuiltinRole {
    /// Everything.
    TenantOwner,
    /// Everything but `billing:*` and `tenant:delete`.
    TenantAdmin,
    /// Manages organizations, teams and users within its organization subtree.
    OrgAdmin,
    /// Reads its team.
    TeamMember,
    /// A regular member: reads the directory, views analytics.
    Member,
    /// Views analytics.
    Viewer,
    /// Creates, edits and views clients (seed 001's ClientEditor).
    ClientEditor,
    /// Views clients (seed 001's ClientViewer).
    ClientViewer,
}

impl BuiltinRole {
    /// Every built-in role.
    pub const ALL: [BuiltinRole; 8] = [
        BuiltinRole::TenantOwner,
        BuiltinRole::TenantAdmin,
        BuiltinRole::OrgAdmin,
        BuiltinRole::TeamMember,
        BuiltinRole::Member,
        BuiltinRole::Viewer,
        BuiltinRole::ClientEditor,
        BuiltinRole::ClientViewer,
    ];

    /// The role's name (`tenant-owner`, …).
    pub fn name(self) -> &'static str {
        match self {
            BuiltinRole::TenantOwner => "tenant-owner",
            BuiltinRole::TenantAdmin => "tenant-admin",
            BuiltinRole::OrgAdmin => "org-admin",
            BuiltinRole::TeamMember => "team-member",
            BuiltinRole::Member => "member",
            BuiltinRole::Viewer => "viewer",
            BuiltinRole::ClientEditor => "client-editor",
            BuiltinRole::ClientViewer => "client-viewer",
        }
    }

    /// The built-in role of that name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    /// What the role grants (an owned copy of [`BuiltinRole::static_grants`]).
    pub fn grants(self) -> Grants {
        self.static_grants().clone()
    }

    /// What the role grants, built once per process: permission checks run on every request of
    /// every platform service, so they must not allocate.
    pub fn static_grants(self) -> &'static Grants {
        static GRANTS: std::sync::OnceLock<[Grants; 8]> = std::sync::OnceLock::new();
        let all = GRANTS.get_or_init(|| BuiltinRole::ALL.map(BuiltinRole::build_grants));
        &all[self as usize]
    }

    fn build_grants(self) -> Grants {
        let patterns = |list: &[&str]| -> Vec<PermissionPattern> {
            list.iter()
                .map(|p| PermissionPattern((*p).to_owned()))
                .collect()
        };
        match self {
            BuiltinRole::TenantOwner => Grants {
                allow: patterns(&["*"]),
                except: vec![],
            },
            BuiltinRole::TenantAdmin => Grants {
                allow: patterns(&["*"]),
                except: patterns(&["billing:*", "tenant:delete"]),
            },
            BuiltinRole::OrgAdmin => Grants {
                allow: patterns(&[
                    "organization:*",
                    "team:*",
                    "user:read",
                    "user:invite",
                    "user:update",
                    "user:deactivate",
                    "role:read",
                    "role:assign",
                    "analytics:view",
                ]),
                except: vec![],
            },
            BuiltinRole::TeamMember => Grants {
                allow: patterns(&["team:read"]),
                except: vec![],
            },
            BuiltinRole::Member => Grants {
                allow: patterns(&[
                    "organization:read",
                    "team:read",
                    "user:read",
                    "analytics:view",
                ]),
                except: vec![],
            },
            BuiltinRole::Viewer => Grants {
                allow: patterns(&["analytics:view"]),
                except: vec![],
            },
            BuiltinRole::ClientEditor => Grants {
                allow: patterns(&["client:read", "client:create", "client:update"]),
                except: vec![],
            },
            BuiltinRole::ClientViewer => Grants {
                allow: patterns(&["client:read"]),
                except: vec![],
            },
        }
    }
}

/// A user's role at a scope.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Assignment {
    /// Role name (built-in or custom).
    pub role: String,
    /// Where it applies.
    pub scope: Scope,
}

/// The answer to CheckPermission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Allowed or denied.
    pub allowed: bool,
    /// The assignment that allowed it (the first found, tenant scope first, then nearest).
    pub granted_by: Option<Assignment>,
    /// Why it was denied when the user cannot hold permissions at all (`USER_NOT_ACTIVE`), or
    /// `NO_MATCHING_ASSIGNMENT`.
    #[serde(deserialize_with = "super::static_name::read_optional")]
    pub denial_reason: Option<super::static_name::StableName>,
}

/// One line of ListEffectivePermissions: a granted pattern and where it comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectivePermission {
    /// Granted pattern (`*`, `resource:*`, `resource:action`).
    pub permission: PermissionPattern,
    /// Patterns excluded from it.
    pub except: Vec<PermissionPattern>,
    /// The assignment granting it.
    pub granted_by: Assignment,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PermissionPattern {
        s.parse().unwrap()
    }

    #[test]
    fn parses_only_well_formed_permissions() {
        for ok in [
            "*",
            "team:*",
            "organization:create",
            "invoice-v2:approve",
            "a:b",
        ] {
            assert!(ok.parse::<PermissionPattern>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            ":",
            "team",
            "team:",
            ":read",
            "Team:read",
            "team:read:x",
            "*:read",
            "9x:read",
            "team:re ad",
        ] {
            assert!(bad.parse::<PermissionPattern>().is_err(), "{bad}");
        }
    }

    #[test]
    fn patterns_match_permissions() {
        assert!(p("*").matches(&p("billing:manage")));
        assert!(p("team:*").matches(&p("team:create")));
        assert!(!p("team:*").matches(&p("teams:create")));
        assert!(p("team:read").matches(&p("team:read")));
        assert!(!p("team:read").matches(&p("team:create")));
    }

    #[test]
    fn scopes_keep_their_tagged_json_form_and_survive_bincode() {
        let org = OrganizationId(uuid::Uuid::from_u128(1));
        let team = TeamId(uuid::Uuid::from_u128(2));
        assert_eq!(
            serde_json::to_value(Scope::Tenant).ok(),
            Some(serde_json::json!({"kind": "tenant"}))
        );
        assert_eq!(
            serde_json::to_value(Scope::Organization(org)).ok(),
            Some(serde_json::json!({"kind": "organization", "id": org.to_string()}))
        );
        for scope in [Scope::Tenant, Scope::Organization(org), Scope::Team(team)] {
            let json = serde_json::to_string(&scope).unwrap();
            assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), scope);
            let config = bincode::config::standard();
            let bytes = bincode::serde::encode_to_vec(scope, config).unwrap();
            let (back, _): (Scope, usize) =
                bincode::serde::decode_from_slice(&bytes, config).unwrap();
            assert_eq!(back, scope);
        }
    }

    #[test]
    fn cached_grants_belong_to_their_role() {
        for role in BuiltinRole::ALL {
            assert_eq!(
                role.static_grants(),
                &role.build_grants(),
                "{}",
                role.name()
            );
        }
    }

    #[test]
    fn tenant_admin_has_everything_but_billing_and_tenant_deletion() {
        let admin = BuiltinRole::TenantAdmin.grants();
        assert!(admin.covers(&p("organization:create")));
        assert!(admin.covers(&p("invoice:approve")));
        assert!(!admin.covers(&p("billing:manage")));
        assert!(!admin.covers(&p("tenant:delete")));
        assert!(
            BuiltinRole::TenantOwner
                .grants()
                .covers(&p("tenant:delete"))
        );
        assert_eq!(
            BuiltinRole::from_name("org-admin"),
            Some(BuiltinRole::OrgAdmin)
        );
        assert_eq!(BuiltinRole::from_name("root"), None);
    }
}
