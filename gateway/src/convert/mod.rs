//! Proto ⇄ domain conversion and request validation.
//!
//! Every request is decoded in one pass that collects ALL gateway-side problems (malformed
//! ids, enums, masks, options, tokens) into a [`Violations`] list, answered as one
//! INVALID_ARGUMENT. What is left (names, slugs, lengths) is the domain's to judge.
//!
//! - [`tenant`]: tenant requests and the `Tenant` message.
//! - [`organization`]: organization requests and the `Organization` message.
//! - [`team`]: team requests and the `Team` message.
//! - [`user`]: user requests (invitations, memberships, role assignments) and the `User`
//!   message.
//! - [`role`]: custom-role requests and the `Role` message (built-in roles too).
//! - [`client`]: client requests and the `Client` message.
//! - [`directory`]: department, location and contact requests and messages (one generic
//!   decoder for the three kinds).
//! - [`customer`]: customer requests (tenant commands restricted to the profile) and the
//!   `Customer` message.
//! - [`access`]: scopes, role assignments, permissions, and the AccessService requests.
//! - [`reads`]: the List/search and audit requests answered from the read models.

pub mod access;
pub mod analytics;
pub mod api_key;
pub mod client;
pub mod customer;
pub mod directory;
pub mod organization;
pub mod reads;
pub mod registration;
pub mod role;
pub mod search;
pub mod team;
pub mod tenant;
pub mod user;

use std::str::FromStr;

use chrono::{DateTime, Utc};
use engine::{
    domain::{DomainError, FieldViolation, Plan, TenantId, TenantScopeCommand},
    journal::CommitToken,
};
use entity_proto::v1 as pb;
use tonic::Status;

use crate::status;

/// Longest accepted `request_id`.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// A decoded mutating request: where it goes and what it asks.
#[derive(Clone, Debug)]
pub struct Mutation {
    /// The tenant scope that decides it.
    pub tenant_id: TenantId,
    /// The command.
    pub command: TenantScopeCommand,
    /// Idempotency key (`None` when empty).
    pub request_id: Option<String>,
    /// Optimistic concurrency check.
    pub expected_version: Option<i64>,
}

/// A request's decoded `MutationOptions`: the idempotency key and the expected version.
pub type Options = (Option<String>, Option<i64>);

impl Mutation {
    /// `command` for the scope of `tenant_id`, with the request's decoded options.
    pub fn new(
        tenant_id: TenantId,
        command: impl Into<TenantScopeCommand>,
        (request_id, expected_version): Options,
    ) -> Self {
        Self {
            tenant_id,
            command: command.into(),
            request_id,
            expected_version,
        }
    }
}

/// The head of a request about one entity of a tenant: its tenant and the entity's id.
#[derive(Clone, Copy, Debug)]
pub struct Addressed<I> {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The entity.
    pub id: I,
}

/// A value decoding left unset although it recorded no violation: INTERNAL (a bug).
pub fn complete<T>(value: Option<T>) -> Result<T, Status> {
    value.ok_or_else(|| Status::internal("validation incomplete"))
}

/// Decodes a mutating request about its tenant as a whole (or creating in it): its options,
/// `tenant_id`, and whatever `rest` decodes; every violation is reported in one answer.
pub fn scoped<R>(
    options: Option<pb::MutationOptions>,
    tenant_id: &str,
    rest: impl FnOnce(&mut Violations) -> R,
) -> Result<(TenantId, Options, R), Status> {
    scoped_at(options, ("tenant_id", tenant_id), rest)
}

/// [`scoped`], with the tenant's id in the request field `field` (`customer_id`).
pub fn scoped_at<R>(
    options: Option<pb::MutationOptions>,
    (field, tenant_id): (&str, &str),
    rest: impl FnOnce(&mut Violations) -> R,
) -> Result<(TenantId, Options, R), Status> {
    let mut v = Violations::default();
    let options = v.options(options);
    let tenant_id = v.id(field, tenant_id);
    let rest = rest(&mut v);
    v.finish()?;
    Ok((complete(tenant_id)?, options, rest))
}

/// Decodes a mutating request about one entity: its options, `tenant_id`, the id in
/// `id_field`, and whatever `rest` decodes; every violation is reported in one answer.
pub fn addressed<I: FromStr, R>(
    options: Option<pb::MutationOptions>,
    tenant_id: &str,
    (id_field, id): (&str, &str),
    rest: impl FnOnce(&mut Violations) -> R,
) -> Result<(Addressed<I>, Options, R), Status> {
    let (tenant_id, options, (id, rest)) =
        scoped(options, tenant_id, |v| (v.id(id_field, id), rest(v)))?;
    let id = complete(id)?;
    Ok((Addressed { tenant_id, id }, options, rest))
}

/// A mutating request that names only its entity (delete, disable, …): `command` of that id.
pub fn by_id<I: FromStr, C: Into<TenantScopeCommand>>(
    options: Option<pb::MutationOptions>,
    tenant_id: &str,
    id: (&str, &str),
    command: impl FnOnce(I) -> C,
) -> Result<Mutation, Status> {
    let (target, options, ()) = addressed(options, tenant_id, id, |_| ())?;
    Ok(Mutation::new(target.tenant_id, command(target.id), options))
}

