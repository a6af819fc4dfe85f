//! Trusted distribution: plugins published to and added from OCI
//! registries as Wasm OCI artifacts, signed and verified in cosign's
//! formats (ECDSA P-256 keys), pinned by digest.
//!
//! Knows no MCP and no wasmtime: it moves bytes and checks them. The CLI
//! (`corral publish`, `add`, `update`, `keys`, `inspect REF`) and the
//! lock file (`corral.lock`, in `config`) are built on it.
//!
//! The order `add` relies on: [`resolve`] fetches only the manifest (its
//! digest computed here, never taken from a header); [`Resolved::verify`]
//! checks a signature over that digest; only then are the config, the grant
//! request and the component fetched, each checked against the digest the
//! signed manifest names.

mod artifact;
mod cosign;
mod credentials;
mod reference;
mod registry;

pub use artifact::{ComponentInfo, DirRequest, GrantRequest, Reason, WasmConfig};
pub use cosign::{SigningKey, VerifyingKey};
pub use reference::{DEFAULT_TAG, Reference};
pub use registry::REGISTRY_TIMEOUT;

use artifact::{Descriptor, Manifest};
use registry::Registry;

/// The largest manifest read from a registry.
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
/// The most layers a manifest may list (a signature manifest holds one per
/// signature).
pub const MAX_LAYERS: usize = 64;
/// The largest signature payload, artifact config or grant request read.
pub const MAX_METADATA_BYTES: u64 = 256 * 1024;

/// What can go wrong publishing, resolving, verifying or fetching.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DistributionError {
    /// A reference that does not parse.
    #[error("bad reference {reference:?}: {why}")]
    Reference {
        /// The text given.
        reference: String,
        /// What is wrong and how to write it.
        why: String,
    },
    /// The registry could not be reached or refused a request.
    #[error("registry {registry}: {why}")]
    Registry {
        /// `host[:port]`.
        registry: String,
        /// What failed.
        why: String,
    },
    /// Nothing at the reference.
    #[error("{reference}: not found in the registry")]
    NotFound {
        /// The reference.
        reference: String,
    },
    /// Content whose digest is not the one it was named by.
    #[error("{what} has digest {actual}, not the {expected} it is named by; refusing it")]
    DigestMismatch {
        /// What was fetched.
        what: String,
        /// The digest it was named by.
        expected: String,
        /// The digest of what arrived.
        actual: String,
    },
    /// A manifest or config that is not what Corral publishes.
    #[error("{0}")]
    Artifact(String),
    /// A grant request that does not parse.
    #[error("grant request {0}")]
    Grants(String),
    /// A key that cannot be read or used.
    #[error("key: {0}")]
    Key(String),
    /// No signature of the artifact at all.
    #[error("{reference} ({digest}) has no signature (no {tag} in the registry); refusing it")]
    Unsigned {
        /// The reference.
        reference: String,
        /// The manifest digest.
        digest: String,
        /// The signature tag looked for.
        tag: String,
    },
    /// Signatures exist, but none by the expected key.
    #[error(
        "{reference} ({digest}): none of its {count} signature(s) verifies with the key {signer}; refusing it"
    )]
    BadSignature {
        /// The reference.
        reference: String,
        /// The manifest digest.
        digest: String,
        /// How many signatures were tried.
        count: usize,
        /// The key expected, as a signer.
        signer: String,
    },
}

/// What to publish.
pub struct Publication<'a> {
    /// The component.
    pub wasm: &'a [u8],
    /// The grant request's text (`corral-grants.toml`), if any.
    pub grants: Option<&'a str>,
    /// The component's exports and imports (WIT names), for the config.
    pub exports: Vec<String>,
    /// The component's imports.
    pub imports: Vec<String>,
    /// The file name, for the `org.opencontainers.image.title` annotation.
    pub title: String,
}

/// Push `publication` to `reference` (a tag) and sign it with `key`; the
/// manifest's digest.
pub async fn publish(
    reference: &Reference,
    insecure: bool,
    publication: Publication<'_>,
    key: &SigningKey,
) -> Result<String, DistributionError> {
    if reference.digest.is_some() {
        return Err(DistributionError::Reference {
            reference: reference.to_string(),
            why:
                "publish to a tag (oci://HOST/REPO:TAG); a digest names content that already exists"
                    .into(),
        });
    }
    if let Some(text) = publication.grants {
        GrantRequest::parse(text, "corral-grants.toml")?;
    }
    let registry = Registry::new(reference, insecure, true)?;
    let wasm = Descriptor::of(artifact::WASM_LAYER, publication.wasm);
    registry.push_blob(publication.wasm).await?;
    let mut layers = vec![wasm.clone()];
    if let Some(text) = publication.grants {
        registry.push_blob(text.as_bytes()).await?;
        layers.push(Descriptor::of(artifact::GRANTS_LAYER, text.as_bytes()));
    }
    let config = WasmConfig::new(&wasm.digest, publication.exports, publication.imports);
    let created = config.created.clone();
    let config = serde_json::to_vec(&config).expect("a config serializes");
    registry.push_blob(&config).await?;
    let mut manifest = Manifest::new(Descriptor::of(artifact::WASM_CONFIG, &config), layers);
    manifest
        .annotations
        .insert("org.opencontainers.image.title".into(), publication.title);
    if let Some(created) = created {
        manifest
            .annotations
            .insert("org.opencontainers.image.created".into(), created);
    }
    let bytes = manifest.to_bytes();
    let digest = registry
        .push_manifest(reference.target(), registry::OCI_MANIFEST, &bytes)
        .await?;
    sign(&registry, reference, &digest, key).await?;
    Ok(digest)
}

