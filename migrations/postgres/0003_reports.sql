-- Ad spend, landing-page events and what the funnel report reads.

-- Spend per campaign, per day (the ad account's calendar day, as billed) and per source
-- (`api`, `meta_ads`, `google_ads`, `plain`): a re-import replaces, never adds.
CREATE TABLE spend (
    campaign_id   BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    day           DATE NOT NULL,
    source        TEXT NOT NULL,
    amount_micros BIGINT NOT NULL CHECK (amount_micros >= 0),
    impressions   BIGINT,
    clicks        BIGINT,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (campaign_id, day, source)
);
CREATE INDEX spend_day ON spend (day);

-- A campaign's id in an ad platform (Meta or Google campaign id), to match imports.
CREATE TABLE campaign_external_ids (
    external_id TEXT PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE
);

-- Landing-page events reported by the page with the click tag: one page view and one lead
-- per click at most.
CREATE TABLE page_events (
    id           BIGSERIAL PRIMARY KEY,
    click_id     TEXT NOT NULL,
    type         TEXT NOT NULL,
    campaign_id  BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    link_id      BIGINT NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    at           TIMESTAMPTZ NOT NULL,
    value_micros BIGINT,
    UNIQUE (click_id, type)
);
CREATE INDEX page_events_campaign_at ON page_events (campaign_id, at);

CREATE INDEX clicks_at ON clicks (at);
CREATE INDEX conversions_type_at ON conversions (type, at);
