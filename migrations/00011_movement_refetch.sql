-- +goose Up
-- An operator may fetch a stored period again (to repair a break in the
-- balance chain); such runs are told apart from the others.
ALTER TABLE movement_syncs DROP CONSTRAINT movement_syncs_reason_check;
ALTER TABLE movement_syncs ADD CONSTRAINT movement_syncs_reason_check
    CHECK (reason IN ('page', 'manual', 'schedule', 'initial', 'refetch'));
-- How many stored movements the run found the bank reporting differently.
ALTER TABLE movement_syncs ADD COLUMN changed INT NOT NULL DEFAULT 0;

-- Every stored movement a sync found the bank reporting differently (same
-- TransactionId, another date, amount, balance or text). The bank's version
-- replaces the stored one, so totals and the balance chain follow the
-- bank's ledger; the version it replaced is kept here, never lost. A stored
-- movement the bank no longer lists in a sync's range has no new version
-- (new_* NULL): it stays stored, flagged here once, for a person to judge.
CREATE TABLE movement_differences (
    id              BIGSERIAL PRIMARY KEY,
    account_id      BIGINT NOT NULL REFERENCES bank_accounts (id) ON DELETE CASCADE,
    movement_id     BIGINT NOT NULL REFERENCES account_movements (id) ON DELETE CASCADE,
    sync_id         BIGINT REFERENCES movement_syncs (id) ON DELETE SET NULL,
    transaction_id  TEXT NOT NULL,
    old_booked_at   TIMESTAMPTZ NOT NULL,
    old_direction   TEXT NOT NULL,
    old_amount      NUMERIC(18,2) NOT NULL,
    old_balance     NUMERIC(18,2) NOT NULL,
    old_currency    TEXT NOT NULL,
    old_code        TEXT NOT NULL,
    old_name        TEXT NOT NULL,
    old_description TEXT NOT NULL,
    old_raw         JSONB NOT NULL,
    new_booked_at   TIMESTAMPTZ,
    new_direction   TEXT,
    new_amount      NUMERIC(18,2),
    new_balance     NUMERIC(18,2),
    new_currency    TEXT,
    new_code        TEXT,
    new_name        TEXT,
    new_description TEXT,
    found_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((new_booked_at IS NULL) = (new_amount IS NULL) AND (new_amount IS NULL) = (new_balance IS NULL))
);
-- The movements page lists an account's differences of a period.
CREATE INDEX movement_differences_account ON movement_differences (account_id, old_booked_at);
-- A movement the bank stopped listing is flagged once.
CREATE UNIQUE INDEX movement_differences_vanished ON movement_differences (movement_id) WHERE new_booked_at IS NULL;

-- +goose Down
DROP TABLE movement_differences;
ALTER TABLE movement_syncs DROP COLUMN changed;
DELETE FROM movement_syncs WHERE reason = 'refetch';
ALTER TABLE movement_syncs DROP CONSTRAINT movement_syncs_reason_check;
ALTER TABLE movement_syncs ADD CONSTRAINT movement_syncs_reason_check
    CHECK (reason IN ('page', 'manual', 'schedule', 'initial'));
