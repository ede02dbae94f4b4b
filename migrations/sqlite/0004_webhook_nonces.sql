-- Replay guard for webhooks whose signature does not cover the body (WeChat plain mode):
-- each signed (timestamp, nonce) of an account with the hash of the body it first came with.
-- The same pair with another body is a replay. Rows are only needed while a request carrying
-- the pair can still pass the clock check; older ones are deleted as new ones arrive.
CREATE TABLE webhook_nonces (
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    -- The request's signed `timestamp`, Unix seconds (what the clock window and expiry use).
    sent_at     INTEGER NOT NULL,
    nonce       TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    PRIMARY KEY (account_id, sent_at, nonce)
);
CREATE INDEX webhook_nonces_sent_at ON webhook_nonces (sent_at);
