//! Tests at the HTTP boundary: each starts a whole app on port 0 in a temporary directory.
//! They run on SQLite; with KAIFANG_TEST_POSTGRES_URL set, on a fresh PostgreSQL database each.

mod access;
mod audit;
mod auth;
mod authorization;
mod bounds;
mod calendar;
mod ckan;
mod cli;
mod console;
mod data;
mod edits;
mod errors;
mod files;
mod mailbox;
mod news;
mod observe;
mod openlist;
mod operator;
mod orgs;
mod pages;
mod paging;
mod passwords;
mod portal;
mod privacy;
mod public_view;
mod review;
mod sandbox;
mod search;
mod security;
mod site;
mod support;
mod tickets_flow;
mod tokens;
mod vocab;
