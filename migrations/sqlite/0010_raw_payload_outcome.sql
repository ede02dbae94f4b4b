-- What ingesting each raw payload left behind, so that payloads which created nothing can be
-- pruned after CHATREF_RAW_RETENTION_DAYS (see src/retention.rs):
--   'created'    a contact, lead or touch: kept forever, `attribution rebuild` needs it;
--   'unresolved' nothing yet, but it holds what a later rebuild may attribute (events for an
--                unknown recipient, unreadable entries, a tag or ad id without effect): kept;
--   'nothing'    receipts, statuses, echoes, redeliveries, plain follow-ups: prunable.
-- NULL for payloads stored before this column: kept until a rebuild classifies them.
ALTER TABLE webhook_events ADD COLUMN outcome TEXT;
-- The prune's filter: prunable payloads by age, and only those.
CREATE INDEX webhook_events_prunable ON webhook_events (received_at) WHERE outcome = 'nothing';
