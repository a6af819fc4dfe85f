//! Calls that need the client's input (elicitation, sampling, roots), in
//! both protocol eras:
//!
//! - 2025-11-25 and older: the host itself sends `elicitation/create`,
//!   `sampling/createMessage` or `roots/list` to the client and calls the
//!   plugin again with the answers, up to [`MAX_INPUT_ROUNDS`] times.
//! - 2026-07-28: the host answers `input_required` with the requests and a
//!   `requestState` it seals (ChaCha20-Poly1305, per-process key, bound to the
//!   request and its arguments); the client calls again with
//!   `inputResponses` and the state, which the host opens before the plugin
//!   sees it.
//!
//! Requests for capabilities the client did not declare are dropped; if
//! none remain, the call fails with -32021 naming the capability.

use std::time::Duration;

use rmcp::model::{ClientCapabilities, InputRequests, InputRequiredResult};
use rmcp::{ErrorData, Peer, RoleServer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Digest as _;

use crate::error::CallError;
use crate::model::{Input, InputRequest, InputRequired, Outcome};
use crate::protocol;
use crate::provider::{CallContext, CallFuture, InputAsker, Provider};

use super::{Exchange, Invocation, Returned};

/// How many times one request may ask the client for input before the host
/// gives up on it.
pub const MAX_INPUT_ROUNDS: usize = 8;
/// How long a sealed `requestState` stays valid.
pub const REQUEST_STATE_TTL: Duration = Duration::from_secs(600);

/// What went wrong while getting input.
pub(super) enum InputError {
    /// A JSON-RPC error for the client (tampered state, missing capability).
    Protocol(ErrorData),
    /// The call failed.
    Call(CallError),
}

impl From<CallError> for InputError {
    fn from(e: CallError) -> Self {
        InputError::Call(e)
    }
}

/// The sealed payload of a `requestState`: the plugin's own state and when
/// the seal expires (seconds since the Unix epoch).
#[derive(Serialize, Deserialize)]
struct Sealed {
    #[serde(rename = "e")]
    expires: u64,
    #[serde(rename = "s")]
    state: Option<String>,
}

/// The version tag in front of every sealed state.
const SEAL_VERSION: &str = "c1.";

/// The per-process key that seals request states: ChaCha20-Poly1305 (AEAD)
/// with a random nonce per seal, so a plugin's state is opaque to the
/// client as well as tamper-proof, and bound (as associated data) to the
/// request it belongs to: its method and target, the digest of its
/// arguments, and its HTTP session if it has one.
pub(super) struct StateSeal {
    key: ring::aead::LessSafeKey,
    random: ring::rand::SystemRandom,
}

impl StateSeal {
    /// A seal with `shared` (from `[server.sessions]
    /// request_state_key_env`, the same in every process), else with a
    /// random key of this process's own.
    pub(super) fn new(shared: Option<&crate::config::StateKey>) -> Self {
        use ring::rand::SecureRandom;
        let random = ring::rand::SystemRandom::new();
        let key = match shared {
            Some(shared) => shared.0,
            None => {
                let mut key = [0u8; 32];
                random
                    .fill(&mut key)
                    .expect("the operating system provides random bytes");
                key
            }
        };
        let key = ring::aead::UnboundKey::new(&ring::aead::CHACHA20_POLY1305, &key)
            .expect("a 32-byte key fits ChaCha20-Poly1305");
        Self {
            key: ring::aead::LessSafeKey::new(key),
            random,
        }
    }

    /// Seal `state` for the request `binding` describes (see [`binding`]).
    fn seal(&self, binding: &str, state: Option<String>) -> Result<String, ErrorData> {
        use base64::Engine as _;
        use ring::rand::SecureRandom;
        let failed =
            |what: &str| ErrorData::internal_error(format!("sealing requestState: {what}"), None);
        let sealed = Sealed {
            expires: now_secs() + REQUEST_STATE_TTL.as_secs(),
            state,
        };
        let mut data = serde_json::to_vec(&sealed).map_err(|_| failed("encoding"))?;
        let mut nonce = [0u8; ring::aead::NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| failed("no randomness"))?;
        self.key
            .seal_in_place_append_tag(
                ring::aead::Nonce::assume_unique_for_key(nonce),
                ring::aead::Aad::from(binding.as_bytes()),
                &mut data,
            )
            .map_err(|_| failed("encrypting"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(format!(
            "{SEAL_VERSION}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
        ))
    }

    /// The plugin's state, if `sealed` was sealed by this process for the
    /// request `binding` describes and has not expired.
    fn open(&self, binding: &str, sealed: &str) -> Result<Option<String>, ErrorData> {
        use base64::Engine as _;
        let invalid = || {
            ErrorData::invalid_params(
                "requestState is invalid, expired, was tampered with or belongs to another request; start the request again",
                None,
            )
        };
        let bytes = sealed
            .strip_prefix(SEAL_VERSION)
            .and_then(|b| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(b)
                    .ok()
            })
            .ok_or_else(invalid)?;
        if bytes.len() < ring::aead::NONCE_LEN {
            return Err(invalid());
        }
        let (nonce, data) = bytes.split_at(ring::aead::NONCE_LEN);
        let nonce = ring::aead::Nonce::try_assume_unique_for_key(nonce).map_err(|_| invalid())?;
        let mut data = data.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, ring::aead::Aad::from(binding.as_bytes()), &mut data)
            .map_err(|_| invalid())?;
        let opened: Sealed = serde_json::from_slice(plain).map_err(|_| invalid())?;
        if opened.expires < now_secs() {
            return Err(invalid());
        }
        Ok(opened.state)
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What a sealed state is bound to: the request's method and target
/// (`tools/call NAME`), the sha256 of its arguments as the plugin receives
/// them, and the HTTP session (`Mcp-Session-Id`) if the request has one. A
/// state replayed with other arguments, for another tool or from another
/// session does not open. The key is computed only when a state is sealed
/// or opened, not on every call.
pub(super) struct Binding<'a> {
    session: Option<&'a str>,
    target: String,
    arguments: &'a Value,
}

impl<'a> Binding<'a> {
    pub(super) fn new(exchange: &'a Exchange, target: String, arguments: &'a Value) -> Self {
        Self {
            session: exchange.session.as_deref(),
            target,
            arguments,
        }
    }

    fn key(&self) -> String {
        use std::fmt::Write as _;
        let session = self.session.unwrap_or("");
        let arguments = match self.arguments {
            Value::Null => String::new(),
            arguments => arguments.to_string(),
        };
        let mut key = String::with_capacity(self.target.len() + 66 + session.len());
        key.push_str(&self.target);
        key.push('\n');
        for byte in sha2::Sha256::digest(arguments.as_bytes()) {
            let _ = write!(key, "{byte:02x}");
        }
        key.push('\n');
        key.push_str(session);
        key
    }
}

/// The answers a 2026-07-28 client sent back, verified, as the plugin's input.
pub(super) fn returned_input(
    seal: &StateSeal,
    binding: &Binding<'_>,
    returned: Returned<'_>,
) -> Result<Option<Input>, ErrorData> {
    match (returned.responses, returned.state) {
        (None, None) => Ok(None),
        (responses, Some(sealed)) => Ok(Some(Input {
            responses: responses
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            state: seal.open(&binding.key(), sealed)?,
        })),
        // Answers without a state: the plugin gets them (they are the
        // client's data either way) but no state, which only a sealed
        // requestState can carry.
        (Some(responses), None) => Ok(Some(Input {
            responses: responses
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            state: None,
        })),
    }
}

/// Keep only the requests the client can answer; -32021 if none remain.
pub(super) fn supported(
    required: InputRequired,
    capabilities: Option<&ClientCapabilities>,
) -> Result<InputRequired, ErrorData> {
    let can = |request: &InputRequest| {
        let Some(caps) = capabilities else {
            return true;
        };
        match request {
            InputRequest::Elicit { .. } => caps.elicitation.is_some(),
            InputRequest::Sample { .. } => caps.sampling.is_some(),
            InputRequest::Roots => caps.roots.is_some(),
        }
    };
    let first = required.requests.first().map(|(_, r)| r.clone());
    let requests: Vec<_> = required
        .requests
        .into_iter()
        .filter(|(_, r)| can(r))
        .collect();
    if requests.is_empty() {
        let needed = match first {
            Some(InputRequest::Elicit { .. }) => {
                ClientCapabilities::builder().enable_elicitation().build()
            }
            Some(InputRequest::Sample { .. }) => {
                ClientCapabilities::builder().enable_sampling().build()
            }
            _ => ClientCapabilities::builder().enable_roots().build(),
        };
        return Err(ErrorData::missing_required_client_capability(needed));
    }
    Ok(InputRequired {
        requests,
        state: required.state,
    })
}

/// Run a call that may need input. For a 2026-07-28 client, a request for
/// input comes back as `Ok(Outcome::NeedsInput)` (with only the requests the
/// client supports) for the caller to return as `input_required`; older
/// clients are asked directly.
pub(super) async fn run<I: Invocation>(
    exchange: &Exchange,
    first: Option<Input>,
    invocation: &I,
    provider: &dyn Provider,
    ctx: &CallContext,
) -> Result<Outcome<I::Output>, InputError> {
    let mut input = first;
    for _ in 0..MAX_INPUT_ROUNDS {
        let required = match invocation.invoke(provider, input.as_ref(), ctx).await? {
            Outcome::Complete(value) => return Ok(Outcome::Complete(value)),
            Outcome::NeedsInput(required) => {
                supported(required, exchange.capabilities.as_ref()).map_err(InputError::Protocol)?
            }
        };
        if exchange.modern {
            return Ok(Outcome::NeedsInput(required));
        }
        input = Some(ask_client(&exchange.peer, required).await?);
    }
    Err(InputError::Call(CallError::Host(format!(
        "the plugin asked for client input more than {MAX_INPUT_ROUNDS} times"
    ))))
}

/// The `input_required` answer for a 2026-07-28 client.
pub(super) fn input_required(
    seal: &StateSeal,
    binding: &Binding<'_>,
    required: InputRequired,
) -> Result<InputRequiredResult, ErrorData> {
    let mut requests = InputRequests::new();
    for (key, request) in required.requests {
        requests.insert(
            key,
            protocol::input_request(&request).map_err(|e| ErrorData::internal_error(e, None))?,
        );
    }
    let state = seal.seal(&binding.key(), required.state)?;
    Ok(InputRequiredResult::new(Some(requests), Some(state)))
}

/// How a provider asks this call's client for input mid-call: directly,
/// for a 2025-11-25 client; not at all for a 2026-07-28 one.
pub(super) fn asker(exchange: &Exchange) -> Option<std::sync::Arc<dyn InputAsker>> {
    (!exchange.modern).then(|| {
        std::sync::Arc::new(ClientAsker {
            peer: exchange.peer.clone(),
            capabilities: exchange.capabilities.clone(),
            asked: std::sync::atomic::AtomicUsize::new(0),
        }) as std::sync::Arc<dyn InputAsker>
    })
}

/// Asks a 2025-11-25 client, if it declared the capability, at most
/// [`MAX_INPUT_ROUNDS`] times in one call (a provider that asks without end
/// would otherwise keep the user answering).
struct ClientAsker {
    peer: Peer<RoleServer>,
    capabilities: Option<ClientCapabilities>,
    asked: std::sync::atomic::AtomicUsize,
}

impl InputAsker for ClientAsker {
    fn ask(&self, request: InputRequest) -> CallFuture<'_, Value> {
        Box::pin(async move {
            let asked = self
                .asked
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if asked >= MAX_INPUT_ROUNDS {
                return Err(CallError::Host(format!(
                    "the call asked the client for input more than {MAX_INPUT_ROUNDS} times (input round limit)"
                )));
            }
            let one = InputRequired {
                requests: vec![(String::new(), request)],
                state: None,
            };
            let one = supported(one, self.capabilities.as_ref()).map_err(|e| {
                CallError::Host(format!("the client cannot be asked: {}", e.message))
            })?;
            let answer = ask_client(&self.peer, one).await?;
            answer
                .responses
                .into_iter()
                .next()
                .map(|(_, value)| value)
                .ok_or_else(|| CallError::Host("the client gave no answer".into()))
        })
    }
}

/// Send the plugin's requests to the client and collect the answers.
async fn ask_client(peer: &Peer<RoleServer>, required: InputRequired) -> Result<Input, CallError> {
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        CallError::Host(format!("asking the client for {what} failed: {e}"))
    };
    let mut responses = Vec::with_capacity(required.requests.len());
    for (key, request) in required.requests {
        let answer = match request {
            InputRequest::Elicit {
                message,
                requested_schema,
            } => {
                let params = protocol::elicit_params(&message, &requested_schema)
                    .map_err(CallError::Malformed)?;
                let result = peer
                    .create_elicitation(params)
                    .await
                    .map_err(|e| failed("elicitation", &e))?;
                serde_json::to_value(result)
            }
            InputRequest::Sample {
                messages,
                max_tokens,
                system_prompt,
            } => {
                let params =
                    protocol::sampling_params(&messages, max_tokens, system_prompt.as_deref())
                        .map_err(CallError::Malformed)?;
                let result = peer
                    .create_message(params)
                    .await
                    .map_err(|e| failed("sampling", &e))?;
                serde_json::to_value(result)
            }
            InputRequest::Roots => {
                let result = peer.list_roots().await.map_err(|e| failed("roots", &e))?;
                serde_json::to_value(result)
            }
        };
        let answer =
            answer.map_err(|e| CallError::Host(format!("encoding the client's answer: {e}")))?;
        responses.push((key, answer));
    }
    Ok(Input {
        responses,
        state: required.state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_state_opens_only_for_its_own_request() {
        let seal = StateSeal::new(None);
        let sealed = seal
            .seal("tools/call t\nA\n", Some("secret-state".into()))
            .unwrap();
        assert_eq!(
            seal.open("tools/call t\nA\n", &sealed).unwrap().as_deref(),
            Some("secret-state")
        );
        // Other arguments, another tool, another session, another process.
        for binding in [
            "tools/call t\nB\n",
            "tools/call u\nA\n",
            "tools/call t\nA\ns2",
        ] {
            assert!(seal.open(binding, &sealed).is_err(), "{binding}");
        }
        assert!(
            StateSeal::new(None)
                .open("tools/call t\nA\n", &sealed)
                .is_err()
        );
    }

    #[test]
    fn a_sealed_state_is_opaque_and_tamper_proof() {
        use base64::Engine as _;
        let seal = StateSeal::new(None);
        let sealed = seal.seal("b", Some("secret-state".into())).unwrap();
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sealed.strip_prefix(SEAL_VERSION).unwrap())
            .unwrap();
        assert!(!raw.windows(12).any(|w| w == b"secret-state"), "encrypted");
        assert_ne!(
            sealed,
            seal.seal("b", Some("secret-state".into())).unwrap(),
            "fresh nonce"
        );
        let mut tampered = raw.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        let tampered = format!(
            "{SEAL_VERSION}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tampered)
        );
        assert!(seal.open("b", &tampered).is_err());
        assert!(seal.open("b", "c1.").is_err());
        assert!(seal.open("b", "garbage").is_err());
    }

    #[test]
    fn a_shared_key_opens_in_another_process() {
        let key = crate::config::StateKey([9; 32]);
        let sealed = StateSeal::new(Some(&key))
            .seal("b", Some("s".into()))
            .unwrap();
        assert_eq!(
            StateSeal::new(Some(&key))
                .open("b", &sealed)
                .unwrap()
                .as_deref(),
            Some("s")
        );
        assert!(StateSeal::new(None).open("b", &sealed).is_err());
    }

    #[test]
    fn an_expired_state_does_not_open() {
        use base64::Engine as _;
        let seal = StateSeal::new(None);
        // Seal a payload that expired a second ago, as `seal` would.
        let mut data = serde_json::to_vec(&Sealed {
            expires: now_secs() - 1,
            state: None,
        })
        .unwrap();
        let nonce = [7u8; ring::aead::NONCE_LEN];
        seal.key
            .seal_in_place_append_tag(
                ring::aead::Nonce::assume_unique_for_key(nonce),
                ring::aead::Aad::from(b"b"),
                &mut data,
            )
            .unwrap();
        let mut raw = nonce.to_vec();
        raw.extend_from_slice(&data);
        let sealed = format!(
            "{SEAL_VERSION}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
        );
        assert!(seal.open("b", &sealed).is_err());
    }
}
