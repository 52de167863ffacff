//! `GET /api/v1/openapi.json`: the API described from the route table itself, so the document
//! lists exactly the routes that exist, with who may call them. See
//! docs/decisions/0004-openapi-from-the-route-table.md.

use axum::Json;
use axum::extract::State;
use axum::http::Method;
use domain::policy::Action;
use serde_json::{Map, Value, json};

use super::{RouteSpec, specs};
use crate::state::AppState;

fn summary(method: &Method, path: &str) -> &'static str {
    match (method.as_str(), path) {
        ("POST", "/api/v1/auth/register") => {
            "Register a natural person or an organization (统一社会信用代码 checked)"
        }
        ("POST", "/api/v1/auth/login") => {
            "Sign in; sets a session cookie and returns the session's CSRF token"
        }
        ("POST", "/api/v1/auth/logout") => "Sign out",
        ("GET", "/api/v1/me") => "The signed-in account, its platform roles and memberships",
        ("GET", "/api/v1/me/tokens") => "List personal API tokens (never their secrets)",
        ("POST", "/api/v1/me/tokens") => "Create a personal API token; the secret is returned once",
        ("DELETE", "/api/v1/me/tokens/{id}") => "Revoke a personal API token",
        ("GET", "/api/v1/orgs") => "List organizations (providers and the operator)",
        ("POST", "/api/v1/orgs") => "Create a provider organization",
        ("GET", "/api/v1/orgs/{org}") => "One organization, by id or slug",
        ("GET", "/api/v1/orgs/{org}/members") => "Members of an organization and their roles",
        ("PUT", "/api/v1/orgs/{org}/members") => "Add a member or change a member's role",
        ("DELETE", "/api/v1/orgs/{org}/members/{user}") => "Remove a member",
        ("GET", "/api/v1/users") => "List accounts",
        ("POST", "/api/v1/users/{user}/roles") => "Grant a platform role",
        ("GET", "/api/v1/audit") => {
            "The audit trail, filtered by actor, target, action and time (A25.5, A26.1)"
        }
        ("GET", "/api/v1/vocabularies") => {
            "Domains, formats, glossary, areas and the other closed vocabularies"
        }
        ("GET", "/api/v1/classification-guide") => "The classification guide in force (A13.1)",
        ("PUT", "/api/v1/classification-guide") => "Save a new version of the classification guide",
        ("GET", "/api/v1/classification-guide/versions") => {
            "Every version of the classification guide"
        }
        ("GET", "/api/v1/classification-guide/versions/{version}") => {
            "One version of the classification guide"
        }
        ("POST", "/api/v1/classification-guide/evaluate") => {
            "The open type a grading permits, and suggested conditions (A13.2)"
        }
        ("GET", "/api/v1/orgs/{org}/catalogue") => {
            "A provider's public data catalogue items (A9.5)"
        }
        ("POST", "/api/v1/orgs/{org}/catalogue") => "Import catalogue items from JSON or CSV",
        ("DELETE", "/api/v1/orgs/{org}/catalogue/{item}") => {
            "Delete a catalogue item no field links to"
        }
        ("GET", "/api/v1/orgs/{org}/datasets") => "A provider's open-list entries, of every status",
        ("POST", "/api/v1/orgs/{org}/datasets") => "Create a draft open-list entry (A9.1)",
        ("GET", "/api/v1/datasets") => {
            "Search the open list: q, filters, facets, sort, paging (A25.3)"
        }
        ("GET", "/api/v1/datasets/{dataset}") => "One open-list entry, with its citation (A29.3)",
        ("PUT", "/api/v1/datasets/{dataset}") => "Edit a draft entry",
        ("GET", "/api/v1/datasets/{dataset}/check") => {
            "Every reason the entry cannot be published yet (A9)"
        }
        ("POST", "/api/v1/datasets/{dataset}/review") => {
            "Record the annual review of an entry (A10.1)"
        }
        ("POST", "/api/v1/datasets/{dataset}/data-updates") => {
            "Record that a published entry's data was updated now (A9.4 timeliness)"
        }
        ("GET", "/api/v1/orgs/{org}/reviews") => "Entries due for their annual review (A10.1)",
        ("GET", "/api/v1/orgs/{org}/review-cycles/{year}") => {
            "A provider's annual review of a year: its state, due day and every entry it covers (A10.1)"
        }
        ("POST", "/api/v1/orgs/{org}/review-cycles/{year}/submit") => {
            "Submit the year's annual review: every entry must have been confirmed or changed that year"
        }
        ("POST", "/api/v1/orgs/{org}/review-cycles/{year}/accept") => {
            "Accept a provider's submitted annual review (operator)"
        }
        ("POST", "/api/v1/orgs/{org}/review-cycles/{year}/return") => {
            "Give a submitted annual review back to its provider, with the reason (operator)"
        }
        ("GET", "/api/v1/datasets/{dataset}/versions") => "Published versions of an entry",
        ("POST", "/api/v1/uploads") => {
            "Upload a file (the body, `name` in the query) to attach to a ticket or an article by its id"
        }
        ("POST", "/api/v1/datasets/{dataset}/tickets") => {
            "Submit an open-list change ticket (A11.1)"
        }
        ("GET", "/api/v1/datasets/{dataset}/tickets") => "Tickets of an entry",
        ("GET", "/api/v1/orgs/{org}/tickets") => "Tickets of a provider",
        ("GET", "/api/v1/articles") => {
            "Published policies, rules and news, newest first (`kind`, `page`)"
        }
        ("GET", "/api/v1/articles/{id}") => "One article, with its Markdown rendered to safe HTML",
        ("POST", "/api/v1/articles") => "Write a policy, rule or news article (operator)",
        ("PUT", "/api/v1/articles/{id}") => "Change or publish an article (operator)",
        ("GET", "/api/v1/tickets") => "The operator's ticket queue",
        ("GET", "/api/v1/tickets/{ticket}") => "One ticket with its diff, history and attachments",
        ("POST", "/api/v1/tickets/{ticket}/accept") => {
            "Accept a ticket: the change takes effect as a new version"
        }
        ("POST", "/api/v1/tickets/{ticket}/return") => "Return a ticket with reasons of A11.3",
        ("POST", "/api/v1/tickets/{ticket}/resubmit") => "Revise and resubmit a returned ticket",
        ("POST", "/api/v1/tickets/{ticket}/cancel") => "Cancel an open ticket",
        ("GET", "/api/v1/tickets/{ticket}/attachments/{attachment}") => {
            "Download a ticket attachment"
        }
        ("GET", "/api/v1/openapi.json") => "This document",
        ("GET", "/api/v1/jobs") => "The background job queue: its depth, and jobs newest first",
        ("GET", "/api/v1/jobs/{job}") => "One background job, with its progress",
        ("POST", "/api/v1/jobs/{job}/cancel") => "Cancel a background job",
        ("PUT", "/api/v1/vocabularies/formats/{code}") => {
            "Add or change a format and its openness (A9.3)"
        }
        ("PUT", "/api/v1/vocabularies/glossary/{term}") => {
            "Explain an abbreviation for the whole platform (A9.1)"
        }
        ("PUT", "/api/v1/vocabularies/domains/{code}") => "Add or rename a domain",
        ("POST", "/api/v1/datasets/{dataset}/format-exceptions") => {
            "Allow a proprietary format for one entry, with a reason (A9.3)"
        }
        (_, p) if p.starts_with("/api/3/action/") || p.starts_with("/api/action/") => {
            "CKAN-compatible action: package_list, package_search, package_show, package_autocomplete, current_package_list_with_resources, resource_show, organization_list, organization_show, organization_autocomplete, group_list, group_show, tag_list, tag_show, license_list, status_show, site_read, help_show"
        }
        _ => "",
    }
}

