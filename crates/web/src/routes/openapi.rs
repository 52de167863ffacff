//! `GET /api/v1/openapi.json`: the API described from the route table itself, so the document
//! lists exactly the routes that exist, with who may call them, and from each route's
//! [`Contract`]: its query parameters, body and answer as the schemas of the Rust types the
//! handler reads and writes. See docs/decisions/0004-openapi-from-the-route-table.md and
//! docs/decisions/0017-api-schemas-from-the-types.md.

use axum::extract::State;
use axum::http::Method;
use domain::openlist::dataset::DatasetMeta;
use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::{RouteSpec, specs};
use super::{
    agreement_template, api_access, api_audit, api_auth, api_jobs, api_openlist, api_orgs,
    api_privacy, api_reviews, api_search, api_tickets, api_uploads, ckan, data, experts, inbox,
    news, samples,
};
use crate::articles::{ArticleList, ArticleView};
use crate::contract::{Answer, Body, Contract};
use crate::openlist::DatasetView;
use crate::state::AppState;
use app::accounts::{NewToken, Registration};
use app::articles::ArticleInput;
use app::orgs::NewOrg;
use app::tickets::{ResubmitInput, ReturnInput, TicketInput};
use app::vocab::{DomainInput, ExceptionInput, FormatInput, GlossaryInput};

