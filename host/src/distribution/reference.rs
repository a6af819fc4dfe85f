//! OCI references as Corral writes them: `oci://HOST[:PORT]/REPO[:TAG]`,
//! `oci://HOST[:PORT]/REPO@sha256:DIGEST`, or both (`REPO:TAG@sha256:…`,
//! where the digest wins).

use std::fmt;
use std::net::IpAddr;

use super::DistributionError;

/// The tag a reference without one names, as in every OCI client.
pub const DEFAULT_TAG: &str = "latest";

/// A parsed `oci://` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host` or `host:port`.
    pub registry: String,
    /// The repository path, e.g. `corral/calculator`.
    pub repository: String,
    /// The tag, if one was written.
    pub tag: Option<String>,
    /// `sha256:<64 hex>`, if one was written.
    pub digest: Option<String>,
}

impl Reference {
    /// Parse `oci://HOST[:PORT]/REPO[:TAG][@sha256:DIGEST]`.
    pub fn parse(text: &str) -> Result<Reference, DistributionError> {
        let bad = |why: &str| DistributionError::Reference {
            reference: text.to_owned(),
            why: why.to_owned(),
        };
        let rest = text.strip_prefix("oci://").ok_or_else(|| {
            bad("write registry references as oci://HOST[:PORT]/REPOSITORY[:TAG][@sha256:DIGEST]")
        })?;
        let (rest, digest) = match rest.split_once('@') {
            Some((name, digest)) => {
                if !is_digest(digest) {
                    return Err(bad(
                        "the digest must be `sha256:` and 64 lowercase hex characters",
                    ));
                }
                (name, Some(digest.to_owned()))
            }
            None => (rest, None),
        };
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| bad("it names no repository after the registry host"))?;
        if registry.is_empty()
            || !registry
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        {
            return Err(bad(
                "the registry must be a host name or address, with an optional :PORT",
            ));
        }
        // A tag follows the last `:` of the last path component.
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
            _ => (path, None),
        };
        if !is_repository(repository) {
            return Err(bad(
                "the repository must be lowercase path components of letters and digits, separated by `.`, `_`, `-` or `/`",
            ));
        }
        if let Some(tag) = tag
            && !is_tag(tag)
        {
            return Err(bad(
                "a tag is at most 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`",
            ));
        }
        Ok(Reference {
            registry: registry.to_ascii_lowercase(),
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
            digest,
        })
    }

    /// What to ask the registry for: the digest if written, else the tag
    /// (default [`DEFAULT_TAG`]).
    pub fn target(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or(DEFAULT_TAG)
    }

    /// The same repository at `digest`, keeping the tag for display.
    pub fn at_digest(&self, digest: &str) -> Reference {
        Reference {
            digest: Some(digest.to_owned()),
            ..self.clone()
        }
    }

    /// `HOST[:PORT]/REPO`, as cosign names an image in its payload.
    pub fn repository_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The host without its port (brackets of an IPv6 literal removed).
    pub fn host(&self) -> &str {
        let host = match self.registry.rsplit_once(':') {
            Some((host, port))
                if port.chars().all(|c| c.is_ascii_digit()) && !host.ends_with(':') =>
            {
                host
            }
            _ => &self.registry,
        };
        host.trim_start_matches('[').trim_end_matches(']')
    }

    /// Whether the registry is on this machine (plain HTTP is used for it,
    /// as Docker does).
    pub fn is_loopback(&self) -> bool {
        let host = self.host();
        host == "localhost"
            || host.ends_with(".localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "oci://{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// `sha256:` and 64 lowercase hex characters.
pub fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

fn is_repository(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 255
        && path.split('/').all(|component| {
            !component.is_empty()
                && component.split(['.', '_', '-']).all(|part| {
                    !part.is_empty()
                        && part
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                })
            // `__` is allowed by the spec; a plain split rejects it,
            // which only makes us stricter.
        })
}

fn is_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_and_print() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        let cases = [
            (
                "oci://127.0.0.1:5000/corral/calc:1.0",
                "127.0.0.1:5000",
                "corral/calc",
                Some("1.0"),
                None,
            ),
            (
                "oci://ghcr.io/acme/weather",
                "ghcr.io",
                "acme/weather",
                None,
                None,
            ),
            (
                &*format!("oci://localhost:5000/calc@{digest}"),
                "localhost:5000",
                "calc",
                None,
                Some(&*digest),
            ),
            (
                &*format!("oci://r.example/a/b:v2@{digest}"),
                "r.example",
                "a/b",
                Some("v2"),
                Some(&*digest),
            ),
        ];
        for (text, registry, repository, tag, want_digest) in cases {
            let r = Reference::parse(text).unwrap();
            assert_eq!(r.registry, registry, "{text}");
            assert_eq!(r.repository, repository, "{text}");
            assert_eq!(r.tag.as_deref(), tag, "{text}");
            assert_eq!(r.digest.as_deref(), want_digest, "{text}");
            assert_eq!(r.to_string(), text);
        }
        assert_eq!(
            Reference::parse("oci://ghcr.io/acme/weather")
                .unwrap()
                .target(),
            "latest"
        );
    }

    #[test]
    fn bad_references_say_why() {
        for text in [
            "ghcr.io/acme/weather",
            "oci://ghcr.io",
            "oci://ghcr.io/Acme/weather",
            "oci://ghcr.io/acme/weather:-x",
            "oci://ghcr.io/acme/weather@sha256:abc",
            "oci://gh cr.io/acme",
            "oci:///acme",
        ] {
            let error = Reference::parse(text).unwrap_err().to_string();
            assert!(error.contains(text), "{error}");
        }
    }

    #[test]
    fn loopback_registries_are_recognised() {
        for (text, loopback) in [
            ("oci://127.0.0.1:5000/a", true),
            ("oci://localhost/a", true),
            ("oci://[::1]:5000/a", true),
            ("oci://127.0.0.1.example/a", false),
            ("oci://ghcr.io/a", false),
        ] {
            assert_eq!(
                Reference::parse(text).unwrap().is_loopback(),
                loopback,
                "{text}"
            );
        }
    }
}
