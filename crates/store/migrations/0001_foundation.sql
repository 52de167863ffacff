-- One schema for SQLite and PostgreSQL: only portable types (TEXT, BIGINT), ids are UUIDv7
-- text made by the application, instants are BIGINT milliseconds since the Unix epoch (UTC).

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name_zh     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    uscc        TEXT,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    kind          TEXT NOT NULL,
    legal_name    TEXT,
    uscc          TEXT,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE user_platform_roles (
    user_id     TEXT NOT NULL REFERENCES users(id),
    role        TEXT NOT NULL,
    granted_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE memberships (
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    role        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    prefix      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    revoked_at  BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE login_failures (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    client_addr TEXT,
    at          BIGINT NOT NULL
);
CREATE INDEX login_failures_email_at ON login_failures(email, at);

CREATE TABLE audit_log (
    seq           BIGINT PRIMARY KEY,
    at            BIGINT NOT NULL,
    actor_id      TEXT,
    actor_role    TEXT NOT NULL,
    action        TEXT NOT NULL,
    target_type   TEXT NOT NULL,
    target_id     TEXT NOT NULL,
    before_digest TEXT,
    after_digest  TEXT,
    client_addr   TEXT,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log(actor_id, seq);
CREATE INDEX audit_log_target ON audit_log(target_type, target_id, seq);
CREATE INDEX audit_log_at ON audit_log(at);

-- The chain's head: the last sequence number and hash. Appending locks this row, which
-- serialises writers on PostgreSQL; verification compares it with the last record.
CREATE TABLE audit_head (
    id    BIGINT PRIMARY KEY,
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
