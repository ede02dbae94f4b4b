//! Integration tests: the real service on 127.0.0.1, over SQLite and PostgreSQL alike.
//! One test binary (one link step) with a module per area.

mod helpers;

mod accounts;
mod campaigns;
mod cli;
mod db;
mod health;
mod links;
mod qr;
mod redirect;
mod stores;
mod webhooks;
