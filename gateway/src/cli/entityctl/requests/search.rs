//! `entityctl search …` requests. A search key (`search customers --search-key`) is no part of
//! the request: the call carries it in place of the bearer credential (see `Credential`).

use chrono::{DateTime, Utc};
use entity_proto::v1::{self as pb, search_service_client::SearchServiceClient};

use super::{listed, tenant::plan_proto, token};
use crate::{
    cli::entityctl::{
        Failure, Services,
        args::{
            EntryArg, IndustryGroupArg, IndustrySectorArg, KindArg, ListOpts, PageOpts,
            SearchCommand, SearchFilterOpts, SearchScopeArg, SearchScopeOpts, SearchStatusArg,
            SizeRangeArg,
        },
        render::{Rendered, SearchKey},
    },
    convert::timestamp,
};

list_rpcs! {
    pb::SearchCustomersRequest: SearchServiceClient.search_customers -> hits: pb::SearchHit,
}

/// Declares `fn name(Arg) -> pb::Enum` for value enums whose variants the proto enum has by
/// the same names: `name: Arg => Enum { Variant, … }`.
macro_rules! protos {
    ($($name:ident: $arg:ident => $proto:ident { $($variant:ident),+ $(,)? })*) => {$(
        fn $name(arg: $arg) -> pb::$proto {
            match arg {
                $($arg::$variant => pb::$proto::$variant,)+
            }
        }
    )*};
}

protos! {
    search_scope_proto: SearchScopeArg => SearchScope {
        AllCustomers, BusinessCustomers, ConsumerCustomers, TenantCustomers,
    }
    entry_proto: EntryArg => SearchEntryKind { Customer, Client }
    kind_proto: KindArg => TenantKind { Business, Consumer }
    status_proto: SearchStatusArg => SearchStatus { Active, Suspended, Deactivated, Disabled }
    sector_proto: IndustrySectorArg => IndustrySector {
        Energy, Materials, Industrials, ConsumerDiscretionary, ConsumerStaples, HealthCare,
        Financials, InformationTechnology, CommunicationServices, Utilities, RealEstate,
    }
    group_proto: IndustryGroupArg => IndustryGroup {
        Energy, Materials, CapitalGoods, CommercialProfessionalServices, Transportation,
        AutomobilesComponents, ConsumerDurablesApparel, ConsumerServices, Retailing,
        FoodStaplesRetailing, FoodBeverageTobacco, HouseholdPersonalProducts,
        HealthCareEquipmentServices, PharmaceuticalsBiotechnologyLifeSciences, Banks,
        DiversifiedFinancials, Insurance, SoftwareServices, TechnologyHardwareEquipment,
        SemiconductorsEquipment, TelecommunicationServices, MediaEntertainment, Utilities,
        RealEstate,
    }
    size_proto: SizeRangeArg => SizeRange {
        SizeRange110, SizeRange1150, SizeRange51200, SizeRange201500, SizeRange5011000,
        SizeRange10015000, SizeRange500110000, SizeRange10001Plus,
    }
}

/// The request of a search command.
#[derive(Debug)]
enum Call {
    Customers(pb::SearchCustomersRequest, PageOpts),
    CreateKey(pb::CreateSearchKeyRequest),
}

/// Runs a search command.
pub(super) async fn run(
    services: &mut Services,
    command: SearchCommand,
) -> Result<Rendered, Failure> {
    let c = &mut services.search;
    let rendered = match call(command, Utc::now()) {
        Call::Customers(request, page) => listed(c, request, page).await?,
        Call::CreateKey(request) => {
            Rendered::new(SearchKey(c.create_search_key(request).await?.into_inner()))
        }
    };
    Ok(rendered)
}

/// The request `command` sends at `now` (`--ttl-secs` counts from it, in whole seconds).
fn call(command: SearchCommand, now: DateTime<Utc>) -> Call {
    match command {
        SearchCommand::Customers {
            scope,
            filter,
            search_key: _,
            listing: ListOpts { page, read },
        } => {
            let (tenant_id, scope) = scope_of(scope);
            let request = pb::SearchCustomersRequest {
                tenant_id,
                scope,
                filter: Some(filter_proto(filter)),
                consistency_token: token(read),
                ..Default::default()
            };
            Call::Customers(request, page)
        }
        SearchCommand::CreateKey {
            scope,
            filter,
            valid_until,
            ttl_secs,
        } => {
            let (tenant_id, scope) = scope_of(scope);
            // whole seconds: `valid_until` prints as `…:15Z`, not `…:15.723867577Z`
            let valid_until = valid_until.or_else(|| {
                ttl_secs.and_then(|s| DateTime::from_timestamp(now.timestamp() + i64::from(s), 0))
            });
            Call::CreateKey(pb::CreateSearchKeyRequest {
                tenant_id,
                scope,
                filter: Some(filter_proto(filter)),
                valid_until: valid_until.map(timestamp),
            })
        }
    }
}

/// `tenant_id` and `scope` of a request: a tenant's clients (OWN_CLIENTS), a platform-wide
/// scope, or neither (UNSPECIFIED: the caller's default).
fn scope_of(opts: SearchScopeOpts) -> (String, i32) {
    let scope = match (&opts.tenant, opts.scope) {
        (_, Some(scope)) => search_scope_proto(scope),
        (Some(_), None) => pb::SearchScope::OwnClients,
        (None, None) => pb::SearchScope::Unspecified,
    };
    (opts.tenant.unwrap_or_default(), scope as i32)
}

