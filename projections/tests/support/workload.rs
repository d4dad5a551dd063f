//! A randomized workload through `Engine`: tenants, organizations with moves and deletes,
//! teams and members, invitations and acceptances, memberships, role assignments, clients (some
//! with a headquarters address), directory records (departments, locations and contacts of the
//! tenant or of a client, created, updated and deleted) and, on request, erasures of users. Domain refusals are expected and counted; anything else fails
//! the test.

use engine::{
    EngineError,
    domain::{
        Address, Assignment, BusinessProfile, CONTACT_TYPES, ClientCommand, ClientId, Contact,
        Department, Location, OrganizationCommand, OrganizationId, Partition, PartitionGroup, Plan,
        RecordCommand, RecordFields, RecordId, RecordKind, Scope, TeamCommand, TeamId, TeamRole,
        TenantCommand, TenantId, TenantScopeCommand, UpdateTenant, UserCommand, UserId,
    },
    journal::CommitToken,
    runtime::Engine,
    secrets::token_hash,
};

use super::{create_org, create_tenant, invite, meta, unique_slug};

/// A small deterministic generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// In `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.below(items.len())].clone())
    }
}

/// What one tenant's run did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Outcome {
    pub accepted: usize,
    pub refused: usize,
    pub last_token: Option<CommitToken>,
}

/// Runs `commands` random commands (and a client command before every eighth, a record command
/// before every fourth) against a new gold tenant; returns its id and counts.
pub async fn run_tenant(engine: &Engine, seed: u64, commands: usize) -> (TenantId, Outcome) {
    run_tenant_with(engine, seed, commands, false).await
}

