-- +goose Up
-- Movement syncs run on River now. A run names its River job (river_job),
-- which River prunes when it has finished, so no foreign key: the id may
-- outlive the job, as a record of which job did the work.
ALTER TABLE movement_syncs DROP CONSTRAINT movement_syncs_job_id_fkey;
DROP INDEX movement_syncs_job;
ALTER TABLE movement_syncs RENAME COLUMN job_id TO river_job_id;
UPDATE movement_syncs SET river_job_id = NULL WHERE river_job_id IS NOT NULL;

-- Runs still open were waiting for jobs of the old queue, which no longer
-- works their kind: their jobs are cancelled there and each run gets a
-- River job, so nothing an operator asked for is lost in the upgrade.
UPDATE jobs SET state = 'cancelled', finished_at = now(), updated_at = now()
    WHERE kind IN ('movements.sync', 'movements.schedule') AND state = 'queued';
WITH open AS (
    SELECT id FROM movement_syncs WHERE state IN ('pending', 'running') ORDER BY id
), queued AS (
    INSERT INTO river_job (kind, args, max_attempts, queue, state, scheduled_at)
    SELECT 'movements.sync', jsonb_build_object('sync_id', id), 5, 'default', 'available', now() FROM open
    RETURNING id, (args->>'sync_id')::bigint AS sync_id
)
UPDATE movement_syncs s SET river_job_id = q.id, state = 'pending' FROM queued q WHERE s.id = q.sync_id;

-- +goose Down
-- The old queue's ids are gone; the runs keep their outcome without them.
UPDATE movement_syncs SET river_job_id = NULL;
ALTER TABLE movement_syncs RENAME COLUMN river_job_id TO job_id;
ALTER TABLE movement_syncs ADD CONSTRAINT movement_syncs_job_id_fkey
    FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE SET NULL;
CREATE INDEX movement_syncs_job ON movement_syncs (job_id) WHERE job_id IS NOT NULL;
