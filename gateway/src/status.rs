//! THE one place where engine and domain errors become `tonic::Status`, with `google.rpc`
//! details (`ErrorInfo` with a stable reason, `BadRequest`, `ResourceInfo`, `RetryInfo`).
//!
//! | error | code | reason |
//! |---|---|---|
//! | `DomainError::Invalid`, gateway-side violations | INVALID_ARGUMENT | `INVALID_ARGUMENT` |
//! | `NotFound` (tenant, organization, team, user, role, invitation) | NOT_FOUND | `NOT_FOUND` |
//! | `AlreadyExists` | ALREADY_EXISTS | `ALREADY_EXISTS` |
//! | cycle, depth, plan limit (`organizations`, `teams`, `invitations_per_month`), suspended, deactivated, deleted | FAILED_PRECONDITION | `err.reason()` |
//! | invalid state (`INVITATION_EXPIRED`, `INVITATION_REVOKED`, `INVITATION_NOT_PENDING`, `INVITATION_ALREADY_ACCEPTED`, `USER_NOT_ACTIVE`, `USER_NOT_ELIGIBLE`, `USER_ERASED`, `HAS_CHILDREN`, …) | FAILED_PRECONDITION | the domain's reason |
//! | `VersionMismatch` | ABORTED | `VERSION_MISMATCH` |
//! | `RequestIdReused` | INVALID_ARGUMENT | `REQUEST_ID_REUSED` |
//! | `PermissionDenied` (a command's permission requirement, checked by the tenant's actor) | PERMISSION_DENIED | `PERMISSION_DENIED` (metadata `permission`, `scope`) |
//! | `GrantExceedsCaller` (a role, or a role's permissions, beyond what the caller holds where it is given) | PERMISSION_DENIED | `GRANT_EXCEEDS_CALLER` (metadata `granted`, `permission`, `scope`) |
//! | `Overloaded` | RESOURCE_EXHAUSTED (+ RetryInfo) | `OVERLOADED` |
//! | `Unavailable`, journal unavailable | UNAVAILABLE (+ RetryInfo) | `UNAVAILABLE` |
//! | read model behind the consistency token after the wait, or down ([`from_read_error`]) | UNAVAILABLE (+ RetryInfo; the lag in the message) | `UNAVAILABLE` |
//! | page token of another query | INVALID_ARGUMENT (`page_token` violation) | `INVALID_ARGUMENT` |
//! | unknown anchor organization of a list, unknown projection | NOT_FOUND | `NOT_FOUND` |
//! | anything else | INTERNAL (detail only in the log) | `INTERNAL` |
//!
//! The auth seam's refusals (UNAUTHENTICATED, PERMISSION_DENIED with `TENANT_MISMATCH`) are
//! built with [`refusal`], a missing permission with [`permission_denied`] (found by the auth
//! seam or by the tenant's actor, the caller sees the same status: [`from_rpc_error`]); an
//! invitation token that is not ours at all gets the same answer as an unknown invitation
//! ([`invitation_not_found`]).

use std::{collections::HashMap, time::Duration};

use engine::{
    EngineError,
    domain::{DomainError, FieldViolation, ResourceKind, Scope},
    journal::JournalError,
};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::convert::plan_name;

/// `google.rpc.ErrorInfo.domain` of every error this service returns (the codec's refusals
/// of requests that break the text rules included).
pub use entity_proto::ERROR_DOMAIN;

/// How long clients are asked to wait before retrying an overloaded or unavailable node.
const RETRY_DELAY: Duration = Duration::from_secs(1);

/// INVALID_ARGUMENT carrying every violation as a `BadRequest` field violation.
pub fn invalid_argument(violations: &[FieldViolation]) -> Status {
    let message = violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ");
    let mut details = error_info("INVALID_ARGUMENT", []);
    for v in violations {
        details.add_bad_request_violation(v.field.clone(), v.description.clone());
    }
    Status::with_error_details(
        Code::InvalidArgument,
        format!("invalid argument: {message}"),
        details,
    )
}

/// NOT_FOUND for an invitation token the gateway cannot even read: the same answer as for an
/// unknown, outdated or wrong token, and nothing more (no id, no hint at the format).
pub fn invitation_not_found() -> Status {
    let resource = ResourceKind::Invitation.as_str();
    let mut details = error_info("NOT_FOUND", [("resource", resource.to_owned())]);
    details.set_resource_info(resource, "", "", "not found");
    Status::with_error_details(Code::NotFound, "invitation not found", details)
}

