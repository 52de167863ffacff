//! Registration, sign-in, sign-out and API tokens: the logic the JSON API and the HTML forms
//! share. Each write is one transaction with its audit record.

use domain::account::{DisplayName, Email, NewPassword, PasswordError};
use domain::identifiers::UnifiedSocialCreditCode;
use domain::ids::{TokenId, UserId};
use domain::roles::{AccountKind, PlatformRole};
use serde::Deserialize;
use store::tokens::TokenRecord;
use store::users::{NewUser, UserRecord};
use store::{WriteTx, sessions, tokens, users};

use crate::App;
use crate::caller::Caller;
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::passwords;
use crate::secrets::{hash_secret, new_api_token, random_secret};

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct Registration {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub legal_name: Option<String>,
    #[serde(default)]
    pub uscc: Option<String>,
}

struct ValidRegistration {
    kind: AccountKind,
    email: Email,
    password: NewPassword,
    display_name: DisplayName,
    legal_name: Option<DisplayName>,
    uscc: Option<UnifiedSocialCreditCode>,
}

pub(crate) fn password_code(e: PasswordError) -> &'static str {
    match e {
        PasswordError::TooShort => "password_too_short",
        PasswordError::TooLong => "password_too_long",
        PasswordError::TooSimple => "password_too_simple",
        PasswordError::TooGuessable => "password_too_guessable",
    }
}

/// Checks every field and reports every problem at once.
fn validate(input: Registration) -> Result<ValidRegistration, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut fail = |field, code| errors.push(FieldError::new(field, code));
    let kind = input
        .kind
        .parse::<AccountKind>()
        .map_err(|_| fail("kind", "invalid_kind"))
        .ok();
    let email = input
        .email
        .parse::<Email>()
        .map_err(|_| fail("email", "invalid_email"))
        .ok();
    let context = [
        input.email.as_str(),
        input.display_name.as_str(),
        input.legal_name.as_deref().unwrap_or(""),
    ];
    let password = NewPassword::parse(input.password, &context)
        .map_err(|e| fail("password", password_code(e)))
        .ok();
    let display_name = DisplayName::parse(&input.display_name)
        .map_err(|_| fail("display_name", "invalid_name"))
        .ok();
    let blank = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").is_empty();
    let (mut legal_name, mut uscc) = (None, None);
    if kind == Some(AccountKind::Organization) {
        if blank(&input.legal_name) {
            fail("legal_name", "required");
        } else {
            legal_name = DisplayName::parse(input.legal_name.as_deref().unwrap_or(""))
                .map_err(|_| fail("legal_name", "invalid_name"))
                .ok();
        }
        if blank(&input.uscc) {
            fail("uscc", "required");
        } else {
            uscc = input
                .uscc
                .as_deref()
                .unwrap_or("")
                .parse::<UnifiedSocialCreditCode>()
                .map_err(|_| fail("uscc", "invalid_uscc"))
                .ok();
        }
    }
    match (kind, email, password, display_name) {
        (Some(kind), Some(email), Some(password), Some(display_name)) if errors.is_empty() => {
            Ok(ValidRegistration {
                kind,
                email,
                password,
                display_name,
                legal_name,
                uscc,
            })
        }
        _ => Err(errors),
    }
}

