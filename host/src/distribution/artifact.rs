//! The Wasm OCI artifact (the CNCF TAG Runtime layout `wkg` and wasm-tools
//! publish): an OCI image manifest whose config is
//! `application/vnd.wasm.config.v0+json` and whose layer is the component
//! (`application/wasm`); Corral adds an optional layer with the plugin's
//! grant request. And cosign's signature manifest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::DistributionError;

/// The config media type of a Wasm OCI artifact.
pub(crate) const WASM_CONFIG: &str = "application/vnd.wasm.config.v0+json";
/// The media type of the component layer.
pub(crate) const WASM_LAYER: &str = "application/wasm";
/// The media type of Corral's grant-request layer (`corral-grants.toml`).
pub(crate) const GRANTS_LAYER: &str = "application/vnd.corral.grants.v1+toml";
/// cosign's signature layer: the simple-signing payload.
pub(crate) const SIGNATURE_LAYER: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The layer annotation holding a cosign signature (base64 DER).
pub(crate) const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
const IMAGE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// An OCI content descriptor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    pub fn of(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_owned(),
            digest: super::registry::sha256_digest(bytes),
            size: bytes.len() as u64,
            annotations: BTreeMap::new(),
        }
    }
}

/// An OCI image manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Manifest {
    pub fn new(config: Descriptor, layers: Vec<Descriptor>) -> Manifest {
        Manifest {
            schema_version: 2,
            media_type: Some(super::registry::OCI_MANIFEST.to_owned()),
            config,
            layers,
            annotations: BTreeMap::new(),
        }
    }

    pub fn parse(bytes: &[u8], what: &str) -> Result<Manifest, DistributionError> {
        let manifest: Manifest = serde_json::from_slice(bytes).map_err(|e| {
            DistributionError::Artifact(format!("{what} is not an OCI image manifest: {e}"))
        })?;
        if manifest.layers.len() > super::MAX_LAYERS {
            return Err(DistributionError::Artifact(format!(
                "{what} has {} layers; at most {} are read (MAX_LAYERS)",
                manifest.layers.len(),
                super::MAX_LAYERS
            )));
        }
        Ok(manifest)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("a manifest serializes")
    }

    /// The component layer of a Wasm artifact.
    pub fn wasm_layer(&self) -> Result<&Descriptor, DistributionError> {
        if self.config.media_type != WASM_CONFIG {
            return Err(DistributionError::Artifact(format!(
                "not a Wasm component artifact: its config is {} (expected {WASM_CONFIG})",
                self.config.media_type
            )));
        }
        let mut wasm = self.layers.iter().filter(|l| l.media_type == WASM_LAYER);
        match (wasm.next(), wasm.next()) {
            (Some(layer), None) => Ok(layer),
            (None, _) => Err(DistributionError::Artifact(format!(
                "the artifact has no {WASM_LAYER} layer"
            ))),
            (Some(_), Some(_)) => Err(DistributionError::Artifact(format!(
                "the artifact has several {WASM_LAYER} layers; Corral serves one component per plugin"
            ))),
        }
    }

    /// The grant-request layer, if there is one.
    pub fn grants_layer(&self) -> Option<&Descriptor> {
        self.layers.iter().find(|l| l.media_type == GRANTS_LAYER)
    }
}

/// The config of a Wasm OCI artifact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WasmConfig {
    /// When it was published (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// `wasm`.
    pub architecture: String,
    /// `wasip2`.
    pub os: String,
    /// The digests of the component layers.
    #[serde(rename = "layerDigests", default)]
    pub layer_digests: Vec<String>,
    /// What the component exports and imports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<ComponentInfo>,
}

/// What the component exports and imports (WIT interface names).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComponentInfo {
    /// Exported interfaces.
    #[serde(default)]
    pub exports: Vec<String>,
    /// Imported interfaces.
    #[serde(default)]
    pub imports: Vec<String>,
    /// The WIT world targeted, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl WasmConfig {
    pub(crate) fn new(wasm_digest: &str, exports: Vec<String>, imports: Vec<String>) -> WasmConfig {
        WasmConfig {
            created: Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            architecture: "wasm".into(),
            os: "wasip2".into(),
            layer_digests: vec![wasm_digest.to_owned()],
            component: Some(ComponentInfo {
                exports,
                imports,
                target: None,
            }),
        }
    }
}

