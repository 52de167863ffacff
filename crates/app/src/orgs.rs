//! Provider organizations.

use domain::ids::OrgId;
use domain::policy::{Action, Resource};
use domain::roles::OrgKind;
use serde::Deserialize;
use store::orgs::{self, OrgRecord};

use crate::App;
use crate::caller::Caller;
use crate::error::{Error, FieldError, Result};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrg {
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub uscc: Option<String>,
}

pub fn valid_slug(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
}

/// Creates a provider organization, audited.
pub async fn create(app: &App, caller: &Caller, input: NewOrg) -> Result<OrgRecord> {
    caller.authorize(Action::CreateOrganization, Resource::Platform)?;
    let mut errors = Vec::new();
    if !valid_slug(&input.slug) {
        errors.push(FieldError::new("slug", "invalid_slug"));
    }
    let name_zh = domain::account::DisplayName::parse(&input.name_zh);
    if name_zh.is_err() {
        errors.push(FieldError::new("name_zh", "invalid_name"));
    }
    let name_en = domain::account::DisplayName::parse(&input.name_en);
    if name_en.is_err() {
        errors.push(FieldError::new("name_en", "invalid_name"));
    }
    let kind = input.kind.parse::<OrgKind>();
    if kind.is_err() {
        errors.push(FieldError::new("kind", "invalid_kind"));
    }
    let uscc = match input
        .uscc
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(code) => match code.parse::<domain::identifiers::UnifiedSocialCreditCode>() {
            Ok(c) => Some(c.to_string()),
            Err(_) => {
                errors.push(FieldError::new("uscc", "invalid_uscc"));
                None
            }
        },
    };
    let (Ok(name_zh), Ok(name_en), Ok(kind), true) = (name_zh, name_en, kind, errors.is_empty())
    else {
        return Err(Error::invalid(errors));
    };
    let now = app.clock.now();
    let org = OrgRecord {
        id: OrgId::new(),
        slug: input.slug,
        name_zh: name_zh.as_str().to_owned(),
        name_en: name_en.as_str().to_owned(),
        kind,
        uscc,
        created_at: now,
    };
    let mut tx = app.store.begin_write().await?;
    orgs::insert(&mut tx, &org).await?;
    let mut ev = caller.event(now, "org.create", "organization", org.id.to_string());
    ev.after = Some(serde_json::to_value(&org).unwrap_or_default());
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(org)
}
