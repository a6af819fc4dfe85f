//! JSON Web Tokens (RFC 7519) in JWS compact form: split, decode, verify
//! the signature with a [`VerifyingKey`], then check the claims. Nothing of
//! the payload is trusted before its signature verifies.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, UnparsedPublicKey};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::Denial;

/// The signature algorithms accepted (`alg`); `none` never is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Alg {
    Hs256,
    Hs384,
    Hs512,
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
    EdDsa,
}

impl Alg {
    pub(crate) fn parse(name: &str) -> Option<Alg> {
        Some(match name {
            "HS256" => Alg::Hs256,
            "HS384" => Alg::Hs384,
            "HS512" => Alg::Hs512,
            "RS256" => Alg::Rs256,
            "RS384" => Alg::Rs384,
            "RS512" => Alg::Rs512,
            "PS256" => Alg::Ps256,
            "PS384" => Alg::Ps384,
            "PS512" => Alg::Ps512,
            "ES256" => Alg::Es256,
            "ES384" => Alg::Es384,
            "EdDSA" => Alg::EdDsa,
            _ => return None,
        })
    }
}

/// A key that verifies signatures of one family; which algorithms it takes
/// is decided by the key, so a token cannot choose (no HS256 with an RSA
/// public key as the secret, no `none`).
pub(crate) enum VerifyingKey {
    Hmac(Vec<u8>),
    Rsa { n: Vec<u8>, e: Vec<u8> },
    P256(Vec<u8>),
    P384(Vec<u8>),
    Ed25519(Vec<u8>),
}

impl VerifyingKey {
    /// Whether `alg` is one this key verifies.
    pub(crate) fn accepts(&self, alg: Alg) -> bool {
        use Alg::*;
        matches!(
            (self, alg),
            (VerifyingKey::Hmac(_), Hs256 | Hs384 | Hs512)
                | (
                    VerifyingKey::Rsa { .. },
                    Rs256 | Rs384 | Rs512 | Ps256 | Ps384 | Ps512
                )
                | (VerifyingKey::P256(_), Es256)
                | (VerifyingKey::P384(_), Es384)
                | (VerifyingKey::Ed25519(_), EdDsa)
        )
    }

    /// Whether `signature` signs `message` under this key with `alg`.
    pub(crate) fn verify(&self, alg: Alg, message: &[u8], signature: &[u8]) -> bool {
        if !self.accepts(alg) {
            return false;
        }
        let rsa = |params: &'static signature::RsaParameters, n: &[u8], e: &[u8]| {
            signature::RsaPublicKeyComponents { n, e }
                .verify(params, message, signature)
                .is_ok()
        };
        match (self, alg) {
            (VerifyingKey::Hmac(secret), _) => {
                let algorithm = match alg {
                    Alg::Hs256 => ring::hmac::HMAC_SHA256,
                    Alg::Hs384 => ring::hmac::HMAC_SHA384,
                    _ => ring::hmac::HMAC_SHA512,
                };
                let key = ring::hmac::Key::new(algorithm, secret);
                ring::hmac::verify(&key, message, signature).is_ok()
            }
            (VerifyingKey::Rsa { n, e }, alg) => {
                let params = match alg {
                    Alg::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    Alg::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    Alg::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    Alg::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
                    Alg::Ps384 => &signature::RSA_PSS_2048_8192_SHA384,
                    _ => &signature::RSA_PSS_2048_8192_SHA512,
                };
                rsa(params, n, e)
            }
            (VerifyingKey::P256(point), _) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
            (VerifyingKey::P384(point), _) => {
                UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
            (VerifyingKey::Ed25519(key), _) => UnparsedPublicKey::new(&signature::ED25519, key)
                .verify(message, signature)
                .is_ok(),
        }
    }
}

/// The protected header's fields Corral reads.
#[derive(Debug, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<Value>,
}

