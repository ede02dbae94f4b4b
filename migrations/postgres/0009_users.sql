-- Dashboard users, their API tokens and browser sessions, and the sign-in rate limit.
-- Times are TIMESTAMPTZ, as everywhere on this backend.

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL,
    -- Argon2id PHC string: algorithm, parameters, salt and hash in one value.
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'marketer', 'viewer')),
    created_at    TIMESTAMPTZ NOT NULL
);
-- Mail systems treat Ann@Shop.example and ann@shop.example as one person.
CREATE UNIQUE INDEX users_email_ci ON users (lower(email));

CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'marketer', 'viewer')),
    -- SHA-256 hex of the token: tokens are 190-bit random strings, so a fast hash cannot be
    -- brute-forced and lets every request look its token up by index.
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    -- Revoked tokens stay listed (who had what, until when) but authenticate nothing.
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE sessions (
    -- SHA-256 hex of the cookie's session id: a leaked database does not hand out sessions.
    id_hash    TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- One row per failed sign-in and per key (`address:…`, `account:…`), kept in the database so
-- every instance sharing it counts the same failures. Rows older than the window are deleted
-- as new failures arrive.
CREATE TABLE sign_in_failures (
    key TEXT NOT NULL,
    at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sign_in_failures_key_at ON sign_in_failures (key, at);
CREATE INDEX sign_in_failures_at ON sign_in_failures (at);
