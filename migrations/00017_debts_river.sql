-- The debts area's jobs run on River. The job ids its tables keep now name
-- River jobs (river_job), which River prunes by itself when they finish:
-- no foreign key can follow them, so the ones to the old jobs table go,
-- and the old ids, which mean nothing to River, are forgotten.
-- +goose Up
ALTER TABLE debts DROP CONSTRAINT debts_job_id_fkey;
ALTER TABLE debt_syncs DROP CONSTRAINT debt_syncs_job_id_fkey;
ALTER TABLE debt_notifications DROP CONSTRAINT debt_notifications_job_id_fkey;
UPDATE debts SET job_id = NULL WHERE job_id IS NOT NULL;
UPDATE debt_syncs SET job_id = NULL WHERE job_id IS NOT NULL;
UPDATE debt_notifications SET job_id = NULL WHERE job_id IS NOT NULL;

-- An intent still pending was queued on the old runner, which no longer
-- works deliveries: it is queued again on River, with the same request id,
-- so nothing typed is lost and the retry stays idempotent.
WITH pending AS (
    SELECT id, version, request_id FROM debts WHERE state = 'pending'
), queued AS (
    INSERT INTO river_job (args, kind, max_attempts, priority, queue, state)
    SELECT jsonb_build_object('debtId', id, 'version', version, 'requestId', request_id),
           'debts.deliver', 30, 1, 'default', 'available'
    FROM pending
    RETURNING id, (args->>'debtId')::bigint AS debt_id
)
UPDATE debts d SET job_id = q.id FROM queued q WHERE d.id = q.debt_id;
DELETE FROM jobs WHERE kind IN ('debts.deliver', 'debts.sync', 'debts.notify', 'debts.notify.daily')
    AND state IN ('queued', 'running');

-- +goose Down
UPDATE debts SET job_id = NULL WHERE job_id IS NOT NULL;
UPDATE debt_syncs SET job_id = NULL WHERE job_id IS NOT NULL;
UPDATE debt_notifications SET job_id = NULL WHERE job_id IS NOT NULL;
ALTER TABLE debts ADD CONSTRAINT debts_job_id_fkey
    FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE SET NULL;
ALTER TABLE debt_syncs ADD CONSTRAINT debt_syncs_job_id_fkey
    FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE SET NULL;
ALTER TABLE debt_notifications ADD CONSTRAINT debt_notifications_job_id_fkey
    FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE SET NULL;
