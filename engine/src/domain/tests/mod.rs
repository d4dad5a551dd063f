//! Given/when/then tests of the tenant scope, one file per behaviour, plus properties.

mod support;

mod organization_create;
mod organization_delete;
mod organization_move;
mod organization_update;
mod properties;
mod snapshot;
mod tenant_apply;
mod tenant_create;
mod tenant_gates;
mod tenant_lifecycle;
mod tenant_update;
mod validation_rules;
