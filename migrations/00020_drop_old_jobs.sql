-- +goose Up
-- Every job kind runs on River now, and the old queue's table goes. A
-- consent withdrawal still pending was queued there, where nothing works it
-- any more: it is queued again on River, so a withdrawal a person confirmed
-- still reaches the bank.
WITH pending AS (
    SELECT id FROM garanti_revocations WHERE state = 'pending'
), queued AS (
    INSERT INTO river_job (args, kind, max_attempts, priority, queue, state)
    SELECT jsonb_build_object('revocation_id', id), 'garanti.revoke', 8, 1, 'default', 'available'
    FROM pending
    RETURNING id, (args->>'revocation_id')::bigint AS revocation_id
)
UPDATE garanti_revocations r SET job_id = q.id FROM queued q WHERE r.id = q.revocation_id;
DROP TABLE jobs;

-- +goose Down
CREATE TABLE jobs (
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      JSONB NOT NULL DEFAULT '{}',
    state        TEXT NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    attempts     INT NOT NULL DEFAULT 0,
    max_attempts INT NOT NULL DEFAULT 10,
    run_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    locked_by    TEXT NOT NULL DEFAULT '',
    locked_until TIMESTAMPTZ,
    last_error   TEXT NOT NULL DEFAULT '',
    unique_key   TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at  TIMESTAMPTZ
);
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key) WHERE unique_key IS NOT NULL;
CREATE INDEX jobs_ready ON jobs (run_at) WHERE state = 'queued';
CREATE INDEX jobs_lease ON jobs (locked_until) WHERE state = 'running';
CREATE INDEX jobs_state_updated ON jobs (state, updated_at DESC);
