//! The route table. Every route is declared here with the action it performs and what it acts
//! on; the router is built from this table and each route is wrapped in a guard that asks the
//! authorization policy before the handler runs. `tests/authorization.rs` walks the table.

mod agreement_template;
mod api_access;
mod api_audit;
mod api_auth;
mod api_jobs;
mod api_openlist;
mod api_orgs;
mod api_privacy;
mod api_reviews;
pub mod api_search;
mod api_tickets;
mod api_uploads;
mod applications;
mod calendar;
pub(crate) mod ckan;
pub(crate) mod console;
pub(crate) mod data;
mod directory;
mod experts;
mod guide;
mod health;
mod inbox;
mod news;
mod openapi;
mod operator;
mod oversight;
mod pages;
mod passwords;
mod portal;
mod quality;
mod samples;
mod sandbox;
mod site;
mod sql;
mod trail;

use std::collections::HashMap;

use axum::extract::{Path, Request, State};
use axum::http::Method;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use axum::{RequestExt, Router};
use domain::policy::{Action, Resource};

use crate::ctx::Ctx;
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

/// What a route acts on, for the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Platform,
    OwnAccount,
    /// The organization named (by id or slug) in the `{org}` path segment.
    OrgInPath,
    /// The entry named in the `{dataset}` path segment.
    DatasetInPath,
    /// The ticket in the `{ticket}` path segment.
    TicketInPath,
    /// The article in the `{id}` path segment.
    ArticleInPath,
    /// The application for conditional data in the `{application}` path segment.
    ApplicationInPath,
    /// The work order in the `{order}` path segment.
    WorkOrderInPath,
    /// The data use agreement in the `{agreement}` path segment.
    AgreementInPath,
    /// The expert review assignment in the `{assignment}` path segment.
    AssignmentInPath,
}

#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub action: Action,
    pub target: Target,
}

type Handler = MethodRouter<AppState>;

macro_rules! routes {
    ($($method:ident $path:literal => $action:ident on $target:ident : $handler:expr),+ $(,)?) => {
        vec![$((
            RouteSpec {
                method: Method::$method,
                path: $path,
                action: Action::$action,
                target: Target::$target,
            },
            on(MethodFilter::$method, $handler) as Handler,
        )),+]
    };
}

