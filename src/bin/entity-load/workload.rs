//! The simulated platform: tenants with their default organization and users, the operation
//! mix, and one request of each operation.

use std::{
    sync::{
        Arc, Mutex, OnceLock, RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use entity_proto::v1 as pb;

use crate::{LoadError, client::Cluster};

/// One operation of the mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// CreateTenant (onboarding: tenant, default organization, invited owner).
    CreateTenant,
    /// InviteUser with a `viewer` role at tenant scope.
    InviteUser,
    /// AssignRole or RevokeRole (`member` at the default organization), alternating per user.
    RoleChange,
    /// CheckPermission (`organization:read` at the default organization).
    CheckPermission,
    /// ListUsers with the tenant's latest consistency token.
    ListUsers,
    /// ListOrganizations with the tenant's latest consistency token.
    ListOrganizations,
    /// VerifyApiKey of the tenant's admin key (issued at setup when the mix has `verify`).
    VerifyApiKey,
    /// GetUserClaims of one of the tenant's users.
    UserClaims,
    /// SearchCustomers: in turn a tenant's own clients (a page), its clients by a text, and
    /// business customers of a sector by a text (platform-wide).
    Search,
    /// `grpc.health.v1.Health/Check`: the bare tonic baseline (not in the default mix).
    Health,
}

impl Op {
    /// The name used in `--mix`.
    pub fn mix_name(self) -> &'static str {
        match self {
            Op::CreateTenant => "create_tenant",
            Op::InviteUser => "invite",
            Op::RoleChange => "role",
            Op::CheckPermission => "check",
            Op::ListUsers => "list_users",
            Op::ListOrganizations => "list_orgs",
            Op::VerifyApiKey => "verify",
            Op::UserClaims => "claims",
            Op::Search => "search",
            Op::Health => "health",
        }
    }

    const ALL: [Op; 10] = [
        Op::CreateTenant,
        Op::InviteUser,
        Op::RoleChange,
        Op::CheckPermission,
        Op::ListUsers,
        Op::ListOrganizations,
        Op::VerifyApiKey,
        Op::UserClaims,
        Op::Search,
        Op::Health,
    ];
}

/// Weighted choice of operations, parsed from `check=50,invite=10,…`.
#[derive(Clone, Debug)]
pub struct Mix {
    cumulative: Vec<(u64, Op)>,
    total: u64,
}

impl Mix {
    /// Parses `name=weight` pairs separated by commas (names: see [`Op::mix_name`]).
    pub fn parse(text: &str) -> Result<Mix, LoadError> {
        let mut cumulative = Vec::new();
        let mut total = 0u64;
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part.split_once('=').ok_or_else(|| {
                LoadError::Config(format!("mix entry '{part}' is not name=weight"))
            })?;
            let op = Op::ALL
                .into_iter()
                .find(|op| op.mix_name() == name.trim())
                .ok_or_else(|| LoadError::Config(format!("unknown operation '{name}' in --mix")))?;
            let weight: u64 = weight
                .trim()
                .parse()
                .map_err(|_| LoadError::Config(format!("weight of '{name}' is not an integer")))?;
            if weight > 0 {
                total += weight;
                cumulative.push((total, op));
            }
        }
        if total == 0 {
            return Err(LoadError::Config("--mix has no positive weight".into()));
        }
        Ok(Mix { cumulative, total })
    }

    /// Whether `op` has a positive weight.
    pub fn contains(&self, op: Op) -> bool {
        self.cumulative.iter().any(|(_, o)| *o == op)
    }

    /// The operation for the random number `r`.
    pub fn pick(&self, r: u64) -> Op {
        let x = r % self.total;
        self.cumulative
            .iter()
            .find(|(bound, _)| x < *bound)
            .map_or(Op::CheckPermission, |(_, op)| *op)
    }
}

/// A user the load knows about.
pub struct UserSlot {
    id: String,
    /// Whether the load believes it holds `member` at the default organization.
    member: AtomicBool,
}

/// A tenant the load knows about.
pub struct TenantState {
    /// Tenant id.
    pub id: String,
    default_org: String,
    users: Mutex<Vec<Arc<UserSlot>>>,
    /// The consistency token of the tenant's latest acknowledged write.
    token: Mutex<String>,
    /// An admin API key of the tenant (see [`add_api_key`]), if one was issued.
    api_key: OnceLock<String>,
}

impl TenantState {
    fn user(&self, r: u64) -> Option<Arc<UserSlot>> {
        let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        if users.is_empty() {
            return None;
        }
        Some(users[(r % users.len() as u64) as usize].clone())
    }