/// The contract of each `/api` route; `None` for a route the document would not know.
pub fn contract(method: &Method, path: &str) -> Option<Contract> {
    let c = Contract::new;
    Some(match (method.as_str(), path) {
        ("POST", "/api/v1/auth/register") => {
            c("Register a natural person or an organization (统一社会信用代码 checked)")
                .body::<Registration>()
                .created::<api_auth::UserView>()
        }
        ("POST", "/api/v1/auth/login") => {
            c("Sign in; sets a session cookie and returns the session's CSRF token")
                .body::<api_auth::Login>()
                .ok::<api_auth::SignedIn>()
        }
        ("POST", "/api/v1/auth/logout") => c("Sign out"),
        ("GET", "/api/v1/me") => c("The signed-in account, its platform roles and memberships")
            .ok::<api_auth::MeView>(),
        ("GET", "/api/v1/me/tokens") => {
            c("List personal API tokens (never their secrets)").ok::<api_auth::TokenList>()
        }
        ("POST", "/api/v1/me/tokens") => {
            c("Create a personal API token; the secret is returned once")
                .body::<NewToken>()
                .created::<api_auth::NewTokenView>()
        }
        ("DELETE", "/api/v1/me/tokens/{id}") => c("Revoke a personal API token"),
        ("GET", "/api/v1/me/notifications") => {
            c("The caller's latest notices (applications, work orders, agreements), newest first")
                .ok::<inbox::NotificationList>()
        }
        ("POST", "/api/v1/me/password") => {
            c("Change the password: the current one typed again; every other session ends")
                .body::<app::password_changes::PasswordChange>()
                .ok::<api_auth::PasswordChanged>()
        }
        ("GET", "/api/v1/orgs") => {
            c("List organizations (providers and the operator)").ok::<api_orgs::OrgList>()
        }
        ("POST", "/api/v1/orgs") => c("Create a provider organization")
            .body::<NewOrg>()
            .created::<api_orgs::OrgView>(),
        ("GET", "/api/v1/orgs/{org}") => {
            c("One organization, by id or slug").ok::<api_orgs::OrgView>()
        }
        ("GET", "/api/v1/orgs/{org}/members") => {
            c("Members of an organization and their roles").ok::<api_orgs::MemberList>()
        }
        ("PUT", "/api/v1/orgs/{org}/members") => c("Add a member or change a member's role")
            .body::<api_orgs::SetMember>()
            .ok::<api_orgs::MemberSet>(),
        ("DELETE", "/api/v1/orgs/{org}/members/{user}") => c("Remove a member"),
        ("GET", "/api/v1/users") => c("List accounts")
            .query::<api_orgs::Paging>()
            .ok::<api_orgs::UserList>(),
        ("POST", "/api/v1/users/{user}/roles") => {
            c("Grant a platform role").body::<api_orgs::GrantRole>()
        }
        ("GET", "/api/v1/audit") => {
            c("The audit trail, filtered by actor, target, action and time (A25.5, A26.1)")
                .query::<api_audit::AuditParams>()
                .ok::<api_audit::AuditPage>()
        }
        ("GET", "/api/v1/vocabularies") => {
            c("Domains, formats, glossary, areas and the other closed vocabularies")
                .ok::<api_openlist::Vocabularies>()
        }
        ("GET", "/api/v1/classification-guide") => {
            c("The classification guide in force (A13.1)").ok::<api_openlist::GuideDoc>()
        }
        ("PUT", "/api/v1/classification-guide") => {
            c("Save a new version of the classification guide")
                .body::<api_openlist::NewGuide>()
                .created::<api_openlist::GuideDoc>()
        }
        ("GET", "/api/v1/classification-guide/versions") => {
            c("Every version of the classification guide").ok::<api_openlist::GuideVersions>()
        }
        ("GET", "/api/v1/classification-guide/versions/{version}") => {
            c("One version of the classification guide").ok::<api_openlist::GuideDoc>()
        }
        ("POST", "/api/v1/classification-guide/evaluate") => {
            c("The open type a grading permits, and suggested conditions (A13.2)")
                .body::<api_openlist::Evaluate>()
                .ok::<api_openlist::Evaluation>()
        }
        ("GET", "/api/v1/orgs/{org}/catalogue") => {
            c("A provider's public data catalogue items (A9.5)").ok::<api_openlist::Catalogue>()
        }
        ("POST", "/api/v1/orgs/{org}/catalogue") => {
            c("Import catalogue items from JSON or CSV (the same columns)")
                .json_or_csv_body::<api_openlist::ImportBody>()
                .ok::<api_openlist::Imported>()
        }
        ("DELETE", "/api/v1/orgs/{org}/catalogue/{item}") => {
            c("Delete a catalogue item no field links to")
        }
        ("GET", "/api/v1/orgs/{org}/datasets") => {
            c("A provider's open-list entries, of every status")
                .query::<api_openlist::StatusFilter>()
                .ok::<api_openlist::OrgDatasets>()
        }
        ("POST", "/api/v1/orgs/{org}/datasets") => c("Create a draft open-list entry (A9.1)")
            .body::<DatasetMeta>()
            .created::<DatasetView>(),
        ("GET", "/api/v1/datasets") => {
            c("Search the open list: q, filters, facets, sort, paging (A25.3)")
                .query::<api_search::SearchParamsDoc>()
                .ok::<api_search::Listing<'static>>()
        }
        ("GET", "/api/v1/datasets/{dataset}") => {
            c("One open-list entry, with its citation (A29.3)").ok::<DatasetView>()
        }
        ("PUT", "/api/v1/datasets/{dataset}") => {
            c("Edit a draft entry (`If-Match` with the ETag of GET refuses a stale edit)")
                .body::<DatasetMeta>()
                .ok::<DatasetView>()
        }
        ("GET", "/api/v1/datasets/{dataset}/check") => {
            c("Every reason the entry cannot be published yet (A9)")
                .ok::<api_openlist::PublishCheck>()
        }
        ("POST", "/api/v1/datasets/{dataset}/review") => {
            c("Record the annual review of an entry (A10.1)")
                .optional_body::<api_openlist::ReviewInput>()
        }
        ("POST", "/api/v1/datasets/{dataset}/data-updates") => {
            c("Record that a published entry's data was updated now (A9.4 timeliness)")
        }
        ("GET", "/api/v1/orgs/{org}/reviews") => {
            c("Entries due for their annual review (A10.1)").ok::<api_openlist::ReviewsDue>()
        }
        ("GET", "/api/v1/orgs/{org}/review-cycles/{year}") => c(
            "A provider's annual review of a year: its state, due day and every entry it covers (A10.1)",
        )
        .ok::<api_reviews::CycleDoc>(),
        ("POST", "/api/v1/orgs/{org}/review-cycles/{year}/submit") => c(
            "Submit the year's annual review: every entry must have been confirmed or changed that year",
        )
        .optional_body::<api_reviews::CycleNote>()
        .ok::<api_reviews::CycleDoc>(),
        ("POST", "/api/v1/orgs/{org}/review-cycles/{year}/accept") => {
            c("Accept a provider's submitted annual review (operator)")
                .optional_body::<api_reviews::CycleNote>()
                .ok::<api_reviews::CycleDoc>()
        }
        ("POST", "/api/v1/orgs/{org}/review-cycles/{year}/return") => {
            c("Give a submitted annual review back to its provider, with the reason (operator)")
                .body::<api_reviews::CycleNote>()
                .ok::<api_reviews::CycleDoc>()
        }
        ("GET", "/api/v1/datasets/{dataset}/versions") => {
            c("Published versions of an entry").ok::<api_openlist::VersionList>()
        }
        ("POST", "/api/v1/uploads") => c(
            "Upload a file (the body, `name` in the query) to attach to a ticket or an article by its id",
        )
        .query::<api_uploads::UploadQuery>()
        .file_body()
        .created::<api_uploads::UploadView>(),
        ("POST", "/api/v1/datasets/{dataset}/tickets") => {
            c("Submit an open-list change ticket (A11.1)")
                .body::<TicketInput>()
                .created::<api_tickets::TicketView>()
        }
        ("GET", "/api/v1/datasets/{dataset}/tickets") => c("Tickets of an entry")
            .query::<api_tickets::StateFilter>()
            .ok::<api_tickets::TicketList>(),
        ("GET", "/api/v1/orgs/{org}/tickets") => c("Tickets of a provider")
            .query::<api_tickets::StateFilter>()
            .ok::<api_tickets::TicketList>(),
        ("GET", "/api/v1/tickets") => c("The operator's ticket queue")
            .query::<api_tickets::StateFilter>()
            .ok::<api_tickets::TicketList>(),
        ("GET", "/api/v1/tickets/{ticket}") => {
            c("One ticket with its diff, history and attachments").ok::<api_tickets::TicketView>()
        }
        ("POST", "/api/v1/tickets/{ticket}/accept") => {
            c("Accept a ticket: the change takes effect as a new version")
                .optional_body::<api_tickets::AcceptInput>()
                .ok::<api_tickets::TicketView>()
        }
        ("POST", "/api/v1/tickets/{ticket}/return") => c("Return a ticket with reasons of A11.3")
            .body::<ReturnInput>()
            .ok::<api_tickets::TicketView>(),
        ("POST", "/api/v1/tickets/{ticket}/resubmit") => {
            c("Revise and resubmit a returned ticket")
                .body::<ResubmitInput>()
                .ok::<api_tickets::TicketView>()
        }
        ("POST", "/api/v1/tickets/{ticket}/cancel") => {
            c("Cancel an open ticket").ok::<api_tickets::TicketView>()
        }
        ("GET", "/api/v1/tickets/{ticket}/attachments/{attachment}") => {
            c("Download a ticket attachment").file()
        }
        ("POST", "/api/v1/applications") => {
            c("Start an application for conditional data (A18.2) as a draft; the applicant is the caller")
                .body::<api_access::FormInput>()
                .created::<api_access::ApplicationView>()
        }
        ("GET", "/api/v1/applications") => c("The caller's own applications, the latest change first")
            .query::<api_access::ListQuery>()
            .ok::<api_access::ApplicationList>(),
        ("GET", "/api/v1/completeness-queue") => {
            c("Submitted applications awaiting the completeness review (A19.1), the longest waiting first")
                .query::<api_access::ListQuery>()
                .ok::<api_access::ApplicationList>()
        }
        ("GET", "/api/v1/applications/{application}") => {
            c("One application with its materials, review rounds and work orders")
                .ok::<api_access::ApplicationView>()
        }
        ("PUT", "/api/v1/applications/{application}") => {
            c("Save a draft's (or a returned application's) form")
                .body::<api_access::FormInput>()
                .ok::<api_access::ApplicationView>()
        }
        ("POST", "/api/v1/applications/{application}/materials") => {
            c("Attach an upload as a required material (A18.1) or as the security pledge")
                .body::<api_access::AttachInput>()
                .created::<api_access::MaterialView>()
        }
        ("GET", "/api/v1/applications/{application}/materials/{material}") => {
            c("Download a material").file()
        }
        ("DELETE", "/api/v1/applications/{application}/materials/{material}") => {
            c("Remove a material from a draft")
        }
        ("POST", "/api/v1/applications/{application}/submit") => {
            c("Submit (or resubmit) an application: complete, or every problem at once")
                .ok::<api_access::ApplicationView>()
        }
        ("POST", "/api/v1/applications/{application}/withdraw") => {
            c("Withdraw an application not yet accepted").ok::<api_access::ApplicationView>()
        }
        ("POST", "/api/v1/applications/{application}/accept") => {
            c("Completeness review: accept; one work order per provider, due in 10 working days (A19.1, A19.2)")
                .ok::<api_access::ApplicationView>()
        }
        ("POST", "/api/v1/applications/{application}/return") => {
            c("Completeness review: return with every reason at once (A19.1)")
                .body::<api_access::ReturnInput>()
                .ok::<api_access::ApplicationView>()
        }
        ("GET", "/api/v1/oversight") => {
            c("How providers handle applications: decisions on time, working days to decide, overdue work orders (operator, regulator)")
                .ok::<app::oversight::Summary>()
        }
        ("GET", "/api/v1/orgs/{org}/agreement-template") => {
            c("A provider's data use agreement template (its own, or the platform's default)")
                .ok::<agreement_template::TemplateView>()
        }
        ("PUT", "/api/v1/orgs/{org}/agreement-template") => {
            c("Save a provider's agreement template: known placeholders only, the required ones all used (A20.1)")
                .body::<agreement_template::TemplateInput>()
                .ok::<agreement_template::TemplateView>()
        }
        ("GET", "/api/v1/orgs/{org}/work-orders") => {
            c("A provider's work orders, the nearest deadline first (A19.2)")
                .query::<api_access::InboxQuery>()
                .ok::<api_access::WorkOrderList>()
        }
        ("GET", "/api/v1/work-orders/{order}") => {
            c("One work order: who applied for what, the materials and the deadline")
                .ok::<api_access::WorkOrderView>()
        }
        ("GET", "/api/v1/work-orders/{order}/materials/{material}") => {
            c("Download a material of a work order's entries").file()
        }
        ("GET", "/api/v1/agreements/{agreement}") => {
            c("A data use agreement (A20.1): its frozen text, SHA-256, grants and signatures")
                .ok::<api_access::AgreementView>()
        }
        ("POST", "/api/v1/agreements/{agreement}/sign") => {
            c("Sign an agreement with the password typed again and the SHA-256 of the text read")
                .body::<api_access::SignInput>()
                .ok::<api_access::Signed>()
        }
        ("POST", "/api/v1/agreements/{agreement}/credential") => {
            c("The applicant takes a new credential for an active agreement (the old one stops working)")
                .created::<api_access::CredentialView>()
        }
        ("GET", "/api/v1/agreements/{agreement}/sandbox") => {
            c("An agreement's sandbox: the entries granted there, their budgets and the newest queries (A21.2)")
                .ok::<super::sandbox::SandboxDoc>()
        }
        ("POST", "/api/v1/agreements/{agreement}/sandbox") => {
            c("Ask aggregates of conditional data in the sandbox: groups below the threshold suppressed, queries that single people out refused (A21.2, A25.6)")
                .body::<app::sandbox::QueryInput>()
                .ok::<super::sandbox::SandboxResult>()
        }
        ("GET", "/api/v1/agreements/{agreement}/usage") => {
            c("The calls made under an agreement per day, with the data items used (A29.1)")
                .ok::<api_access::AgreementUsage>()
        }
        ("POST", "/api/v1/agreements/{agreement}/delivery") => {
            c("Suspend, resume or revoke delivery under an agreement at once (A21.1)")
                .body::<api_access::ControlInput>()
                .ok::<api_access::AgreementView>()
        }
        ("POST", "/api/v1/work-orders/{order}/decision") => {
            c("Decide a work order: approve (possibly narrower) or refuse with every reason, the criteria of A19.2 recorded")
                .body::<app::access::DecisionInput>()
                .ok::<api_access::WorkOrderView>()
        }
        ("POST", "/api/v1/agreements/{agreement}/offline-deliveries") => {
            c("File a delivery made outside the platform under an active agreement: reason, recipient and the file's SHA-256, seen by the regulator (A21.1)")
                .body::<app::agreements::OfflineInput>()
                .created::<api_access::OfflineView>()
        }
        ("POST", "/api/v1/agreements/{agreement}/revise") => {
            c("Change an agreement in force: a new version, generated from the template, that both sides sign again; signed, it supersedes the old one and its credential (A20.1)")
                .body::<app::agreements::RevisionInput>()
                .created::<api_access::AgreementView>()
        }
        ("POST", "/api/v1/work-orders/{order}/experts") => {
            c("Send a work order to expert review: one to five expert accounts, each to file an opinion by a date before the deadline (A19.2)")
                .body::<app::experts::ReferralInput>()
                .ok::<experts::ReferralView>()
        }
        ("GET", "/api/v1/me/assignments") => {
            c("An expert's assignments, those awaiting an opinion first")
                .ok::<experts::AssignmentList>()
        }
        ("GET", "/api/v1/assignments/{assignment}") => {
            c("One expert review assignment, with the request it is about")
                .ok::<experts::AssignmentDetail>()
        }
        ("POST", "/api/v1/assignments/{assignment}/opinion") => {
            c("File an expert's opinion; the last one awaited returns the work order to its provider")
                .body::<app::experts::OpinionInput>()
                .ok::<experts::AssignmentDetail>()
        }
        ("GET", "/api/v1/articles") => {
            c("Published policies, rules and news, newest first")
                .query::<news::ListQuery>()
                .ok::<ArticleList>()
        }
        ("GET", "/api/v1/articles/{id}") => {
            c("One article, with its Markdown rendered to safe HTML").ok::<ArticleView>()
        }
        ("POST", "/api/v1/articles") => c("Write a policy, rule or news article (operator)")
            .body::<ArticleInput>()
            .created::<ArticleView>(),
        ("PUT", "/api/v1/articles/{id}") => c("Change or publish an article (operator)")
            .body::<ArticleInput>()
            .ok::<ArticleView>(),
        ("GET", "/api/v1/openapi.json") => c("This document").ok::<Value>(),
        ("POST", "/api/v1/datasets/{dataset}/data") => c(
            "Upload an entry's data (the file is the body); it is read, checked and published by a background job",
        )
        .query::<data::UploadQuery>()
        .file_body()
        .accepted::<data::VersionView>(),
        ("GET", "/api/v1/datasets/{dataset}/data/versions") => {
            c("An entry's data versions, newest first (uploads not published: to its provider)")
                .ok::<data::VersionList>()
        }
        ("GET", "/api/v1/datasets/{dataset}/data/versions/{version}") => {
            c("One data version (by id or number), with its progress, quality report and profile")
                .query::<data::WaitQuery>()
                .ok::<data::VersionView>()
        }
        ("POST", "/api/v1/datasets/{dataset}/data/versions/{version}/cancel") => {
            c("Stop reading an upload").ok::<data::VersionView>()
        }
        ("GET", "/api/v1/datasets/{dataset}/data/versions/{version}/failures.csv") => {
            c("The rows of an upload that failed the quality gate, with their line and problems")
                .file()
        }
        ("GET", "/api/v1/sql") => {
            c("One read-only SELECT over open data (tables: entries by id or name)")
                .query::<super::sql::SqlInput>()
                .ok::<super::sql::SqlAnswer>()
        }
        ("POST", "/api/v1/sql") => {
            c("One read-only SELECT over open data, with limits on time, memory and rows")
                .body::<super::sql::SqlInput>()
                .ok::<super::sql::SqlAnswer>()
        }
        ("GET", "/api/v1/datasets/{dataset}/records") => {
            c("Query an unconditional entry's records: filters, words, fields, sort, pages")
                .query::<data::RecordsParamsDoc>()
                .ok::<data::RecordsDoc>()
        }
        ("GET", "/api/v1/quality") => {
            c("The quality of every provider's data uploads per month (A16.4)")
                .query::<super::quality::QualityQuery>()
                .ok::<super::quality::QualityAnswer>()
        }
        ("GET", "/api/v1/calendar") => {
            c("The working-day calendar review deadlines are counted on, and a count from a date (A19.2)")
                .query::<super::calendar::CalendarQuery>()
                .ok::<super::calendar::CalendarAnswer>()
        }
        ("PUT", "/api/v1/calendar/{year}") => {
            c("Load or correct a year's holidays and make-up workdays (the operator)")
                .body::<super::calendar::YearInput>()
                .ok::<super::calendar::YearView>()
        }
        ("GET", "/api/v1/jobs") => c("The background job queue: its depth, and jobs newest first")
            .query::<api_jobs::JobQuery>()
            .ok::<api_jobs::JobList>(),
        ("GET", "/api/v1/jobs/{job}") => {
            c("One background job, with its progress").ok::<api_jobs::JobView>()
        }
        ("POST", "/api/v1/jobs/{job}/cancel") => {
            c("Cancel a background job").ok::<api_jobs::JobView>()
        }
        ("PUT", "/api/v1/vocabularies/formats/{code}") => {
            c("Add or change a format and its openness (A9.3)").body::<FormatInput>()
        }
        ("PUT", "/api/v1/vocabularies/glossary/{term}") => {
            c("Explain an abbreviation for the whole platform (A9.1)").body::<GlossaryInput>()
        }
        ("PUT", "/api/v1/vocabularies/domains/{code}") => {
            c("Add or rename a domain").body::<DomainInput>()
        }
        ("GET", "/api/v1/datasets/{dataset}/sample") => c(
            "The entry's sample data (A22.1): the one anyone downloads, with its fidelity report",
        )
        .ok::<samples::SampleDoc>(),
        ("POST", "/api/v1/datasets/{dataset}/sample") => c(
            "Define a conditional entry's sample (size, strata, seed) and draw it from the \
             current version; redrawn on each new version (the operator)",
        )
        .body::<samples::SampleInput>()
        .accepted::<samples::SampleView>(),
        ("GET", "/api/v1/datasets/{dataset}/privacy") => c(
            "The entry's de-identification plan, the scan of its newest upload for personal \
             information, and the operator's exceptions (provider, operator, regulator)",
        )
        .ok::<api_privacy::PrivacyDoc>(),
        ("PUT", "/api/v1/datasets/{dataset}/privacy") => c(
            "Set the de-identification rule of each data item, the quasi-identifiers and the \
             sensitive item; applied to the next upload",
        )
        .body::<api_privacy::PlanInput>()
        .ok::<api_privacy::PrivacyDoc>(),
        ("POST", "/api/v1/datasets/{dataset}/privacy/exceptions") => c(
            "Allow a kind of personal information to be opened in one data item, with a reason \
             (an operator outside the providing organization)",
        )
        .body::<api_privacy::ExceptionInput>()
        .created::<api_privacy::ExceptionView>(),
        ("DELETE", "/api/v1/datasets/{dataset}/privacy/exceptions/{id}") => {
            c("Withdraw an exception: the next upload is held to the rules again")
        }
        ("POST", "/api/v1/datasets/{dataset}/format-exceptions") => {
            c("Allow a proprietary format for one entry, with a reason (A9.3)")
                .body::<ExceptionInput>()
        }
        (_, p) if p.starts_with("/api/3/action/") || p.starts_with("/api/action/") => c(
            "CKAN-compatible action; parameters in the query string or a JSON or form body (see help_show)",
        )
        .ok::<ckan::Envelope>(),
        _ => return None,
    })
}

