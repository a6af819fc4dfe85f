//! Integration tests: the real `corral` binary over real stdio pipes.
//!
//! Needs the plugins built first: `cargo xtask test` does everything.

mod harness;

mod auth;
mod cli;
mod client;
mod client_lib;
mod cluster;
mod concurrency;
mod dev;
mod embed;
mod end_of_input;
mod features;
mod golden;
mod grants;
mod hardening;
mod http;
mod http_limits;
mod interop;
mod limits;
mod loading;
mod mount;
mod observability;
mod openapi;
mod registry;
mod sdk;
mod sdk_ports;
mod seed;
mod tasks;
mod ui;
mod upstream;