    fn set_token(&self, token: Option<&pb::WriteResult>) {
        if let Some(result) = token {
            *self.token.lock().unwrap_or_else(|p| p.into_inner()) =
                result.consistency_token.clone();
        }
    }

    fn token(&self) -> String {
        self.token.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Users known in this tenant.
    pub fn user_count(&self) -> usize {
        self.users.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Every tenant the load knows about, and how traffic is skewed over them.
pub struct Pool {
    tenants: RwLock<Vec<Arc<TenantState>>>,
    /// The tenants with an API key, in the order their keys were issued.
    keyed: RwLock<Vec<Arc<TenantState>>>,
    hot_tenants: usize,
    hot_fraction: f64,
    run_id: String,
    serial: AtomicU64,
}

impl Pool {
    /// An empty pool. `hot_fraction` of the traffic goes to the first `hot_tenants` tenants.
    pub fn new(hot_tenants: usize, hot_fraction: f64) -> Pool {
        Pool {
            tenants: RwLock::new(Vec::new()),
            keyed: RwLock::new(Vec::new()),
            hot_tenants,
            hot_fraction: hot_fraction.clamp(0.0, 1.0),
            run_id: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
            serial: AtomicU64::new(0),
        }
    }

    /// Number of tenants.
    pub fn len(&self) -> usize {
        self.tenants.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// The tenant at `index`.
    pub fn get(&self, index: usize) -> Option<Arc<TenantState>> {
        self.tenants
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(index)
            .cloned()
    }

    /// A tenant for the random numbers `r1`, `r2`, honouring the skew.
    pub fn pick(&self, r1: u64, r2: u64) -> Option<Arc<TenantState>> {
        let tenants = self.tenants.read().unwrap_or_else(|p| p.into_inner());
        if tenants.is_empty() {
            return None;
        }
        let hot = self.hot_tenants.min(tenants.len());
        let unit = (r1 >> 11) as f64 / (1u64 << 53) as f64;
        let index = if hot > 0 && unit < self.hot_fraction {
            (r2 % hot as u64) as usize
        } else {
            (r2 % tenants.len() as u64) as usize
        };
        Some(tenants[index].clone())
    }

    /// A tenant with an API key for the random number `r` (uniform over the keyed tenants).
    fn pick_keyed(&self, r: u64) -> Option<Arc<TenantState>> {
        let keyed = self.keyed.read().unwrap_or_else(|p| p.into_inner());
        if keyed.is_empty() {
            return None;
        }
        Some(keyed[(r % keyed.len() as u64) as usize].clone())
    }

    fn next_serial(&self) -> u64 {
        self.serial.fetch_add(1, Ordering::Relaxed)
    }
}

/// The outcome of one request: the operation's report name, and the gRPC code on failure.
pub type Outcome = (&'static str, Result<(), String>);

fn code(status: &tonic::Status) -> String {
    format!("{:?}", status.code())
}

fn org_scope(org: &str) -> Option<pb::Scope> {
    Some(pb::Scope {
        kind: pb::ScopeKind::Organization as i32,
        id: org.to_owned(),
    })
}

/// Creates one tenant (gold plan) and adds it to the pool.
pub async fn create_tenant(cluster: &Cluster, pool: &Pool) -> Result<Arc<TenantState>, String> {
    let n = pool.next_serial();
    let slug = format!("load-{}-{n}", pool.run_id);
    let request = pb::CreateTenantRequest {
        name: format!("Load {n}"),
        slug,
        kind: pb::TenantKind::Business as i32,
        plan: pb::Plan::Gold as i32,
        owner_email: format!("owner{n}@load.example.com"),
        business_profile: Some(profile(n)),
        ..Default::default()
    };
    let response = cluster
        .pick()
        .tenants
        .create_tenant(cluster.request(request))
        .await
        .map_err(|s| code(&s))?
        .into_inner();
    let tenant = response.tenant.ok_or("no tenant in the response")?;
    let onboarding = tenant.onboarding.ok_or("no onboarding in the response")?;
    let owner = Arc::new(UserSlot {
        id: onboarding.owner_user_id,
        member: AtomicBool::new(false),
    });
    let state = Arc::new(TenantState {
        id: tenant.id,
        default_org: onboarding.default_organization_id,
        users: Mutex::new(vec![owner]),
        token: Mutex::new(
            response
                .result
                .map(|r| r.consistency_token)
                .unwrap_or_default(),
        ),
        api_key: OnceLock::new(),
    });
    pool.tenants
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .push(state.clone());
    Ok(state)
}

/// GICS sectors, in turn for tenants and clients.
const SECTORS: [pb::IndustrySector; 11] = [
    pb::IndustrySector::Energy,
    pb::IndustrySector::Materials,
    pb::IndustrySector::Industrials,
    pb::IndustrySector::ConsumerDiscretionary,
    pb::IndustrySector::ConsumerStaples,
    pb::IndustrySector::HealthCare,
    pb::IndustrySector::Financials,
    pb::IndustrySector::InformationTechnology,
    pb::IndustrySector::CommunicationServices,
    pb::IndustrySector::Utilities,
    pb::IndustrySector::RealEstate,
];

/// Words in client names, for text search.
const WORDS: [&str; 8] = [
    "Analytics",
    "Bakery",
    "Cargo",
    "Dental",
    "Energy",
    "Freight",
    "Garden",
    "Holdings",
];

/// A classified business profile, the `n`-th in turn.
fn profile(n: u64) -> pb::BusinessProfile {
    pb::BusinessProfile {
        legal_name: format!("{} {n} LLC", WORDS[(n % 8) as usize]),
        industry_sector: SECTORS[(n % 11) as usize] as i32,
        size_range: 1 + (n % 8) as i32,
        legal_form: pb::LegalForm::Llc as i32,
        ..Default::default()
    }
}

/// Creates one client of `tenant` with a classified profile.
pub async fn create_client(
    cluster: &Cluster,
    pool: &Pool,
    tenant: &TenantState,
) -> Result<(), String> {
    let n = pool.next_serial();
    let request = pb::CreateClientRequest {
        tenant_id: tenant.id.clone(),
        name: format!("Client {n} {}", WORDS[(n % 8) as usize]),
        external_id: format!("crm-{n}"),
        business_profile: Some(profile(n)),
        ..Default::default()
    };
    let response = cluster
        .pick()
        .clients
        .create_client(cluster.request(request))
        .await
        .map_err(|s| code(&s))?
        .into_inner();
    tenant.set_token(response.result.as_ref());
    Ok(())
}

/// Invites one user into `tenant` with `viewer` at tenant scope.
pub async fn invite_user(
    cluster: &Cluster,
    pool: &Pool,
    tenant: &TenantState,
) -> Result<(), String> {
    let n = pool.next_serial();
    let request = pb::InviteUserRequest {
        tenant_id: tenant.id.clone(),
        email: format!("user{n}-{}@load.example.com", pool.run_id),
        roles: vec![pb::RoleAssignment {
            role: "viewer".into(),
            scope: Some(pb::Scope {
                kind: pb::ScopeKind::Tenant as i32,
                id: String::new(),
            }),
        }],
        ..Default::default()
    };
    let response = cluster
        .pick()
        .users
        .invite_user(cluster.request(request))
        .await
        .map_err(|s| code(&s))?
        .into_inner();
    tenant.set_token(response.result.as_ref());
    if let Some(user) = response.user {
        tenant
            .users
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::new(UserSlot {
                id: user.id,
                member: AtomicBool::new(false),
            }));
    }
    Ok(())
}

/// Creates a partition of `tenant` (owned by the tenant itself) and returns its id.
pub async fn create_partition(
    cluster: &Cluster,
    pool: &Pool,
    tenant: &TenantState,
) -> Result<String, String> {
    let n = pool.next_serial();
    let request = pb::CreatePartitionRequest {
        tenant_id: tenant.id.clone(),
        partition: Some(pb::Partition {
            name: format!("load-{n}"),
            ..Default::default()
        }),
        ..Default::default()
    };
    let response = cluster
        .pick()
        .partitions
        .create_partition(cluster.request(request))
        .await
        .map_err(|s| code(&s))?
        .into_inner();
    tenant.set_token(response.result.as_ref());
    Ok(response.partition.ok_or("no partition in the response")?.id)
}

/// Issues an admin API key of `partition` and keeps it as the tenant's key (the one
/// [`Op::VerifyApiKey`] presents).
pub async fn create_api_key(
    cluster: &Cluster,
    pool: &Pool,
    tenant: &Arc<TenantState>,
    partition: String,
) -> Result<(), String> {
    let request = pb::CreateApiKeyRequest {
        tenant_id: tenant.id.clone(),
        partition_id: partition,
        name: "entity-load".into(),
        admin: true,
        ..Default::default()
    };
    let response = cluster
        .pick()
        .api_keys
        .create_api_key(cluster.request(request))
        .await
        .map_err(|s| code(&s))?
        .into_inner();
    tenant.set_token(response.result.as_ref());
    if response.key.is_empty() {
        return Err("no key in the response".to_owned());
    }
    if tenant.api_key.set(response.key).is_ok() {
        pool.keyed
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(tenant.clone());
    }
    Ok(())
}

/// Runs one request of `op`; `r` is the request's random number.
pub async fn run_op(cluster: &Cluster, pool: &Pool, op: Op, r: u64, timeout: Duration) -> Outcome {
    let call = async {
        if op == Op::CreateTenant {
            return (
                "create_tenant",
                create_tenant(cluster, pool).await.map(|_| ()),
            );
        }
        if op == Op::Health {
            let mut health = cluster.pick().health;
            let request = tonic_health::pb::HealthCheckRequest {
                service: String::new(),
            };
            let result = health.check(cluster.request(request)).await;
            return ("health_baseline", result.map(|_| ()).map_err(|s| code(&s)));
        }
        let r2 = splitmix(r);
        let Some(tenant) = pool.pick(r, r2) else {
            return (op.mix_name(), Err("NO_TENANT".to_owned()));
        };
        let connection = cluster.pick();
        match op {
            Op::CreateTenant | Op::Health => unreachable_op(),
            Op::InviteUser => ("invite_user", invite_user(cluster, pool, &tenant).await),
            Op::RoleChange => {
                let Some(user) = tenant.user(splitmix(r2)) else {
                    return ("assign_role", Err("NO_USER".to_owned()));
                };
                let assignment = Some(pb::RoleAssignment {
                    role: "member".into(),
                    scope: org_scope(&tenant.default_org),
                });
                // Flip the belief first so that concurrent changes of one user alternate.
                let revoke = user.member.fetch_xor(true, Ordering::Relaxed);
                let mut users = connection.users;
                if revoke {
                    let request = pb::RevokeRoleRequest {
                        tenant_id: tenant.id.clone(),
                        user_id: user.id.clone(),
                        assignment,
                        ..Default::default()
                    };
                    let result = users.revoke_role(cluster.request(request)).await;
                    (
                        "revoke_role",
                        result
                            .map(|r| tenant.set_token(r.into_inner().result.as_ref()))
                            .map_err(|s| code(&s)),
                    )
                } else {
                    let request = pb::AssignRoleRequest {
                        tenant_id: tenant.id.clone(),
                        user_id: user.id.clone(),
                        assignment,
                        ..Default::default()
                    };
                    let result = users.assign_role(cluster.request(request)).await;
                    (
                        "assign_role",
                        result
                            .map(|r| tenant.set_token(r.into_inner().result.as_ref()))
                            .map_err(|s| code(&s)),
                    )
                }
            }
            Op::CheckPermission => {
                let Some(user) = tenant.user(splitmix(r2)) else {
                    return ("check_permission", Err("NO_USER".to_owned()));
                };
                let request = pb::CheckPermissionRequest {
                    tenant_id: tenant.id.clone(),
                    user_id: user.id.clone(),
                    permission: "organization:read".into(),
                    scope: org_scope(&tenant.default_org),
                    consistency_token: String::new(),
                };
                let mut access = connection.access;
                let result = access.check_permission(cluster.request(request)).await;
                ("check_permission", result.map(|_| ()).map_err(|s| code(&s)))
            }
            Op::UserClaims => {
                let Some(user) = tenant.user(splitmix(r2)) else {
                    return ("user_claims", Err("NO_USER".to_owned()));
                };
                let request = pb::GetUserClaimsRequest {
                    tenant_id: tenant.id.clone(),
                    user_id: user.id.clone(),
                };
                let mut users = connection.users;
                let result = users.get_user_claims(cluster.request(request)).await;
                ("user_claims", result.map(|_| ()).map_err(|s| code(&s)))
            }
            Op::Search => {
                let word = WORDS[(r2 % 8) as usize].to_ascii_lowercase();
                let (scope, tenant_id, filter) = match r2 % 3 {
                    0 => (pb::SearchScope::OwnClients, tenant.id.clone(), None),
                    1 => (
                        pb::SearchScope::OwnClients,
                        tenant.id.clone(),
                        Some(pb::SearchFilter {
                            text: word,
                            ..Default::default()
                        }),
                    ),
                    _ => (
                        pb::SearchScope::BusinessCustomers,
                        String::new(),
                        Some(pb::SearchFilter {
                            text: word,
                            industry_sectors: vec![SECTORS[(r2 % 11) as usize] as i32],
                            ..Default::default()
                        }),
                    ),
                };
                let request = pb::SearchCustomersRequest {
                    tenant_id,
                    scope: scope as i32,
                    filter,
                    page_size: 20,
                    ..Default::default()
                };
                let mut search = connection.search;
                let result = search.search_customers(cluster.request(request)).await;
                ("search_customers", result.map(|_| ()).map_err(|s| code(&s)))
            }
            Op::ListUsers => {
                let request = pb::ListUsersRequest {
                    tenant_id: tenant.id.clone(),
                    page_size: 20,
                    consistency_token: tenant.token(),
                    ..Default::default()
                };
                let mut users = connection.users;
                let result = users.list_users(cluster.request(request)).await;
                ("list_users", result.map(|_| ()).map_err(|s| code(&s)))
            }
            Op::ListOrganizations => {
                let request = pb::ListOrganizationsRequest {
                    tenant_id: tenant.id.clone(),
                    page_size: 20,
                    consistency_token: tenant.token(),
                    ..Default::default()
                };
                let mut orgs = connection.orgs;
                let result = orgs.list_organizations(cluster.request(request)).await;
                ("list_orgs", result.map(|_| ()).map_err(|s| code(&s)))
            }
            Op::VerifyApiKey => {
                // Tenants created during the load (create_tenant) have no key: their share
                // goes to a keyed tenant.
                let keyed = if tenant.api_key.get().is_some() {
                    Some(tenant)
                } else {
                    pool.pick_keyed(r2)
                };
                let Some(key) = keyed.as_ref().and_then(|t| t.api_key.get()) else {
                    return ("verify_api_key", Err("NO_KEY".to_owned()));
                };
                let request = pb::VerifyApiKeyRequest {
                    api_key: key.clone(),
                };
                let mut api_keys = connection.api_keys;
                let result = api_keys.verify_api_key(cluster.request(request)).await;
                let outcome = match result {
                    Ok(answer) if answer.get_ref().valid => Ok(()),
                    // A valid key refused is an error of the run, reported by its reason.
                    Ok(answer) => Err(format!("KEY_{:?}", answer.get_ref().reason())),
                    Err(s) => Err(code(&s)),
                };
                ("verify_api_key", outcome)
            }
        }
    };
    match tokio::time::timeout(timeout, call).await {
        Ok(outcome) => outcome,
        Err(_) => (op_report_name(op), Err("CLIENT_TIMEOUT".to_owned())),
    }
}

/// `CreateTenant` and `Health` are handled before the match; this arm cannot run.
fn unreachable_op() -> Outcome {
    ("unreachable", Err("INTERNAL_LOAD_ERROR".to_owned()))
}

fn op_report_name(op: Op) -> &'static str {
    match op {
        Op::CreateTenant => "create_tenant",
        Op::InviteUser => "invite_user",
        Op::RoleChange => "role_change",
        Op::CheckPermission => "check_permission",
        Op::ListUsers => "list_users",
        Op::ListOrganizations => "list_orgs",
        Op::VerifyApiKey => "verify_api_key",
        Op::UserClaims => "user_claims",
        Op::Search => "search_customers",
        Op::Health => "health_baseline",
    }
}

/// SplitMix64: a cheap, well-mixed pseudo-random number from `x`.
pub fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_is_parsed_and_picked_by_weight() {
        let mix = Mix::parse("check=3, invite=1,health=0").unwrap();
        let picks: Vec<Op> = (0..4).map(|r| mix.pick(r)).collect();
        assert_eq!(
            picks,
            [
                Op::CheckPermission,
                Op::CheckPermission,
                Op::CheckPermission,
                Op::InviteUser
            ]
        );
        let verify = Mix::parse("verify=1").unwrap();
        assert_eq!(verify.pick(7), Op::VerifyApiKey);
        assert!(verify.contains(Op::VerifyApiKey) && !mix.contains(Op::VerifyApiKey));
        assert!(Mix::parse("nope=1").is_err());
        assert!(Mix::parse("check=x").is_err());
        assert!(Mix::parse("check=0").is_err());
    }

    fn tenant(id: &str) -> Arc<TenantState> {
        Arc::new(TenantState {
            id: id.to_owned(),
            default_org: String::new(),
            users: Mutex::new(Vec::new()),
            token: Mutex::new(String::new()),
            api_key: OnceLock::new(),
        })
    }

    #[test]
    fn hot_tenants_get_their_fraction_of_the_traffic() {
        let pool = Pool::new(2, 0.5);
        for i in 0..100 {
            pool.tenants.write().unwrap().push(tenant(&i.to_string()));
        }
        let hot = (0..10_000u64)
            .filter_map(|i| pool.pick(splitmix(i), splitmix(i + 1_000_000)))
            .filter(|t| t.id == "0" || t.id == "1")
            .count();
        // Half the picks go to the hot pair, and the uniform half hits it 2 % of the time.
        assert!((4_700..=5_500).contains(&hot), "{hot}");
        assert!(Pool::new(0, 0.9).pick(1, 2).is_none());
    }
}