/// The path parameters of a route, from its path; years and versions are numbers.
fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let schema = match name {
                "year" | "version" => json!({ "type": "integer" }),
                "action" => json!({ "type": "string", "enum": ckan::action_names() }),
                _ => json!({ "type": "string" }),
            };
            json!({ "name": name, "in": "path", "required": true, "schema": schema })
        })
        .collect()
}

/// The query parameters of a route: the properties of its query object. A list is the
/// parameter repeated.
fn query_parameters(generator: &mut SchemaGenerator, contract: &Contract) -> Vec<Value> {
    let Some(query) = contract.query else {
        return Vec::new();
    };
    let schema = query(generator).to_value();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, schema)| {
            // A parameter left out is "none": a query string has no null to send.
            let schema = &not_null(schema.clone());
            let mut p = json!({
                "name": name, "in": "query", "required": required.contains(&name.as_str()),
                "schema": schema,
            });
            if let Some(description) = schema.get("description") {
                p["description"] = description.clone();
            }
            if is_list(schema) {
                p["style"] = json!("form");
                p["explode"] = json!(true);
            }
            p
        })
        .collect()
}

fn not_null(mut schema: Value) -> Value {
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            schema["type"] = types[0].clone();
        }
    }
    if let Some(Value::Array(any)) = schema.get("anyOf") {
        let rest: Vec<Value> = any
            .iter()
            .filter(|s| s.get("type") != Some(&json!("null")))
            .cloned()
            .collect();
        if rest.len() == 1 {
            let mut only = rest[0].clone();
            if let (Some(map), Some(description)) =
                (only.as_object_mut(), schema.get("description"))
            {
                map.insert("description".into(), description.clone());
            }
            return only;
        }
    }
    schema
}

