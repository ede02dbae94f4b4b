-- Links can be switched off: an inactive link answers a "campaign ended" page (its scans are
-- still counted) and is left off print sheets. SQLite keeps the flag as 0/1.
ALTER TABLE links ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
