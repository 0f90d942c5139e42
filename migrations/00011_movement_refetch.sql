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
-- bank's ledger; the version it replaced is kept here, never lost.
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
    new_booked_at   TIMESTAMPTZ NOT NULL,
    new_direction   TEXT NOT NULL,
    new_amount      NUMERIC(18,2) NOT NULL,
    new_balance     NUMERIC(18,2) NOT NULL,
    new_currency    TEXT NOT NULL,
    new_code        TEXT NOT NULL,
    new_name        TEXT NOT NULL,
    new_description TEXT NOT NULL,
    found_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- The movements page lists an account's differences of a period.
CREATE INDEX movement_differences_account ON movement_differences (account_id, new_booked_at);

-- +goose Down
DROP TABLE movement_differences;
ALTER TABLE movement_syncs DROP COLUMN changed;
DELETE FROM movement_syncs WHERE reason = 'refetch';
ALTER TABLE movement_syncs DROP CONSTRAINT movement_syncs_reason_check;
ALTER TABLE movement_syncs ADD CONSTRAINT movement_syncs_reason_check
    CHECK (reason IN ('page', 'manual', 'schedule', 'initial'));
