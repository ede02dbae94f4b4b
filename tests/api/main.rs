//! Integration tests: the real service on 127.0.0.1, over SQLite and PostgreSQL alike.
//! One test binary (one link step) with a module per area.

mod helpers;

mod accounts;
mod browser;
mod campaigns;
mod cli;
mod crash;
mod db;
mod demo;
mod hardening;
mod health;
mod instances;
mod links;
mod pages;
mod properties;
mod qr;
mod redirect;
mod reports;
mod retention;
mod routing;
mod spend;
mod stores;
mod users;
mod webhooks;
mod wechat;
