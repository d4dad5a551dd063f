//! Property tests: the organization forest's invariants under random command sequences, and
//! decide's robustness on arbitrary text.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::TimeDelta;
use proptest::{collection::vec, prelude::*};

use super::support::*;
use crate::domain::classification::{SocialPlatform, SocialProfile};
use crate::domain::{
    Address, BusinessProfile, Context, CreateTenant, DomainError, MAX_DEPTH, Organization,
    OrganizationCommand, OrganizationId, OrganizationStatus, Plan, StreamId, TenantCommand,
    TenantScope, TenantScopeCommand, UpdateTenant,
};

/// Ids come from a small pool so that clashes, moves into subtrees and re-use attempts happen.
const POOL: u128 = 12;
/// Names clash case-insensitively and after trimming.
const NAMES: [&str; 7] = [
    "alpha", "Alpha", " ALPHA ", "beta", "Beta ", "gamma", "delta",
];

#[derive(Clone, Debug)]
enum Op {
    Create {
        id: u128,
        name: usize,
        parent: Option<u128>,
    },
    Update {
        id: u128,
        name: Option<usize>,
        description: Option<u8>,
    },
    Move {
        id: u128,
        parent: Option<u128>,
    },
    Delete {
        id: u128,
        cascade: bool,
    },
}

impl Op {
    fn command(&self) -> OrganizationCommand {
        match *self {
            Op::Create { id, name, parent } => OrganizationCommand::Create {
                id: org(id),
                name: NAMES[name].into(),
                description: String::new(),
                parent_id: parent.map(org),
            },
            Op::Update {
                id,
                name,
                description,
            } => OrganizationCommand::Update {
                id: org(id),
                name: name.map(|n| NAMES[n].to_owned()),
                description: description.map(|d| format!("d{d}")),
            },
            Op::Move { id, parent } => OrganizationCommand::Move {
                id: org(id),
                new_parent_id: parent.map(org),
            },
            Op::Delete { id, cascade } => OrganizationCommand::Delete {
                id: org(id),
                cascade,
            },
        }
    }
}

/// A parent for `id`: often `id - 1`, so that chains (and so depth refusals) form; else any id
/// of the pool, or none.
fn parent_of(id: u128, choice: u8, any_id: u128) -> Option<u128> {
    match choice {
        0 => None,
        1..=3 => Some(any_id),
        _ => id.checked_sub(1),
    }
}

fn op() -> impl Strategy<Value = Op> {
    let id = || 0..POOL;
    let parent = || (0u8..7, 0..POOL);
    prop_oneof![
        5 => (id(), 0..NAMES.len(), parent()).prop_map(|(id, name, (choice, p))| Op::Create {
            id,
            name,
            parent: parent_of(id, choice, p),
        }),
        2 => (id(), proptest::option::of(0..NAMES.len()), proptest::option::of(0u8..3))
            .prop_map(|(id, name, description)| Op::Update { id, name, description }),
        4 => (id(), parent()).prop_map(|(id, (choice, p))| Op::Move { id, parent: parent_of(id, choice, p) }),
        1 => (id(), any::<bool>()).prop_map(|(id, cascade)| Op::Delete { id, cascade }),
    ]
}

fn live(scope: &TenantScope) -> BTreeMap<OrganizationId, &Organization> {
    scope
        .organizations()
        .filter(|o| o.status == OrganizationStatus::Active)
        .map(|o| (o.id, o))
        .collect()
}

/// (1) forest with live parents, (2) depth ≤ 5 and `depth_of` agrees, (3) unique live sibling
/// names, plus the plan's organization count.
fn check_forest(scope: &TenantScope, plan: Plan) -> Result<(), TestCaseError> {
    let live = live(scope);
    for o in live.values() {
        prop_assert_eq!(o.tenant_id, tid());
        let mut depth = 1;
        let mut current = *o;
        while let Some(parent) = current.parent_id {
            let Some(p) = live.get(&parent) else {
                return Err(TestCaseError::fail(format!(
                    "{} has a parent that is not live",
                    current.id
                )));
            };
            depth += 1;
            prop_assert!(
                depth <= MAX_DEPTH,
                "{} deeper than {MAX_DEPTH} (or in a cycle)",
                o.id
            );
            current = p;
        }
        prop_assert_eq!(scope.depth_of(o.id), Some(depth));
        prop_assert_eq!(o.depth, depth, "stored depth of {} is stale", o.id);
    }
    let mut names = BTreeSet::new();
    for o in live.values() {
        prop_assert!(
            names.insert((o.parent_id, o.name.trim().to_lowercase())),
            "sibling name clash: {:?}",
            o.name
        );
    }
    for o in scope
        .organizations()
        .filter(|o| o.status == OrganizationStatus::Deleted)
    {
        prop_assert_eq!(scope.depth_of(o.id), None);
    }
    if let Some(max) = plan.limits().max_organizations {
        prop_assert!(live.len() as u64 <= max);
    }
    Ok(())
}

