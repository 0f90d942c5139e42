-- +goose Up
-- VakıfBank accounts whose movements the product syncs. Coverage is one
-- contiguous span [synced_from, synced_until] of instants whose movements
-- are all stored: a page asks the bank only for what lies outside it.
CREATE TABLE bank_accounts (
    id               BIGSERIAL PRIMARY KEY,
    number           TEXT NOT NULL CHECK (number ~ '^[0-9]{17}$'),
    name             TEXT NOT NULL CHECK (name <> ''),
    currency         TEXT NOT NULL CHECK (currency IN ('TRY', 'USD', 'EUR')),
    synced_from      TIMESTAMPTZ,
    synced_until     TIMESTAMPTZ,
    last_sync_at     TIMESTAMPTZ,
    last_sync_status TEXT NOT NULL DEFAULT '' CHECK (last_sync_status IN ('', 'ok', 'failed')),
    last_sync_code   TEXT NOT NULL DEFAULT '',
    last_sync_error  TEXT NOT NULL DEFAULT '',
    balance          NUMERIC(18,2),
    balance_at       TIMESTAMPTZ,
    created_by       BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((synced_from IS NULL) = (synced_until IS NULL))
);
CREATE UNIQUE INDEX bank_accounts_number_key ON bank_accounts (number);

-- One row per movement the bank reported; TransactionId is unique per
-- account, so syncing overlapping ranges stores each movement once. id
-- follows the bank's order within a sync, which the balance chain needs for
-- movements stamped in the same second.
CREATE TABLE account_movements (
    id             BIGSERIAL PRIMARY KEY,
    account_id     BIGINT NOT NULL REFERENCES bank_accounts (id) ON DELETE CASCADE,
    transaction_id TEXT NOT NULL,
    booked_at      TIMESTAMPTZ NOT NULL,
    direction      TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    amount         NUMERIC(18,2) NOT NULL,
    balance        NUMERIC(18,2) NOT NULL,
    currency       TEXT NOT NULL DEFAULT '',
    code           TEXT NOT NULL DEFAULT '',
    name           TEXT NOT NULL DEFAULT '',
    description    TEXT NOT NULL DEFAULT '',
    raw            JSONB NOT NULL DEFAULT '{}',
    synced_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX account_movements_txn_key ON account_movements (account_id, transaction_id);
-- The list, the balance chain and the chart all read one account's period in date order.
CREATE INDEX account_movements_account_booked ON account_movements (account_id, booked_at, id);

-- Every sync of a range: who or what asked, the job doing it, the outcome.
CREATE TABLE movement_syncs (
    id           BIGSERIAL PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES bank_accounts (id) ON DELETE CASCADE,
    from_at      TIMESTAMPTZ NOT NULL,
    to_at        TIMESTAMPTZ NOT NULL CHECK (to_at >= from_at),
    reason       TEXT NOT NULL CHECK (reason IN ('page', 'manual', 'schedule', 'initial')),
    state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed')),
    job_id       BIGINT,
    requested_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    fetched      INT NOT NULL DEFAULT 0,
    inserted     INT NOT NULL DEFAULT 0,
    error_code   TEXT NOT NULL DEFAULT '',
    error        TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at   TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ
);
CREATE INDEX movement_syncs_account ON movement_syncs (account_id, created_at DESC);
CREATE INDEX movement_syncs_open ON movement_syncs (account_id) WHERE state IN ('pending', 'running');

-- +goose Down
DROP TABLE movement_syncs;
DROP TABLE account_movements;
DROP TABLE bank_accounts;
