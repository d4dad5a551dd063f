//! Given/when/then tests of the tenant scope (tenants, organizations, teams, users, roles and
//! permission checks), one file per behaviour, plus properties.

mod support;

mod access_properties;
mod api_keys;
mod claims;
mod clients;
mod directory;
mod effective_permissions;
mod onboarding;
mod organization_create;
mod organization_delete;
mod organization_move;
mod organization_update;
mod permission_check;
mod plan_limits;
mod properties;
mod registration;
mod role_define;
mod role_delete;
mod role_update;
mod snapshot;
mod team_create;
mod team_members;
mod team_update;
mod tenant_apply;
mod tenant_create;
mod tenant_gates;
mod tenant_lifecycle;
mod tenant_update;
mod user_erasure;
mod user_invitation;
mod user_invite;
mod user_lifecycle;
mod user_roles;
mod validation_rules;