/// What an accepted command must have done.
fn check_effect(before: &TenantScope, after: &TenantScope, op: &Op) -> Result<(), TestCaseError> {
    match *op {
        Op::Create { id, parent, .. } => {
            let o = after
                .organization(org(id))
                .filter(|o| o.status == OrganizationStatus::Active);
            prop_assert_eq!(o.map(|o| o.parent_id), Some(parent.map(org)));
        }
        Op::Move { id, parent } => {
            prop_assert_eq!(
                after.organization(org(id)).and_then(|o| o.parent_id),
                parent.map(org)
            );
        }
        Op::Delete { id, .. } => {
            prop_assert_eq!(after.depth_of(org(id)), None);
            // Nothing live may still hang below it (checked by the forest), and nothing else died.
            let died = live(before).len() - live(after).len();
            prop_assert!(died >= 1);
        }
        Op::Update { .. } => prop_assert_eq!(live(before).len(), live(after).len()),
    }
    Ok(())
}

fn run(plan: Plan, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut scope = given([tenant_created(plan)]).scope;
    let mut events_per_stream: HashMap<StreamId, i64> =
        HashMap::from([(StreamId::new(crate::domain::StreamKind::Tenant, tid().0), 1)]);
    for (step, op) in ops.iter().enumerate() {
        let now = t0() + TimeDelta::seconds(step as i64);
        let before = scope.clone();
        let command = TenantScopeCommand::Organization(op.command());
        match scope.decide(&command, &Context::at(now)) {
            // (5) A refused command changes nothing.
            Err(_) => prop_assert_eq!(&scope, &before),
            Ok(events) => {
                for e in &events {
                    let stream = e.stream(tid());
                    let version = scope.version_of(stream);
                    scope.apply(e, now);
                    // (4) Each stream's version rises by exactly one per event.
                    prop_assert_eq!(scope.version_of(stream), version + 1);
                    *events_per_stream.entry(stream).or_default() += 1;
                }
                if !events.is_empty() {
                    check_effect(&before, &scope, op)?;
                }
            }
        }
        check_forest(&scope, plan)?;
    }
    for (stream, count) in events_per_stream {
        prop_assert_eq!(scope.version_of(stream), count);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn organization_forest_invariants_hold_on_gold(ops in vec(op(), 1..80)) {
        run(Plan::Gold, &ops)?;
    }

    #[test]
    fn organization_forest_invariants_hold_on_every_plan(
        plan in prop_oneof![Just(Plan::Bronze), Just(Plan::Silver), Just(Plan::Gold)],
        ops in vec(op(), 1..40),
    ) {
        run(plan, &ops)?;
    }
}

// ---- decide on arbitrary text ----

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,220}",
        "[ \t\n]{0,3}[a-zA-Z0-9_ -]{0,205}[ \t\n]{0,3}",
        "[a-z0-9-]{0,70}",
        "https?://[a-z./]{0,20}",
        Just(String::new()),
    ]
}

/// Trimmed and composed (NFC), 1 to 200 characters, each allowed on a single line.
fn name_is_valid(raw: &str) -> bool {
    let t = entity_text::normalize_name(raw);
    !t.is_empty()
        && t.chars().count() <= 200
        && t.chars()
            .all(|c| entity_text::check_char(c, entity_text::TextKind::SingleLine).is_ok())
}

fn slug_is_valid(s: &str) -> bool {
    (3..=63).contains(&s.len())
        && s.bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-'))
}

