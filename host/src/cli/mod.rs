//! The subcommands of the `corral` binary, one module each.

pub mod add;
pub mod banner;
pub mod build;
pub mod client;
pub mod keys;
pub mod new;
pub mod publish;
pub mod serve;