/// A token split and decoded, its signature not yet verified.
pub(crate) struct Unverified<'a> {
    pub alg: Alg,
    pub kid: Option<String>,
    signing_input: &'a [u8],
    signature: Vec<u8>,
    payload: &'a str,
}

/// Split and decode a compact JWS; refuse `none`, unknown algorithms and
/// critical extensions.
pub(crate) fn decode(token: &str) -> Result<Unverified<'_>, Denial> {
    let malformed = |why: &str| Denial::Invalid(format!("malformed token: {why}"));
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed(
            "not three dot-separated parts (a JWS in compact form)",
        ));
    };
    let signing_input = &token.as_bytes()[..header.len() + 1 + payload.len()];
    let header_bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| malformed("header is not base64url"))?;
    let header: Header =
        serde_json::from_slice(&header_bytes).map_err(|_| malformed("header is not JSON"))?;
    if header.crit.is_some() {
        return Err(Denial::Invalid(
            "token has critical header extensions (crit), which are not supported".into(),
        ));
    }
    let alg = Alg::parse(&header.alg).ok_or_else(|| {
        Denial::Invalid(format!(
            "signature algorithm {:?} is not accepted",
            header.alg
        ))
    })?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| malformed("signature is not base64url"))?;
    Ok(Unverified {
        alg,
        kid: header.kid,
        signing_input,
        signature,
        payload,
    })
}

impl Unverified<'_> {
    /// The claims, if `key` verifies the signature.
    pub(crate) fn verify(&self, key: &VerifyingKey) -> Option<Map<String, Value>> {
        if !key.verify(self.alg, self.signing_input, &self.signature) {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(self.payload).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// What the checks need from the config.
pub(crate) struct Expected<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub leeway: u64,
    pub now: u64,
}

/// Check `iss`, `aud`, `exp` and `nbf` of verified claims. `exp` is
/// required: a token that never expires is refused.
pub(crate) fn check_claims(claims: &Map<String, Value>, expected: &Expected) -> Result<(), Denial> {
    match claims.get("iss").and_then(Value::as_str) {
        Some(iss) if iss == expected.issuer => {}
        _ => {
            return Err(Denial::Invalid(
                "token was issued by another issuer (iss)".into(),
            ));
        }
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == expected.audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expected.audience)),
        _ => false,
    };
    if !audience_ok {
        return Err(Denial::Invalid(
            "token is for another audience (aud does not name this server)".into(),
        ));
    }
    let time = |name: &str| claims.get(name).and_then(Value::as_f64);
    let Some(exp) = time("exp") else {
        return Err(Denial::Invalid("token has no expiry (exp)".into()));
    };
    if exp + expected.leeway as f64 <= expected.now as f64 {
        return Err(Denial::Invalid("token has expired".into()));
    }
    if let Some(nbf) = time("nbf")
        && nbf > (expected.now + expected.leeway) as f64
    {
        return Err(Denial::Invalid("token is not valid yet (nbf)".into()));
    }
    Ok(())
}

