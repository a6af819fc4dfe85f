//! `corral add REF`, `corral update [NAME]` and `corral inspect REF`:
//! plugins from OCI registries, verified before anything is written, and
//! recorded in `corral.lock`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use corral::distribution::{self, GrantRequest, Reference, Resolved, VerifyingKey};
use corral::{CONFIG_FILE_NAME, Config, LOCK_FILE_NAME, Lock, Locked, Runtime, RuntimeOptions};

use super::serve::load_config;

/// How the signature is checked.
#[derive(Args)]
pub struct TrustArgs {
    /// The publisher's public key (cosign's PEM format).
    #[arg(long)]
    key: Option<PathBuf>,
    /// Accept an artifact without checking any signature (recorded with no
    /// signer; refused by `require_signatures`).
    #[arg(long, conflicts_with = "key")]
    allow_unsigned: bool,
    /// Use plain HTTP for a registry that is not on this machine.
    #[arg(long)]
    insecure: bool,
}

#[derive(Args)]
pub struct AddArgs {
    /// oci://HOST[:PORT]/REPO[:TAG] or …@sha256:DIGEST.
    reference: String,
    #[command(flatten)]
    trust: TrustArgs,
    /// The directory the component is written to (relative to the config's
    /// directory).
    #[arg(long, default_value = "plugins")]
    dir: PathBuf,
    /// The plugin's name (default: the repository's last component).
    #[arg(long)]
    name: Option<String>,
    /// Write the plugin's grant request into corral.toml as its grants.
    #[arg(long)]
    grant: bool,
    /// The config file; default: ./corral.toml (created by --grant).
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(Args)]
pub struct UpdateArgs {
    /// The locked plugin to update (default: all).
    name: Option<String>,
    #[command(flatten)]
    trust: TrustArgs,
    /// Write changes without asking.
    #[arg(long)]
    yes: bool,
    /// The config file; default: ./corral.toml.
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Where the lock and the config live: beside the config file, else here.
fn home(config: Option<&PathBuf>) -> anyhow::Result<(Config, PathBuf, PathBuf)> {
    let (config, file) = load_config(config)?;
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let dir = file
        .as_deref()
        .and_then(Path::parent)
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_owned)
        .unwrap_or(cwd);
    let config_file = file.unwrap_or_else(|| dir.join(CONFIG_FILE_NAME));
    Ok((config, dir, config_file))
}

/// Resolve `reference` and check its signature before anything else is
/// fetched; the signer (`None` with `--allow-unsigned`).
async fn resolve_verified(
    reference: &Reference,
    trust: &TrustArgs,
) -> anyhow::Result<(Resolved, Option<String>)> {
    let key: Option<VerifyingKey> = match (&trust.key, trust.allow_unsigned) {
        (Some(path), _) => Some(super::keys::verifying_key(path)?),
        (None, true) => None,
        (None, false) => bail!(
            "{reference}: give the publisher's public key with --key KEY.pub to verify its signature (or --allow-unsigned to take it unverified)"
        ),
    };
    let resolved = distribution::resolve(reference, trust.insecure).await?;
    let signer = match &key {
        Some(key) => Some(resolved.verify(key).await?),
        None => None,
    };
    Ok((resolved, signer))
}

pub async fn add(args: AddArgs) -> anyhow::Result<()> {
    let reference = Reference::parse(&args.reference)?;
    let (config, dir, config_file) = home(args.config.as_ref())?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => reference
            .repository
            .rsplit('/')
            .next()
            .unwrap_or("plugin")
            .to_owned(),
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        bail!("{name:?} is not a plugin name (letters, digits, `_`, `-`); choose one with --name");
    }
    let mut lock = config
        .lock
        .clone()
        .unwrap_or_else(|| Lock::new(dir.join(LOCK_FILE_NAME)));
    let plugin_dir = dir.join(&args.dir);
    let relative = args.dir.join(format!("{name}.wasm"));
    let target = plugin_dir.join(format!("{name}.wasm"));

    let (resolved, signer) = resolve_verified(&reference, &args.trust).await?;
    if let Some(locked) = lock.plugins.get(&name) {
        if locked.reference != reference.to_string() {
            bail!(
                "`{name}` is already locked to {}; choose another --name",
                locked.reference
            );
        }
        if locked.digest != resolved.digest {
            bail!(
                "{reference} now resolves to {}, but corral.lock has `{name}` at {}: the tag moved. Run `corral update {name}` to review the change",
                resolved.digest,
                locked.digest
            );
        }
    } else if target.exists() {
        bail!(
            "{} exists and is not in corral.lock; remove it or choose another --name",
            target.display()
        );
    }
    let grants = resolved.grants().await?;
    let max = config
        .max_plugin_size
        .unwrap_or(corral::DEFAULT_MAX_PLUGIN_SIZE);
    let wasm = resolved.wasm(max).await?;
    let (layer_digest, _) = resolved.wasm_layer()?;
    write_atomically(&target, &wasm)?;
    lock.plugins.insert(
        name.clone(),
        Locked {
            reference: reference.to_string(),
            digest: resolved.digest.clone(),
            path: relative.to_string_lossy().into_owned(),
            sha256: layer_digest.trim_start_matches("sha256:").to_owned(),
            signer: signer.clone(),
        },
    );
    lock.write()
        .with_context(|| format!("writing {}", lock.file.display()))?;
    println!("Added `{name}` from {reference}");
    println!("  digest {}", resolved.digest);
    println!("  file   {}", target.display());
    match &signer {
        Some(signer) => println!("  signed by {signer}"),
        None => println!("  not verified (--allow-unsigned)"),
    }
    println!("  locked in {}", lock.file.display());
    show_grants(&name, grants.as_ref(), &config_file, &relative, args.grant)?;
    Ok(())
}

