-- Platforms compare handles without case (t.me/CoastShopBot is t.me/coastshopbot), so two
-- accounts may not differ only in case. Fails on a database that already holds such a pair:
-- remove one of them first.
CREATE UNIQUE INDEX accounts_platform_handle_ci ON accounts (platform, lower(handle));
