//! `[server.sessions]`: what several Corral processes share, so that any of
//! them can answer a client: a session store (Redis) and the key that seals
//! `requestState`.

use super::raw::RawSessions;
use super::resolve::{Resolver, Result};

/// The least bytes the secret behind the request-state key may have.
pub const MIN_STATE_SECRET: usize = 32;

/// Where a Redis server is, from a `redis://[user:password@]host[:port][/db]` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisTarget {
    /// `host:port`.
    pub address: String,
    /// The database index (`SELECT`).
    pub db: u32,
    /// `AUTH` user, if any.
    pub username: Option<String>,
    /// `AUTH` password, if any.
    pub password: Option<String>,
}

impl std::fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTarget")
            .field("address", &self.address)
            .field("db", &self.db)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl RedisTarget {
    /// Parse a `redis://` URL; the error says what is wrong with it.
    pub fn parse(url: &str) -> std::result::Result<RedisTarget, String> {
        let rest = url.strip_prefix("redis://").ok_or_else(|| {
            "is not a redis:// URL; write e.g. \"redis://127.0.0.1:6379/0\"".to_owned()
        })?;
        let (auth, rest) = match rest.rsplit_once('@') {
            Some((auth, rest)) => (Some(auth), rest),
            None => (None, rest),
        };
        let (host, db) = match rest.split_once('/') {
            Some((host, "")) => (host, 0),
            Some((host, db)) => (
                host,
                db.parse()
                    .map_err(|_| format!("`{db}` is not a database number"))?,
            ),
            None => (rest, 0),
        };
        if host.is_empty() {
            return Err("names no host".into());
        }
        let address = if host
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            host.to_owned()
        } else {
            format!("{host}:6379")
        };
        let (username, password) = match auth {
            None => (None, None),
            Some(auth) => match auth.split_once(':') {
                Some(("", password)) => (None, Some(password.to_owned())),
                Some((user, password)) => (Some(user.to_owned()), Some(password.to_owned())),
                None => (Some(auth.to_owned()), None),
            },
        };
        Ok(RedisTarget {
            address,
            db,
            username,
            password,
        })
    }
}

/// The key that seals `requestState` (a SHA-256 of the configured secret),
/// shared by every process that has the same secret.
#[derive(Clone, PartialEq, Eq)]
pub struct StateKey(pub [u8; 32]);

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey(<redacted>)")
    }
}

impl Resolver<'_> {
    /// `store` (the session store's URL) and `request_state_key_env`.
    pub(super) fn sessions(
        &self,
        raw: &RawSessions,
    ) -> Result<(Option<RedisTarget>, Option<StateKey>)> {
        let key = |field: &'static str| ["server", "sessions", field];
        let store = raw
            .store
            .as_deref()
            .map(|url| {
                RedisTarget::parse(url)
                    .map_err(|m| self.invalid(&key("store"), format!("{url:?} {m}")))
            })
            .transpose()?;
        let state_key = match &raw.request_state_key_env {
            None => None,
            Some(name) => {
                let secret = std::env::var(name).map_err(|_| {
                    self.invalid(
                        &key("request_state_key_env"),
                        format!("the environment variable `{name}` is not set; give every process the same secret of at least {MIN_STATE_SECRET} bytes in it"),
                    )
                })?;
                if secret.len() < MIN_STATE_SECRET {
                    return Err(self.invalid(
                        &key("request_state_key_env"),
                        format!("`{name}` holds {} bytes; use a secret of at least {MIN_STATE_SECRET} (e.g. `openssl rand -base64 32`)", secret.len()),
                    ));
                }
                use sha2::Digest;
                let digest = sha2::Sha256::new()
                    .chain_update(b"corral requestState key\n")
                    .chain_update(secret.as_bytes())
                    .finalize();
                Some(StateKey(digest.into()))
            }
        };
        Ok((store, state_key))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{expect_invalid, parse_in};
    use super::*;

    #[test]
    fn the_sessions_table_resolves_and_names_its_errors() {
        let t = "sessions";
        let config = parse_in(
            t,
            "[server.sessions]\nstore = \"redis://127.0.0.1:6390/3\"\n",
        )
        .unwrap();
        let store = config.http.session_store.unwrap();
        assert_eq!((store.address.as_str(), store.db), ("127.0.0.1:6390", 3));
        assert_eq!(config.server.request_state_key, None);
        expect_invalid(
            t,
            "[server.sessions]\nstore = \"http://cache\"\n",
            "server.sessions.store",
            &["not a redis:// URL"],
        );
        expect_invalid(
            t,
            "[server.sessions]\nrequest_state_key_env = \"CORRAL_TEST_NEVER_SET_1234\"\n",
            "server.sessions.request_state_key_env",
            &["CORRAL_TEST_NEVER_SET_1234", "is not set", "at least 32"],
        );
        let unknown = parse_in(t, "[server.sessions]\nttl = 5\n").unwrap_err();
        assert!(
            unknown.to_string().contains("unknown field `ttl`"),
            "{unknown}"
        );
    }

    #[test]
    fn urls_name_host_port_db_and_credentials() {
        let t = RedisTarget::parse("redis://127.0.0.1:6380/2").unwrap();
        assert_eq!((t.address.as_str(), t.db), ("127.0.0.1:6380", 2));
        let t = RedisTarget::parse("redis://:pw@cache").unwrap();
        assert_eq!(t.address, "cache:6379");
        assert_eq!((t.username, t.password.as_deref()), (None, Some("pw")));
        assert!(!format!("{:?}", RedisTarget::parse("redis://u:pw@h").unwrap()).contains("pw"));
        assert!(RedisTarget::parse("http://h").is_err());
        assert!(RedisTarget::parse("redis:///0").is_err());
        assert!(RedisTarget::parse("redis://h/x").is_err());
    }
}