/// Show a grant request; write it into the config when asked to.
fn show_grants(
    name: &str,
    grants: Option<&GrantRequest>,
    config_file: &Path,
    relative: &Path,
    grant: bool,
) -> anyhow::Result<()> {
    let Some(grants) = grants.filter(|g| !g.is_empty()) else {
        println!("It asks for no grants.");
        return Ok(());
    };
    println!("It asks for:");
    for line in grants.describe() {
        println!("  - {line}");
    }
    let grant = grant
        || (std::io::stdin().is_terminal()
            && super::keys::confirm(&format!(
                "Grant these to `{name}` in {}?",
                config_file.display()
            )));
    if !grant {
        println!(
            "Not granted: it runs with no grants. To grant them, run `corral add` again with --grant, or add them to [plugins.{name}] in {}.",
            config_file.display()
        );
        return Ok(());
    }
    write_grants(name, grants, config_file, relative)?;
    println!("Granted in {}.", config_file.display());
    Ok(())
}

/// Append `[plugins.NAME]` with the requested grants to the config; a new
/// directory under `data/NAME/` for each directory asked for. The config
/// is checked after the edit and restored if it no longer loads.
fn write_grants(
    name: &str,
    grants: &GrantRequest,
    config_file: &Path,
    relative: &Path,
) -> anyhow::Result<()> {
    let before = match std::fs::read_to_string(config_file) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", config_file.display())),
    };
    let text = before.clone().unwrap_or_default();
    if text.contains(&format!("[plugins.{name}]"))
        || text.contains(&format!("[plugins.\"{name}\"]"))
    {
        bail!(
            "{} already has [plugins.{name}]; add the grants shown above to it by hand",
            config_file.display()
        );
    }
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let list = |items: Vec<&String>| {
        items
            .iter()
            .map(|s| quote(s))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut table = format!(
        "\n[plugins.{name}]\npath = {}\n",
        quote(&relative.to_string_lossy())
    );
    if !grants.env.is_empty() {
        table.push_str(&format!("env = [{}]\n", list(grants.env.keys().collect())));
    }
    if !grants.hosts.is_empty() {
        table.push_str(&format!(
            "allow_hosts = [{}]\n",
            list(grants.hosts.keys().collect())
        ));
    }
    let base = config_file.parent().unwrap_or(Path::new("."));
    for (guest, dir) in &grants.dirs {
        let host = Path::new("data")
            .join(name)
            .join(guest.trim_matches('/').replace('/', "_"));
        std::fs::create_dir_all(base.join(&host))
            .with_context(|| format!("creating {}", host.display()))?;
        table.push_str(&format!(
            "dirs.{} = {{ host = {}, mode = {} }}\n",
            quote(guest),
            quote(&host.to_string_lossy()),
            quote(dir.mode.as_deref().unwrap_or("ro"))
        ));
    }
    let mut new_text = text.clone();
    if !new_text.is_empty() && !new_text.ends_with('\n') {
        new_text.push('\n');
    }
    new_text.push_str(&table);
    std::fs::write(config_file, &new_text)
        .with_context(|| format!("writing {}", config_file.display()))?;
    if let Err(e) = Config::load(config_file) {
        match before {
            Some(text) => std::fs::write(config_file, text)?,
            None => std::fs::remove_file(config_file)?,
        }
        bail!(
            "the grants would make {} invalid, so it was left as it was: {e}",
            config_file.display()
        );
    }
    Ok(())
}