fn table() -> Vec<(RouteSpec, Handler)> {
    routes![
        GET "/healthz" => ViewPublic on Platform: health::healthz,
        GET "/readyz" => ViewPublic on Platform: health::readyz,
        GET "/static/site.css" => ViewPublic on Platform: pages::stylesheet,
        GET "/" => ViewPublic on Platform: pages::home,
        GET "/lang/{code}" => ViewPublic on Platform: pages::switch_language,
        GET "/display/{mode}" => ViewPublic on Platform: pages::switch_display,
        GET "/static/site.js" => ViewPublic on Platform: pages::script,
        GET "/static/console.js" => ViewPublic on Platform: pages::console_script,
        GET "/datasets" => ViewPublic on Platform: portal::search_page,
        GET "/datasets/{dataset}" => ViewPublic on DatasetInPath: portal::dataset_page,
        GET "/datasets/{dataset}/download" => ReadOpenData on DatasetInPath: data::download,
        GET "/datasets/{dataset}/sample" => ViewPublic on DatasetInPath: samples::download,
        GET "/orgs" => ViewPublic on Platform: directory::providers,
        GET "/orgs/{org}" => ViewPublic on OrgInPath: portal::provider_page,
        GET "/domains" => ViewPublic on Platform: directory::domains,
        GET "/domains/{code}" => ViewPublic on Platform: portal::domain_page,
        GET "/pages/{page}" => ViewPublic on Platform: site::page,
        GET "/developers" => ViewPublic on Platform: site::developers,
        GET "/news" => ViewPublic on Platform: news::list_page,
        GET "/news/{id}" => ViewPublic on ArticleInPath: news::detail_page,
        GET "/news/{id}/attachments/{attachment}" => ViewPublic on ArticleInPath: news::attachment,
        GET "/login" => LogIn on Platform: pages::login_form,
        POST "/login" => LogIn on Platform: pages::login_submit,
        GET "/register" => Register on Platform: pages::register_form,
        POST "/register" => Register on Platform: pages::register_submit,
        POST "/logout" => LogOut on OwnAccount: pages::logout,
        GET "/account" => ViewOwnAccount on OwnAccount: pages::account,
        POST "/account/tokens" => ManageOwnTokens on OwnAccount: pages::create_token,
        POST "/account/tokens/{id}/revoke" => ManageOwnTokens on OwnAccount: pages::revoke_token,
        GET "/account/password" => ChangeOwnPassword on OwnAccount: passwords::change_form,
        POST "/account/password" => ChangeOwnPassword on OwnAccount: passwords::change_submit,
        GET "/password/forgot" => LogIn on Platform: passwords::forgot_form,
        POST "/password/forgot" => LogIn on Platform: passwords::forgot_submit,
        GET "/password/reset" => LogIn on Platform: passwords::reset_form,
        POST "/password/reset" => LogIn on Platform: passwords::reset_submit,

        GET "/applications" => ViewOwnAccount on OwnAccount: applications::mine_page,
        GET "/applications/new" => Apply on OwnAccount: applications::new_page,
        POST "/applications" => Apply on OwnAccount: applications::create_form,
        GET "/applications/{application}" => ViewApplication on ApplicationInPath: applications::show_page,
        POST "/applications/{application}" => EditApplication on ApplicationInPath: applications::save_form,
        POST "/applications/{application}/materials" => EditApplication on ApplicationInPath: applications::attach_form,
        POST "/applications/{application}/submit" => EditApplication on ApplicationInPath: applications::submit_form,
        POST "/applications/{application}/withdraw" => EditApplication on ApplicationInPath: applications::withdraw_form,
        POST "/applications/{application}/accept" => CheckCompleteness on ApplicationInPath: applications::accept_form,
        POST "/applications/{application}/return" => CheckCompleteness on ApplicationInPath: applications::return_form,
        GET "/console/applications" => CheckCompleteness on Platform: applications::queue_page,
        GET "/console/oversight" => OverseeApplications on Platform: oversight::page,
        GET "/api/v1/oversight" => OverseeApplications on Platform: oversight::api,
        GET "/console/orgs/{org}/work-orders" => ViewWorkOrder on OrgInPath: applications::inbox_page,
        GET "/console/orgs/{org}/agreement-template" => ViewOrgInternal on OrgInPath: agreement_template::page,
        POST "/console/orgs/{org}/agreement-template" => EditAgreementTemplate on OrgInPath: agreement_template::save_form,
        GET "/api/v1/orgs/{org}/agreement-template" => ViewOrgInternal on OrgInPath: agreement_template::show,
        PUT "/api/v1/orgs/{org}/agreement-template" => EditAgreementTemplate on OrgInPath: agreement_template::save,
        GET "/console/work-orders/{order}" => ViewWorkOrder on WorkOrderInPath: applications::order_page,
        POST "/console/work-orders/{order}/decision" => DecideWorkOrder on WorkOrderInPath: applications::decide_form,
        POST "/console/work-orders/{order}/experts" => DecideWorkOrder on WorkOrderInPath: experts::refer_form,
        GET "/console/expert" => ViewAssignment on Platform: experts::list_page,
        GET "/console/expert/assignments/{assignment}" => ViewAssignment on AssignmentInPath: experts::assignment_page,
        POST "/console/expert/assignments/{assignment}/opinion" => GiveOpinion on AssignmentInPath: experts::opinion_form,
        GET "/agreements/{agreement}" => ViewAgreement on AgreementInPath: applications::agreement_page,
        POST "/agreements/{agreement}/sign" => SignAgreement on AgreementInPath: applications::sign_form,
        GET "/agreements/{agreement}/pdf" => ViewAgreement on AgreementInPath: applications::agreement_pdf,
        POST "/agreements/{agreement}/offline-deliveries" => ManageDelivery on AgreementInPath: applications::offline_form,
        POST "/agreements/{agreement}/revise" => ReviseAgreement on AgreementInPath: applications::revise_form,
        GET "/agreements/{agreement}/sandbox" => ViewAgreement on AgreementInPath: sandbox::page,
        POST "/agreements/{agreement}/sandbox" => QuerySandbox on AgreementInPath: sandbox::form,
        GET "/inbox" => ViewOwnAccount on OwnAccount: inbox::page,
        GET "/console" => ViewOwnAccount on OwnAccount: console::index,
        GET "/console/tickets" => ReviewTickets on Platform: console::queue,
        GET "/console/review-cycles" => ReviewTickets on Platform: console::review_desk,
        GET "/console/audit" => ViewAudit on Platform: trail::audit,
        GET "/console/audit/export.csv" => ViewAudit on Platform: trail::export,
        GET "/console/guide" => EditGuide on Platform: guide::page,
        GET "/console/calendar" => ManageCalendar on Platform: calendar::page,
        POST "/console/calendar" => ManageCalendar on Platform: calendar::save,
        POST "/console/guide" => EditGuide on Platform: guide::save,
        GET "/console/guide/versions/{version}" => EditGuide on Platform: guide::version,
        GET "/console/vocabularies" => ManageVocabularies on Platform: operator::vocabularies,
        POST "/console/vocabularies/formats" => ManageVocabularies on Platform: operator::save_format,
        POST "/console/vocabularies/glossary" => ManageVocabularies on Platform: operator::save_glossary,
        GET "/console/people" => ListUsers on Platform: operator::people,
        GET "/console/jobs" => ManageJobs on Platform: operator::jobs,
        GET "/console/quality" => ViewQuality on Platform: quality::page,
        POST "/console/jobs/{job}/cancel" => ManageJobs on Platform: operator::cancel_job,
        POST "/console/people/roles" => ManagePlatformRoles on Platform: operator::grant_role,
        GET "/console/articles" => PublishArticles on Platform: news::console_list,
        GET "/console/articles/new" => PublishArticles on Platform: news::new_form,
        POST "/console/articles" => PublishArticles on Platform: news::create_form,
        GET "/console/articles/{id}/edit" => PublishArticles on ArticleInPath: news::edit_form,
        POST "/console/articles/{id}" => PublishArticles on ArticleInPath: news::update_form,
        GET "/console/orgs/{org}" => ViewOrgInternal on OrgInPath: console::org_page,
        GET "/console/orgs/{org}/datasets/new" => EditOpenList on OrgInPath: console::new_entry,
        GET "/console/orgs/{org}/datasets/from-file" => EditOpenList on OrgInPath: console::from_file_form,
        POST "/console/orgs/{org}/datasets/from-file" => EditOpenList on OrgInPath: console::from_file,
        GET "/console/orgs/{org}/catalogue" => ViewOrgInternal on OrgInPath: console::catalogue,
        POST "/console/orgs/{org}/catalogue" => EditOpenList on OrgInPath: console::import_catalogue,
        GET "/console/orgs/{org}/reviews" => ViewOrgInternal on OrgInPath: console::reviews,
        POST "/console/orgs/{org}/review-cycles/{year}/submit" => EditOpenList on OrgInPath: console::submit_cycle,
        POST "/console/orgs/{org}/review-cycles/{year}/accept" => ReviewTickets on OrgInPath: console::accept_cycle,
        POST "/console/orgs/{org}/review-cycles/{year}/return" => ReviewTickets on OrgInPath: console::return_cycle,
        GET "/console/orgs/{org}/members" => ViewMembers on OrgInPath: console::members,
        POST "/console/orgs/{org}/members" => ManageMembers on OrgInPath: console::set_member,
        POST "/console/datasets/{dataset}/review" => EditOpenList on DatasetInPath: console::review_entry,
        POST "/console/datasets/{dataset}/data-update" => EditOpenList on DatasetInPath: console::record_data_update,
        POST "/console/orgs/{org}/datasets" => EditOpenList on OrgInPath: console::create_entry,
        GET "/console/datasets/{dataset}/edit" => ViewOrgInternal on DatasetInPath: console::edit_entry,
        GET "/console/datasets/{dataset}/data" => ViewOrgInternal on DatasetInPath: console::data::page,
        GET "/console/datasets/{dataset}/privacy" => ViewOrgInternal on DatasetInPath: console::privacy::page,
        POST "/console/datasets/{dataset}/privacy" => PublishData on DatasetInPath: console::privacy::save,
        POST "/console/datasets/{dataset}/privacy/exceptions" => GrantPrivacyException on DatasetInPath: console::privacy::grant,
        POST "/console/datasets/{dataset}/privacy/exceptions/{id}/withdraw" => GrantPrivacyException on DatasetInPath: console::privacy::withdraw,
        POST "/console/datasets/{dataset}/sample" => BuildSample on DatasetInPath: console::privacy::sample,
        POST "/console/datasets/{dataset}/data" => PublishData on DatasetInPath: console::data::upload,
        POST "/console/datasets/{dataset}/data/{version}/cancel" => PublishData on DatasetInPath: console::data::cancel,
        POST "/console/datasets/{dataset}" => EditOpenList on DatasetInPath: console::save_entry,
        POST "/console/datasets/{dataset}/publish" => EditOpenList on DatasetInPath: console::publish_entry,
        POST "/console/datasets/{dataset}/remove" => EditOpenList on DatasetInPath: console::remove_entry,
        GET "/console/tickets/{ticket}" => ViewOrgInternal on TicketInPath: console::show_ticket,
        POST "/console/tickets/{ticket}/accept" => ReviewTickets on TicketInPath: console::accept_ticket,
        POST "/console/tickets/{ticket}/return" => ReviewTickets on TicketInPath: console::return_ticket,
        POST "/console/tickets/{ticket}/resubmit" => EditOpenList on TicketInPath: console::resubmit_ticket,

        POST "/api/v1/auth/register" => Register on Platform: api_auth::register,
        POST "/api/v1/auth/login" => LogIn on Platform: api_auth::login,
        POST "/api/v1/auth/logout" => LogOut on OwnAccount: api_auth::logout,
        GET "/api/v1/me" => ViewOwnAccount on OwnAccount: api_auth::me,
        GET "/api/v1/me/tokens" => ManageOwnTokens on OwnAccount: api_auth::list_tokens,
        GET "/api/v1/me/notifications" => ViewOwnAccount on OwnAccount: inbox::api,
        POST "/api/v1/me/tokens" => ManageOwnTokens on OwnAccount: api_auth::create_token,
        DELETE "/api/v1/me/tokens/{id}" => ManageOwnTokens on OwnAccount: api_auth::revoke_token,
        POST "/api/v1/me/password" => ChangeOwnPassword on OwnAccount: api_auth::change_password,

        GET "/api/v1/orgs" => ViewPublic on Platform: api_orgs::list,
        POST "/api/v1/orgs" => CreateOrganization on Platform: api_orgs::create,
        GET "/api/v1/orgs/{org}" => ViewPublic on OrgInPath: api_orgs::show,
        GET "/api/v1/orgs/{org}/members" => ViewMembers on OrgInPath: api_orgs::members,
        PUT "/api/v1/orgs/{org}/members" => ManageMembers on OrgInPath: api_orgs::set_member,
        DELETE "/api/v1/orgs/{org}/members/{user}" => ManageMembers on OrgInPath: api_orgs::remove_member,
        GET "/api/v1/users" => ListUsers on Platform: api_orgs::list_users,
        POST "/api/v1/users/{user}/roles" => ManagePlatformRoles on Platform: api_orgs::grant_role,

        GET "/api/v1/audit" => ViewAudit on Platform: api_audit::list,

        GET "/api/v1/vocabularies" => ViewPublic on Platform: api_openlist::vocabularies,
        PUT "/api/v1/vocabularies/formats/{code}" => ManageVocabularies on Platform: api_openlist::put_format,
        PUT "/api/v1/vocabularies/glossary/{term}" => ManageVocabularies on Platform: api_openlist::put_glossary,
        PUT "/api/v1/vocabularies/domains/{code}" => ManageVocabularies on Platform: api_openlist::put_domain,
        POST "/api/v1/datasets/{dataset}/format-exceptions" => ManageVocabularies on DatasetInPath: api_openlist::grant_format_exception,
        GET "/api/v1/classification-guide" => ViewPublic on Platform: api_openlist::guide,
        PUT "/api/v1/classification-guide" => EditGuide on Platform: api_openlist::put_guide,
        GET "/api/v1/classification-guide/versions" => ViewPublic on Platform: api_openlist::guide_versions,
        GET "/api/v1/classification-guide/versions/{version}" => ViewPublic on Platform: api_openlist::guide_at,
        POST "/api/v1/classification-guide/evaluate" => ViewPublic on Platform: api_openlist::evaluate,
        GET "/api/v1/orgs/{org}/catalogue" => ViewOrgInternal on OrgInPath: api_openlist::catalogue_list,
        POST "/api/v1/orgs/{org}/catalogue" => EditOpenList on OrgInPath: api_openlist::catalogue_import,
        DELETE "/api/v1/orgs/{org}/catalogue/{item}" => EditOpenList on OrgInPath: api_openlist::catalogue_delete,
        GET "/api/v1/orgs/{org}/datasets" => ViewOrgInternal on OrgInPath: api_openlist::org_datasets,
        POST "/api/v1/orgs/{org}/datasets" => EditOpenList on OrgInPath: api_openlist::create_dataset,
        GET "/api/v1/datasets" => ViewPublic on Platform: api_search::search,
        GET "/api/v1/datasets/{dataset}" => ViewPublic on DatasetInPath: api_openlist::show_dataset,
        PUT "/api/v1/datasets/{dataset}" => EditOpenList on DatasetInPath: api_openlist::update_dataset,
        GET "/api/v1/datasets/{dataset}/check" => ViewOrgInternal on DatasetInPath: api_openlist::check_dataset,
        POST "/api/v1/datasets/{dataset}/review" => EditOpenList on DatasetInPath: api_openlist::review,
        POST "/api/v1/datasets/{dataset}/data-updates" => EditOpenList on DatasetInPath: api_openlist::record_data_update,
        GET "/api/v1/orgs/{org}/reviews" => ViewOrgInternal on OrgInPath: api_openlist::reviews_due,
        GET "/api/v1/orgs/{org}/review-cycles/{year}" => ViewOrgInternal on OrgInPath: api_reviews::show,
        POST "/api/v1/orgs/{org}/review-cycles/{year}/submit" => EditOpenList on OrgInPath: api_reviews::submit,
        POST "/api/v1/orgs/{org}/review-cycles/{year}/accept" => ReviewTickets on OrgInPath: api_reviews::accept,
        POST "/api/v1/orgs/{org}/review-cycles/{year}/return" => ReviewTickets on OrgInPath: api_reviews::give_back,
        GET "/api/v1/datasets/{dataset}/versions" => ViewPublic on DatasetInPath: api_openlist::dataset_versions,
        POST "/api/v1/datasets/{dataset}/data" => PublishData on DatasetInPath: data::upload,
        GET "/api/v1/datasets/{dataset}/data/versions" => ViewPublic on DatasetInPath: data::versions,
        GET "/api/v1/datasets/{dataset}/data/versions/{version}" => ViewPublic on DatasetInPath: data::version,
        POST "/api/v1/datasets/{dataset}/data/versions/{version}/cancel" => PublishData on DatasetInPath: data::cancel,
        GET "/api/v1/datasets/{dataset}/data/versions/{version}/failures.csv" => ViewOrgInternal on DatasetInPath: data::failures,
        GET "/api/v1/datasets/{dataset}/records" => ReadOpenData on DatasetInPath: data::records,
        GET "/api/v1/datasets/{dataset}/privacy" => ViewOrgInternal on DatasetInPath: api_privacy::show,
        GET "/api/v1/datasets/{dataset}/sample" => ViewPublic on DatasetInPath: samples::show,
        POST "/api/v1/datasets/{dataset}/sample" => BuildSample on DatasetInPath: samples::define,
        PUT "/api/v1/datasets/{dataset}/privacy" => PublishData on DatasetInPath: api_privacy::save,
        POST "/api/v1/datasets/{dataset}/privacy/exceptions" => GrantPrivacyException on DatasetInPath: api_privacy::grant,
        DELETE "/api/v1/datasets/{dataset}/privacy/exceptions/{id}" => GrantPrivacyException on DatasetInPath: api_privacy::withdraw,
        GET "/api/v1/sql" => ViewPublic on Platform: sql::get,
        POST "/api/v1/sql" => ViewPublic on Platform: sql::post,

        POST "/api/v1/uploads" => UploadFiles on OwnAccount: api_uploads::create,
        POST "/api/v1/datasets/{dataset}/tickets" => EditOpenList on DatasetInPath: api_tickets::submit,
        GET "/api/v1/datasets/{dataset}/tickets" => ViewOrgInternal on DatasetInPath: api_tickets::of_dataset,
        GET "/api/v1/orgs/{org}/tickets" => ViewOrgInternal on OrgInPath: api_tickets::of_org,
        GET "/api/v1/tickets" => ReviewTickets on Platform: api_tickets::queue,
        GET "/api/v1/tickets/{ticket}" => ViewOrgInternal on TicketInPath: api_tickets::show,
        POST "/api/v1/tickets/{ticket}/accept" => ReviewTickets on TicketInPath: api_tickets::accept,
        POST "/api/v1/tickets/{ticket}/return" => ReviewTickets on TicketInPath: api_tickets::give_back,
        POST "/api/v1/tickets/{ticket}/resubmit" => EditOpenList on TicketInPath: api_tickets::resubmit,
        POST "/api/v1/tickets/{ticket}/cancel" => EditOpenList on TicketInPath: api_tickets::cancel,
        GET "/api/v1/tickets/{ticket}/attachments/{attachment}" => ViewOrgInternal on TicketInPath: api_tickets::attachment,

        POST "/api/v1/applications" => Apply on OwnAccount: api_access::create,
        GET "/api/v1/applications" => ViewOwnAccount on OwnAccount: api_access::mine,
        GET "/api/v1/completeness-queue" => CheckCompleteness on Platform: api_access::queue,
        GET "/api/v1/applications/{application}" => ViewApplication on ApplicationInPath: api_access::show,
        PUT "/api/v1/applications/{application}" => EditApplication on ApplicationInPath: api_access::update,
        POST "/api/v1/applications/{application}/materials" => EditApplication on ApplicationInPath: api_access::attach,
        GET "/api/v1/applications/{application}/materials/{material}" => ViewApplication on ApplicationInPath: api_access::material,
        DELETE "/api/v1/applications/{application}/materials/{material}" => EditApplication on ApplicationInPath: api_access::detach,
        POST "/api/v1/applications/{application}/submit" => EditApplication on ApplicationInPath: api_access::submit,
        POST "/api/v1/applications/{application}/withdraw" => EditApplication on ApplicationInPath: api_access::withdraw,
        POST "/api/v1/applications/{application}/accept" => CheckCompleteness on ApplicationInPath: api_access::accept,
        POST "/api/v1/applications/{application}/return" => CheckCompleteness on ApplicationInPath: api_access::give_back,
        GET "/api/v1/orgs/{org}/work-orders" => ViewWorkOrder on OrgInPath: api_access::inbox,
        GET "/api/v1/work-orders/{order}" => ViewWorkOrder on WorkOrderInPath: api_access::work_order,
        GET "/api/v1/work-orders/{order}/materials/{material}" => ViewWorkOrder on WorkOrderInPath: api_access::work_order_material,
        POST "/api/v1/work-orders/{order}/decision" => DecideWorkOrder on WorkOrderInPath: api_access::decide,
        POST "/api/v1/work-orders/{order}/experts" => DecideWorkOrder on WorkOrderInPath: experts::refer,
        GET "/api/v1/me/assignments" => ViewAssignment on Platform: experts::list,
        GET "/api/v1/assignments/{assignment}" => ViewAssignment on AssignmentInPath: experts::show,
        POST "/api/v1/assignments/{assignment}/opinion" => GiveOpinion on AssignmentInPath: experts::opinion,
        GET "/api/v1/agreements/{agreement}" => ViewAgreement on AgreementInPath: api_access::agreement,
        POST "/api/v1/agreements/{agreement}/sign" => SignAgreement on AgreementInPath: api_access::sign,
        POST "/api/v1/agreements/{agreement}/credential" => TakeCredential on AgreementInPath: api_access::reissue,
        POST "/api/v1/agreements/{agreement}/delivery" => ManageDelivery on AgreementInPath: api_access::control,
        POST "/api/v1/agreements/{agreement}/offline-deliveries" => ManageDelivery on AgreementInPath: api_access::file_offline,
        POST "/api/v1/agreements/{agreement}/revise" => ReviseAgreement on AgreementInPath: api_access::revise,
        GET "/api/v1/agreements/{agreement}/usage" => ViewAgreement on AgreementInPath: api_access::usage,
        GET "/api/v1/agreements/{agreement}/sandbox" => ViewAgreement on AgreementInPath: sandbox::get,
        POST "/api/v1/agreements/{agreement}/sandbox" => QuerySandbox on AgreementInPath: sandbox::post,

        GET "/api/v1/articles" => ViewPublic on Platform: news::api_list,
        GET "/api/v1/articles/{id}" => ViewPublic on ArticleInPath: news::api_show,
        POST "/api/v1/articles" => PublishArticles on Platform: news::api_create,
        PUT "/api/v1/articles/{id}" => PublishArticles on ArticleInPath: news::api_update,

        GET "/api/v1/openapi.json" => ViewPublic on Platform: openapi::openapi,
        GET "/api/v1/jobs" => ManageJobs on Platform: api_jobs::list,
        GET "/api/v1/quality" => ViewQuality on Platform: quality::api,
        GET "/api/v1/calendar" => ViewPublic on Platform: calendar::api,
        PUT "/api/v1/calendar/{year}" => ManageCalendar on Platform: calendar::api_put,
        GET "/api/v1/jobs/{job}" => ManageJobs on Platform: api_jobs::show,
        POST "/api/v1/jobs/{job}/cancel" => ManageJobs on Platform: api_jobs::cancel,
        GET "/metrics" => ViewMetrics on Platform: health::metrics,
        GET "/api/3/action/{action}" => ViewPublic on Platform: ckan::action,
        POST "/api/3/action/{action}" => ViewPublic on Platform: ckan::action,
        GET "/api/action/{action}" => ViewPublic on Platform: ckan::action,
        POST "/api/action/{action}" => ViewPublic on Platform: ckan::action,
    ]
}

