-- The accounts page shows when each account's webhook URL last received a call: the newest
-- webhook_events row of an account, found through this index on either backend.
CREATE INDEX IF NOT EXISTS webhook_events_account_newest ON webhook_events (account_id, id);
