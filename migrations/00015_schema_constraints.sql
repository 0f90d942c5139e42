-- +goose Up
-- debts_state (state, id), added in 00006 for the state filter, serves
-- every query debts_open_state (the same columns, open states only) served:
-- the list's and the count's "state = $n" find the same rows through it in
-- the same plan, and the delivered state only through it. Keeping both made
-- every write of a debt update one index more for nothing.
DROP INDEX debts_open_state;

-- The consent statuses the product writes: garanti.Status (unknown
-- included: a consent the bank created with a status the mapping does not
-- know keeps it until the next check) and the product's own abandoned.
-- A status outside the list could only come from an earlier version; it
-- becomes unknown, the bank's own value staying in raw_status.
UPDATE garanti_consents SET status = 'unknown'
    WHERE status NOT IN ('awaiting_authorisation', 'authorised', 'active', 'expired', 'revoked',
                         'rejected', 'abandoned', 'unknown');
ALTER TABLE garanti_consents ADD CONSTRAINT garanti_consents_status_check
    CHECK (status IN ('awaiting_authorisation', 'authorised', 'active', 'expired', 'revoked',
                      'rejected', 'abandoned', 'unknown'));

-- The job that delivers or runs a record. Done and cancelled jobs are
-- pruned (jobs.Prune) while the records they served are kept, so pruning
-- forgets the job: ON DELETE SET NULL. Each constraint is added NOT VALID
-- first: that takes its locks on jobs, so no job can be pruned meanwhile;
-- then the ids of jobs pruned before this version (every install that ran
-- for a while has them) are forgotten the same way, and the constraint is
-- validated.
ALTER TABLE debts ADD CONSTRAINT debts_job_id_fkey
    FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE SET NULL NOT VALID;
ALTER TABLE debt_syncs ADD CONSTRAINT debt_syncs_job_id_fkey
    FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE SET NULL NOT VALID;
ALTER TABLE debt_notifications ADD CONSTRAINT debt_notifications_job_id_fkey
    FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE SET NULL NOT VALID;
ALTER TABLE movement_syncs ADD CONSTRAINT movement_syncs_job_id_fkey
    FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE SET NULL NOT VALID;
ALTER TABLE garanti_revocations ADD CONSTRAINT garanti_revocations_job_id_fkey
    FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE SET NULL NOT VALID;
ALTER TABLE hgs_sync_runs ADD CONSTRAINT hgs_sync_runs_job_id_fkey
    FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE SET NULL NOT VALID;

UPDATE debts t SET job_id = NULL
    WHERE job_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = t.job_id);
UPDATE debt_syncs t SET job_id = NULL
    WHERE job_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = t.job_id);
UPDATE debt_notifications t SET job_id = NULL
    WHERE job_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = t.job_id);
UPDATE movement_syncs t SET job_id = NULL
    WHERE job_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = t.job_id);
UPDATE garanti_revocations t SET job_id = NULL
    WHERE job_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = t.job_id);
UPDATE hgs_sync_runs t SET job_id = NULL
    WHERE job_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = t.job_id);

ALTER TABLE debts VALIDATE CONSTRAINT debts_job_id_fkey;
ALTER TABLE debt_syncs VALIDATE CONSTRAINT debt_syncs_job_id_fkey;
ALTER TABLE debt_notifications VALIDATE CONSTRAINT debt_notifications_job_id_fkey;
ALTER TABLE movement_syncs VALIDATE CONSTRAINT movement_syncs_job_id_fkey;
ALTER TABLE garanti_revocations VALIDATE CONSTRAINT garanti_revocations_job_id_fkey;
ALTER TABLE hgs_sync_runs VALIDATE CONSTRAINT hgs_sync_runs_job_id_fkey;

-- Pruning a job looks up the rows that name it, in every one of these
-- tables; without an index each prune would read them all. debt_syncs_job
-- and hgs_sync_runs_job serve their tables already. Most rows' jobs are
-- pruned, so only the rows that still name one are indexed.
CREATE INDEX debts_job ON debts (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX debt_notifications_job ON debt_notifications (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX movement_syncs_job ON movement_syncs (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX garanti_revocations_job ON garanti_revocations (job_id) WHERE job_id IS NOT NULL;

-- +goose Down
DROP INDEX garanti_revocations_job;
DROP INDEX movement_syncs_job;
DROP INDEX debt_notifications_job;
DROP INDEX debts_job;
ALTER TABLE hgs_sync_runs DROP CONSTRAINT hgs_sync_runs_job_id_fkey;
ALTER TABLE garanti_revocations DROP CONSTRAINT garanti_revocations_job_id_fkey;
ALTER TABLE movement_syncs DROP CONSTRAINT movement_syncs_job_id_fkey;
ALTER TABLE debt_notifications DROP CONSTRAINT debt_notifications_job_id_fkey;
ALTER TABLE debt_syncs DROP CONSTRAINT debt_syncs_job_id_fkey;
ALTER TABLE debts DROP CONSTRAINT debts_job_id_fkey;
ALTER TABLE garanti_consents DROP CONSTRAINT garanti_consents_status_check;
CREATE INDEX debts_open_state ON debts (state, id) WHERE state <> 'delivered';
