//! Data use agreements (A20.1): the text generated on approval and frozen once signed, its
//! SHA-256, the grants it delivers, who signed when, and the credential issued (A21.1); and
//! the providers' own agreement templates.

use domain::access::AgreementState;
use domain::clock::Timestamp;
use domain::ids::{AgreementId, ApplicationId, OrgId, TokenId, UserId, WorkOrderId};

use crate::{Result, Store, StoreError, WriteTx, parse};

#[derive(Debug, Clone, serde::Serialize)]
pub struct AgreementRecord {
    pub id: AgreementId,
    pub work_order_id: WorkOrderId,
    pub application_id: ApplicationId,
    pub org_id: OrgId,
    pub applicant_id: UserId,
    pub version: i64,
    pub state: AgreementState,
    pub text: String,
    /// SHA-256 of `text`, hex.
    pub sha256: String,
    /// What is granted, per entry (JSON of the app layer's grants).
    pub grants: serde_json::Value,
    pub period_start: chrono::NaiveDate,
    pub period_end: chrono::NaiveDate,
    pub applicant_signed_at: Option<Timestamp>,
    pub provider_signed_at: Option<Timestamp>,
    pub provider_signed_by: Option<String>,
    pub credential_id: Option<TokenId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl AgreementRecord {
    pub fn facts(&self) -> domain::policy::WorkOrderFacts {
        domain::policy::WorkOrderFacts {
            org: self.org_id,
            applicant: self.applicant_id,
        }
    }
}

const COLUMNS: &str = "id, work_order_id, application_id, org_id, applicant_id, version, state, text, sha256, \
     grants, period_start, period_end, applicant_signed_at, provider_signed_at, provider_signed_by, \
     credential_id, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    work_order_id: String,
    application_id: String,
    org_id: String,
    applicant_id: String,
    version: i64,
    state: String,
    text: String,
    sha256: String,
    grants: String,
    period_start: String,
    period_end: String,
    applicant_signed_at: Option<i64>,
    provider_signed_at: Option<i64>,
    provider_signed_by: Option<String>,
    credential_id: Option<String>,
    created_at: i64,
    updated_at: i64,
}

fn date(s: &str) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| StoreError::Corrupt(format!("date {s:?}")))
}

impl TryFrom<Row> for AgreementRecord {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self> {
        Ok(Self {
            grants: serde_json::from_str(&r.grants)
                .map_err(|e| StoreError::Corrupt(format!("agreement {}: {e}", r.id)))?,
            id: parse(&r.id, "agreement id")?,
            work_order_id: parse(&r.work_order_id, "work order id")?,
            application_id: parse(&r.application_id, "application id")?,
            org_id: parse(&r.org_id, "org id")?,
            applicant_id: parse(&r.applicant_id, "user id")?,
            version: r.version,
            state: parse(&r.state, "agreement state")?,
            text: r.text,
            sha256: r.sha256,
            period_start: date(&r.period_start)?,
            period_end: date(&r.period_end)?,
            applicant_signed_at: r.applicant_signed_at.map(Timestamp),
            provider_signed_at: r.provider_signed_at.map(Timestamp),
            provider_signed_by: r.provider_signed_by,
            credential_id: r.credential_id.map(|c| parse(&c, "token id")).transpose()?,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

pub async fn insert(tx: &mut WriteTx, a: &AgreementRecord) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO access_agreements ({COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
    )))
    .bind(a.id.to_string())
    .bind(a.work_order_id.to_string())
    .bind(a.application_id.to_string())
    .bind(a.org_id.to_string())
    .bind(a.applicant_id.to_string())
    .bind(a.version)
    .bind(a.state.as_str())
    .bind(&a.text)
    .bind(&a.sha256)
    .bind(a.grants.to_string())
    .bind(a.period_start.to_string())
    .bind(a.period_end.to_string())
    .bind(a.applicant_signed_at.map(|t| t.0))
    .bind(a.provider_signed_at.map(|t| t.0))
    .bind(a.provider_signed_by.clone())
    .bind(a.credential_id.map(|c| c.to_string()))
    .bind(a.created_at.0)
    .bind(a.updated_at.0)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Saves `a`'s state, signatures and credential if the stored one is still in `expected`
/// state with the same signatures; `Conflict("agreement_changed")` otherwise. The text is
/// never written again: a change is a new version.
pub async fn update(
    tx: &mut WriteTx,
    a: &AgreementRecord,
    expected: AgreementState,
    signed: (bool, bool),
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE access_agreements SET state = $1, applicant_signed_at = $2, provider_signed_at = $3, \
         provider_signed_by = $4, credential_id = $5, updated_at = $6 \
         WHERE id = $7 AND state = $8 AND (applicant_signed_at IS NOT NULL) = $9 \
         AND (provider_signed_at IS NOT NULL) = $10",
    )
    .bind(a.state.as_str())
    .bind(a.applicant_signed_at.map(|t| t.0))
    .bind(a.provider_signed_at.map(|t| t.0))
    .bind(a.provider_signed_by.clone())
    .bind(a.credential_id.map(|c| c.to_string()))
    .bind(a.updated_at.0)
    .bind(a.id.to_string())
    .bind(expected.as_str())
    .bind(signed.0)
    .bind(signed.1)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("agreement_changed"));
    }
    Ok(())
}