/// [`run_tenant`], erasing users now and then when `erase` (about one command in 200), and
/// then only deleting contacts and giving clients contacts (a client's deletion deletes its
/// contacts): a contact's deletion erases the person. Without `erase` nobody is erased, so
/// whatever was published live still equals the journal opened later.
pub async fn run_tenant_with(
    engine: &Engine,
    seed: u64,
    commands: usize,
    erase: bool,
) -> (TenantId, Outcome) {
    let mut rng = Rng::new(seed);
    // Clients draw from their own stream: the other commands stay those of `seed` alone.
    let mut client_rng = Rng::new(seed ^ 0xc11e_4750);
    // Records too.
    let mut record_rng = Rng::new(seed ^ 0x7ec0_4d50);
    let mut records: Vec<(RecordId, RecordKind, Option<ClientId>)> = Vec::new();
    let tenant = TenantId::new_v7();
    let created = engine
        .execute(
            tenant,
            create_tenant(tenant, &unique_slug("w"), Plan::Gold),
            meta(),
        )
        .await
        .unwrap();
    let mut outcome = Outcome {
        accepted: 1,
        refused: 0,
        last_token: Some(created.token),
    };
    let mut orgs: Vec<OrganizationId> = Vec::new();
    if let Ok(default) = engine
        .list_organizations(tenant, None)
        .await
        .map(|o| o.into_iter().map(|o| o.id).collect::<Vec<_>>())
    {
        orgs.extend(default);
    }
    let mut teams: Vec<TeamId> = Vec::new();
    let mut users: Vec<(UserId, engine::domain::SecretHash)> = Vec::new();
    let mut clients: Vec<ClientId> = Vec::new();
    let roles = ["member", "viewer", "org-admin", "team-member"];
    for i in 0..commands {
        if i % 8 == 0
            && let Some(command) = client_command(&mut client_rng, &mut clients, i)
        {
            execute(
                engine,
                tenant,
                TenantScopeCommand::Client(command),
                &mut outcome,
            )
            .await;
        }
        if i % 4 == 2
            && let Some(command) = record_command(&mut record_rng, &mut records, &clients, i, erase)
        {
            execute(
                engine,
                tenant,
                TenantScopeCommand::Record(command),
                &mut outcome,
            )
            .await;
        }
        let command = match rng.below(100) {
            0..=17 => {
                let id = OrganizationId::new_v7();
                let parent = if rng.below(3) == 0 {
                    None
                } else {
                    rng.pick(&orgs)
                };
                orgs.push(id);
                create_org(id, &format!("Org {i} {}", rng.below(1000)), parent)
            }
            18..=27 => match rng.pick(&orgs) {
                Some(id) => TenantScopeCommand::Organization(OrganizationCommand::Move {
                    id,
                    new_parent_id: if rng.below(4) == 0 {
                        None
                    } else {
                        rng.pick(&orgs)
                    },
                }),
                None => continue,
            },
            28..=31 => match rng.pick(&orgs) {
                Some(id) => TenantScopeCommand::Organization(OrganizationCommand::Update {
                    id,
                    name: Some(format!("Renamed {i}")),
                    description: None,
                }),
                None => continue,
            },
            32..=34 => match rng.pick(&orgs) {
                Some(id) => TenantScopeCommand::Organization(OrganizationCommand::Delete {
                    id,
                    cascade: rng.below(2) == 0,
                }),
                None => continue,
            },
            35..=42 => match rng.pick(&orgs) {
                Some(organization_id) => {
                    let id = TeamId::new_v7();
                    teams.push(id);
                    TenantScopeCommand::Team(TeamCommand::Create {
                        id,
                        organization_id,
                        name: format!("Team {i}"),
                        description: String::new(),
                    })
                }
                None => continue,
            },
            43..=51 => match (rng.pick(&teams), rng.pick(&users)) {
                (Some(id), Some((user_id, _))) => {
                    TenantScopeCommand::Team(TeamCommand::AddMember {
                        id,
                        user_id,
                        role: if rng.below(4) == 0 {
                            TeamRole::Lead
                        } else {
                            TeamRole::Member
                        },
                    })
                }
                _ => continue,
            },
            52..=54 => match (rng.pick(&teams), rng.pick(&users)) {
                (Some(id), Some((user_id, _))) => {
                    TenantScopeCommand::Team(TeamCommand::RemoveMember { id, user_id })
                }
                _ => continue,
            },
            55..=56 => match rng.pick(&teams) {
                Some(id) if rng.below(2) == 0 => {
                    TenantScopeCommand::Team(TeamCommand::Delete { id })
                }
                Some(id) => TenantScopeCommand::Team(TeamCommand::Update {
                    id,
                    name: Some(format!("Team renamed {i}")),
                    description: None,
                }),
                None => continue,
            },
            57..=68 => {
                let id = UserId::new_v7();
                let token = format!("token-{id}");
                let hash = token_hash(&token);
                users.push((id, hash));
                let email = format!("User.{i}.{}@Example.com", rng.below(100_000));
                invite(id, &email, rng.pick(&orgs), &hash)
            }
            69..=76 => match rng.pick(&users) {
                Some((id, hash)) => TenantScopeCommand::User(UserCommand::AcceptInvitation {
                    id,
                    token_hash: hash,
                    display_name: (rng.below(2) == 0).then(|| format!("Accepted {i}")),
                }),
                None => continue,
            },
            77..=79 => match rng.pick(&users) {
                // a user joins a client (or leaves it); a client's deletion takes its users out
                Some((id, _)) if rng.below(3) == 0 => {
                    TenantScopeCommand::User(UserCommand::SetClient {
                        id,
                        client_id: rng.pick(&clients),
                    })
                }
                Some((id, _)) => TenantScopeCommand::User(UserCommand::UpdateProfile {
                    id,
                    display_name: Some(format!("Profile {i} Ünïcode")),
                }),
                None => continue,
            },
            80..=82 => match rng.pick(&users) {
                Some((id, _)) if erase && rng.below(6) == 0 => {
                    TenantScopeCommand::User(UserCommand::Erase { id })
                }
                Some((id, _)) if rng.below(2) == 0 => {
                    TenantScopeCommand::User(UserCommand::Deactivate { id })
                }
                Some((id, _)) => TenantScopeCommand::User(UserCommand::Reactivate { id }),
                None => continue,
            },
            83..=87 => match (rng.pick(&users), rng.pick(&orgs)) {
                (Some((id, _)), Some(organization_id)) if rng.below(3) > 0 => {
                    TenantScopeCommand::User(UserCommand::AddToOrganization {
                        id,
                        organization_id,
                    })
                }
                (Some((id, _)), Some(organization_id)) => {
                    TenantScopeCommand::User(UserCommand::RemoveFromOrganization {
                        id,
                        organization_id,
                    })
                }
                _ => continue,
            },
            88..=96 => {
                let Some((id, _)) = rng.pick(&users) else {
                    continue;
                };
                let scope = match rng.below(3) {
                    0 => Scope::Tenant,
                    1 => match rng.pick(&orgs) {
                        Some(o) => Scope::Organization(o),
                        None => Scope::Tenant,
                    },
                    _ => match rng.pick(&teams) {
                        Some(t) => Scope::Team(t),
                        None => Scope::Tenant,
                    },
                };
                let assignment = Assignment {
                    role: roles[rng.below(roles.len())].to_owned(),
                    scope,
                };
                if rng.below(3) == 0 {
                    TenantScopeCommand::User(UserCommand::RevokeRole { id, assignment })
                } else {
                    TenantScopeCommand::User(UserCommand::AssignRole { id, assignment })
                }
            }
            97 => TenantScopeCommand::Tenant(TenantCommand::Update(UpdateTenant {
                name: Some(format!("Tenant renamed {i}")),
                ..UpdateTenant::default()
            })),
            98 => TenantScopeCommand::Tenant(TenantCommand::ChangePlan {
                plan: if rng.below(2) == 0 {
                    Plan::Silver
                } else {
                    Plan::Gold
                },
            }),
            _ => TenantScopeCommand::Tenant(TenantCommand::ChangePlan { plan: Plan::Gold }),
        };
        execute(engine, tenant, command, &mut outcome).await;
    }
    (tenant, outcome)
}

