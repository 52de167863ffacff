//! Changing a password (the old one typed again, every other session ended) and setting a new
//! one through a link sent by e-mail, when the deployment can send mail.

use domain::account::NewPassword;
use domain::ids::UserId;
use serde::Deserialize;
use serde_json::json;
use store::users::UserRecord;
use store::{password_resets, sessions, users};

use crate::App;
use crate::accounts::{password_code, too_many};
use crate::caller::{Caller, Via};
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::passwords;
use crate::secrets::{hash_secret, random_secret};

/// How long a link to set a new password works.
pub const RESET_LINK_SECS: i64 = 30 * 60;
/// Links one address may ask for in an hour, whatever the accounts.
const RESETS_PER_ADDR_HOUR: i64 = 10;
/// Live links one account may have: more requests are answered alike but send nothing, so a
/// stranger cannot flood someone's mailbox.
const LIVE_LINKS_PER_ACCOUNT: i64 = 3;

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub new_password: String,
}

/// What the person typed their account is known by: the password must not be built from it.
fn context(user: &UserRecord) -> [&str; 3] {
    [
        user.email.as_str(),
        user.display_name.as_str(),
        user.legal_name.as_deref().unwrap_or(""),
    ]
}

fn new_password(
    user: &UserRecord,
    typed: String,
    field: &'static str,
) -> Result<NewPassword, FieldError> {
    NewPassword::parse(typed, &context(user)).map_err(|e| FieldError::new(field, password_code(e)))
}

