//! Phase 1: the file's shape, as serde sees it. Every table refuses unknown
//! keys; values that take human units are kept as written ([`Num`]) for
//! phase 2 to check with a message that names the key.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub(super) struct RawConfig {
    pub server: RawServer,
    pub limits: RawLimits,
    pub plugins: BTreeMap<String, RawPlugin>,
    pub upstreams: BTreeMap<String, RawUpstream>,
    pub openapi: BTreeMap<String, RawOpenApi>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub(super) struct RawServer {
    pub name: Option<String>,
    pub title: Option<String>,
    pub version: Option<String>,
    pub website_url: Option<String>,
    pub icons: Vec<RawIcon>,
    pub instructions: Option<String>,
    pub mask_error_details: bool,
    pub include_tags: Vec<String>,
    pub exclude_tags: Vec<String>,
    pub plugin_dirs: Vec<String>,
    pub page_size: Option<Num>,
    pub task_after: Option<Num>,
    pub task_input_timeout: Option<Num>,
    pub require_signatures: bool,
    pub http: RawHttp,
    pub auth: Option<RawAuth>,
    pub sessions: RawSessions,
    pub audit: Option<RawAudit>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub(super) struct RawAudit {
    pub file: Option<String>,
    pub max_size: Option<Num>,
    pub keep: Option<Num>,
    pub audit_arguments: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub(super) struct RawSessions {
    pub store: Option<String>,
    pub request_state_key_env: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub(super) struct RawAuth {
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub jwks: Option<String>,
    pub hs256_secret_env: Option<String>,
    pub required_scopes: Vec<String>,
    pub leeway: Option<Num>,
    pub authorization_servers: Vec<String>,
    pub tokens: Vec<RawStaticToken>,
    pub views: Vec<RawView>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub(super) struct RawView {
    pub scope: Option<String>,
    pub claim: Option<String>,
    pub value: Option<String>,
    pub include_tags: Vec<String>,
    pub exclude_tags: Vec<String>,
    pub plugins: Option<Vec<String>>,
    pub rate: Option<Num>,
    pub burst: Option<Num>,
    pub concurrency: Option<Num>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub(super) struct RawStaticToken {
    pub env: Option<String>,
    pub subject: Option<String>,
    pub scopes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIcon {
    pub src: String,
    pub mime_type: Option<String>,
    #[serde(default)]
    pub sizes: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub(super) struct RawHttp {
    pub host: Option<String>,
    pub port: Option<Num>,
    pub path: Option<String>,
    pub allowed_hosts: Option<Vec<String>>,
    pub allowed_origins: Option<Vec<String>>,
    pub max_body: Option<Num>,
    pub session_idle_timeout: Option<Num>,
    pub max_sessions: Option<Num>,
    pub max_connections: Option<Num>,
    pub header_timeout: Option<Num>,
    pub metrics: bool,
    pub metrics_addr: Option<String>,
    pub ui: bool,
    pub ui_calls: bool,
    pub rate: Option<Num>,
    pub burst: Option<Num>,
    pub concurrency: Option<Num>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub(super) struct RawLimits {
    pub total_memory: Option<Num>,
    pub max_plugin_size: Option<Num>,
    pub fuel: Option<Num>,
    pub memory: Option<Num>,
    pub timeout: Option<Num>,
    pub task_timeout: Option<Num>,
    pub max_output: Option<Num>,
    pub concurrency: Option<Num>,
    pub queue: Option<Num>,
    pub rate: Option<Num>,
    pub burst: Option<Num>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub(super) struct RawPlugin {
    pub path: Option<String>,
    pub prefix: Option<String>,
    pub tags: Vec<String>,
    pub enabled: Option<bool>,
    pub disabled_components: Vec<String>,
    pub instance_reuse: bool,
    pub allow_hosts: Vec<String>,
    pub env: Vec<String>,
    pub dirs: BTreeMap<String, RawDir>,
    pub limits: RawLimits,
    pub sha256: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub(super) struct RawUpstream {
    pub command: Option<Vec<String>>,
    pub url: Option<String>,
    pub prefix: Option<String>,
    pub tags: Vec<String>,
    pub enabled: Option<bool>,
    pub disabled_components: Vec<String>,
    pub timeout: Option<Num>,
    pub max_output: Option<Num>,
    pub headers: BTreeMap<String, String>,
    pub env: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub(super) struct RawOpenApi {
    pub spec: Option<String>,
    pub base_url: Option<String>,
    pub prefix: Option<String>,
    pub tags: Vec<String>,
    pub enabled: Option<bool>,
    pub disabled_components: Vec<String>,
    pub timeout: Option<Num>,
    pub max_output: Option<Num>,
    pub headers: BTreeMap<String, String>,
    pub route_maps: Vec<RawRouteMap>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub(super) struct RawRouteMap {
    pub methods: Vec<String>,
    pub pattern: Option<String>,
    pub tags: Vec<String>,
    pub mcp_type: Option<String>,
    pub mcp_tags: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a table")]
pub(super) struct RawDir {
    pub host: Option<String>,
    pub mode: Option<String>,
}

/// A number or a string, as written: sizes may be either, durations need a
/// unit, counts must be whole numbers. Phase 2 decides.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Num {
    Int(i64),
    Float(f64),
    Text(String),
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Num::Int(n) => write!(f, "{n}"),
            Num::Float(n) => write!(f, "{n}"),
            Num::Text(s) => write!(f, "{s:?}"),
        }
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumVisitor;
        impl Visitor<'_> for NumVisitor {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string such as \"64MiB\" or \"10s\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                i64::try_from(v)
                    .map(Num::Int)
                    .map_err(|_| E::custom(format!("{v} is too large")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                Ok(Num::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                Ok(Num::Text(v.to_owned()))
            }
        }
        deserializer.deserialize_any(NumVisitor)
    }
}