/// Decodes a read of a tenant's own state: the tenant and the consistency token (checked for
/// form only).
pub fn tenant_read(tenant_id: &str, consistency_token: &str) -> Result<TenantId, Status> {
    tenant_read_at(("tenant_id", tenant_id), consistency_token)
}

/// [`tenant_read`], with the tenant's id in the request field `field` (`customer_id`).
pub fn tenant_read_at(
    (field, tenant_id): (&str, &str),
    consistency_token: &str,
) -> Result<TenantId, Status> {
    let mut v = Violations::default();
    let tenant_id = v.id(field, tenant_id);
    v.consistency_token(consistency_token);
    v.finish()?;
    complete(tenant_id)
}

/// Decodes a point read (`Get…`): the tenant, the entity's id in `id_field`, and the consistency
/// token (checked for form only: point reads are strongly consistent).
pub fn point_read<I: FromStr>(
    tenant_id: &str,
    (id_field, id): (&str, &str),
    consistency_token: &str,
) -> Result<(TenantId, I), Status> {
    let mut v = Violations::default();
    let tenant_id = v.id("tenant_id", tenant_id);
    let id = v.id(id_field, id);
    v.consistency_token(consistency_token);
    v.finish()?;
    complete(tenant_id.zip(id))
}

/// Collects the field violations of one request.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// Records a violation.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Parses a required id; records a violation on `field` when empty or malformed.
    pub fn id<T: FromStr>(&mut self, field: &str, value: &str) -> Option<T> {
        if value.is_empty() {
            self.add(field, "required");
            return None;
        }
        self.optional_id(field, value).flatten()
    }

    /// Parses an optional id (empty = `Some(None)`); `None` when malformed (violation recorded).
    pub fn optional_id<T: FromStr>(&mut self, field: &str, value: &str) -> Option<Option<T>> {
        if value.is_empty() {
            return Some(None);
        }
        match value.parse() {
            Ok(id) => Some(Some(id)),
            Err(_) => {
                self.add(field, "must be a UUID");
                None
            }
        }
    }

    /// Records the field violations of a domain rule's refusal (other errors are not
    /// violations and are left for the engine to report).
    pub fn absorb<T>(&mut self, result: Result<T, DomainError>) {
        self.absorb_except(result, None);
    }

    /// [`Self::absorb`], leaving out the violations of a field already reported.
    pub fn absorb_except<T>(&mut self, result: Result<T, DomainError>, reported: Option<&str>) {
        if let Err(DomainError::Invalid(violations)) = result {
            for violation in violations {
                if reported != Some(violation.field.as_str()) {
                    self.add(violation.field, violation.description);
                }
            }
        }
    }

    /// Records `required` on `field` when `value` is empty.
    pub fn required(&mut self, field: &str, value: &str) {
        if value.is_empty() {
            self.add(field, "required");
        }
    }

    /// Decodes a read's consistency token: empty (`None`), or a token this service issued.
    ///
    /// Point reads are answered by the entity's actor and are strongly consistent already, so
    /// they ignore it; List reads wait until their read model has passed it.
    pub fn consistency_token(&mut self, value: &str) -> Option<CommitToken> {
        if value.is_empty() {
            return None;
        }
        let token = value.parse::<CommitToken>().ok();
        if token.is_none() {
            self.add("consistency_token", "malformed consistency token");
        }
        token
    }

    /// Decodes `MutationOptions`: the request id (1-128 printable ASCII; empty = none) and the
    /// expected version (not negative).
    pub fn options(
        &mut self,
        options: Option<pb::MutationOptions>,
    ) -> (Option<String>, Option<i64>) {
        let options = options.unwrap_or_default();
        let request_id = if options.request_id.is_empty() {
            None
        } else if options.request_id.len() > MAX_REQUEST_ID_LEN {
            self.add("options.request_id", "at most 128 characters");
            None
        } else if !options
            .request_id
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b))
        {
            self.add("options.request_id", "only printable ASCII characters");
            None
        } else {
            Some(options.request_id)
        };
        if let Some(v) = options.expected_version
            && v < 0
        {
            self.add("options.expected_version", "must not be negative");
        }
        (request_id, options.expected_version)
    }

    /// Decodes a `google.protobuf.FieldMask` whose paths must be among `allowed`.
    pub fn update_mask(
        &mut self,
        mask: Option<prost_types::FieldMask>,
        allowed: &[&'static str],
    ) -> Vec<&'static str> {
        let paths = mask.map(|m| m.paths).unwrap_or_default();
        if paths.is_empty() {
            self.add(
                "update_mask",
                format!("required; paths among: {}", allowed.join(", ")),
            );
            return Vec::new();
        }
        let mut selected = Vec::new();
        for path in &paths {
            match allowed.iter().find(|a| **a == path.as_str()) {
                Some(a) if !selected.contains(a) => selected.push(*a),
                Some(_) => {}
                None => self.add(
                    "update_mask",
                    format!("unknown path {path:?}; paths among: {}", allowed.join(", ")),
                ),
            }
        }
        selected
    }

    /// Decodes a timestamp; records a violation when out of range.
    pub fn timestamp(&mut self, field: &str, ts: prost_types::Timestamp) -> Option<DateTime<Utc>> {
        let nanos = u32::try_from(ts.nanos).ok().filter(|n| *n < 1_000_000_000);
        match nanos.and_then(|n| DateTime::from_timestamp(ts.seconds, n)) {
            Some(t) => Some(t),
            None => {
                self.add(field, "not a valid timestamp");
                None
            }
        }
    }

    /// `Ok` when nothing was recorded, else INVALID_ARGUMENT with every violation.
    pub fn finish(self) -> Result<(), Status> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(status::invalid_argument(&self.0))
        }
    }
}

