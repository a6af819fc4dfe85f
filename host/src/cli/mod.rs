//! The subcommands of the `corral` binary, one module each.

pub mod banner;
pub mod build;
pub mod client;
pub mod new;
pub mod serve;
