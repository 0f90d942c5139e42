-- +goose Up
-- Where what is known about an agent's or current account's activity comes
-- from: 'seen' on a synced debt (activity unknown: Finrota has no list API),
-- 'list' from an authoritative list (the sandbox portal's), 'provider'
-- learnt from Finrota's own answer (a 404 for an inactive or unknown code,
-- a success for an active one). The form only refuses codes a list names
-- inactive or lacks; the overdue page leaves out what is known inactive.
ALTER TABLE debt_refs ADD COLUMN source TEXT NOT NULL DEFAULT 'seen'
    CHECK (source IN ('seen', 'list', 'provider'));
UPDATE debt_refs SET source = 'list' WHERE name <> '' OR NOT active;

-- A debt's Finrota id is only ever taken from our own delivery or a
-- read-back proving the record is ours. Ids filled in before that rule by
-- a sync's match on the ERP code alone, on debts Finrota never confirmed,
-- are not trusted.
UPDATE debts SET finrota_id = NULL WHERE remote_erp_code IS NULL AND state <> 'delivered';

-- The scheduled sync's job, so that its retries resume the same sync.
ALTER TABLE debt_syncs ADD COLUMN job_id BIGINT;
CREATE UNIQUE INDEX debt_syncs_job ON debt_syncs (job_id) WHERE job_id IS NOT NULL;

-- A send is 'sending' from just before the call until its outcome is
-- recorded; a retry that finds it so does not call again but marks it
-- 'unknown' for a person to check at the portal.
ALTER TABLE debt_notifications DROP CONSTRAINT debt_notifications_state_check;
ALTER TABLE debt_notifications ADD CONSTRAINT debt_notifications_state_check
    CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'unknown'));
CREATE INDEX debt_notifications_day ON debt_notifications (day, id);

-- Filters without an index before: currency, document type (each with the
-- default sort) and the delivered state.
CREATE INDEX debts_currency ON debts (currency_id, document_type, due_date, id);
CREATE INDEX debts_doctype ON debts (document_type, due_date, id);
CREATE INDEX debts_currency_amount ON debts (currency_id, amount, id);
CREATE INDEX debts_state ON debts (state, id);

-- +goose Down
DROP INDEX debts_state;
DROP INDEX debts_currency_amount;
DROP INDEX debts_doctype;
DROP INDEX debts_currency;
DROP INDEX debt_notifications_day;
UPDATE debt_notifications SET state = 'failed' WHERE state IN ('sending', 'unknown');
ALTER TABLE debt_notifications DROP CONSTRAINT debt_notifications_state_check;
ALTER TABLE debt_notifications ADD CONSTRAINT debt_notifications_state_check
    CHECK (state IN ('pending', 'sent', 'failed'));
DROP INDEX debt_syncs_job;
ALTER TABLE debt_syncs DROP COLUMN job_id;
ALTER TABLE debt_refs DROP COLUMN source;
