/// What can go wrong in the store. Database text stays inside: the web layer maps this to a
/// stable code and logs the detail.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL scheme {0:?}: use sqlite:// or postgres://")]
    UnsupportedUrl(String),
    #[error("invalid database URL: {0}")]
    BadUrl(String),
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was hit; the payload names which (e.g. "email").
    #[error("already exists: {0}")]
    Conflict(&'static str),
    #[error("a write transaction was committed without an audit record")]
    Unaudited,
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// A file beside the database (a checkpoint, a key) could not be read or written.
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Conflict`], keeping other errors.
    pub(crate) fn conflict_on(err: sqlx::Error, what: &'static str) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
            _ => StoreError::Database(err),
        }
    }
}