pub async fn update(args: UpdateArgs) -> anyhow::Result<()> {
    let (config, _, _) = home(args.config.as_ref())?;
    let Some(mut lock) = config.lock.clone() else {
        bail!("no {LOCK_FILE_NAME} here; add plugins with `corral add`");
    };
    let names: Vec<String> = match &args.name {
        Some(name) if lock.plugins.contains_key(name) => vec![name.clone()],
        Some(name) => bail!("`{name}` is not in {}", lock.file.display()),
        None => lock.plugins.keys().cloned().collect(),
    };
    let max = config
        .max_plugin_size
        .unwrap_or(corral::DEFAULT_MAX_PLUGIN_SIZE);
    for name in names {
        let locked = lock.plugins[&name].clone();
        let mut reference = Reference::parse(&locked.reference)?;
        if reference.tag.is_none() && reference.digest.is_some() {
            println!(
                "`{name}`: pinned by digest ({}); nothing to update",
                locked.digest
            );
            continue;
        }
        reference.digest = None;
        let (resolved, signer) = resolve_verified(&reference, &args.trust).await?;
        if resolved.digest == locked.digest {
            println!("`{name}`: up to date ({})", locked.digest);
            continue;
        }
        println!("`{name}`: {reference} moved");
        println!("  digest {} -> {}", locked.digest, resolved.digest);
        if signer != locked.signer {
            println!(
                "  signer {} -> {}",
                locked.signer.as_deref().unwrap_or("(none)"),
                signer.as_deref().unwrap_or("(none)")
            );
        }
        let new_grants = resolved.grants().await?.unwrap_or_default();
        let old_grants =
            match distribution::resolve(&reference.at_digest(&locked.digest), args.trust.insecure)
                .await
            {
                Ok(old) => old.grants().await.ok().flatten().unwrap_or_default(),
                Err(_) => GrantRequest::default(),
            };
        let (old_lines, new_lines) = (old_grants.describe(), new_grants.describe());
        for line in old_lines.iter().filter(|l| !new_lines.contains(l)) {
            println!("  grant request - {line}");
        }
        for line in new_lines.iter().filter(|l| !old_lines.contains(l)) {
            println!("  grant request + {line}");
        }
        if !args.yes {
            if !std::io::stdin().is_terminal() {
                bail!("`{name}` changed; run `corral update {name} --yes` to take the change");
            }
            if !super::keys::confirm(&format!("Update `{name}`?")) {
                println!("`{name}`: left as it was");
                continue;
            }
        }
        let wasm = resolved.wasm(max).await?;
        let (layer_digest, _) = resolved.wasm_layer()?;
        write_atomically(&lock.dir().join(&locked.path), &wasm)?;
        lock.plugins.insert(
            name.clone(),
            Locked {
                digest: resolved.digest.clone(),
                sha256: layer_digest.trim_start_matches("sha256:").to_owned(),
                signer,
                ..locked
            },
        );
        lock.write()
            .with_context(|| format!("writing {}", lock.file.display()))?;
        println!(
            "`{name}`: updated; grants in corral.toml are unchanged (edit them if the request changed)"
        );
    }
    Ok(())
}

/// `corral inspect oci://…`: what the artifact holds, without adding it.
pub async fn inspect_reference(
    text: &str,
    json: bool,
    key: Option<PathBuf>,
    insecure: bool,
) -> anyhow::Result<()> {
    let reference = Reference::parse(text)?;
    let key = key.as_deref().map(super::keys::verifying_key).transpose()?;
    let resolved = distribution::resolve(&reference, insecure).await?;
    let signer = match &key {
        Some(key) => Some(resolved.verify(key).await?),
        None => None,
    };
    let info = resolved.config().await?;
    let grants = resolved.grants().await?;
    let wasm = resolved.wasm(corral::DEFAULT_MAX_PLUGIN_SIZE).await?;
    // A new private directory: one that already exists (perhaps made by
    // someone else in a shared /tmp) is refused, never written into.
    let scratch = std::env::temp_dir().join(format!(
        "corral-inspect-{}-{}",
        std::process::id(),
        &resolved.digest[7..19]
    ));
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&scratch)
            .with_context(|| format!("creating {}", scratch.display()))?;
    }
    let file = scratch.join("component.wasm");
    std::fs::write(&file, &wasm)?;
    let runtime = Runtime::with_options(RuntimeOptions::of(&Config::default()))?;
    let inspection = corral::inspect(&runtime, &file, None).await;
    let _ = std::fs::remove_dir_all(&scratch);
    let inspection = inspection?;
    let (layer_digest, size) = resolved.wasm_layer()?;
    if json {
        let mut value = inspection.to_json();
        value["reference"] = resolved.reference.to_string().into();
        value["digest"] = resolved.digest.clone().into();
        value["component_digest"] = layer_digest.into();
        value["signer"] = signer.clone().into();
        value["config"] = serde_json::to_value(&info)?;
        value["grant_request"] = serde_json::to_value(&grants)?;
        println!("{value:#}");
    } else {
        println!("{}", resolved.reference);
        println!("  manifest  {}", resolved.digest);
        println!("  component {layer_digest} ({})", corral::human_size(size));
        match &signer {
            Some(signer) => println!("  signature verified: {signer}"),
            None => println!("  signature not checked (give --key KEY.pub)"),
        }
        match grants.as_ref().filter(|g| !g.is_empty()) {
            Some(grants) => {
                println!("  grant request:");
                for line in grants.describe() {
                    println!("    - {line}");
                }
            }
            None => println!("  grant request: none"),
        }
        print!("{}", inspection.to_text());
    }
    if let Err(e) = &inspection.listing {
        bail!("{e}");
    }
    Ok(())
}

/// Write through a temporary file and a rename, so a reader never sees
/// half a component.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = path.with_extension(format!("wasm.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