/// Runs one command and counts it; a domain refusal is expected, any other error fails.
async fn execute(
    engine: &Engine,
    tenant: TenantId,
    command: TenantScopeCommand,
    outcome: &mut Outcome,
) {
    match engine.execute(tenant, command, meta()).await {
        Ok(done) => {
            outcome.accepted += 1;
            outcome.last_token = Some(done.token);
        }
        Err(EngineError::Domain(_) | EngineError::VersionMismatch { .. }) => {
            outcome.refused += 1;
        }
        Err(other) => panic!("unexpected engine error: {other:?}"),
    }
}

/// An external id from a small pool (so that some are refused as taken), or none.
fn external_id(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => String::new(),
        _ => format!("ext-{}", rng.below(8)),
    }
}

/// A random client command (`None` when there is no client to change yet).
fn client_command(rng: &mut Rng, clients: &mut Vec<ClientId>, i: usize) -> Option<ClientCommand> {
    Some(match rng.below(10) {
        0..=3 => {
            let id = ClientId::new_v7();
            clients.push(id);
            ClientCommand::Create {
                id,
                name: format!("Client {i}"),
                external_id: external_id(rng),
                // Some with an address: their headquarters location comes with them.
                business_profile: (rng.below(3) == 0).then(|| BusinessProfile {
                    legal_name: format!("Client {i} Inc"),
                    address: Some(address(rng, i)),
                    ..BusinessProfile::default()
                }),
            }
        }
        4..=5 => ClientCommand::Update {
            id: rng.pick(clients)?,
            name: (rng.below(2) == 0).then(|| format!("Client renamed {i}")),
            external_id: (rng.below(2) == 0).then(|| external_id(rng)),
            // Sometimes the only change: it moves the version and time alone.
            business_profile: (rng.below(3) == 0).then(|| {
                Some(BusinessProfile {
                    legal_name: format!("Client {i} Ltd"),
                    ..BusinessProfile::default()
                })
            }),
        },
        6..=7 => ClientCommand::Disable {
            id: rng.pick(clients)?,
        },
        8 => ClientCommand::Enable {
            id: rng.pick(clients)?,
        },
        _ => ClientCommand::Delete {
            id: rng.pick(clients)?,
        },
    })
}

/// A postal address.
fn address(rng: &mut Rng, i: usize) -> Address {
    Address {
        line1: format!("{} Main St", rng.below(500) + 1),
        city: ["Springfield", "Berlin", "Zürich"][rng.below(3)].to_owned(),
        postal_code: format!("{:05}", i),
        ..Address::default()
    }
}

