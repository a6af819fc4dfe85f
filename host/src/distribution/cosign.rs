//! Signatures in cosign's formats, so that `cosign verify --key` accepts a
//! Corral signature and Corral accepts a cosign one.
//!
//! - Keys: ECDSA P-256. The public key is a `PUBLIC KEY` PEM (SPKI DER);
//!   the private key an `ENCRYPTED SIGSTORE PRIVATE KEY` PEM (cosign also
//!   wrote `ENCRYPTED COSIGN PRIVATE KEY`) whose body is a JSON envelope:
//!   scrypt (N = 65536, r = 8, p = 1) derives a 32-byte key from the
//!   passphrase, and NaCl secretbox seals the PKCS#8 DER of the key.
//! - A signature is ECDSA P-256 with SHA-256 (ASN.1 DER, base64) over a
//!   "simple signing" payload that names the signed manifest's digest.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::XSalsa20Poly1305;
use crypto_secretbox::aead::{Aead, KeyInit};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, EcdsaKeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::DistributionError;

/// The PEM label of a private key as cosign writes it now.
pub(crate) const PRIVATE_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The PEM label older cosign versions wrote; read, never written.
const LEGACY_PRIVATE_KEY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";
/// The `critical.type` of a cosign payload.
pub(crate) const PAYLOAD_TYPE: &str = "cosign container image signature";

/// scrypt cost, as cosign's key envelope uses it now: N = 2^16, r = 8, p = 1
/// (older keys have 2^15; both are read).
const SCRYPT_LOG_N: u8 = 16;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;
/// The largest scrypt N a key file may ask for (2^17, cosign's highest, with
/// r = 8: 128 MiB): a huge N would make reading a key burn memory and CPU.
const MAX_SCRYPT_LOG_N: u8 = 17;

/// The SPKI DER of a P-256 public key is this prefix and the 65-byte
/// uncompressed point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

fn key_error(why: impl Into<String>) -> DistributionError {
    DistributionError::Key(why.into())
}

/// An ECDSA P-256 private key.
pub struct SigningKey {
    pair: EcdsaKeyPair,
    pkcs8: Vec<u8>,
}

impl SigningKey {
    /// A new random key.
    pub fn generate() -> Result<SigningKey, DistributionError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| key_error("cannot generate a key (no system randomness)"))?;
        Self::from_pkcs8(pkcs8.as_ref())
    }

    fn from_pkcs8(pkcs8: &[u8]) -> Result<SigningKey, DistributionError> {
        let pair = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            pkcs8,
            &SystemRandom::new(),
        )
        .map_err(|e| key_error(format!("not an ECDSA P-256 private key ({e}); Corral signs with P-256 keys, as `cosign generate-key-pair` makes")))?;
        Ok(SigningKey {
            pair,
            pkcs8: pkcs8.to_vec(),
        })
    }

    /// Read an encrypted private key PEM (Corral's or cosign's).
    pub fn from_encrypted_pem(
        text: &str,
        password: &[u8],
    ) -> Result<SigningKey, DistributionError> {
        let body = pem_body(text, &[PRIVATE_KEY_LABEL, LEGACY_PRIVATE_KEY_LABEL])?;
        let envelope: Envelope = serde_json::from_slice(&body)
            .map_err(|e| key_error(format!("the encrypted key's envelope is not valid: {e}")))?;
        if envelope.kdf.name != "scrypt" || envelope.cipher.name != "nacl/secretbox" {
            return Err(key_error(format!(
                "the key is sealed with {}/{}; only scrypt/nacl/secretbox keys are read",
                envelope.kdf.name, envelope.cipher.name
            )));
        }
        let n = envelope.kdf.params.n;
        if !n.is_power_of_two() || n < 2 || n.trailing_zeros() > u32::from(MAX_SCRYPT_LOG_N) {
            return Err(key_error(format!(
                "the key's scrypt N of {n} is not a power of two up to 2^{MAX_SCRYPT_LOG_N}"
            )));
        }
        if envelope.kdf.params.r == 0 || envelope.kdf.params.r > 32 || envelope.kdf.params.p != 1 {
            return Err(key_error(
                "the key's scrypt r and p are out of range (r ≤ 32, p = 1)",
            ));
        }
        let salt = decode(&envelope.kdf.salt, "salt")?;
        let nonce = decode(&envelope.cipher.nonce, "nonce")?;
        let sealed = decode(&envelope.ciphertext, "ciphertext")?;
        if nonce.len() != 24 {
            return Err(key_error("the key's nonce is not 24 bytes"));
        }
        let secret = derive(
            password,
            &salt,
            n.trailing_zeros() as u8,
            envelope.kdf.params.r,
        )?;
        let pkcs8 = XSalsa20Poly1305::new((&secret).into())
            .decrypt(nonce.as_slice().into(), sealed.as_slice())
            .map_err(|_| {
                key_error("wrong passphrase for the private key (or the key file is damaged)")
            })?;
        Self::from_pkcs8(&pkcs8)
    }

    /// The key as an encrypted PEM, sealed with `password` (which may be
    /// empty, as with cosign).
    pub fn to_encrypted_pem(&self, password: &[u8]) -> Result<String, DistributionError> {
        let rng = SystemRandom::new();
        let mut salt = [0u8; 32];
        let mut nonce = [0u8; 24];
        rng.fill(&mut salt)
            .and_then(|()| rng.fill(&mut nonce))
            .map_err(|_| key_error("no system randomness"))?;
        let secret = derive(password, &salt, SCRYPT_LOG_N, SCRYPT_R)?;
        let sealed = XSalsa20Poly1305::new((&secret).into())
            .encrypt((&nonce).into(), self.pkcs8.as_slice())
            .map_err(|_| key_error("cannot seal the key"))?;
        let envelope = Envelope {
            kdf: Kdf {
                name: "scrypt".into(),
                params: ScryptParams {
                    n: 1 << SCRYPT_LOG_N,
                    r: SCRYPT_R,
                    p: SCRYPT_P,
                },
                salt: STANDARD.encode(salt),
            },
            cipher: Cipher {
                name: "nacl/secretbox".into(),
                nonce: STANDARD.encode(nonce),
            },
            ciphertext: STANDARD.encode(sealed),
        };
        let json = serde_json::to_vec(&envelope).map_err(|e| key_error(e.to_string()))?;
        Ok(pem(PRIVATE_KEY_LABEL, &json))
    }

    /// The matching public key.
    pub fn public(&self) -> VerifyingKey {
        VerifyingKey {
            point: self.pair.public_key().as_ref().to_vec(),
        }
    }

    /// Sign `payload`; the base64 of the DER signature, as cosign stores it.
    pub fn sign(&self, payload: &[u8]) -> Result<String, DistributionError> {
        let signature = self
            .pair
            .sign(&SystemRandom::new(), payload)
            .map_err(|_| key_error("cannot sign (no system randomness)"))?;
        Ok(STANDARD.encode(signature.as_ref()))
    }
}