/// The filter the flags describe (no flag: no condition).
fn filter_proto(f: SearchFilterOpts) -> pb::SearchFilter {
    pb::SearchFilter {
        text: f.query.unwrap_or_default(),
        entry: f
            .entry
            .map_or(pb::SearchEntryKind::Unspecified, entry_proto) as i32,
        kinds: numbers(f.kinds, kind_proto),
        statuses: numbers(f.statuses, status_proto),
        plans: numbers(f.plans, plan_proto),
        industry_sectors: numbers(f.industry_sectors, sector_proto),
        industry_groups: numbers(f.industry_groups, group_proto),
        size_ranges: numbers(f.size_ranges, size_proto),
        provisions_tenants: f.provisions_tenants,
        client_of: f.client_of.unwrap_or_default(),
    }
}

/// The proto numbers of repeated enum flags.
fn numbers<A, P: Into<i32>>(values: Vec<A>, proto: fn(A) -> P) -> Vec<i32> {
    values.into_iter().map(|v| proto(v).into()).collect()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::entityctl::args::{Cli, Command};

    fn call_of(line: &str) -> Call {
        match Cli::try_parse_from(line.split(' ')).map(|c| c.command) {
            Ok(Command::Search(command)) => call(command, DateTime::UNIX_EPOCH),
            other => panic!("{line}: parsed as {other:?}"),
        }
    }

    #[test]
    fn search_requests_carry_the_scope_and_every_filter() {
        let Call::Customers(request, page) = call_of(
            "entityctl search customers --scope business-customers --query acme --entry customer \
             --kind business --status active --status suspended --plan gold \
             --industry-sector information-technology --industry-group software-services \
             --size-range 51-200 --size-range 10001+ --provisions-tenants false --client-of C \
             --page-size 5 --page-token p --all --consistency-token ct",
        ) else {
            panic!("not a search");
        };
        assert_eq!(
            (request.tenant_id.as_str(), request.scope),
            ("", pb::SearchScope::BusinessCustomers as i32)
        );
        assert_eq!(request.consistency_token, "ct");
        assert_eq!(
            (page.page_size, page.page_token.as_deref(), page.all),
            (Some(5), Some("p"), true)
        );
        let f = request.filter.unwrap_or_default();
        assert_eq!(
            (f.text.as_str(), f.entry),
            ("acme", pb::SearchEntryKind::Customer as i32)
        );
        assert_eq!(f.kinds, [pb::TenantKind::Business as i32]);
        assert_eq!(
            f.statuses,
            [
                pb::SearchStatus::Active as i32,
                pb::SearchStatus::Suspended as i32
            ]
        );
        assert_eq!(f.plans, [pb::Plan::Gold as i32]);
        assert_eq!(
            f.industry_sectors,
            [pb::IndustrySector::InformationTechnology as i32]
        );
        assert_eq!(
            f.industry_groups,
            [pb::IndustryGroup::SoftwareServices as i32]
        );
        assert_eq!(
            f.size_ranges,
            [
                pb::SizeRange::SizeRange51200 as i32,
                pb::SizeRange::SizeRange10001Plus as i32
            ]
        );
        assert_eq!(
            (f.provisions_tenants, f.client_of.as_str()),
            (Some(false), "C")
        );
    }

    #[test]
    fn a_tenant_names_its_clients_and_nothing_names_the_default() {
        let Call::Customers(own, _) = call_of("entityctl search customers T") else {
            panic!("not a search");
        };
        assert_eq!(
            (own.tenant_id.as_str(), own.scope),
            ("T", pb::SearchScope::OwnClients as i32)
        );
        assert_eq!(
            own.filter,
            Some(pb::SearchFilter::default()),
            "no condition"
        );
        let Call::Customers(default, page) = call_of("entityctl search customers --search-key k")
        else {
            panic!("not a search");
        };
        assert_eq!(
            (default.tenant_id.as_str(), default.scope),
            ("", pb::SearchScope::Unspecified as i32)
        );
        assert_eq!((page.page_size, page.all), (None, false));
    }

    #[test]
    fn key_requests_carry_their_validity() {
        let Call::CreateKey(request) =
            call_of("entityctl search create-key T --query glob --ttl-secs 600")
        else {
            panic!("not a key");
        };
        assert_eq!(
            (request.tenant_id.as_str(), request.scope),
            ("T", pb::SearchScope::OwnClients as i32)
        );
        assert_eq!(request.filter.map(|f| f.text), Some("glob".to_owned()));
        assert_eq!(request.valid_until.map(|t| t.seconds), Some(600));
        let Call::CreateKey(request) = call_of(
            "entityctl search create-key --scope all-customers --valid-until 2030-01-31T00:00:00Z",
        ) else {
            panic!("not a key");
        };
        assert_eq!(request.scope, pb::SearchScope::AllCustomers as i32);
        assert_eq!(request.valid_until.map(|t| t.seconds), Some(1_896_048_000));
        let Call::CreateKey(request) = call_of("entityctl search create-key") else {
            panic!("not a key");
        };
        assert_eq!(request.valid_until, None, "the server's default");
    }
}
