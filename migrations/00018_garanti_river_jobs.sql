-- +goose Up
-- Consent withdrawals and HGS syncs are delivered and run by River now:
-- job_id names a River job (river_job.id), which the old jobs table never
-- held. River prunes finished jobs on its own schedule, so there is no
-- foreign key to it; a record whose job is gone keeps its own outcome. The
-- ids of old-queue jobs would name unrelated River jobs, so they are cleared.
ALTER TABLE garanti_revocations DROP CONSTRAINT garanti_revocations_job_id_fkey;
ALTER TABLE hgs_sync_runs DROP CONSTRAINT hgs_sync_runs_job_id_fkey;
UPDATE garanti_revocations SET job_id = NULL WHERE job_id IS NOT NULL;
UPDATE hgs_sync_runs SET job_id = NULL WHERE job_id IS NOT NULL;

-- +goose Down
UPDATE garanti_revocations SET job_id = NULL WHERE job_id IS NOT NULL;
UPDATE hgs_sync_runs SET job_id = NULL WHERE job_id IS NOT NULL;
ALTER TABLE hgs_sync_runs ADD CONSTRAINT hgs_sync_runs_job_id_fkey
    FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE SET NULL;
ALTER TABLE garanti_revocations ADD CONSTRAINT garanti_revocations_job_id_fkey
    FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE SET NULL;