pub async fn save_template(
    tx: &mut WriteTx,
    org: OrgId,
    text: &str,
    by: &str,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO agreement_templates (org_id, text, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id) DO UPDATE SET text = $2, updated_by = $3, updated_at = $4",
    )
    .bind(org.to_string())
    .bind(text)
    .bind(by)
    .bind(at.0)
    .execute(tx.conn())
    .await?;
    Ok(())
}

impl Store {
    pub async fn agreement(&self, id: &str) -> Result<AgreementRecord> {
        let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM access_agreements WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// The agreements of a work order, the latest version first.
    pub async fn agreements_of(&self, order: WorkOrderId) -> Result<Vec<AgreementRecord>> {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM access_agreements WHERE work_order_id = $1 ORDER BY version DESC"
        )))
        .bind(order.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// An organization's own template, if it has one.
    pub async fn agreement_template(&self, org: OrgId) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT text FROM agreement_templates WHERE org_id = $1")
                .bind(org.to_string())
                .fetch_optional(self.pool())
                .await?,
        )
    }
}

/// A filing of conditional data handed over outside the platform (A21.1).
#[derive(Debug, Clone, serde::Serialize)]
pub struct OfflineRecord {
    pub id: String,
    pub agreement_id: AgreementId,
    pub org_id: OrgId,
    pub filed_by: UserId,
    pub reason: String,
    pub recipient: String,
    /// SHA-256 of the file handed over, hex.
    pub sha256: String,
    pub file_name: Option<String>,
    pub size: Option<i64>,
    pub filed_at: Timestamp,
}

const OFFLINE_COLUMNS: &str =
    "id, agreement_id, org_id, filed_by, reason, recipient, sha256, file_name, size, filed_at";

type OfflineRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    i64,
);

fn offline(r: OfflineRow) -> Result<OfflineRecord> {
    let (id, agreement, org, by, reason, recipient, sha256, file_name, size, at) = r;
    Ok(OfflineRecord {
        id,
        agreement_id: parse(&agreement, "agreement id")?,
        org_id: parse(&org, "organization id")?,
        filed_by: parse(&by, "user id")?,
        reason,
        recipient,
        sha256,
        file_name,
        size,
        filed_at: Timestamp(at),
    })
}

pub async fn insert_offline(tx: &mut WriteTx, o: &OfflineRecord) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO offline_deliveries ({OFFLINE_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    )))
    .bind(&o.id)
    .bind(o.agreement_id.to_string())
    .bind(o.org_id.to_string())
    .bind(o.filed_by.to_string())
    .bind(&o.reason)
    .bind(&o.recipient)
    .bind(&o.sha256)
    .bind(&o.file_name)
    .bind(o.size)
    .bind(o.filed_at.0)
    .execute(tx.conn())
    .await?;
    Ok(())
}

impl Store {
    /// The offline deliveries filed under `agreement`, the latest first.
    pub async fn offline_deliveries_of(
        &self,
        agreement: AgreementId,
    ) -> Result<Vec<OfflineRecord>> {
        let rows: Vec<OfflineRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {OFFLINE_COLUMNS} FROM offline_deliveries WHERE agreement_id = $1 \
             ORDER BY filed_at DESC, id DESC LIMIT 500"
        )))
        .bind(agreement.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(offline).collect()
    }

    /// The latest offline deliveries filed since `since`, at most `limit`.
    pub async fn offline_deliveries(
        &self,
        since: Timestamp,
        limit: i64,
    ) -> Result<Vec<OfflineRecord>> {
        let rows: Vec<OfflineRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {OFFLINE_COLUMNS} FROM offline_deliveries WHERE filed_at >= $1 \
             ORDER BY filed_at DESC, id DESC LIMIT $2"
        )))
        .bind(since.0)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(offline).collect()
    }
}