/// A refusal that is not an engine error (authentication, authorization), with its
/// `ErrorInfo` reason.
pub fn refusal(code: Code, reason: &str, message: impl Into<String>) -> Status {
    Status::with_error_details(code, message, error_info(reason, []))
}

/// PERMISSION_DENIED: `rpc` needs `permission` at `scope` (`-` when there is none to name),
/// with both in the `ErrorInfo` metadata.
pub fn permission_denied(rpc: &str, permission: &str, scope: Option<Scope>) -> Status {
    let scope_text = scope.map_or_else(|| "-".to_owned(), |s| describe_scope(&s));
    Status::with_error_details(
        Code::PermissionDenied,
        format!("{rpc} needs {permission} at {scope_text}"),
        error_info(
            "PERMISSION_DENIED",
            [("permission", permission.to_owned()), ("scope", scope_text)],
        ),
    )
}

/// PERMISSION_DENIED `GRANT_EXCEEDS_CALLER`: `rpc` would give `granted` (a role, or a role's
/// permissions), which includes `permission` at `scope`, and the caller does not hold that there.
pub fn grant_exceeds_caller(rpc: &str, granted: &str, permission: &str, scope: Scope) -> Status {
    let scope_text = describe_scope(&scope);
    Status::with_error_details(
        Code::PermissionDenied,
        format!(
            "{rpc}: {granted} grants {permission} at {scope_text}, which the caller does not \
             hold there (no caller gives more than it holds)"
        ),
        error_info(
            "GRANT_EXCEEDS_CALLER",
            [
                ("granted", granted.to_owned()),
                ("permission", permission.to_owned()),
                ("scope", scope_text),
            ],
        ),
    )
}

/// `tenant`, `organization/<id>` or `team/<id>`.
fn describe_scope(scope: &Scope) -> String {
    match scope {
        Scope::Tenant => "tenant".to_owned(),
        Scope::Organization(id) => format!("organization/{id}"),
        Scope::Team(id) => format!("team/{id}"),
    }
}

/// UNAUTHENTICATED for an API key that opens nothing, reason `API_KEY_<why>` (`API_KEY_REVOKED`,
/// `API_KEY_EXPIRED`, `API_KEY_TENANT_NOT_ACTIVE`, …; `API_KEY_UNKNOWN` says nothing more).
pub fn key_refused(why: engine::domain::KeyRefusal) -> Status {
    refusal(
        Code::Unauthenticated,
        &format!("API_KEY_{}", why.as_str()),
        format!(
            "the API key is not valid ({})",
            why.as_str().to_ascii_lowercase().replace('_', " ")
        ),
    )
}

/// Maps an engine error of a call of `rpc` (the method name) to the status the client sees:
/// as [`from_engine_error`], and a refused permission requirement names `rpc`, exactly as the
/// auth seam's own refusal would.
pub fn from_rpc_error(rpc: &str, err: EngineError, field_prefix: &str) -> Status {
    match err {
        EngineError::PermissionDenied { permission, scope } => {
            permission_denied(rpc, permission.as_str(), Some(scope))
        }
        EngineError::GrantExceedsCaller {
            granted,
            permission,
            scope,
        } => grant_exceeds_caller(rpc, &granted, permission.as_str(), scope),
        other => from_engine_error(other, field_prefix),
    }
}

/// Maps an engine error to the status the client sees.
///
/// `field_prefix` is prepended to the domain's field names so that violations name the
/// request's field paths (e.g. `tenant.` for UpdateTenant); pass `""` when they already match.
pub fn from_engine_error(err: EngineError, field_prefix: &str) -> Status {
    match err {
        EngineError::Domain(e) => from_domain_error(e, field_prefix),
        EngineError::KeyRefused(refusal) => key_refused(refusal),
        EngineError::VersionMismatch { expected, actual } => Status::with_error_details(
            Code::Aborted,
            format!("expected version {expected}, entity is at version {actual}"),
            error_info(
                "VERSION_MISMATCH",
                [
                    ("expected", expected.to_string()),
                    ("actual", actual.to_string()),
                ],
            ),
        ),
        EngineError::RequestIdReused { request_id } => {
            let mut details = error_info("REQUEST_ID_REUSED", []);
            details.add_bad_request_violation(
                "options.request_id",
                "already used for a different request",
            );
            Status::with_error_details(
                Code::InvalidArgument,
                format!("request_id {request_id:?} was already used for a different request"),
                details,
            )
        }
        EngineError::PermissionDenied { permission, scope } => {
            permission_denied("the call", permission.as_str(), Some(scope))
        }
        EngineError::GrantExceedsCaller {
            granted,
            permission,
            scope,
        } => grant_exceeds_caller("the call", &granted, permission.as_str(), scope),
        EngineError::Overloaded(detail) => {
            tracing::warn!(%detail, "request refused: overloaded");
            retryable(
                Code::ResourceExhausted,
                "OVERLOADED",
                "node overloaded; retry later",
            )
        }
        EngineError::NotLive => retryable(
            Code::Unavailable,
            "UNAVAILABLE",
            "service unavailable; retry later",
        ),
        EngineError::Unavailable(detail)
        | EngineError::Journal(JournalError::Unavailable(detail)) => {
            tracing::warn!(%detail, "request refused: unavailable");
            retryable(
                Code::Unavailable,
                "UNAVAILABLE",
                "service unavailable; retry later",
            )
        }
        other @ (EngineError::Journal(_) | EngineError::Internal(_)) => {
            tracing::error!(error = %other, "internal error while serving a request");
            Status::with_error_details(Code::Internal, "internal error", error_info("INTERNAL", []))
        }
    }
}