/// The declared routes, without their handlers.
pub fn specs() -> Vec<RouteSpec> {
    table().into_iter().map(|(spec, _)| spec).collect()
}

pub fn router(state: AppState) -> Router<AppState> {
    let mut router = Router::new();
    for (spec, handler) in table() {
        let path = spec.path;
        let guarded = handler.route_layer(from_fn_with_state((state.clone(), spec), guard));
        router = router.route(path, guarded);
    }
    router.fallback(|| async { AppError::new(ErrorCode::NotFound) })
}

/// The one resolver of the objects routes act on: finds the object named in the path (unknown
/// ones are 404), hands its record (and its organization's) on to the handler through the
/// request's extensions, and tells the policy what it is.
async fn resolve(
    state: &AppState,
    req: &mut Request,
    spec: &RouteSpec,
) -> Result<Resource, AppError> {
    let target = spec.target;
    if matches!(target, Target::Platform | Target::OwnAccount) {
        return Ok(match target {
            Target::OwnAccount => Resource::OwnAccount,
            _ => Resource::Platform,
        });
    }
    let Path(params) = req
        .extract_parts::<Path<HashMap<String, String>>>()
        .await
        .map_err(|_| AppError::new(ErrorCode::NotFound))?;
    let param = |name: &str| params.get(name).cloned().unwrap_or_default();
    let resource = match target {
        // Reads of open data come many a second: the entry is held for them (`app::held`),
        // with its current version; their handlers take `Extension<Arc<app::held::Entry>>`.
        Target::DatasetInPath if spec.action == Action::ReadOpenData => {
            let entry = state.app.entries.get(&state.app, &param("dataset")).await?;
            let facts = entry.dataset.facts();
            req.extensions_mut().insert(entry);
            Resource::Dataset(facts)
        }
        Target::DatasetInPath => {
            let dataset = state.store.dataset(&param("dataset")).await?;
            let org = state.store.org(&dataset.org_id.to_string()).await?;
            let facts = dataset.facts();
            req.extensions_mut().insert(dataset);
            req.extensions_mut().insert(org);
            Resource::Dataset(facts)
        }
        Target::TicketInPath => {
            let ticket = state.store.ticket(&param("ticket")).await?;
            let org = state.store.org(&ticket.org_id.to_string()).await?;
            let facts = ticket.facts();
            req.extensions_mut().insert(ticket);
            req.extensions_mut().insert(org);
            Resource::Ticket(facts)
        }
        Target::ArticleInPath => {
            let article = state.store.article(&param("id")).await?;
            let status = article.status;
            req.extensions_mut().insert(article);
            Resource::Article(status)
        }
        Target::ApplicationInPath => {
            let a = state.store.application(&param("application")).await?;
            let facts = a.facts();
            req.extensions_mut().insert(a);
            Resource::Application(facts)
        }
        Target::WorkOrderInPath => {
            let w = state.store.work_order(&param("order")).await?;
            let facts = w.facts();
            req.extensions_mut().insert(w);
            Resource::WorkOrder(facts)
        }
        Target::AgreementInPath => {
            let a = state.store.agreement(&param("agreement")).await?;
            let facts = a.facts();
            req.extensions_mut().insert(a);
            Resource::Agreement(facts)
        }
        Target::AssignmentInPath => {
            let a = state.store.assignment(&param("assignment")).await?;
            let w = state.store.work_order(&a.work_order_id.to_string()).await?;
            let facts = a.facts(&w);
            req.extensions_mut().insert(a);
            req.extensions_mut().insert(w);
            Resource::Assignment(facts)
        }
        Target::OrgInPath | Target::Platform | Target::OwnAccount => {
            let org = state.store.org(&param("org")).await?;
            let id = org.id;
            req.extensions_mut().insert(org);
            Resource::Organization(id)
        }
    };
    Ok(resource)
}