/// An ECDSA P-256 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    /// The uncompressed point (65 bytes).
    point: Vec<u8>,
}

impl VerifyingKey {
    /// Read a `PUBLIC KEY` PEM.
    pub fn from_pem(text: &str) -> Result<VerifyingKey, DistributionError> {
        let der = pem_body(text, &[PUBLIC_KEY_LABEL])?;
        match der.strip_prefix(&P256_SPKI_PREFIX[..]) {
            Some(point) if point.len() == 65 && point[0] == 4 => Ok(VerifyingKey {
                point: point.to_vec(),
            }),
            _ => Err(key_error(
                "not an ECDSA P-256 public key; Corral verifies P-256 keys, as `cosign generate-key-pair` makes",
            )),
        }
    }

    fn spki(&self) -> Vec<u8> {
        [&P256_SPKI_PREFIX[..], &self.point].concat()
    }

    /// The key as a `PUBLIC KEY` PEM.
    pub fn to_pem(&self) -> String {
        pem(PUBLIC_KEY_LABEL, &self.spki())
    }

    /// How a lock file names the signer: `key:sha256:` and the hex sha256
    /// of the key's SPKI DER.
    pub fn signer(&self) -> String {
        format!(
            "key:sha256:{}",
            crate::config::hex(&Sha256::digest(self.spki()))
        )
    }

    /// Whether `signature` (base64 DER, as in cosign's annotation) is this
    /// key's signature of `payload`.
    pub fn verifies(&self, payload: &[u8], signature: &str) -> bool {
        let Ok(der) = STANDARD.decode(signature.trim()) else {
            return false;
        };
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, &self.point)
            .verify(payload, &der)
            .is_ok()
    }
}

/// The simple-signing payload for `manifest_digest` of `repository_name`
/// (`HOST[:PORT]/REPO`), in the field order cosign writes.
pub fn payload(repository_name: &str, manifest_digest: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "critical": {
            "identity": {"docker-reference": repository_name},
            "image": {"docker-manifest-digest": manifest_digest},
            "type": PAYLOAD_TYPE,
        },
        "optional": null,
    }))
    .expect("a JSON value serializes")
}

