-- +goose Up
-- A withdrawal (delete) asked of the bank, kept until the bank confirms it:
-- the outbox of the consent page's revoke. mode is all, authority, product
-- or both; state is pending until delivered, then done or failed.
CREATE TABLE garanti_revocations (
    id              BIGSERIAL PRIMARY KEY,
    consent_id      BIGINT NOT NULL REFERENCES garanti_consents (id) ON DELETE CASCADE,
    mode            TEXT NOT NULL CHECK (mode IN ('all', 'authority', 'product', 'both')),
    authority_id    TEXT NOT NULL DEFAULT '',
    product_id      TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    raw_status      TEXT NOT NULL DEFAULT '',
    last_error_code TEXT NOT NULL DEFAULT '',
    last_error      TEXT NOT NULL DEFAULT '',
    job_id          BIGINT,
    requested_by    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at     TIMESTAMPTZ
);
CREATE INDEX garanti_revocations_consent ON garanti_revocations (consent_id, id DESC);

-- HGS rows the product could not store as movements (an unknown
-- debitCreditInd…), kept whole with the reason so nothing the bank sent is
-- lost and a person can look at them.
CREATE TABLE hgs_unrecognised (
    key           TEXT PRIMARY KEY,
    product_id    TEXT NOT NULL,
    consent_id    BIGINT REFERENCES garanti_consents (id) ON DELETE SET NULL,
    reason        TEXT NOT NULL,
    raw           JSONB NOT NULL DEFAULT '{}',
    first_seen_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX hgs_unrecognised_product ON hgs_unrecognised (product_id);

-- Only a refresh token the bank refused (invalid_grant) needs the
-- customer's re-approval; earlier versions also flagged credential, gateway
-- and database failures, which a working refresh now clears. Unflag those so
-- the token job tries them again (and flags them again if the bank refuses).
UPDATE garanti_consents SET needs_reauth = false, reauth_reason = ''
    WHERE needs_reauth AND reauth_reason <> 'invalid_grant';

-- +goose Down
DROP TABLE hgs_unrecognised;
DROP TABLE garanti_revocations;