/// Random fields of a record of `kind`; a contact's location is one of `locations`, a
/// partition's group or a group's parent one of `groups`, or none.
fn record_fields(
    rng: &mut Rng,
    kind: RecordKind,
    (locations, groups): (&[RecordId], &[RecordId]),
    i: usize,
) -> RecordFields {
    let group = |rng: &mut Rng| {
        if rng.below(2) == 0 {
            None
        } else {
            rng.pick(groups)
        }
    };
    match kind {
        RecordKind::Department => RecordFields::Department(Department {
            name: format!("Department {i} {}", rng.below(1000)),
            code: format!("D-{}", rng.below(100)),
        }),
        RecordKind::Location => RecordFields::Location(Location {
            name: format!("Office {i}"),
            address: address(rng, i),
            // Sometimes refused: one headquarters per owner.
            headquarters: rng.below(6) == 0,
            phone: format!("+1 555 {:04}", rng.below(10_000)),
            ..Location::default()
        }),
        RecordKind::Contact => RecordFields::Contact(Contact {
            contact_type: match rng.below(4) {
                3 => "partner-2".to_owned(),
                t => CONTACT_TYPES[t].to_owned(),
            },
            name: format!("Contact {i} Ünïcode {}", rng.below(100_000)),
            email: format!("contact.{i}.{}@example.com", rng.below(100_000)),
            phone: format!("+49 30 {:06}", rng.below(1_000_000)),
            location_id: if rng.below(3) == 0 {
                None
            } else {
                rng.pick(locations)
            },
        }),
        // Sometimes refused: a name its owner already uses, a group inside itself.
        RecordKind::Partition => RecordFields::Partition(Partition {
            name: match rng.below(6) {
                4 | 5 => format!("custom-{}", rng.below(50)),
                n => ["dev", "qa", "prod", "demo"][n].to_owned(),
            },
            group_id: group(rng),
            description: format!("Partition {i}"),
        }),
        RecordKind::PartitionGroup => RecordFields::PartitionGroup(PartitionGroup {
            name: format!("Group {i}"),
            parent_id: group(rng),
        }),
    }
}

/// A random record command (`None` when there is no record to change yet): records of the
/// tenant or of a client, contacts often at a location of their owner. Some are refused (a
/// deleted record or client, a second headquarters, a location still in use). Contacts are
/// deleted, and owned by clients, only when `erase` (see [`run_tenant_with`]).
fn record_command(
    rng: &mut Rng,
    records: &mut Vec<(RecordId, RecordKind, Option<ClientId>)>,
    clients: &[ClientId],
    i: usize,
    erase: bool,
) -> Option<RecordCommand> {
    let of_owner = |kind: RecordKind, owner: Option<ClientId>| -> Vec<RecordId> {
        records
            .iter()
            .filter(|(_, k, o)| *k == kind && *o == owner)
            .map(|(id, _, _)| *id)
            .collect()
    };
    let related = |owner| {
        (
            of_owner(RecordKind::Location, owner),
            of_owner(RecordKind::PartitionGroup, owner),
        )
    };
    Some(match rng.below(10) {
        0..=4 => {
            let id = RecordId::new_v7();
            let kind = RecordKind::ALL[rng.below(RecordKind::ALL.len())];
            let owner = if rng.below(2) == 0 || (kind == RecordKind::Contact && !erase) {
                None
            } else {
                rng.pick(clients)
            };
            let (locations, groups) = related(owner);
            let fields = record_fields(rng, kind, (&locations, &groups), i);
            records.push((id, kind, owner));
            RecordCommand::Create {
                id,
                client_id: owner,
                fields,
            }
        }
        5..=7 => {
            let (id, kind, owner) = rng.pick(records)?;
            let (locations, groups) = related(owner);
            let fields = record_fields(rng, kind, (&locations, &groups), i);
            let paths = RecordFields::paths(kind);
            let mut mask: Vec<String> = paths
                .iter()
                .filter(|_| rng.below(2) == 0)
                .map(|p| (*p).to_owned())
                .collect();
            if mask.is_empty() || rng.below(3) == 0 {
                mask.push("active".to_owned());
            }
            RecordCommand::Update {
                id,
                fields,
                active: rng.below(3) > 0,
                mask,
            }
        }
        _ => {
            let deletable: Vec<_> = records
                .iter()
                .filter(|(_, kind, _)| erase || *kind != RecordKind::Contact)
                .copied()
                .collect();
            let (id, kind, _) = rng.pick(&deletable)?;
            RecordCommand::Delete { id, kind }
        }
    })
}