/// The config blob cosign puts in a signature manifest: an empty image
/// config whose one diff id is the payload's.
pub fn signature_config(payload_digest: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": [payload_digest]},
        "config": {},
    }))
    .expect("a JSON value serializes")
}

/// The media type of a signature manifest's config.
pub(crate) const SIGNATURE_CONFIG: &str = IMAGE_CONFIG;

/// The tag cosign stores the signatures of `manifest_digest` under.
pub fn signature_tag(manifest_digest: &str) -> String {
    manifest_digest.replacen(':', "-", 1) + ".sig"
}

/// A plugin's grant request (`corral-grants.toml`): what it asks to reach,
/// and why. Only a request: it becomes a grant when the operator writes it
/// into `corral.toml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrantRequest {
    /// Environment variables, by name.
    pub env: BTreeMap<String, Reason>,
    /// Hosts for outgoing HTTP (`allow_hosts` patterns).
    pub hosts: BTreeMap<String, Reason>,
    /// Directories, by the path the plugin sees.
    pub dirs: BTreeMap<String, DirRequest>,
}

/// Why something is asked for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Reason {
    /// Why.
    pub reason: String,
}

/// A directory asked for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DirRequest {
    /// Why.
    pub reason: String,
    /// `ro` (the default) or `rw`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

impl GrantRequest {
    /// Parse and check a grant request; `what` names it in errors.
    pub fn parse(text: &str, what: &str) -> Result<GrantRequest, DistributionError> {
        let bad = |why: String| DistributionError::Grants(format!("{what}: {why}"));
        let request: GrantRequest = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        for name in request.env.keys() {
            if !crate::config::is_env_name(name) {
                return Err(bad(format!("{name:?} is not an environment variable name")));
            }
        }
        for host in request.hosts.keys() {
            crate::config::HostPattern::parse(host)
                .map_err(|e| bad(format!("host {host:?}: {e}")))?;
        }
        for (guest, dir) in &request.dirs {
            if !guest.starts_with('/') || guest.split('/').any(|c| c == ".." || c == ".") {
                return Err(bad(format!("{guest:?} is not an absolute guest path")));
            }
            if !matches!(dir.mode.as_deref(), None | Some("ro") | Some("rw")) {
                return Err(bad(format!("dirs.{guest:?}.mode must be \"ro\" or \"rw\"")));
            }
        }
        Ok(request)
    }

    /// Whether nothing is asked for.
    pub fn is_empty(&self) -> bool {
        self.env.is_empty() && self.hosts.is_empty() && self.dirs.is_empty()
    }

    /// One line per request, for showing to an operator.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (name, why) in &self.env {
            lines.push(format!(
                "env {name}: {}",
                crate::units::printable(&why.reason)
            ));
        }
        for (host, why) in &self.hosts {
            lines.push(format!(
                "outgoing HTTP to {host}: {}",
                crate::units::printable(&why.reason)
            ));
        }
        for (guest, dir) in &self.dirs {
            let mode = if dir.mode.as_deref() == Some("rw") {
                "read-write"
            } else {
                "read-only"
            };
            lines.push(format!(
                "directory {guest} ({mode}): {}",
                crate::units::printable(&dir.reason)
            ));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_requests_parse_and_refuse_nonsense() {
        let request = GrantRequest::parse(
            "[env.WEATHER_API_KEY]\nreason = \"the API key\"\n[hosts.\"api.weather.gov\"]\nreason = \"forecasts\"\n[dirs.\"/data\"]\nreason = \"cache\"\nmode = \"rw\"\n",
            "test",
        )
        .unwrap();
        assert_eq!(request.describe().len(), 3);
        for bad in [
            "[env.\"1X\"]\nreason = \"\"",
            "[dirs.\"data\"]\nreason = \"\"",
            "[dirs.\"/data\"]\nmode = \"all\"",
            "[secrets]\n",
        ] {
            assert!(GrantRequest::parse(bad, "test").is_err(), "{bad}");
        }
    }

    #[test]
    fn signature_tags_follow_cosign() {
        assert_eq!(signature_tag("sha256:abc"), "sha256-abc.sig");
    }
}