/// Converts a domain time to a protobuf timestamp.
pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        // Always below 2e9 (leap seconds), so it fits.
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(999_999_999),
    }
}

/// Lower-case name of a plan (`bronze`, `silver`, `gold`).
pub fn plan_name(plan: Plan) -> &'static str {
    match plan {
        Plan::Bronze => "bronze",
        Plan::Silver => "silver",
        Plan::Gold => "gold",
    }
}

/// The `WriteResult` of an accepted command.
pub fn write_result(outcome: &engine::runtime::CommandOutcome) -> pb::WriteResult {
    pb::WriteResult {
        version: outcome.version,
        consistency_token: outcome.token.to_string(),
        replayed: outcome.replayed,
    }
}

/// The fields an INVALID_ARGUMENT names, in order (empty for any other status).
#[cfg(test)]
pub(crate) fn violation_fields(s: &Status) -> Vec<String> {
    use tonic_types::StatusExt;
    s.get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(v: &Violations) -> Vec<&str> {
        v.0.iter().map(|f| f.field.as_str()).collect()
    }

    #[test]
    fn request_id_rules() {
        let mut v = Violations::default();
        let opts = |id: &str| {
            Some(pb::MutationOptions {
                request_id: id.into(),
                expected_version: None,
            })
        };
        assert_eq!(v.options(opts("")).0, None);
        assert_eq!(v.options(opts("abc-1 x")).0.as_deref(), Some("abc-1 x"));
        assert_eq!(
            v.options(opts(&"a".repeat(128))).0.map(|s| s.len()),
            Some(128)
        );
        assert!(v.0.is_empty());
        v.options(opts(&"a".repeat(129)));
        v.options(opts("tab\there"));
        v.options(opts("ünïcode"));
        assert_eq!(fields(&v), ["options.request_id"; 3]);
    }

    #[test]
    fn expected_version_must_not_be_negative() {
        let mut v = Violations::default();
        v.options(Some(pb::MutationOptions {
            request_id: String::new(),
            expected_version: Some(-1),
        }));
        assert_eq!(fields(&v), ["options.expected_version"]);
        let mut v = Violations::default();
        assert_eq!(
            v.options(Some(pb::MutationOptions {
                request_id: String::new(),
                expected_version: Some(0)
            }))
            .1,
            Some(0)
        );
        assert!(v.0.is_empty());
    }

    #[test]
    fn masks() {
        let allowed = &["name", "description"];
        let mask = |p: &[&str]| {
            Some(prost_types::FieldMask {
                paths: p.iter().map(|s| s.to_string()).collect(),
            })
        };
        let mut v = Violations::default();
        assert_eq!(v.update_mask(mask(&["name", "name"]), allowed), ["name"]);
        assert!(v.0.is_empty());
        v.update_mask(None, allowed);
        v.update_mask(mask(&[]), allowed);
        v.update_mask(mask(&["nom"]), allowed);
        assert_eq!(fields(&v), ["update_mask"; 3]);
    }

    #[test]
    fn ids_and_tokens() {
        let mut v = Violations::default();
        assert!(v.id::<TenantId>("tenant_id", "").is_none());
        assert!(v.id::<TenantId>("tenant_id", "nope").is_none());
        let id = TenantId::new_v7();
        assert_eq!(v.id::<TenantId>("tenant_id", &id.to_string()), Some(id));
        assert_eq!(v.optional_id::<TenantId>("parent_id", ""), Some(None));
        v.consistency_token("");
        v.consistency_token("ct1.5.7");
        v.consistency_token("garbage");
        assert_eq!(fields(&v), ["tenant_id", "tenant_id", "consistency_token"]);
        assert!(v.finish().is_err());
        assert!(Violations::default().finish().is_ok());
    }

    #[test]
    fn timestamps_round_trip() {
        let now = Utc::now();
        let mut v = Violations::default();
        assert_eq!(v.timestamp("t", timestamp(now)), Some(now));
        assert!(
            v.timestamp(
                "t",
                prost_types::Timestamp {
                    seconds: 0,
                    nanos: -1
                }
            )
            .is_none()
        );
        assert!(
            v.timestamp(
                "t",
                prost_types::Timestamp {
                    seconds: i64::MAX,
                    nanos: 0
                }
            )
            .is_none()
        );
        assert_eq!(fields(&v), ["t", "t"]);
    }
}
