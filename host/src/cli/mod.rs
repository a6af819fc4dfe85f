//! The subcommands of the `corral` binary, one module each.

pub mod banner;
pub mod serve;
