-- +goose Up
-- Garanti BBVA consents as the product manages them. consent_id is the
-- bank's id; status is the product's reading (garanti.Status) and
-- raw_status the bank's own value, kept so nothing is lost.
CREATE TABLE garanti_consents (
    id                BIGSERIAL PRIMARY KEY,
    consent_id        TEXT NOT NULL UNIQUE,
    status            TEXT NOT NULL,
    raw_status        TEXT NOT NULL DEFAULT '',
    recurring         BOOLEAN NOT NULL,
    validation_date   DATE NOT NULL,
    frequency_per_day INT NOT NULL CHECK (frequency_per_day >= 1),
    tran_begin        DATE NOT NULL,
    tran_end          DATE NOT NULL,
    -- What was asked for: [{"id":…, "attributeName":…, "attribute":…}].
    authorities       JSONB NOT NULL DEFAULT '[]',
    -- Per-authority status from the bank: [{"authorityId":…, "raw":…, "status":…}].
    authority_status  JSONB NOT NULL DEFAULT '[]',
    renews_id         BIGINT REFERENCES garanti_consents (id) ON DELETE SET NULL,
    superseded_by     BIGINT REFERENCES garanti_consents (id) ON DELETE SET NULL,
    needs_reauth      BOOLEAN NOT NULL DEFAULT false,
    reauth_reason     TEXT NOT NULL DEFAULT '',
    -- The last failure of a step of the flow (E-code or OAuth error), shown
    -- with its explanation until the step succeeds.
    last_error_code   TEXT NOT NULL DEFAULT '',
    last_error        TEXT NOT NULL DEFAULT '',
    creation_end_time TIMESTAMPTZ,
    created_by        BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    activated_at      TIMESTAMPTZ,
    revoked_at        TIMESTAMPTZ,
    status_checked_at TIMESTAMPTZ,
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX garanti_consents_status ON garanti_consents (status);

-- What the customer granted: one row per product (HGS tag) and authority.
CREATE TABLE garanti_consent_products (
    consent_id   BIGINT NOT NULL REFERENCES garanti_consents (id) ON DELETE CASCADE,
    product_id   TEXT NOT NULL,
    authority_id TEXT NOT NULL,
    flag         BOOLEAN NOT NULL,
    revoked_at   TIMESTAMPTZ,
    PRIMARY KEY (consent_id, product_id, authority_id)
);

-- One-time OAuth states. Only hashes of the state and of the session
-- binding are kept; the PKCE verifier is encrypted.
CREATE TABLE garanti_oauth_states (
    state_hash   BYTEA PRIMARY KEY,
    binding_hash BYTEA NOT NULL,
    consent_id   BIGINT NOT NULL REFERENCES garanti_consents (id) ON DELETE CASCADE,
    verifier_enc BYTEA NOT NULL,
    user_id      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ NOT NULL,
    used_at      TIMESTAMPTZ
);
CREATE INDEX garanti_oauth_states_expires ON garanti_oauth_states (expires_at);

-- The customer's tokens of a consent, encrypted; renewed under this row's lock.
CREATE TABLE garanti_tokens (
    consent_id   BIGINT PRIMARY KEY REFERENCES garanti_consents (id) ON DELETE CASCADE,
    access_enc   BYTEA NOT NULL,
    refresh_enc  BYTEA NOT NULL,
    expires_at   TIMESTAMPTZ,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Data calls (read, txnlist) per consent per Istanbul day, for frequencyPerDay.
CREATE TABLE garanti_usage (
    consent_id BIGINT NOT NULL REFERENCES garanti_consents (id) ON DELETE CASCADE,
    day        DATE NOT NULL,
    calls      INT NOT NULL DEFAULT 0,
    PRIMARY KEY (consent_id, day)
);

-- HGS tags (vehicles) and their sync state.
CREATE TABLE hgs_vehicles (
    product_id       TEXT PRIMARY KEY,
    consent_id       BIGINT REFERENCES garanti_consents (id) ON DELETE SET NULL,
    plate            TEXT NOT NULL DEFAULT '',
    vehicle_class    TEXT NOT NULL DEFAULT '',
    balance          NUMERIC(18,2),
    status_text      TEXT NOT NULL DEFAULT '',
    auto_payment     NUMERIC(18,2),
    min_payment      NUMERIC(18,2),
    -- The contiguous range of days fully fetched so far.
    synced_from      DATE,
    synced_to        DATE,
    last_synced_at   TIMESTAMPTZ,
    last_error_code  TEXT NOT NULL DEFAULT '',
    last_error       TEXT NOT NULL DEFAULT '',
    last_error_at    TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- HGS passages (debit B) and top-ups (credit A), unique by the client's Key().
CREATE TABLE hgs_transactions (
    id                 BIGSERIAL PRIMARY KEY,
    key                TEXT NOT NULL UNIQUE,
    product_id         TEXT NOT NULL,
    amount             NUMERIC(18,2) NOT NULL,
    debit_credit       TEXT NOT NULL CHECK (debit_credit IN ('A', 'B')),
    entrance_ts        TIMESTAMPTZ NOT NULL,
    departure_ts       TIMESTAMPTZ,
    entrance_motorway  TEXT NOT NULL DEFAULT '',
    departure_motorway TEXT NOT NULL DEFAULT '',
    explanation        TEXT NOT NULL DEFAULT '',
    raw                JSONB NOT NULL DEFAULT '{}',
    consent_id         BIGINT REFERENCES garanti_consents (id) ON DELETE SET NULL,
    synced_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX hgs_transactions_product_ts ON hgs_transactions (product_id, entrance_ts DESC);
CREATE INDEX hgs_transactions_ts ON hgs_transactions (entrance_ts DESC, id DESC);

-- +goose Down
DROP TABLE hgs_transactions;
DROP TABLE hgs_vehicles;
DROP TABLE garanti_usage;
DROP TABLE garanti_tokens;
DROP TABLE garanti_oauth_states;
DROP TABLE garanti_consent_products;
DROP TABLE garanti_consents;