/// Only input refusals are acceptable for arbitrary text; each carries at least one violation.
fn input_outcome<T>(result: &Result<T, DomainError>) -> Result<bool, TestCaseError> {
    match result {
        Ok(_) => Ok(true),
        Err(DomainError::Invalid(v)) => {
            prop_assert!(!v.is_empty());
            Ok(false)
        }
        Err(other) => Err(TestCaseError::fail(format!("unexpected refusal {other:?}"))),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn create_tenant_accepts_exactly_the_valid_names_and_slugs(name in text(), slug in text()) {
        let c = CreateTenant { name: name.clone(), slug: slug.clone(), ..create_tenant(Plan::Gold) };
        let result = given([]).scope.decide(&TenantScopeCommand::Tenant(TenantCommand::Create(c)), &Context::at(t0()));
        let accepted = input_outcome(&result)?;
        prop_assert_eq!(accepted, name_is_valid(&name) && slug_is_valid(&slug));
    }

    #[test]
    fn decide_never_panics_on_arbitrary_text(
        a in text(), b in text(), c in text(), products in vec(text(), 0..4), socials in vec(text(), 0..3),
    ) {
        let now = Context::at(t0());
        let profile = BusinessProfile {
            legal_name: a.clone(),
            logo_url: b.clone(),
            social_profiles: socials
                .into_iter()
                .map(|url| SocialProfile { platform: Some(SocialPlatform::X), url })
                .collect(),
            address: Some(Address { country: c.clone(), city: a.clone(), ..Address::default() }),
            ..BusinessProfile::default()
        };
        let create = CreateTenant {
            name: a.clone(),
            slug: b.clone(),
            products: products.clone(),
            business_profile: Some(profile.clone()),
            ..create_tenant(Plan::Gold)
        };
        let empty = given([]).scope;
        input_outcome(&empty.decide(&TenantScopeCommand::Tenant(TenantCommand::Create(create)), &now))?;

        let scope = given([tenant_created(Plan::Gold), org_created(org(1), "Root", None)]).scope;
        let tenant_commands = [
            TenantCommand::Update(UpdateTenant {
                name: Some(a.clone()),
                settings: None,
                products: Some(products),
                business_profile: Some(Some(profile)),
            }),
            TenantCommand::Suspend { reason: c.clone() },
        ];
        for cmd in tenant_commands {
            input_outcome(&scope.decide(&TenantScopeCommand::Tenant(cmd), &now))?;
        }
        let org_commands = [
            OrganizationCommand::Create { id: org(2), name: a.clone(), description: b.clone(), parent_id: Some(org(1)) },
            OrganizationCommand::Update { id: org(1), name: Some(c.clone()), description: Some(a.clone()) },
        ];
        for cmd in org_commands {
            let result = scope.decide(&TenantScopeCommand::Organization(cmd), &now);
            // "root" is the only name that can clash; anything else is an input refusal.
            if !matches!(result, Err(DomainError::AlreadyExists { .. })) {
                input_outcome(&result)?;
            }
        }
    }

    #[test]
    fn deactivation_accepts_exactly_the_next_365_days(offset in -2_000_000i64..40_000_000, score in -5i32..15) {
        let scope = given([tenant_created(Plan::Gold)]).scope;
        let ends = t0() + TimeDelta::seconds(offset);
        let f = crate::domain::DeactivationFeedback { recommendation_score: Some(score), ..feedback() };
        let cmd = TenantCommand::Deactivate { grace_period_ends_at: ends, feedback: f };
        let accepted = input_outcome(&scope.decide(&TenantScopeCommand::Tenant(cmd), &Context::at(t0())))?;
        let valid = offset > 0 && offset <= 365 * 86_400 && (0..=10).contains(&score);
        prop_assert_eq!(accepted, valid);
    }
}

/// Guards the generator: random sequences must actually reach every interesting outcome,
/// or the properties above would pass vacuously.
#[test]
fn generated_sequences_reach_every_outcome() {
    use proptest::{strategy::ValueTree, test_runner::TestRunner};

    let mut runner = TestRunner::deterministic();
    let mut seen = BTreeSet::new();
    for _ in 0..300 {
        let ops = vec(op(), 1..80)
            .new_tree(&mut runner)
            .expect("strategy")
            .current();
        let mut scope = given([tenant_created(Plan::Gold)]).scope;
        for op in &ops {
            let command = TenantScopeCommand::Organization(op.command());
            let label = match scope.decide(&command, &Context::at(t0())) {
                Ok(events) => {
                    for e in &events {
                        scope.apply(e, t0());
                    }
                    match (op, events.len()) {
                        (_, 0) => "no-op".to_owned(),
                        (Op::Delete { .. }, 2..) => "cascade".to_owned(),
                        (op, _) => format!("{:?}", std::mem::discriminant(op)),
                    }
                }
                Err(e) => e.reason().to_owned(),
            };
            seen.insert(label);
        }
    }
    for expected in [
        "no-op",
        "cascade",
        "HIERARCHY_CYCLE",
        "HIERARCHY_TOO_DEEP",
        "ALREADY_EXISTS",
        "NOT_FOUND",
        "HAS_CHILDREN",
    ] {
        assert!(
            seen.contains(expected),
            "never reached {expected}: {seen:?}"
        );
    }
    assert!(seen.len() >= 11, "{seen:?}");
}