/// Maps a read-model (List, audit, projection admin) error to the status the client sees.
///
/// A consistency token not reached in time is UNAVAILABLE with the projection's lag in the
/// message and a retry delay; page tokens of another query are INVALID_ARGUMENT on
/// `page_token`.
pub fn from_read_error(err: projections::Error) -> Status {
    use projections::Error as E;
    match err {
        E::Unavailable(detail) => {
            tracing::warn!(%detail, "read refused: read model unavailable");
            retryable(Code::Unavailable, "UNAVAILABLE", &detail)
        }
        E::InvalidPageToken(detail) => invalid_argument(&[FieldViolation::new(
            "page_token",
            format!("not a page token of this query ({detail})"),
        )]),
        E::InvalidArgument(detail) => Status::with_error_details(
            Code::InvalidArgument,
            format!("invalid argument: {detail}"),
            error_info("INVALID_ARGUMENT", []),
        ),
        E::NotFound { resource, id } => {
            let mut details = error_info(
                "NOT_FOUND",
                [("resource", resource.to_owned()), ("id", id.clone())],
            );
            details.set_resource_info(resource, id.clone(), "", "not found");
            Status::with_error_details(
                Code::NotFound,
                format!("{resource} {id} not found"),
                details,
            )
        }
        E::UnknownProjection(name) => {
            let mut details = error_info(
                "NOT_FOUND",
                [("resource", "projection".to_owned()), ("id", name.clone())],
            );
            details.set_resource_info("projection", name.clone(), "", "not found");
            Status::with_error_details(
                Code::NotFound,
                format!("no projection named {name:?} runs on this node"),
                details,
            )
        }
        E::Journal(e) => from_engine_error(EngineError::Journal(e), ""),
        E::Stopped => retryable(
            Code::Unavailable,
            "UNAVAILABLE",
            "node shutting down; retry",
        ),
        other => {
            tracing::error!(error = %other, "internal error while reading a read model");
            Status::with_error_details(Code::Internal, "internal error", error_info("INTERNAL", []))
        }
    }
}

/// Maps a domain refusal to the status the client sees (see [`from_engine_error`]).
pub fn from_domain_error(err: DomainError, field_prefix: &str) -> Status {
    let reason = err.reason();
    match err {
        DomainError::Invalid(violations) => {
            let prefixed: Vec<FieldViolation> = violations
                .into_iter()
                .map(|v| FieldViolation::new(format!("{field_prefix}{}", v.field), v.description))
                .collect();
            invalid_argument(&prefixed)
        }
        DomainError::NotFound { resource, ref id } => {
            let mut details = error_info(
                reason,
                [
                    ("resource", resource.as_str().to_owned()),
                    ("id", id.clone()),
                ],
            );
            details.set_resource_info(resource.as_str(), id.clone(), "", "not found");
            Status::with_error_details(Code::NotFound, err.to_string(), details)
        }
        DomainError::AlreadyExists {
            resource,
            field,
            ref value,
        } => {
            let mut details = error_info(
                reason,
                [
                    ("resource", resource.as_str().to_owned()),
                    ("field", field.to_owned()),
                    ("value", value.clone()),
                ],
            );
            details.set_resource_info(resource.as_str(), value.clone(), "", "already exists");
            Status::with_error_details(Code::AlreadyExists, err.to_string(), details)
        }
        DomainError::HierarchyCycle {
            ref organization,
            ref new_parent,
        } => {
            let metadata = [
                ("organization", organization.clone()),
                ("new_parent", new_parent.clone()),
            ];
            failed_precondition(&err, metadata)
        }
        DomainError::HierarchyTooDeep { depth, max } => failed_precondition(
            &err,
            [("depth", depth.to_string()), ("max", max.to_string())],
        ),
        DomainError::PlanLimitExceeded {
            limit,
            plan,
            allowed,
        } => failed_precondition(
            &err,
            [
                ("limit", limit.to_owned()),
                ("plan", plan_name(plan).to_owned()),
                ("allowed", allowed.to_string()),
            ],
        ),
        DomainError::TenantSuspended
        | DomainError::TenantDeactivated
        | DomainError::TenantDeleted
        | DomainError::InvalidState { .. } => failed_precondition(&err, []),
    }
}

