//! Failed sign-ins, counted per account in a sliding window, so throttling holds across nodes.

use domain::clock::Timestamp;
use uuid::Uuid;

use crate::{Result, Store, WriteTx};

pub async fn record_failure(
    tx: &mut WriteTx,
    email: &str,
    client_addr: Option<&str>,
    at: Timestamp,
) -> Result<()> {
    sqlx::query("INSERT INTO login_failures (id, email, client_addr, at) VALUES ($1, $2, $3, $4)")
        .bind(Uuid::now_v7().to_string())
        .bind(email)
        .bind(client_addr)
        .bind(at.0)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Forgets the failures of `email` after a successful sign-in.
pub async fn clear(tx: &mut WriteTx, email: &str) -> Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE email = $1")
        .bind(email)
        .execute(tx.conn())
        .await?;
    Ok(())
}

impl Store {
    /// Failures of `email` at or after `since`, and the oldest of them.
    pub async fn login_failures_since(
        &self,
        email: &str,
        since: Timestamp,
    ) -> Result<(i64, Option<Timestamp>)> {
        let (n, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(at) FROM login_failures WHERE email = $1 AND at >= $2",
        )
        .bind(email)
        .bind(since.0)
        .fetch_one(self.pool())
        .await?;
        Ok((n, oldest.map(Timestamp)))
    }
}
