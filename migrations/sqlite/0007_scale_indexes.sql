-- Indexes the contact lookups, conversion subjects and rebuilds need at scale.
CREATE INDEX IF NOT EXISTS contacts_platform_user ON contacts (platform, platform_user);
CREATE INDEX IF NOT EXISTS conversions_inbound_event ON conversions (inbound_event_id);
CREATE INDEX IF NOT EXISTS touches_inbound_event ON touches (inbound_event_id);
CREATE INDEX IF NOT EXISTS campaign_ad_ids_campaign ON campaign_ad_ids (campaign_id);
