//! The authenticator against keys made here: static tokens, HS256 from the
//! environment, and a JWKS file with EC and Ed25519 keys.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};

use super::*;
use crate::config::{JwksSource, StaticToken};

fn settings(jwt: Option<JwtKeys>) -> AuthSettings {
    AuthSettings {
        issuer: Some("https://issuer.test".into()),
        audience: Some("https://mcp.test/mcp".into()),
        jwt,
        required_scopes: vec!["mcp".into()],
        leeway: Duration::from_secs(30),
        authorization_servers: vec!["https://issuer.test".into()],
        tokens: Vec::new(),
        views: Vec::new(),
    }
}

fn claims(extra: Value) -> Value {
    let mut claims = json!({
        "iss": "https://issuer.test",
        "aud": "https://mcp.test/mcp",
        "sub": "alice",
        "exp": now() + 600,
        "scope": "mcp tools",
    });
    claims
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    claims
}

fn compact(header: Value, claims: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn block_on<T>(f: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn static_tokens_from_the_environment() {
    // SAFETY: the variable is this test's own.
    unsafe { std::env::set_var("CORRAL_TEST_STATIC_TOKEN", "s3cret-token") };
    let mut settings = settings(None);
    settings.tokens = vec![StaticToken {
        env: "CORRAL_TEST_STATIC_TOKEN".into(),
        subject: "ci".into(),
        scopes: vec!["mcp".into(), "admin".into()],
    }];
    block_on(async {
        let auth = Authenticator::new(&settings).unwrap();
        let principal = auth.authenticate("s3cret-token").await.unwrap();
        assert_eq!(principal.key, "static#ci");
        assert!(principal.has_scope("admin"));
        assert!(matches!(
            auth.authenticate("s3cret-tokeN").await,
            Err(Denial::Invalid(_))
        ));
        assert!(matches!(
            auth.authenticate("").await,
            Err(Denial::Invalid(_))
        ));
        let long = "x".repeat(MAX_TOKEN_BYTES + 1);
        let Err(Denial::Invalid(why)) = auth.authenticate(&long).await else {
            panic!("a long token passed");
        };
        assert!(why.contains("MAX_TOKEN_BYTES"), "{why}");
    });
    settings.tokens[0].env = "CORRAL_TEST_UNSET_TOKEN".into();
    let error = Authenticator::new(&settings).unwrap_err();
    assert!(
        error.to_string().contains("CORRAL_TEST_UNSET_TOKEN"),
        "{error}"
    );
}

#[test]
fn hs256_tokens_with_a_secret_from_the_environment() {
    // SAFETY: the variable is this test's own.
    unsafe { std::env::set_var("CORRAL_TEST_HS_SECRET", "a-long-shared-secret") };
    let settings = settings(Some(JwtKeys::SecretEnv("CORRAL_TEST_HS_SECRET".into())));
    let hs = |secret: &'static [u8]| {
        move |input: &[u8]| {
            let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
            ring::hmac::sign(&key, input).as_ref().to_vec()
        }
    };
    let header = json!({"alg": "HS256", "typ": "at+jwt"});
    block_on(async {
        let auth = Authenticator::new(&settings).unwrap();
        let good = compact(
            header.clone(),
            &claims(json!({})),
            hs(b"a-long-shared-secret"),
        );
        let principal = auth.authenticate(&good).await.unwrap();
        assert_eq!(principal.key, "https://issuer.test#alice");
        assert_eq!(principal.scopes, ["mcp", "tools"]);
        // Cached: the same answer again.
        assert_eq!(auth.authenticate(&good).await.unwrap(), principal);
        let forged = compact(header.clone(), &claims(json!({})), hs(b"another-secret"));
        assert!(matches!(
            auth.authenticate(&forged).await,
            Err(Denial::Invalid(_))
        ));
        let unscoped = compact(
            header.clone(),
            &claims(json!({"scope": "tools"})),
            hs(b"a-long-shared-secret"),
        );
        assert_eq!(
            auth.authenticate(&unscoped).await,
            Err(Denial::InsufficientScope(vec!["mcp".into()]))
        );
        let expired = compact(
            header,
            &claims(json!({"exp": now() - 60})),
            hs(b"a-long-shared-secret"),
        );
        assert!(
            matches!(auth.authenticate(&expired).await, Err(Denial::Invalid(m)) if m.contains("expired"))
        );
    });
}

#[test]
fn jwks_file_with_ec_and_ed25519_keys() {
    let rng = SystemRandom::new();
    let ec_pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let ec = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, ec_pkcs8.as_ref(), &rng)
        .unwrap();
    let ed_pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let ed = Ed25519KeyPair::from_pkcs8(ed_pkcs8.as_ref()).unwrap();
    let point = ec.public_key().as_ref();
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    let jwks = json!({"keys": [
        {"kty": "EC", "crv": "P-256", "kid": "ec", "x": b64(&point[1..33]), "y": b64(&point[33..]), "use": "sig"},
        {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": b64(ed.public_key().as_ref()), "alg": "EdDSA"},
        {"kty": "oct", "kid": "sym", "k": "c2VjcmV0"},
        {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
    ]});
    let dir = std::env::temp_dir().join(format!("corral-jwks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("jwks.json");
    std::fs::write(&file, jwks.to_string()).unwrap();
    let settings = settings(Some(JwtKeys::Jwks(JwksSource::File(file))));
    let sign_ec = |input: &[u8]| ec.sign(&rng, input).unwrap().as_ref().to_vec();
    let sign_ed = |input: &[u8]| ed.sign(input).as_ref().to_vec();
    block_on(async {
        let auth = Authenticator::new(&settings).unwrap();
        let es = compact(
            json!({"alg": "ES256", "kid": "ec"}),
            &claims(json!({})),
            sign_ec,
        );
        assert!(auth.authenticate(&es).await.is_ok());
        let ed_token = compact(
            json!({"alg": "EdDSA", "kid": "ed"}),
            &claims(json!({})),
            sign_ed,
        );
        assert!(auth.authenticate(&ed_token).await.is_ok());
        // Without a kid, every key that fits the algorithm is tried.
        let no_kid = compact(
            json!({"alg": "EdDSA"}),
            &claims(json!({"sub": "bob"})),
            sign_ed,
        );
        assert_eq!(auth.authenticate(&no_kid).await.unwrap().subject, "bob");
        // A kid naming another key than the one that signed fails.
        let wrong_kid = compact(
            json!({"alg": "ES256", "kid": "ed"}),
            &claims(json!({})),
            sign_ec,
        );
        assert!(auth.authenticate(&wrong_kid).await.is_err());
        // HS256 "signed" with the public key as secret: the keys are not HMAC keys.
        let confused = compact(
            json!({"alg": "HS256", "kid": "ec"}),
            &claims(json!({})),
            |input| {
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, point);
                ring::hmac::sign(&key, input).as_ref().to_vec()
            },
        );
        assert!(auth.authenticate(&confused).await.is_err());
    });
    std::fs::write(
        dir.join("jwks.json"),
        r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#,
    )
    .unwrap();
    let error = Authenticator::new(&settings).unwrap_err();
    assert!(error.to_string().contains("no key"), "{error}");
    let _ = std::fs::remove_dir_all(dir);
}