fn public(action: Action) -> bool {
    matches!(
        action,
        Action::ViewPublic | Action::Register | Action::LogIn
    )
}

fn operation(spec: &RouteSpec) -> Value {
    let params: Vec<Value> = spec
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect();
    let mut op = json!({
        "summary": summary(&spec.method, spec.path),
        "operationId": format!("{}_{}", spec.method.as_str().to_lowercase(), spec.path.trim_start_matches('/').replace(['/', '{', '}', '.', '-'], "_")),
        "x-kaifang-action": spec.action,
        "parameters": params,
        "responses": {
            "200": { "description": "Success", "content": { "application/json": { "schema": { "type": "object" } } } },
            "4XX": { "description": "A clear error with a stable code", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        },
    });
    if matches!(spec.method, Method::POST | Method::PUT) {
        op["requestBody"] =
            json!({ "content": { "application/json": { "schema": { "type": "object" } } } });
    }
    op["security"] = if public(spec.action) {
        json!([{}])
    } else {
        json!([{ "bearer": [] }, { "session": [], "csrf": [] }])
    };
    op
}

pub fn document(public_url: &str) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for spec in specs().iter().filter(|s| s.path.starts_with("/api/")) {
        let entry = paths
            .entry(spec.path.to_owned())
            .or_insert_with(|| json!({}));
        entry[spec.method.as_str().to_lowercase()] = operation(spec);
    }
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
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": { "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": { "type": "string" },
                            "message": { "type": "string" },
                            "fields": { "type": "array", "items": { "type": "object", "properties": {
                                "field": { "type": "string" }, "code": { "type": "string" },
                                "message": { "type": "string" }, "detail": { "type": "string" },
                            } } },
                        },
                    } },
                },
            },
        },
    })
}

pub async fn openapi(State(state): State<AppState>) -> Json<Value> {
    Json(document(&state.config.public_url))
}

#[cfg(test)]
mod tests {
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
}
