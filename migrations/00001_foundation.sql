-- +goose Up
CREATE TABLE users (
    id                  BIGSERIAL PRIMARY KEY,
    email               TEXT NOT NULL,
    name                TEXT NOT NULL DEFAULT '',
    password_hash       TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    language            TEXT NOT NULL DEFAULT '' CHECK (language IN ('', 'tr', 'en')),
    disabled_at         TIMESTAMPTZ,
    failed_logins       INT NOT NULL DEFAULT 0,
    locked_until        TIMESTAMPTZ,
    must_change_password BOOLEAN NOT NULL DEFAULT false,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Sessions: the cookie carries a random id; only its SHA-256 is stored.
CREATE TABLE sessions (
    id_hash      BYTEA PRIMARY KEY,
    user_id      BIGINT REFERENCES users (id) ON DELETE CASCADE,
    data         BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_user_id ON sessions (user_id);

-- Settings editable by admins; every value is encrypted (key id inside).
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value_enc  BYTEA NOT NULL,
    updated_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Provider access tokens shared by every instance, encrypted.
CREATE TABLE provider_tokens (
    key        TEXT PRIMARY KEY,
    value_enc  BYTEA,
    expires_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every outbound provider call; never secrets or bodies.
CREATE TABLE api_calls (
    id          BIGSERIAL PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    provider    TEXT NOT NULL,
    operation   TEXT NOT NULL,
    method      TEXT NOT NULL,
    status      INT NOT NULL,
    duration_ms DOUBLE PRECISION NOT NULL,
    request_id  TEXT NOT NULL DEFAULT '',
    error_code  TEXT NOT NULL DEFAULT '',
    failure     TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX api_calls_at ON api_calls (at DESC, id DESC);
CREATE INDEX api_calls_provider_at ON api_calls (provider, at DESC);
CREATE INDEX api_calls_request_id ON api_calls (request_id);

-- Who changed what, for admin actions and provider records alike.
CREATE TABLE audit_log (
    id       BIGSERIAL PRIMARY KEY,
    at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    user_id  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    action   TEXT NOT NULL,
    subject  TEXT NOT NULL DEFAULT '',
    details  JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_subject ON audit_log (subject, at DESC);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE api_calls;
DROP TABLE provider_tokens;
DROP TABLE settings;
DROP TABLE sessions;
DROP TABLE users;
