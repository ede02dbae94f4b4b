-- Webhooks and first-message attribution.

-- Every accepted webhook body, verbatim, so attribution can be recomputed after a fix
-- (`chatref attribution rebuild`). Identical redeliveries are kept once (body hash).
CREATE TABLE webhook_events (
    id          BIGSERIAL PRIMARY KEY,
    platform    TEXT NOT NULL,
    account_id  BIGINT NOT NULL REFERENCES accounts (id),
    received_at TIMESTAMPTZ NOT NULL,
    body_sha256 TEXT NOT NULL,
    body        BYTEA NOT NULL,
    UNIQUE (account_id, body_sha256)
);

-- Normalized inbound events, one per platform delivery key: the idempotency guard.
CREATE TABLE inbound_events (
    id          BIGSERIAL PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts (id),
    dedupe_key  TEXT NOT NULL,
    contact     TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    kind        TEXT NOT NULL,
    ref_value   TEXT,
    ad_id       TEXT,
    ctwa_clid   TEXT,
    text        TEXT,
    UNIQUE (account_id, dedupe_key)
);

-- A customer on one account (platform user ids are scoped to the page/bot/number), with the
-- first touch that brought them.
CREATE TABLE contacts (
    id            BIGSERIAL PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES accounts (id),
    platform      TEXT NOT NULL,
    platform_user TEXT NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    method        TEXT NOT NULL,
    campaign_id   BIGINT REFERENCES campaigns (id),
    link_id       BIGINT REFERENCES links (id),
    click_id      TEXT,
    UNIQUE (account_id, platform_user)
);
CREATE INDEX contacts_campaign ON contacts (campaign_id);

-- Conversions: `first_message` (the lead) from webhooks; `qualified` / `purchase` from the
-- API. Contacts are referenced by (account, platform user) rather than row id so a rebuild of
-- contacts keeps the conversions posted through the API.
CREATE TABLE conversions (
    id            BIGSERIAL PRIMARY KEY,
    type          TEXT NOT NULL,
    at            TIMESTAMPTZ NOT NULL,
    account_id    BIGINT REFERENCES accounts (id),
    platform_user TEXT,
    method        TEXT,
    campaign_id   BIGINT REFERENCES campaigns (id),
    link_id       BIGINT REFERENCES links (id),
    click_id      TEXT,
    value_micros  BIGINT,
    inbound_event_id BIGINT REFERENCES inbound_events (id)
);
CREATE INDEX conversions_link ON conversions (link_id, type);
CREATE INDEX conversions_campaign ON conversions (campaign_id, type);
CREATE INDEX conversions_click ON conversions (click_id);

-- A returning contact arriving through another link: recorded, but not a second lead.
CREATE TABLE touches (
    id            BIGSERIAL PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES accounts (id),
    platform_user TEXT NOT NULL,
    at            TIMESTAMPTZ NOT NULL,
    method        TEXT NOT NULL,
    campaign_id   BIGINT REFERENCES campaigns (id),
    link_id       BIGINT REFERENCES links (id),
    click_id      TEXT,
    inbound_event_id BIGINT NOT NULL REFERENCES inbound_events (id)
);