fn is_list(schema: &Value) -> bool {
    match &schema["type"] {
        Value::String(t) => t == "array",
        Value::Array(types) => types.iter().any(|t| t == "array"),
        _ => false,
    }
}

fn json_content(schema: Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}

fn operation(generator: &mut SchemaGenerator, spec: &RouteSpec, contract: &Contract) -> Value {
    let mut parameters = path_parameters(spec.path);
    parameters.extend(query_parameters(generator, contract));
    let ckan = !spec.path.starts_with("/api/v1/");
    let error = match ckan {
        true => {
            json!({ "description": "A CKAN error: `success` false and the `error` object", "content": json_content(json!({ "$ref": "#/components/schemas/Envelope" })) })
        }
        false => {
            json!({ "description": "A clear error with a stable code", "content": json_content(json!({ "$ref": "#/components/schemas/Error" })) })
        }
    };
    let success = match contract.answer {
        Answer::Json { status, schema } => (
            status.to_string(),
            json!({ "description": "Success", "content": json_content(schema(generator).to_value()) }),
        ),
        Answer::NoContent => ("204".into(), json!({ "description": "Done" })),
        Answer::File => (
            "200".into(),
            json!({ "description": "The file, with the media type found in its content", "content": {
                "*/*": { "schema": { "type": "string", "format": "binary" } },
            } }),
        ),
    };
    let mut responses = Map::new();
    responses.insert(success.0, success.1);
    responses.insert("4XX".into(), error);
    let mut op = json!({
        "summary": contract.summary,
        "operationId": format!("{}_{}", spec.method.as_str().to_lowercase(), spec.path.trim_start_matches('/').replace(['/', '{', '}', '.', '-'], "_")),
        "x-kaifang-action": spec.action,
        "parameters": parameters,
        "responses": responses,
    });
    let body = match contract.body {
        Body::None => None,
        Body::Json { schema, required } => Some(json!({
            "required": required,
            "content": json_content(schema(generator).to_value()),
        })),
        Body::File => Some(json!({
            "required": true,
            "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } },
        })),
        Body::JsonOrCsv(schema) => Some(json!({
            "required": true,
            "content": {
                "application/json": { "schema": schema(generator).to_value() },
                "text/csv": { "schema": { "type": "string" } },
            },
        })),
    };
    if let Some(body) = body {
        op["requestBody"] = body;
    }
    op["security"] = if spec.action.is_public() {
        json!([{}])
    } else {
        json!([{ "bearer": [] }, { "session": [], "csrf": [] }])
    };
    op
}

