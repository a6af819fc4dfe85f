//! Registry credentials where every OCI client finds them: the Docker
//! config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`):
//! a per-registry `credHelpers` entry, then `auths` (`auth` is base64
//! `user:password`; `identitytoken` is an OAuth refresh token), then the
//! default `credsStore`. A helper is `docker-credential-NAME get`, given
//! the registry on stdin, answering `{"Username": …, "Secret": …}`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

/// The largest Docker config or helper answer read.
const MAX_CREDENTIALS_BYTES: u64 = 1024 * 1024;

/// How to log in to a registry.
#[derive(Clone)]
pub enum Credentials {
    /// A user name and password (or token used as one).
    Basic { username: String, password: String },
    /// An OAuth refresh token for the registry's token service.
    IdentityToken(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret.
        match self {
            Credentials::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Credentials::IdentityToken(_) => write!(f, "IdentityToken(***)"),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DockerConfig {
    auths: BTreeMap<String, AuthEntry>,
    #[serde(rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
}

fn config_path() -> Option<PathBuf> {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir).join("config.json")),
        _ => std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker/config.json")),
    }
}

/// The credentials for `registry` (`host[:port]`), if any are configured.
/// A config or helper that cannot be read is logged and treated as none.
pub fn find(registry: &str) -> Option<Credentials> {
    let path = config_path()?;
    let file = std::fs::File::open(&path).ok()?;
    let mut text = String::new();
    use std::io::Read;
    if file
        .take(MAX_CREDENTIALS_BYTES)
        .read_to_string(&mut text)
        .is_err()
    {
        return None;
    }
    let config: DockerConfig = match serde_json::from_str(&text) {
        Ok(config) => config,
        Err(e) => {
            tracing::warn!(
                "{} is not a Docker config ({e}); no registry credentials used",
                path.display()
            );
            return None;
        }
    };
    lookup(&config, registry)
}

fn lookup(config: &DockerConfig, registry: &str) -> Option<Credentials> {
    let keys = keys(registry);
    if let Some(helper) = keys.iter().find_map(|k| config.cred_helpers.get(k)) {
        return helper_get(helper, registry);
    }
    if let Some(entry) = keys.iter().find_map(|k| config.auths.get(k)) {
        if let Some(token) = entry.identitytoken.as_ref().filter(|t| !t.is_empty()) {
            return Some(Credentials::IdentityToken(token.clone()));
        }
        if let Some(auth) = &entry.auth
            && let Ok(decoded) = STANDARD.decode(auth.trim())
            && let Ok(text) = String::from_utf8(decoded)
            && let Some((username, password)) = text.split_once(':')
        {
            return Some(Credentials::Basic {
                username: username.to_owned(),
                password: password.to_owned(),
            });
        }
        if let (Some(username), Some(password)) = (&entry.username, &entry.password) {
            return Some(Credentials::Basic {
                username: username.clone(),
                password: password.clone(),
            });
        }
    }
    config
        .creds_store
        .as_deref()
        .and_then(|store| helper_get(store, registry))
}

/// The `auths` keys a registry may be stored under.
fn keys(registry: &str) -> Vec<String> {
    let mut keys = vec![
        registry.to_owned(),
        format!("https://{registry}"),
        format!("http://{registry}"),
    ];
    if matches!(
        registry,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    ) {
        keys.push("https://index.docker.io/v1/".into());
    }
    keys
}

/// Ask `docker-credential-NAME get` for `registry`'s credentials.
fn helper_get(name: &str, registry: &str) -> Option<Credentials> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        tracing::warn!("ignoring the credential helper name {name:?}");
        return None;
    }
    let program = format!("docker-credential-{name}");
    let run = || -> std::io::Result<std::process::Output> {
        let mut child = Command::new(&program)
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(registry.as_bytes())?;
        }
        child.wait_with_output()
    };
    let output = match run() {
        Ok(output) => output,
        Err(e) => {
            tracing::warn!("credential helper {program} could not run: {e}");
            return None;
        }
    };
    if !output.status.success() || output.stdout.len() as u64 > MAX_CREDENTIALS_BYTES {
        // "credentials not found" is the helper's normal answer for a
        // registry it does not know.
        return None;
    }
    #[derive(Deserialize)]
    struct Answer {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let answer: Answer = serde_json::from_slice(&output.stdout).ok()?;
    Some(if answer.username == "<token>" {
        Credentials::IdentityToken(answer.secret)
    } else {
        Credentials::Basic {
            username: answer.username,
            password: answer.secret,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auths_are_found_under_each_key_form() {
        let config: DockerConfig = serde_json::from_str(
            r#"{"auths": {
                "https://r.example": {"auth": "dXNlcjpwYXNzOndvcmQ="},
                "t.example": {"identitytoken": "refresh"}
            }}"#,
        )
        .unwrap();
        match lookup(&config, "r.example") {
            Some(Credentials::Basic { username, password }) => {
                assert_eq!(
                    (username.as_str(), password.as_str()),
                    ("user", "pass:word")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(lookup(&config, "t.example"), Some(Credentials::IdentityToken(t)) if t == "refresh")
        );
        assert!(lookup(&config, "other.example").is_none());
        assert_eq!(
            format!("{:?}", lookup(&config, "r.example").unwrap()),
            "Basic(user, ***)"
        );
    }
}