/// Changes the signed-in person's password. The old one must be typed again (attempts are
/// throttled like sign-ins); every session but this one ends, and any reset link dies.
/// Returns how many other sessions were ended.
pub async fn change(app: &App, caller: &Caller, input: PasswordChange) -> Result<u64> {
    let Via::Session { token_hash } = &caller.via else {
        // A token, which may have leaked, must not be able to take the account over.
        return Err(ErrorCode::SessionRequired.into());
    };
    let user_id = caller.user()?.id;
    let user = app.store.user(user_id).await?;
    let now = app.clock.now();
    let cfg = &app.config;
    let key = format!("password-change:{user_id}");
    let window = app.store.hit(&key, now, cfg.login_window_secs).await?;
    if window.hits > cfg.login_max_failures {
        return Err(too_many(now, window.ends(cfg.login_window_secs)));
    }

    let mut errors = Vec::new();
    let stored = app.store.password_hash(user_id).await?;
    let current_ok = passwords::verify(input.current_password.clone(), Some(stored)).await;
    if !current_ok {
        errors.push(FieldError::new("current_password", "wrong_password"));
    }
    let new = if current_ok && input.new_password == input.current_password {
        errors.push(FieldError::new("new_password", "password_unchanged"));
        None
    } else {
        new_password(&user, input.new_password, "new_password")
            .map_err(|e| errors.push(e))
            .ok()
    };
    let (Some(new), true) = (new, errors.is_empty()) else {
        if !current_ok {
            let mut tx = app.store.begin_write().await?;
            let ev = caller.event(
                now,
                "auth.password_change_failed",
                "user",
                user_id.to_string(),
            );
            tx.audit(ev).await?;
            tx.commit().await?;
        }
        return Err(Error::invalid(errors));
    };
    app.store.forget(&key).await?;

    let hash = passwords::hash(new.expose().to_owned()).await?;
    let mut tx = app.store.begin_write().await?;
    users::set_password_hash(&mut tx, user_id, &hash).await?;
    let ended = sessions::delete_others(&mut tx, user_id, Some(token_hash.as_str())).await?;
    password_resets::delete_for_user(&mut tx, user_id).await?;
    let mut ev = caller.event(now, "auth.password_change", "user", user_id.to_string());
    ev.after = Some(json!({ "other_sessions_ended": ended }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(ended)
}

/// The message that carries a reset link, in the asker's language; `{link}` in `body` is where
/// the link goes.
pub struct ResetMail {
    pub subject: String,
    pub body: String,
    /// The platform's public address, which the link starts with.
    pub public_url: String,
}

/// Sends a link to set a new password to `email`, if an account has that address. The answer
/// is the same whether or not one has, so nobody learns who is registered; the mail leaves in
/// the background, so neither does the time the answer takes.
pub async fn request_reset(app: &App, caller: &Caller, email: &str, mail: ResetMail) -> Result<()> {
    let Some(mailer) = app.mailer.clone() else {
        return Err(ErrorCode::MailUnavailable.into());
    };
    let email = email.trim().to_lowercase();
    if email.parse::<domain::account::Email>().is_err() {
        return Err(Error::invalid(vec![FieldError::new(
            "email",
            "invalid_email",
        )]));
    }
    let now = app.clock.now();
    let addr = caller.client_addr.as_deref().unwrap_or("unknown");
    const HOUR: i64 = 3600;
    let window = app
        .store
        .hit(&format!("password-reset:{addr}"), now, HOUR)
        .await?;
    if window.hits > RESETS_PER_ADDR_HOUR {
        return Err(too_many(now, window.ends(HOUR)));
    }
    let Some((user, _)) = app.store.user_credentials(&email).await? else {
        return Ok(());
    };
    if app.store.live_password_resets(user.id, now).await? >= LIVE_LINKS_PER_ACCOUNT {
        return Ok(());
    }
    let secret = random_secret();
    let mut tx = app.store.begin_write().await?;
    password_resets::insert(
        &mut tx,
        &hash_secret(&secret),
        user.id,
        now,
        now.plus_seconds(RESET_LINK_SECS),
    )
    .await?;
    let mut ev = caller.event(
        now,
        "auth.password_reset_request",
        "user",
        user.id.to_string(),
    );
    ev.actor_id = Some(user.id.to_string());
    tx.audit(ev).await?;
    tx.commit().await?;

    let link = format!(
        "{}/password/reset?token={secret}",
        mail.public_url.trim_end_matches('/')
    );
    let body = mail.body.replace("{link}", &link);
    let (to, subject) = (user.email, mail.subject);
    tokio::spawn(async move {
        if let Err(e) = mailer.send(&to, &subject, body).await {
            // The link is not logged: it would let whoever reads the log in.
            tracing::error!(error = %e, "the password reset mail could not be sent");
        }
    });
    Ok(())
}

/// Whether `secret` is a live reset link, to show the form for a new password or say it is not.
pub async fn reset_link_live(app: &App, secret: &str) -> Result<bool> {
    Ok(app
        .store
        .password_reset_live(&hash_secret(secret), app.clock.now())
        .await?
        .is_some())
}

/// Sets a new password through a reset link. The link works once; every session of the
/// account ends, since whoever knew the old password may have one.
pub async fn reset(app: &App, caller: &Caller, secret: &str, password: String) -> Result<UserId> {
    let now = app.clock.now();
    let hash = hash_secret(secret);
    let Some(user_id) = app.store.password_reset_live(&hash, now).await? else {
        return Err(ErrorCode::ResetLinkInvalid.into());
    };
    let user = app.store.user(user_id).await?;
    // A password the policy refuses leaves the link usable for a better one.
    let new = new_password(&user, password, "new_password").map_err(|e| Error::invalid(vec![e]))?;
    let password_hash = passwords::hash(new.expose().to_owned()).await?;
    let mut tx = app.store.begin_write().await?;
    // Taking the link in the transaction makes it work once, even for two requests at once.
    if password_resets::take(&mut tx, &hash, now).await? != Some(user_id) {
        return Err(ErrorCode::ResetLinkInvalid.into());
    }
    users::set_password_hash(&mut tx, user_id, &password_hash).await?;
    let ended = sessions::delete_others(&mut tx, user_id, None).await?;
    password_resets::delete_for_user(&mut tx, user_id).await?;
    let mut ev = caller.event(now, "auth.password_reset", "user", user_id.to_string());
    ev.actor_id = Some(user_id.to_string());
    ev.after = Some(json!({ "sessions_ended": ended }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(user_id)
}
