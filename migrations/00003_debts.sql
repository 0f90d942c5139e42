-- +goose Up
-- The local mirror of Finrota's current account transactions (CAT debts)
-- and the outbox state of each. A row is what the user wants Finrota to
-- hold: erp_code is the wanted ERP code, remote_erp_code what Finrota
-- holds now (NULL until the create is delivered), so a rename is sent as an
-- update of remote_erp_code to erp_code.
CREATE TABLE debts (
    id                       BIGSERIAL PRIMARY KEY,
    erp_code                 TEXT NOT NULL,
    remote_erp_code          TEXT,
    finrota_id               TEXT,
    agent_erp_code           TEXT NOT NULL,
    current_account_erp_code TEXT NOT NULL,
    amount                   NUMERIC(18,2) NOT NULL CHECK (amount > 0),
    paid_amount              NUMERIC(18,2) NOT NULL DEFAULT 0 CHECK (paid_amount >= 0),
    document_no              TEXT NOT NULL,
    document_type            TEXT NOT NULL, -- Turkish wire value
    due_date                 DATE NOT NULL,
    transaction_date         DATE NOT NULL,
    currency_id              TEXT NOT NULL,
    description              TEXT NOT NULL DEFAULT '',
    is_active                BOOLEAN NOT NULL DEFAULT true,
    state                    TEXT NOT NULL DEFAULT 'pending'
                             CHECK (state IN ('pending', 'delivered', 'failed')),
    op                       TEXT NOT NULL DEFAULT 'create' CHECK (op IN ('create', 'update')),
    -- The intent being delivered: its version fences stale jobs, its
    -- request id is the X-Request-ID every retry of it carries.
    version                  INT NOT NULL DEFAULT 1,
    request_id               TEXT NOT NULL DEFAULT '',
    job_id                   BIGINT,
    last_error_status        INT NOT NULL DEFAULT 0,
    last_error_code          TEXT NOT NULL DEFAULT '',
    last_error_message       TEXT NOT NULL DEFAULT '',
    last_error_fields        JSONB NOT NULL DEFAULT '{}',
    created_by               BIGINT REFERENCES users (id) ON DELETE SET NULL,
    updated_by               BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    delivered_at             TIMESTAMPTZ,
    seen_at                  TIMESTAMPTZ -- last time Finrota showed it (sync or delivery)
);
CREATE UNIQUE INDEX debts_erp_code ON debts (erp_code);
CREATE UNIQUE INDEX debts_finrota_id ON debts (finrota_id) WHERE finrota_id IS NOT NULL;
CREATE INDEX debts_remote_erp_code ON debts (remote_erp_code) WHERE remote_erp_code IS NOT NULL;
-- Sorts (with the id as tie-breaker, so keyset pagination is exact).
CREATE INDEX debts_due ON debts (due_date, id);
CREATE INDEX debts_amount ON debts (amount, id);
-- Selective filters, each with the default sort.
CREATE INDEX debts_agent ON debts (agent_erp_code, due_date, id);
CREATE INDEX debts_account ON debts (current_account_erp_code, due_date, id);
CREATE INDEX debts_open_state ON debts (state, id) WHERE state <> 'delivered';
-- Overdue candidates: open balance on an active debt (the due date is the
-- range condition on top).
CREATE INDEX debts_overdue ON debts (due_date, id) WHERE is_active AND paid_amount < amount;
-- Prefix search, case-insensitive.
CREATE INDEX debts_erp_code_search ON debts (lower(erp_code) text_pattern_ops);
CREATE INDEX debts_document_no_search ON debts (lower(document_no) text_pattern_ops);

-- Every ERP code a debt has ever had: Finrota never lets one be reused, so
-- neither does the form.
CREATE TABLE debt_erp_codes (
    code    TEXT PRIMARY KEY,
    debt_id BIGINT NOT NULL REFERENCES debts (id) ON DELETE CASCADE
);

-- One row per intent sent through the outbox, so the detail page can show
-- the API calls of each by its X-Request-ID.
CREATE TABLE debt_deliveries (
    id          BIGSERIAL PRIMARY KEY,
    debt_id     BIGINT NOT NULL REFERENCES debts (id) ON DELETE CASCADE,
    version     INT NOT NULL,
    op          TEXT NOT NULL,
    request_id  TEXT NOT NULL UNIQUE,
    created_by  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX debt_deliveries_debt ON debt_deliveries (debt_id, id);

-- Agents, current accounts and currencies known to exist at Finrota (from
-- syncs, the sandbox, or the defaults), for the forms' choices.
CREATE TABLE debt_refs (
    kind    TEXT NOT NULL CHECK (kind IN ('agent', 'account', 'currency')),
    code    TEXT NOT NULL,
    name    TEXT NOT NULL DEFAULT '',
    active  BOOLEAN NOT NULL DEFAULT true,
    seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, code)
);
INSERT INTO debt_refs (kind, code) VALUES ('currency', 'TRY'), ('currency', 'USD'), ('currency', 'EUR');

-- Syncs from Finrota: progress (a retried sync resumes at its page) and history.
CREATE TABLE debt_syncs (
    id           BIGSERIAL PRIMARY KEY,
    requested_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    next_page    INT NOT NULL DEFAULT 1,
    items        INT NOT NULL DEFAULT 0,
    total        INT NOT NULL DEFAULT 0,
    state        TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed')),
    error        TEXT NOT NULL DEFAULT '',
    finished_at  TIMESTAMPTZ
);

-- Overdue-debt notification sends. day is the Istanbul day; the jobs'
-- unique key (not this table) is what stops a second send that day.
CREATE TABLE debt_notifications (
    id            BIGSERIAL PRIMARY KEY,
    day           DATE NOT NULL,
    requested_by  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    requested_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    forced        BOOLEAN NOT NULL DEFAULT false,
    scheduled     BOOLEAN NOT NULL DEFAULT false,
    debts         INT NOT NULL,
    agents        INT NOT NULL,
    request_id    TEXT NOT NULL,
    job_id        BIGINT,
    state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    error_code    TEXT NOT NULL DEFAULT '',
    error_message TEXT NOT NULL DEFAULT '',
    finished_at   TIMESTAMPTZ
);
CREATE INDEX debt_notifications_requested ON debt_notifications (requested_at DESC, id DESC);

-- Options of the debts area; one row.
CREATE TABLE debt_options (
    id           BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    daily_notify BOOLEAN NOT NULL DEFAULT false,
    updated_by   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO debt_options DEFAULT VALUES;

-- +goose Down
DROP TABLE debt_options;
DROP TABLE debt_notifications;
DROP TABLE debt_syncs;
DROP TABLE debt_refs;
DROP TABLE debt_deliveries;
DROP TABLE debt_erp_codes;
DROP TABLE debts;
