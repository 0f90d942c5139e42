-- +goose Up
-- What each HGS sync did, manual or scheduled, so the page can say it (and
-- "Refresh now" can flash it): how many calls the bank accepted, what was
-- new, what waits for later and why. outcome is one of fetched, nothing,
-- uncovered, busy, quota, failed, partial (jobs.HGSOutcome*).
CREATE TABLE hgs_sync_runs (
    id          BIGSERIAL PRIMARY KEY,
    job_id      BIGINT,
    manual      BOOLEAN NOT NULL DEFAULT false,
    outcome     TEXT NOT NULL,
    vehicles    INT NOT NULL DEFAULT 0,  -- vehicles synced by an accepted call
    calls       INT NOT NULL DEFAULT 0,  -- calls the bank accepted
    new_rows    INT NOT NULL DEFAULT 0,  -- movements stored that were new
    failed      INT NOT NULL DEFAULT 0,  -- vehicles whose call failed
    deferred    INT NOT NULL DEFAULT 0,  -- planned calls left for later
    uncovered   INT NOT NULL DEFAULT 0,  -- vehicles no active consent covers
    error_code  TEXT NOT NULL DEFAULT '',   -- the last failure (E-code or the product's word)
    quota_limit INT NOT NULL DEFAULT 0,     -- frequencyPerDay of a consent whose day ran out
    -- When the next attempt is made: after the bank's Retry-After, or when
    -- the day's quota is back.
    retry_at    TIMESTAMPTZ,
    finished_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX hgs_sync_runs_job ON hgs_sync_runs (job_id);
CREATE INDEX hgs_sync_runs_finished ON hgs_sync_runs (finished_at DESC, id DESC);

-- +goose Down
DROP TABLE hgs_sync_runs;