/// The token's scopes: `scope` (space-separated, RFC 9068) or `scp` (a
/// list or a string, as some issuers write it).
pub(crate) fn scopes(claims: &Map<String, Value>) -> Vec<String> {
    let split = |s: &str| s.split_ascii_whitespace().map(str::to_owned).collect();
    match (claims.get("scope"), claims.get("scp")) {
        (Some(Value::String(s)), _) | (None, Some(Value::String(s))) => split(s),
        (None, Some(Value::Array(list))) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign_hs256(secret: &[u8], header: &str, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
        let tag = ring::hmac::sign(&key, input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    #[test]
    fn a_signed_token_verifies_and_a_changed_one_does_not() {
        let claims = serde_json::json!({"iss": "i", "aud": "a", "exp": 10, "scope": "mcp x"});
        let token = sign_hs256(b"secret", r#"{"alg":"HS256"}"#, &claims);
        let key = VerifyingKey::Hmac(b"secret".to_vec());
        let decoded = decode(&token).unwrap();
        assert_eq!(decoded.verify(&key).unwrap()["scope"], "mcp x");
        assert!(
            decoded
                .verify(&VerifyingKey::Hmac(b"other".to_vec()))
                .is_none()
        );
        // The payload changed after signing.
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(r#"{"iss":"i","aud":"a","exp":99999999999}"#);
        parts[1] = &forged;
        assert!(decode(&parts.join(".")).unwrap().verify(&key).is_none());
    }

    #[test]
    fn none_unknown_algorithms_crit_and_junk_are_refused() {
        let claims = serde_json::json!({"iss": "i"});
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        assert!(decode(&unsigned).is_err());
        let crit = sign_hs256(b"s", r#"{"alg":"HS256","crit":["exp"]}"#, &claims);
        assert!(decode(&crit).is_err());
        for junk in ["", "a.b", "a.b.c.d", "!!.!!.!!", "e30.e30.e30"] {
            assert!(decode(junk).is_err(), "{junk}");
        }
    }

    #[test]
    fn a_key_decides_its_algorithms() {
        // An HMAC token cannot be checked against an RSA or EC key, whatever
        // the header says (the classic algorithm confusion).
        let rsa = VerifyingKey::Rsa {
            n: vec![1; 256],
            e: vec![1, 0, 1],
        };
        assert!(!rsa.accepts(Alg::Hs256));
        assert!(!VerifyingKey::P256(vec![4; 65]).accepts(Alg::Hs256));
        assert!(!VerifyingKey::Hmac(vec![1]).accepts(Alg::Rs256));
        assert!(!VerifyingKey::Ed25519(vec![0; 32]).accepts(Alg::Es256));
    }

    #[test]
    fn claims_are_checked_with_leeway() {
        let expected = Expected {
            issuer: "https://issuer",
            audience: "https://mcp/mcp",
            leeway: 30,
            now: 1000,
        };
        let ok = serde_json::json!({"iss": "https://issuer", "aud": ["x", "https://mcp/mcp"], "exp": 1001});
        let check = |v: Value| check_claims(v.as_object().unwrap(), &expected);
        assert!(check(ok).is_ok());
        let cases = [
            (
                serde_json::json!({"iss": "https://other", "aud": "https://mcp/mcp", "exp": 2000}),
                "issuer",
            ),
            (
                serde_json::json!({"iss": "https://issuer", "aud": "https://mcp/other", "exp": 2000}),
                "audience",
            ),
            (
                serde_json::json!({"iss": "https://issuer", "exp": 2000}),
                "audience",
            ),
            (
                serde_json::json!({"iss": "https://issuer", "aud": "https://mcp/mcp"}),
                "no expiry",
            ),
            (
                serde_json::json!({"iss": "https://issuer", "aud": "https://mcp/mcp", "exp": 970}),
                "expired",
            ),
            (
                serde_json::json!({"iss": "https://issuer", "aud": "https://mcp/mcp", "exp": 2000, "nbf": 1031}),
                "not valid yet",
            ),
        ];
        for (claims, why) in cases {
            let Err(Denial::Invalid(message)) = check(claims.clone()) else {
                panic!("{claims} passed");
            };
            assert!(message.contains(why), "{claims}: {message}");
        }
        // Within the leeway.
        assert!(check(serde_json::json!({"iss": "https://issuer", "aud": "https://mcp/mcp", "exp": 971, "nbf": 1029})).is_ok());
    }

    #[test]
    fn scopes_come_from_scope_or_scp() {
        let of = |v: Value| scopes(v.as_object().unwrap());
        assert_eq!(of(serde_json::json!({"scope": "a  b"})), ["a", "b"]);
        assert_eq!(of(serde_json::json!({"scp": ["a", "b"]})), ["a", "b"]);
        assert_eq!(of(serde_json::json!({"scp": "a"})), ["a"]);
        assert!(of(serde_json::json!({})).is_empty());
    }
}