pub fn document(public_url: &str) -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        })
        .into_generator();
    let mut paths: Map<String, Value> = Map::new();
    for spec in specs().iter().filter(|s| s.path.starts_with("/api/")) {
        let Some(contract) = contract(&spec.method, spec.path) else {
            continue;
        };
        let op = operation(&mut generator, spec, &contract);
        let entry = paths
            .entry(spec.path.to_owned())
            .or_insert_with(|| json!({}));
        entry[spec.method.as_str().to_lowercase()] = op;
    }
    // The two error shapes every operation refers to.
    generator.subschema_for::<crate::error::ErrorBody>();
    generator.subschema_for::<ckan::Envelope>();
    let schemas = generator.take_definitions(true);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Kaifang API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The open data platform's API. Errors: {error: {code, message, fields}} with a stable code (also in X-Error-Code), messages in the language of Accept-Language.",
        },
        "servers": [{ "url": public_url }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "A personal API token, kf_..." },
                "session": { "type": "apiKey", "in": "cookie", "name": "kf_session" },
                "csrf": { "type": "apiKey", "in": "header", "name": "X-CSRF-Token" },
            },
            "schemas": schemas,
        },
    })
}

pub async fn openapi(State(state): State<AppState>) -> axum::response::Response {
    let text = state
        .openapi
        .get_or_init(|| document(&state.config.public_url).to_string());
    super::api_search::json_body(text.clone())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    #[test]
    fn every_api_route_is_documented_with_a_summary() {
        let doc = super::document("http://localhost");
        for spec in super::specs()
            .iter()
            .filter(|s| s.path.starts_with("/api/"))
        {
            let op = &doc["paths"][spec.path][spec.method.as_str().to_lowercase()];
            assert!(op.is_object(), "{} {}", spec.method, spec.path);
            assert!(
                !op["summary"].as_str().unwrap_or("").is_empty(),
                "no summary for {} {}",
                spec.method,
                spec.path
            );
        }
    }

    /// Every `$ref` of the document names a schema it defines, and no answer is the bare
    /// `{"type": "object"}` that says nothing.
    #[test]
    fn every_reference_resolves_and_every_json_answer_has_a_schema() {
        let doc = super::document("http://localhost");
        fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
            match v {
                Value::Object(map) => {
                    if let Some(Value::String(r)) = map.get("$ref") {
                        out.push(r);
                    }
                    map.values().for_each(|v| refs(v, out));
                }
                Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > 50, "{} references", found.len());
        for r in found {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{r}"));
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{r} is not defined"
            );
        }
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for (status, answer) in op["responses"].as_object().unwrap() {
                    if let Some(schema) = answer.pointer("/content/application~1json/schema") {
                        assert_ne!(
                            schema,
                            &serde_json::json!({ "type": "object" }),
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
    }
}