/// Asks the policy about the route's object before the handler runs.
///
/// What a caller may not see is answered as if it did not exist: a visitor is asked to sign in
/// before any object is looked up (so the answer is the same for a real and a made-up id), and
/// a refusal of an object the caller may not know of ([`domain::policy::may_know`]) is 404.
async fn guard(
    State((state, spec)): State<(AppState, RouteSpec)>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(ctx) = req.extensions().get::<Ctx>().cloned() else {
        return AppError::new(ErrorCode::Internal).into_response();
    };
    if !spec.action.is_public() && ctx.actor().user().is_none() {
        return AppError::new(ErrorCode::NotSignedIn).into_response();
    }
    let resource = match resolve(&state, &mut req, &spec).await {
        Ok(resource) => resource,
        Err(e) => return e.into_response(),
    };
    let at = state.clock.now();
    let mut response = match ctx.authorize(spec.action, resource) {
        Ok(()) => next.run(req).await,
        Err(e) if domain::policy::may_know(ctx.actor(), resource) => e.into_response(),
        Err(_) => AppError::new(ErrorCode::NotFound).into_response(),
    };
    response
        .extensions_mut()
        .insert(crate::observe::RouteName(spec.path));
    crate::meter::log_when_sent(&ctx.meter, &state.app.usage, &ctx.caller, at, response)
}
