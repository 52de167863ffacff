//! Telling each party what changed (conditional opening): a notice per person, written to
//! their in-app inbox in the same transaction as the change, and mailed after it commits when
//! the deployment names an SMTP server. The words come from the web layer's message catalogue
//! (`App::notice_texts`); the app only says what happened and to whom.

use std::sync::Arc;

use domain::clock::Timestamp;
use domain::ids::{OrgId, UserId};
use domain::notice::Notice;
use domain::roles::{OrgRole, PlatformRole};

use crate::App;
use crate::error::Result;

/// Renders a notice as a mail's subject and text.
pub type Texts = Arc<dyn Fn(&Notice) -> (String, String) + Send + Sync>;

/// The notices one change sends.
#[derive(Debug, Default)]
pub struct Outbox(Vec<(UserId, Notice)>);

impl Outbox {
    /// `notice` to each of `users`, once each.
    pub fn to(&mut self, users: impl IntoIterator<Item = UserId>, notice: &Notice) {
        for u in users {
            if !self.0.iter().any(|(v, n)| *v == u && n == notice) {
                self.0.push((u, notice.clone()));
            }
        }
    }

    /// Writes every notice into its reader's inbox, inside the change's transaction.
    pub async fn write(&self, tx: &mut store::WriteTx, at: Timestamp) -> Result<()> {
        for (user, notice) in &self.0 {
            store::notifications::insert(tx, *user, notice, at).await?;
        }
        Ok(())
    }

    /// Mails the notices, off the request path, once the change is committed.
    pub fn send(self, app: &App) {
        let (Some(mailer), Some(texts)) = (app.mailer.clone(), app.notice_texts.clone()) else {
            return;
        };
        let store = app.store.clone();
        tokio::spawn(async move {
            for (user, notice) in self.0 {
                let Ok(u) = store.user(user).await else {
                    continue;
                };
                let (subject, text) = texts(&notice);
                if let Err(e) = mailer.send(&u.email, &subject, text).await {
                    tracing::warn!(error = %e, kind = notice.kind.as_str(), "a notice could not be mailed");
                }
            }
        });
    }
}

/// Who decides for `org`: its admins and reviewers.
pub async fn deciders(app: &App, org: OrgId) -> Result<Vec<UserId>> {
    Ok(app
        .store
        .members(org)
        .await?
        .into_iter()
        .filter(|m| matches!(m.role, OrgRole::ProviderAdmin | OrgRole::Reviewer))
        .map(|m| m.user_id)
        .collect())
}

/// The platform's operators.
pub async fn operators(app: &App) -> Result<Vec<UserId>> {
    Ok(app
        .store
        .platform_roles()
        .await?
        .into_iter()
        .filter(|(_, r)| *r == PlatformRole::Operator)
        .map(|(u, _)| u)
        .collect())
}

/// The platform's regulators.
pub async fn regulators(app: &App) -> Result<Vec<UserId>> {
    Ok(app
        .store
        .platform_roles()
        .await?
        .into_iter()
        .filter(|(_, r)| *r == PlatformRole::Regulator)
        .map(|(u, _)| u)
        .collect())
}

/// The names of `entries`, joined as a list is written in Chinese.
pub async fn entry_names(app: &App, entries: Vec<domain::ids::DatasetId>) -> String {
    let mut names = Vec::new();
    for id in entries {
        if let Ok(d) = app.store.dataset(&id.to_string()).await {
            names.push(d.meta.name);
        }
    }
    names.join("、")
}

/// How a person is named to the other side: an organization's registered name, or the
/// person's display name.
pub async fn person(app: &App, user: UserId) -> Result<String> {
    let u = app.store.user(user).await?;
    Ok(u.legal_name.unwrap_or(u.display_name))
}