/// Add `key`'s signature of `digest` to the signature manifest cosign
/// keeps beside it (other signatures stay).
async fn sign(
    registry: &Registry,
    reference: &Reference,
    digest: &str,
    key: &SigningKey,
) -> Result<(), DistributionError> {
    let payload = cosign::payload(&reference.repository_name(), digest);
    let signature = key.sign(&payload)?;
    registry.push_blob(&payload).await?;
    let tag = artifact::signature_tag(digest);
    let mut layers = match registry.manifest(&tag).await? {
        Some(existing) => Manifest::parse(&existing.bytes, "the signature manifest")?.layers,
        None => Vec::new(),
    };
    let mut layer = Descriptor::of(artifact::SIGNATURE_LAYER, &payload);
    layer
        .annotations
        .insert(artifact::SIGNATURE_ANNOTATION.into(), signature);
    layers.push(layer);
    if layers.len() > MAX_LAYERS {
        layers.remove(0);
    }
    let config = artifact::signature_config(&registry::sha256_digest(&payload));
    registry.push_blob(&config).await?;
    let manifest = Manifest::new(Descriptor::of(artifact::SIGNATURE_CONFIG, &config), layers);
    registry
        .push_manifest(&tag, registry::OCI_MANIFEST, &manifest.to_bytes())
        .await?;
    Ok(())
}

/// A reference resolved to a manifest (nothing else fetched yet).
pub struct Resolved {
    registry: Registry,
    /// The reference as given, with the digest it resolved to.
    pub reference: Reference,
    /// The manifest's digest (computed from its bytes).
    pub digest: String,
    manifest: Manifest,
}

/// Resolve `reference` (a tag or a digest) to its manifest.
pub async fn resolve(reference: &Reference, insecure: bool) -> Result<Resolved, DistributionError> {
    let registry = Registry::new(reference, insecure, false)?;
    let fetched = registry
        .manifest(reference.target())
        .await?
        .ok_or_else(|| DistributionError::NotFound {
            reference: reference.to_string(),
        })?;
    let manifest = Manifest::parse(&fetched.bytes, &format!("{reference}"))?;
    Ok(Resolved {
        registry,
        reference: reference.at_digest(&fetched.digest),
        digest: fetched.digest,
        manifest,
    })
}

impl Resolved {
    /// Check that `key` signed this manifest's digest (cosign's layout);
    /// the signer, as the lock file records it.
    pub async fn verify(&self, key: &VerifyingKey) -> Result<String, DistributionError> {
        let tag = artifact::signature_tag(&self.digest);
        let shown = self.reference.to_string();
        let Some(signatures) = self.registry.manifest(&tag).await? else {
            return Err(DistributionError::Unsigned {
                reference: shown,
                digest: self.digest.clone(),
                tag,
            });
        };
        let signatures = Manifest::parse(&signatures.bytes, "the signature manifest")?;
        let layers: Vec<&Descriptor> = signatures
            .layers
            .iter()
            .filter(|l| l.media_type == artifact::SIGNATURE_LAYER)
            .collect();
        for layer in &layers {
            let Some(signature) = layer.annotations.get(artifact::SIGNATURE_ANNOTATION) else {
                continue;
            };
            if layer.size > MAX_METADATA_BYTES {
                continue;
            }
            let payload = self
                .registry
                .blob(&layer.digest, MAX_METADATA_BYTES, "signature payload")
                .await?;
            if key.verifies(&payload, signature)
                && cosign::signed_digest(&payload).as_deref() == Some(self.digest.as_str())
            {
                return Ok(key.signer());
            }
        }
        if layers.is_empty() {
            return Err(DistributionError::Unsigned {
                reference: shown,
                digest: self.digest.clone(),
                tag,
            });
        }
        Err(DistributionError::BadSignature {
            reference: shown,
            digest: self.digest.clone(),
            count: layers.len(),
            signer: key.signer(),
        })
    }

    /// The component layer's digest and size.
    pub fn wasm_layer(&self) -> Result<(String, u64), DistributionError> {
        let layer = self.manifest.wasm_layer()?;
        Ok((layer.digest.clone(), layer.size))
    }

    /// The artifact's config (what the component exports and imports).
    pub async fn config(&self) -> Result<WasmConfig, DistributionError> {
        self.manifest.wasm_layer()?;
        let config = &self.manifest.config;
        if config.size > MAX_METADATA_BYTES {
            return Err(DistributionError::Artifact(format!(
                "the artifact's config is {} bytes; at most {MAX_METADATA_BYTES} are read (MAX_METADATA_BYTES)",
                config.size
            )));
        }
        let bytes = self
            .registry
            .blob(&config.digest, MAX_METADATA_BYTES, "artifact config")
            .await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            DistributionError::Artifact(format!("the artifact's config is not a Wasm config: {e}"))
        })
    }

    /// The grant request published with the component, if any.
    pub async fn grants(&self) -> Result<Option<GrantRequest>, DistributionError> {
        let Some(layer) = self.manifest.grants_layer() else {
            return Ok(None);
        };
        let bytes = self
            .registry
            .blob(&layer.digest, MAX_METADATA_BYTES, "grant request")
            .await?;
        let text = String::from_utf8(bytes)
            .map_err(|_| DistributionError::Grants("is not UTF-8".into()))?;
        GrantRequest::parse(&text, "in the artifact").map(Some)
    }

    /// The component, at most `max` bytes, checked against its digest.
    pub async fn wasm(&self, max: u64) -> Result<Vec<u8>, DistributionError> {
        let layer = self.manifest.wasm_layer()?;
        if layer.size > max {
            return Err(DistributionError::Artifact(format!(
                "the component is {}; plugins of at most {} are loaded (max_plugin_size)",
                crate::units::human_size(layer.size),
                crate::units::human_size(max)
            )));
        }
        self.registry.blob(&layer.digest, max, "component").await
    }
}
