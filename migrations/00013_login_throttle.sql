-- +goose Up
-- Sign-in throttling, shared by every instance of the product.

-- One token bucket per client address: a burst of attempts, then a steady rate.
CREATE TABLE login_addresses (
    address    TEXT PRIMARY KEY,
    tokens     DOUBLE PRECISION NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_addresses_updated_at ON login_addresses (updated_at);

-- Consecutive failed sign-ins per email as typed (lower-cased, whether an
-- account has it or not, so that answers do not tell which emails exist).
-- The row with address '' is the account as a whole: its failures impose a
-- growing delay on every attempt. A row per address counts that address's
-- failures for the email and locks that pair outright.
CREATE TABLE login_failures (
    email         TEXT NOT NULL,
    address       TEXT NOT NULL,
    failures      INT NOT NULL,
    blocked_until TIMESTAMPTZ,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (email, address)
);
CREATE INDEX login_failures_updated_at ON login_failures (updated_at);

-- +goose Down
DROP TABLE login_failures;
DROP TABLE login_addresses;