/// Registers an account. One address may register only so many accounts an hour, and one
/// organization (统一社会信用代码) has one account: its people join it as members.
pub async fn register(app: &App, caller: &Caller, input: Registration) -> Result<UserRecord> {
    let valid = validate(input).map_err(Error::invalid)?;
    let now = app.clock.now();
    let addr = caller.client_addr.as_deref().unwrap_or("unknown");
    const HOUR: i64 = 3600;
    let window = app
        .store
        .hit(&format!("register:{addr}"), now, HOUR)
        .await?;
    if window.hits > app.config.registrations_per_addr_hour {
        return Err(too_many(now, window.ends(HOUR)));
    }
    let password_hash = passwords::hash(valid.password.expose().to_owned()).await?;
    let user = UserRecord {
        id: UserId::new(),
        email: valid.email.as_str().to_owned(),
        display_name: valid.display_name.as_str().to_owned(),
        kind: valid.kind,
        legal_name: valid.legal_name.map(|n| n.as_str().to_owned()),
        uscc: valid.uscc.map(|c| c.as_str().to_owned()),
        created_at: now,
    };
    let mut tx = app.store.begin_write().await?;
    if let Some(code) = &user.uscc
        && users::uscc_taken(&mut tx, code).await?
    {
        return Err(store::StoreError::Conflict("uscc").into());
    }
    users::insert(
        &mut tx,
        NewUser {
            record: &user,
            password_hash: &password_hash,
        },
    )
    .await?;
    let mut ev = caller.event(now, "user.register", "user", user.id.to_string());
    if ev.actor_id.is_none() {
        // Self-registration: the new account is the actor.
        ev.actor_id = Some(user.id.to_string());
        ev.actor_role = "user".to_owned();
    }
    ev.after = Some(serde_json::json!({
        "email": user.email, "kind": user.kind, "display_name": user.display_name,
        "legal_name": user.legal_name, "uscc": user.uscc,
    }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(user)
}

pub struct SignedIn {
    pub user: UserRecord,
    pub session_token: String,
    pub csrf_token: String,
}

/// The digest an identifier typed at sign-in is known by: in the audit trail and the
/// throttling keys, never the text itself (it may be anything, of any length).
fn identifier_digest(typed: &str) -> String {
    domain::audit::digest(typed.trim().to_lowercase().as_bytes())
}

/// Too many attempts: try again when the fuller of the windows ends.
pub(crate) fn too_many(now: domain::clock::Timestamp, until: domain::clock::Timestamp) -> Error {
    let mut err = Error::new(ErrorCode::TooManyAttempts);
    err.retry_after = Some(((until.0 - now.0) / 1000).max(1));
    err
}

/// Checks the password and opens a session.
///
/// Attempts are throttled per (account, address) and per address, never per account alone: a
/// stranger's failures cannot keep the owner out from the owner's own address, and a password
/// sprayed over many accounts from one address is slowed. Each attempt is counted before the
/// password is checked, so parallel guesses cannot exceed the limits; a success gives its
/// count back.
pub async fn login(app: &App, caller: &Caller, email: &str, password: String) -> Result<SignedIn> {
    let now = app.clock.now();
    let cfg = &app.config;
    let account = identifier_digest(email);
    let addr = caller.client_addr.as_deref().unwrap_or("unknown");
    let pair_key = format!("signin:{}:{addr}", &account[..32]);
    let addr_key = format!("signin-addr:{addr}");
    let pair = app.store.hit(&pair_key, now, cfg.login_window_secs).await?;
    let from_addr = app.store.hit(&addr_key, now, cfg.login_window_secs).await?;
    if pair.hits > cfg.login_max_failures {
        return Err(too_many(now, pair.ends(cfg.login_window_secs)));
    }
    if from_addr.hits > cfg.login_max_failures_per_addr {
        return Err(too_many(now, from_addr.ends(cfg.login_window_secs)));
    }

    // An identifier longer than any e-mail address names no account; it is not looked up.
    let email = email.trim().to_lowercase();
    let credentials = if email.len() <= domain::account::Email::MAX_LEN {
        app.store.user_credentials(&email).await?
    } else {
        None
    };
    let (user, stored_hash) = match credentials {
        Some((u, h)) => (Some(u), Some(h)),
        None => (None, None),
    };
    if !passwords::verify(password, stored_hash).await {
        let mut tx = app.store.begin_write().await?;
        tx.audit(caller.event(now, "auth.login_failed", "account", account))
            .await?;
        tx.commit().await?;
        return Err(ErrorCode::InvalidCredentials.into());
    }
    let user = user.ok_or(ErrorCode::InvalidCredentials)?;
    app.store.forget(&pair_key).await?;
    app.store.give_back(&addr_key).await?;

    let audit_role = app.store.actor(user.id).await?.audit_role();
    let session_token = random_secret();
    let csrf_token = random_secret();
    let mut tx = app.store.begin_write().await?;
    sessions::insert(
        &mut tx,
        &hash_secret(&session_token),
        user.id,
        &csrf_token,
        now,
        now.plus_seconds(cfg.session_ttl_secs),
    )
    .await?;
    let mut ev = caller.event(now, "auth.login", "user", user.id.to_string());
    ev.actor_id = Some(user.id.to_string());
    ev.actor_role = audit_role;
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(SignedIn {
        user,
        session_token,
        csrf_token,
    })
}

/// Ends the caller's session, if they signed in with one.
pub async fn logout(app: &App, caller: &Caller) -> Result<()> {
    let crate::Via::Session { token_hash } = &caller.via else {
        return Ok(());
    };
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await?;
    if sessions::delete(&mut tx, token_hash.as_str()).await? {
        let user = caller.user()?.id.to_string();
        tx.audit(caller.event(now, "auth.logout", "user", user))
            .await?;
        tx.commit().await?;
    }
    Ok(())
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub expires_in_days: Option<i64>,
    /// `read` for a token that changes nothing; `read_write` (the default) otherwise.
    #[serde(default)]
    pub access: Option<String>,
    /// Limits the token to one organization's objects (its id or slug).
    #[serde(default)]
    pub organization: Option<String>,
}

pub struct CreatedToken {
    pub record: TokenRecord,
    pub secret: String,
}

/// Creates an API token for the signed-in account. Only a signed-in session may: a token
/// cannot mint tokens, so revoking a leaked token leaves no offspring behind. A token expires
/// (by default after `token_default_days`), and an account holds a bounded number of them.
pub async fn create_token(app: &App, caller: &Caller, input: NewToken) -> Result<CreatedToken> {
    if !matches!(caller.via, crate::Via::Session { .. }) {
        return Err(ErrorCode::SessionRequired.into());
    }
    let user = caller.user()?.id;
    let mut errors = Vec::new();
    let name = DisplayName::parse(&input.name)
        .map_err(|_| errors.push(FieldError::new("name", "invalid_name")))
        .ok();
    if input
        .expires_in_days
        .is_some_and(|d| !(1..=3650).contains(&d))
    {
        errors.push(FieldError::new("expires_in_days", "invalid_days"));
    }
    let read_only = match input.access.as_deref().map(str::trim) {
        None | Some("") | Some("read_write") => false,
        Some("read") => true,
        Some(_) => {
            errors.push(FieldError::new("access", "invalid_choice"));
            false
        }
    };
    let org = match input
        .organization
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
    {
        None => None,
        Some(key) => match app.store.org(key).await {
            Ok(org) => Some(org.id),
            Err(store::StoreError::NotFound) => {
                errors.push(FieldError::new("organization", "unknown_organization"));
                None
            }
            Err(e) => return Err(e.into()),
        },
    };
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return Err(Error::invalid(errors));
    };
    let now = app.clock.now();
    let secret = new_api_token();
    let record = TokenRecord {
        id: TokenId::new(),
        user_id: user,
        name: name.as_str().to_owned(),
        prefix: secret.chars().take(10).collect(),
        created_at: now,
        expires_at: Some(
            now.plus_seconds(
                input
                    .expires_in_days
                    .unwrap_or(app.config.token_default_days)
                    * 86_400,
            ),
        ),
        revoked_at: None,
        scope: domain::roles::TokenScope {
            read_only,
            org,
            agreement: None,
        },
    };
    let mut tx: WriteTx = app.store.begin_write().await?;
    if tokens::live_count(&mut tx, user, now).await? >= app.config.max_tokens_per_account {
        return Err(ErrorCode::TokenLimit.into());
    }
    tokens::insert(&mut tx, &record, &hash_secret(&secret)).await?;
    let mut ev = caller.event(now, "token.create", "api_token", record.id.to_string());
    ev.after = Some(
        serde_json::json!({ "name": record.name, "expires_at": record.expires_at, "scope": record.scope }),
    );
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(CreatedToken { record, secret })
}

pub async fn revoke_token(app: &App, caller: &Caller, id: &str) -> Result<()> {
    let user = caller.user()?.id;
    let id: TokenId = id.parse().map_err(|_| ErrorCode::NotFound)?;
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await?;
    tokens::revoke(&mut tx, id, user, now).await?;
    tx.audit(caller.event(now, "token.revoke", "api_token", id.to_string()))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives the account registered with `email` the role `role` in `org` (replacing any role it
/// had there). Unknown roles and unknown accounts are field errors, reported together.
pub async fn set_member(
    app: &App,
    caller: &Caller,
    org: &store::orgs::OrgRecord,
    email: &str,
    role: &str,
) -> Result<(UserId, domain::roles::OrgRole)> {
    let role = role.parse::<domain::roles::OrgRole>();
    let user = account_by_email(app, email).await?;
    let (Ok(role), Some(user)) = (role.clone(), user.clone()) else {
        let mut errors = Vec::new();
        if user.is_none() {
            errors.push(FieldError::new("email", "unknown_user"));
        }
        if role.is_err() {
            errors.push(FieldError::new("role", "invalid_role"));
        }
        return Err(Error::invalid(errors));
    };
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await?;
    let mut ev = caller.event(now, "org.member_set", "organization", org.id.to_string());
    ev.after = Some(serde_json::json!({ "user": user.id, "role": role }));
    // Audited first: appending to the chain serializes writers, so the count below cannot
    // be outdated by another change of members committing meanwhile.
    tx.audit(ev).await?;
    let admins = store::orgs::admin_count(&mut tx, org.id).await?;
    store::orgs::set_member(&mut tx, org.id, user.id, role, now).await?;
    keeps_an_admin(&mut tx, org, admins).await?;
    tx.commit().await?;
    Ok((user.id, role))
}

/// Takes `user` out of `org`. The last administrator cannot leave or be removed: an
/// organization is never left without someone to manage its members.
pub async fn remove_member(
    app: &App,
    caller: &Caller,
    org: &store::orgs::OrgRecord,
    user: UserId,
) -> Result<()> {
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await?;
    let mut ev = caller.event(now, "org.member_remove", "organization", org.id.to_string());
    ev.before = Some(serde_json::json!({ "user": user }));
    tx.audit(ev).await?;
    let admins = store::orgs::admin_count(&mut tx, org.id).await?;
    store::orgs::remove_member(&mut tx, org.id, user).await?;
    keeps_an_admin(&mut tx, org, admins).await?;
    tx.commit().await?;
    Ok(())
}

/// Refuses a change of members that leaves a provider that had `before` administrators with
/// none (an organization that never had one, such as a new one, is not held to it).
async fn keeps_an_admin(tx: &mut WriteTx, org: &store::orgs::OrgRecord, before: i64) -> Result<()> {
    if before > 0 && store::orgs::admin_count(tx, org.id).await? == 0 {
        return Err(ErrorCode::LastAdmin.into());
    }
    Ok(())
}

/// The account registered with `email`, if there is one (emails are kept in lower case).
pub async fn account_by_email(app: &App, email: &str) -> Result<Option<UserRecord>> {
    match app
        .store
        .user_by_email(email.trim().to_lowercase().as_str())
        .await
    {
        Ok(u) => Ok(Some(u)),
        Err(store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Gives an account a role of the platform's staff (kept if it had it already), audited.
pub async fn grant_platform_role(
    app: &App,
    caller: &Caller,
    user: UserId,
    role: PlatformRole,
) -> Result<()> {
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await?;
    users::grant_platform_role(&mut tx, user, role, now).await?;
    let mut ev = caller.event(now, "user.role_grant", "user", user.to_string());
    ev.after = Some(serde_json::json!({ "role": role }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(())
}

/// An account for the platform's own staff, made at the command line (the first sysadmin).
pub struct StaffAccount {
    pub email: String,
    pub name: String,
    pub role: PlatformRole,
    pub password: String,
}

/// Creates a staff account with its platform role, in one audited transaction. The password
/// passes the same strength check as at registration.
pub async fn create_staff(app: &App, caller: &Caller, input: StaffAccount) -> Result<UserRecord> {
    let mut errors = Vec::new();
    let email = input
        .email
        .parse::<Email>()
        .map_err(|_| errors.push(FieldError::new("email", "invalid_email")))
        .ok();
    let name = DisplayName::parse(&input.name)
        .map_err(|_| errors.push(FieldError::new("name", "invalid_name")))
        .ok();
    let password = NewPassword::parse(input.password, &[input.email.as_str(), input.name.as_str()])
        .map_err(|e| errors.push(FieldError::new("password", password_code(e))))
        .ok();
    let (Some(email), Some(name), Some(password)) = (email, name, password) else {
        return Err(Error::invalid(errors));
    };
    let hash = passwords::hash(password.expose().to_owned()).await?;
    let now = app.clock.now();
    let user = UserRecord {
        id: UserId::new(),
        email: email.as_str().to_owned(),
        display_name: name.as_str().to_owned(),
        kind: AccountKind::NaturalPerson,
        legal_name: None,
        uscc: None,
        created_at: now,
    };
    let mut tx = app.store.begin_write().await?;
    users::insert(
        &mut tx,
        NewUser {
            record: &user,
            password_hash: &hash,
        },
    )
    .await?;
    users::grant_platform_role(&mut tx, user.id, input.role, now).await?;
    let mut ev = caller.event(now, "user.create", "user", user.id.to_string());
    ev.after = Some(serde_json::json!({ "email": user.email, "role": input.role }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(user)
}