fn failed_precondition<const N: usize>(
    err: &DomainError,
    metadata: [(&'static str, String); N],
) -> Status {
    Status::with_error_details(
        Code::FailedPrecondition,
        err.to_string(),
        error_info(err.reason(), metadata),
    )
}

/// UNAVAILABLE with a retry delay (a shard moving, a peer out of reach).
pub fn unavailable(message: &str) -> Status {
    retryable(Code::Unavailable, "UNAVAILABLE", message)
}

/// A refusal the caller should retry after [`RETRY_DELAY`].
pub fn retryable(code: Code, reason: &str, message: &str) -> Status {
    let mut details = error_info(reason, []);
    details.set_retry_info(Some(RETRY_DELAY));
    Status::with_error_details(code, message, details)
}

fn error_info<const N: usize>(reason: &str, metadata: [(&'static str, String); N]) -> ErrorDetails {
    let metadata: HashMap<String, String> = metadata
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    ErrorDetails::with_error_info(reason, ERROR_DOMAIN, metadata)
}

#[cfg(test)]
mod tests {
    use engine::domain::Plan;

    use super::*;

    fn reason(s: &Status) -> String {
        s.get_details_error_info().unwrap().reason
    }

    fn fields(s: &Status) -> Vec<String> {
        s.get_details_bad_request()
            .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
            .unwrap_or_default()
    }

    #[test]
    fn invalid_gets_field_violations_with_prefix() {
        let s = from_engine_error(
            DomainError::Invalid(vec![
                FieldViolation::new("name", "must not be empty"),
                FieldViolation::new("settings.session_expiration_seconds", "must be positive"),
            ])
            .into(),
            "tenant.",
        );
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(reason(&s), "INVALID_ARGUMENT");
        assert_eq!(
            fields(&s),
            ["tenant.name", "tenant.settings.session_expiration_seconds"]
        );
        assert_eq!(s.get_details_error_info().unwrap().domain, ERROR_DOMAIN);
    }

    #[test]
    fn not_found_has_resource_info() {
        let s = from_domain_error(
            DomainError::NotFound {
                resource: ResourceKind::Organization,
                id: "x".into(),
            },
            "",
        );
        assert_eq!(s.code(), Code::NotFound);
        let info = s.get_details_error_info().unwrap();
        assert_eq!(info.reason, "NOT_FOUND");
        assert_eq!(info.metadata["resource"], "organization");
        assert_eq!(info.metadata["id"], "x");
        assert_eq!(
            s.get_details_resource_info().unwrap().resource_type,
            "organization"
        );
    }

    #[test]
    fn every_resource_kind_is_named() {
        for (resource, name) in [
            (ResourceKind::Team, "team"),
            (ResourceKind::User, "user"),
            (ResourceKind::Role, "role"),
            (ResourceKind::Invitation, "invitation"),
        ] {
            let s = from_domain_error(
                DomainError::NotFound {
                    resource,
                    id: "x".into(),
                },
                "",
            );
            assert_eq!(s.code(), Code::NotFound);
            assert_eq!(
                s.get_details_error_info().unwrap().metadata["resource"],
                name
            );
        }
    }

    #[test]
    fn unreadable_invitation_tokens_reveal_nothing() {
        let s = invitation_not_found();
        assert_eq!(s.code(), Code::NotFound);
        let info = s.get_details_error_info().unwrap();
        assert_eq!(info.reason, "NOT_FOUND");
        assert_eq!(info.metadata["resource"], "invitation");
        assert!(!info.metadata.contains_key("id"));
    }

    #[test]
    fn already_exists() {
        let s = from_domain_error(
            DomainError::AlreadyExists {
                resource: ResourceKind::Tenant,
                field: "slug",
                value: "acme".into(),
            },
            "",
        );
        assert_eq!(s.code(), Code::AlreadyExists);
        assert_eq!(reason(&s), "ALREADY_EXISTS");
    }

    #[test]
    fn preconditions_carry_their_reason() {
        let cases = [
            (
                DomainError::HierarchyCycle {
                    organization: "a".into(),
                    new_parent: "b".into(),
                },
                "HIERARCHY_CYCLE",
            ),
            (
                DomainError::HierarchyTooDeep { depth: 6, max: 5 },
                "HIERARCHY_TOO_DEEP",
            ),
            (DomainError::TenantSuspended, "TENANT_SUSPENDED"),
            (DomainError::TenantDeactivated, "TENANT_DEACTIVATED"),
            (DomainError::TenantDeleted, "TENANT_DELETED"),
            (
                DomainError::InvalidState {
                    reason: "HAS_CHILDREN",
                    message: "has children".into(),
                },
                "HAS_CHILDREN",
            ),
        ];
        let cases = cases.into_iter().chain(
            [
                "INVITATION_EXPIRED",
                "INVITATION_REVOKED",
                "INVITATION_NOT_PENDING",
                "INVITATION_ALREADY_ACCEPTED",
                "USER_NOT_ACTIVE",
                "USER_NOT_ELIGIBLE",
                "USER_ERASED",
            ]
            .map(|reason| {
                (
                    DomainError::InvalidState {
                        reason,
                        message: reason.to_lowercase(),
                    },
                    reason,
                )
            }),
        );
        for (err, expected) in cases {
            let s = from_domain_error(err, "");
            assert_eq!(s.code(), Code::FailedPrecondition, "{expected}");
            assert_eq!(reason(&s), expected);
        }
    }

    #[test]
    fn team_and_invitation_limits_are_named() {
        for (limit, plan, allowed) in [
            ("teams", Plan::Bronze, "0"),
            ("invitations_per_month", Plan::Silver, "100"),
        ] {
            let s = from_domain_error(
                DomainError::PlanLimitExceeded {
                    limit,
                    plan,
                    allowed: allowed.parse().unwrap(),
                },
                "",
            );
            assert_eq!(s.code(), Code::FailedPrecondition);
            let info = s.get_details_error_info().unwrap();
            assert_eq!(info.reason, "PLAN_LIMIT_EXCEEDED");
            assert_eq!(info.metadata["limit"], limit);
            assert_eq!(info.metadata["allowed"], allowed);
        }
    }

    #[test]
    fn plan_limit_metadata() {
        let s = from_domain_error(
            DomainError::PlanLimitExceeded {
                limit: "organizations",
                plan: Plan::Bronze,
                allowed: 1,
            },
            "",
        );
        assert_eq!(s.code(), Code::FailedPrecondition);
        let info = s.get_details_error_info().unwrap();
        assert_eq!(info.reason, "PLAN_LIMIT_EXCEEDED");
        assert_eq!(info.metadata["limit"], "organizations");
        assert_eq!(info.metadata["plan"], "bronze");
        assert_eq!(info.metadata["allowed"], "1");
    }

    #[test]
    fn version_mismatch_is_aborted() {
        let s = from_engine_error(
            EngineError::VersionMismatch {
                expected: 3,
                actual: 4,
            },
            "",
        );
        assert_eq!(s.code(), Code::Aborted);
        let info = s.get_details_error_info().unwrap();
        assert_eq!(info.reason, "VERSION_MISMATCH");
        assert_eq!(info.metadata["expected"], "3");
        assert_eq!(info.metadata["actual"], "4");
    }

    #[test]
    fn request_id_reused() {
        let s = from_engine_error(
            EngineError::RequestIdReused {
                request_id: "r".into(),
            },
            "",
        );
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(reason(&s), "REQUEST_ID_REUSED");
        assert_eq!(fields(&s), ["options.request_id"]);
    }

    #[test]
    fn overload_and_unavailability_are_retryable() {
        let s = from_engine_error(EngineError::Overloaded("shard 3".into()), "");
        assert_eq!(s.code(), Code::ResourceExhausted);
        assert!(s.get_details_retry_info().is_some());
        let s = from_engine_error(EngineError::Unavailable("stopping".into()), "");
        assert_eq!(s.code(), Code::Unavailable);
        assert!(s.get_details_retry_info().is_some());
        let s = from_engine_error(JournalError::Unavailable("refused".into()).into(), "");
        assert_eq!(s.code(), Code::Unavailable);
        assert!(s.get_details_retry_info().is_some());
    }

    #[test]
    fn internal_errors_do_not_leak() {
        for err in [
            EngineError::Internal("secret detail".into()),
            JournalError::Database("password=hunter2".into()).into(),
            JournalError::Corrupt("row 7".into()).into(),
        ] {
            let s = from_engine_error(err, "");
            assert_eq!(s.code(), Code::Internal);
            assert_eq!(s.message(), "internal error");
        }
    }
}