/// The manifest digest a payload signs, if it is a cosign payload.
pub fn signed_digest(payload: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Payload {
        critical: Critical,
    }
    #[derive(Deserialize)]
    struct Critical {
        image: Image,
        #[serde(rename = "type")]
        kind: String,
    }
    #[derive(Deserialize)]
    struct Image {
        #[serde(rename = "docker-manifest-digest")]
        digest: String,
    }
    let parsed: Payload = serde_json::from_slice(payload).ok()?;
    (parsed.critical.kind == PAYLOAD_TYPE).then_some(parsed.critical.image.digest)
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

fn derive(password: &[u8], salt: &[u8], log_n: u8, r: u32) -> Result<[u8; 32], DistributionError> {
    let params = scrypt::Params::new(log_n, r, SCRYPT_P)
        .map_err(|e| key_error(format!("bad scrypt parameters: {e}")))?;
    let mut secret = [0u8; 32];
    scrypt::scrypt(password, salt, &params, &mut secret)
        .map_err(|e| key_error(format!("scrypt: {e}")))?;
    Ok(secret)
}

fn decode(text: &str, what: &str) -> Result<Vec<u8>, DistributionError> {
    STANDARD
        .decode(text)
        .map_err(|e| key_error(format!("the key's {what} is not base64: {e}")))
}

/// The bytes of the one PEM block in `text` whose label is one of `labels`.
fn pem_body(text: &str, labels: &[&str]) -> Result<Vec<u8>, DistributionError> {
    for label in labels {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        if let Some(start) = text.find(&begin) {
            let rest = &text[start + begin.len()..];
            let stop = rest
                .find(&end)
                .ok_or_else(|| key_error(format!("the {label} block has no END line")))?;
            let body: String = rest[..stop].split_whitespace().collect();
            return STANDARD
                .decode(body)
                .map_err(|e| key_error(format!("the {label} block is not base64: {e}")));
        }
    }
    Err(key_error(format!("no {} block found", labels.join(" or "))))
}

fn pem(label: &str, bytes: &[u8]) -> String {
    let body = STANDARD.encode(bytes);
    let mut text = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        text.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        text.push('\n');
    }
    text.push_str(&format!("-----END {label}-----\n"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_sign() {
        let key = SigningKey::generate().unwrap();
        let pem = key.to_encrypted_pem(b"hunter2").unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        let again = SigningKey::from_encrypted_pem(&pem, b"hunter2").unwrap();
        assert_eq!(again.public(), key.public());
        let wrong = SigningKey::from_encrypted_pem(&pem, b"hunter3")
            .err()
            .unwrap();
        assert!(wrong.to_string().contains("wrong passphrase"), "{wrong}");

        let public = VerifyingKey::from_pem(&key.public().to_pem()).unwrap();
        let digest = format!("sha256:{}", "0".repeat(64));
        let payload = payload("127.0.0.1:5000/calc", &digest);
        let signature = again.sign(&payload).unwrap();
        assert!(public.verifies(&payload, &signature));
        assert!(!public.verifies(b"other", &signature));
        assert!(
            !SigningKey::generate()
                .unwrap()
                .public()
                .verifies(&payload, &signature)
        );
        assert_eq!(signed_digest(&payload), Some(digest));
    }

    #[test]
    fn a_signature_made_by_cosign_verifies() {
        let key = VerifyingKey::from_pem(include_str!("testdata/signature.pub")).unwrap();
        let payload = include_bytes!("testdata/payload.json");
        let signature = include_str!("testdata/signature.b64");
        assert!(key.verifies(payload, signature));
        assert_eq!(
            signed_digest(payload).as_deref(),
            Some("sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b")
        );
        let other = VerifyingKey::from_pem(include_str!("testdata/other.pub")).unwrap();
        assert!(!other.verifies(payload, signature));
        let mut tampered = payload.to_vec();
        tampered[60] ^= 1;
        assert!(!key.verifies(&tampered, signature));
        // Corral writes the payload byte for byte as cosign does.
        assert_eq!(
            super::payload(
                "registry-testing.svc.lan/busybox",
                "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b"
            ),
            payload
        );
    }

    #[test]
    fn keys_made_by_cosign_are_read() {
        let cases: [(&str, &str, &[u8]); 3] = [
            (
                include_str!("testdata/empty-password.key"),
                include_str!("testdata/empty-password.pub"),
                b"",
            ),
            (
                include_str!("testdata/legacy-123.key"),
                include_str!("testdata/legacy-123.pub"),
                b"123",
            ),
            (
                include_str!("testdata/hello.key"),
                include_str!("testdata/hello.pub"),
                b"hello",
            ),
        ];
        for (private, public, password) in cases {
            let key = SigningKey::from_encrypted_pem(private, password).unwrap();
            assert_eq!(key.public(), VerifyingKey::from_pem(public).unwrap());
            let signature = key.sign(b"payload").unwrap();
            assert!(key.public().verifies(b"payload", &signature));
            assert!(SigningKey::from_encrypted_pem(private, b"wrong").is_err());
        }
    }
}
