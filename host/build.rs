//! Lays out the `corral` binary's code by use: the functions that start-up,
//! a listing and a first call run (over stdio and HTTP) are linked first and
//! together, in the order of `link-order.txt`, which `cargo xtask link-order`
//! writes from a trace. The rest of the code (errors, reloads, OCI, the CLI's
//! other commands, ...) follows. An idle server then keeps a few MiB of its
//! code resident instead of every page around each function it once ran
//! (the kernel maps code in whole windows). Its relative relocations are
//! packed too (DT_RELR, which needs glibc 2.36 or later to run): the loader
//! reads a 20 KiB table at start instead of 1.7 MiB.
//!
//! The ordering file names symbols with their hashes: a build whose
//! dependencies or features differ from the traced ones finds fewer of them,
//! which only loses the layout (lld skips names it does not know). Applied
//! where rustc links with its own lld (x86_64 Linux, the default since Rust
//! 1.90); skipped when a linker is configured, or with `CORRAL_NO_LINK_ORDER`.

use std::env;

fn main() {
    println!("cargo:rerun-if-changed=link-order.txt");
    println!("cargo:rerun-if-env-changed=CORRAL_NO_LINK_ORDER");
    let target = env::var("TARGET").unwrap_or_default();
    let rustflags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let own_lld = target == "x86_64-unknown-linux-gnu"
        && env::var_os("RUSTC_LINKER").is_none()
        && !rustflags.contains("link");
    if !own_lld || env::var_os("CORRAL_NO_LINK_ORDER").is_some() {
        return;
    }
    let dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let order = format!("{dir}/link-order.txt");
    println!("cargo:rustc-link-arg-bin=corral=-Wl,--symbol-ordering-file={order}");
    println!("cargo:rustc-link-arg-bin=corral=-Wl,--no-warn-symbol-ordering");
    println!("cargo:rustc-link-arg-bin=corral=-Wl,-z,pack-relative-relocs");
}
