//! `corral publish FILE REF --key KEY`: push a component to an OCI registry
//! as a Wasm OCI artifact, with its grant request, and sign it.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use corral::distribution::{self, Publication, Reference};
use corral::{Config, Runtime, RuntimeOptions};

/// The grant request's file name, looked for beside the component.
pub const GRANTS_FILE: &str = "corral-grants.toml";

#[derive(Args)]
pub struct PublishArgs {
    /// The component (.wasm).
    file: PathBuf,
    /// Where to publish: oci://HOST[:PORT]/REPO:TAG.
    reference: String,
    /// The private key to sign with (cosign's format, e.g. from `corral keys
    /// generate`); its passphrase from $CORRAL_KEY_PASSWORD or the terminal.
    #[arg(long)]
    key: PathBuf,
    /// The grant request to publish with it (default: corral-grants.toml
    /// beside the component, if there is one).
    #[arg(long)]
    grants: Option<PathBuf>,
    /// Use plain HTTP for a registry that is not on this machine.
    #[arg(long)]
    insecure: bool,
}

pub async fn publish(args: PublishArgs) -> anyhow::Result<()> {
    let reference = Reference::parse(&args.reference)?;
    let key = super::keys::signing_key(&args.key)?;
    let grants_file = args.grants.clone().or_else(|| {
        let beside = args.file.parent()?.join(GRANTS_FILE);
        beside.is_file().then_some(beside)
    });
    let grants = match &grants_file {
        Some(file) => Some(
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?,
        ),
        None => None,
    };
    // Only a component that loads is published: inspect compiles and lists it.
    let runtime = Runtime::with_options(RuntimeOptions::of(&Config::default()))?;
    let inspection = corral::inspect(&runtime, &args.file, None).await?;
    if let Err(e) = &inspection.listing {
        bail!(
            "{} does not load, so it is not published: {e}",
            args.file.display()
        );
    }
    let wasm =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let title = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let digest = distribution::publish(
        &reference,
        args.insecure,
        Publication {
            wasm: &wasm,
            grants: grants.as_deref(),
            exports: inspection.exports.clone(),
            imports: inspection.imports.iter().map(|i| i.name.clone()).collect(),
            title,
        },
        &key,
    )
    .await?;
    if let Some(file) = &grants_file {
        println!("Grant request: {}", file.display());
    }
    println!("Published {reference}");
    println!("Digest: {digest}");
    println!("Signed by {}", key.public().signer());
    Ok(())
}
