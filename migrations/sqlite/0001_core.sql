-- Core model: chat accounts, campaigns, links and the clicks on them.
-- Times are RFC 3339 UTC text (sqlx's `time` codec), money is integer micro-units of the
-- campaign currency so sums stay exact on both backends.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE accounts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    platform   TEXT NOT NULL,
    handle     TEXT NOT NULL,
    name       TEXT,
    -- JSON object of webhook secrets; never returned by the API.
    secrets    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (platform, handle)
);

CREATE TABLE campaigns (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    channel      TEXT NOT NULL,
    currency     TEXT NOT NULL,
    budget_micros INTEGER,
    starts_on    TEXT,
    ends_on      TEXT,
    created_at   TEXT NOT NULL
);

-- An ad id (Meta ad id or Click-to-WhatsApp source_id) belongs to one campaign, so an ad
-- referral attributes without ambiguity.
CREATE TABLE campaign_ad_ids (
    ad_id       TEXT PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE
);

CREATE TABLE links (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id     INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    account_id      INTEGER REFERENCES accounts (id),
    destination_url TEXT,
    code            TEXT NOT NULL UNIQUE,
    label           TEXT,
    store           TEXT,
    prefill_text    TEXT,
    -- JSON object of utm_* overrides for landing-page links.
    utm             TEXT NOT NULL DEFAULT '{}',
    -- WeChat links only: the code URL WeChat returned for the parametric QR (see README).
    wechat_qr_url   TEXT,
    created_at      TEXT NOT NULL,
    CHECK ((account_id IS NULL) <> (destination_url IS NULL))
);
CREATE INDEX links_campaign ON links (campaign_id);
-- One link per store within a campaign: a printed code must name exactly one store.
CREATE UNIQUE INDEX links_campaign_store ON links (campaign_id, store) WHERE store IS NOT NULL;

CREATE TABLE clicks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    click_id      TEXT NOT NULL UNIQUE,
    link_id       INTEGER NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    at            TEXT NOT NULL,
    via           TEXT NOT NULL,
    class         TEXT NOT NULL,
    -- Keyed hash of address + user agent: counts unique visitors without storing the IP.
    visitor       TEXT NOT NULL,
    country       TEXT,
    region        TEXT,
    city          TEXT,
    device        TEXT,
    os            TEXT,
    browser       TEXT,
    referrer_host TEXT,
    user_agent    TEXT
);
CREATE INDEX clicks_link_at ON clicks (link_id, at);
