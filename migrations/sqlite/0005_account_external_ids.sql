-- The platform's own id of an account (Messenger Page id, Instagram professional account id,
-- WhatsApp phone_number_id, LINE bot user id). One Meta app posts every Page's and number's
-- events to the single callback URL set on the app, so webhook events are routed by this id
-- rather than by the URL they arrived on. Optional: accounts without one keep their URL's events.
ALTER TABLE accounts ADD COLUMN external_id TEXT;

-- One account per id and platform, or routing would be ambiguous; NULLs (no id) may repeat.
CREATE UNIQUE INDEX accounts_platform_external_id ON accounts (platform, external_id)
    WHERE external_id IS NOT NULL;
