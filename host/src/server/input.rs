//! Calls that need the client's input (elicitation, sampling, roots), in
//! both protocol eras:
//!
//! - 2025-11-25 and older: the host itself sends `elicitation/create`,
//!   `sampling/createMessage` or `roots/list` to the client and calls the
//!   plugin again with the answers, up to [`MAX_INPUT_ROUNDS`] times.
//! - 2026-07-28: the host answers `input_required` with the requests and a
//!   `requestState` it seals (HMAC, per-process key); the client calls again
//!   with `inputResponses` and the state, which the host verifies before the
//!   plugin sees it.
//!
//! Requests for capabilities the client did not declare are dropped; if
//! none remain, the call fails with -32021 naming the capability.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use rmcp::model::{ClientCapabilities, InputRequests, InputRequiredResult, ProtocolVersion};
use rmcp::model::{RequestStateCodec, SealOptions};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData, Peer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::CallError;
use crate::model::{Input, InputRequest, InputRequired, Outcome};
use crate::protocol;

/// How many times one request may ask the client for input before the host
/// gives up on it.
pub const MAX_INPUT_ROUNDS: usize = 8;
/// How long a sealed `requestState` stays valid.
pub const REQUEST_STATE_TTL: Duration = Duration::from_secs(600);

pub(super) type Round<'a, T> =
    Pin<Box<dyn Future<Output = Result<Outcome<T>, CallError>> + Send + 'a>>;

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

/// The sealed payload of a `requestState`: the plugin's own state.
#[derive(Serialize, Deserialize)]
struct Sealed {
    state: Option<String>,
}

/// The per-process key that seals request states.
pub(super) struct StateSeal {
    codec: RequestStateCodec,
}

impl StateSeal {
    pub(super) fn new() -> Self {
        let mut key = [0u8; 32];
        if getrandom::fill(&mut key).is_err() {
            // No OS randomness: fall back to a key derived from time and
            // address-space layout (still per-process, never persisted).
            let seed = format!("{:?}{:p}", std::time::SystemTime::now(), &key);
            key.copy_from_slice(&sha2::Sha256::digest(seed.as_bytes()));
        }
        Self {
            codec: RequestStateCodec::new_unchecked(key.to_vec()),
        }
    }

    /// Seal `state`, bound (as associated data) to the request it belongs to.
    fn seal(&self, target: &str, state: Option<String>) -> Result<String, ErrorData> {
        let options = SealOptions::new()
            .ttl(REQUEST_STATE_TTL)
            .associated_data(target.as_bytes());
        self.codec
            .seal_json_with(&Sealed { state }, &options)
            .map_err(|e| ErrorData::internal_error(format!("sealing requestState: {e}"), None))
    }

    fn open(&self, target: &str, sealed: &str) -> Result<Option<String>, ErrorData> {
        let invalid = || {
            ErrorData::invalid_params(
                "requestState is invalid, expired or was tampered with; start the request again",
                None,
            )
        };
        let opened: Sealed = self
            .codec
            .open_json_with(sealed, target.as_bytes())
            .map_err(|_| invalid())?;
        Ok(opened.state)
    }
}

use sha2::Digest as _;

/// Whether the request speaks 2026-07-28 or later (stateless input rounds).
pub(super) fn is_modern(context: &RequestContext<RoleServer>) -> bool {
    context
        .protocol_version()
        .is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str())
}

/// The answers a 2026-07-28 client sent back, verified, as the plugin's input.
pub(super) fn returned_input(
    seal: &StateSeal,
    target: &str,
    responses: Option<&std::collections::BTreeMap<String, Value>>,
    request_state: Option<&str>,
) -> Result<Option<Input>, ErrorData> {
    match (responses, request_state) {
        (None, None) => Ok(None),
        (responses, Some(sealed)) => Ok(Some(Input {
            responses: responses
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            state: seal.open(target, sealed)?,
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
fn supported(
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
pub(super) async fn run<'a, T>(
    context: &RequestContext<RoleServer>,
    first: Option<Input>,
    mut round: impl FnMut(Option<Input>) -> Round<'a, T>,
) -> Result<Outcome<T>, InputError> {
    let capabilities = context.client_capabilities();
    let mut input = first;
    for _ in 0..MAX_INPUT_ROUNDS {
        let required = match round(input.take()).await? {
            Outcome::Complete(value) => return Ok(Outcome::Complete(value)),
            Outcome::NeedsInput(required) => {
                supported(required, capabilities.as_ref()).map_err(InputError::Protocol)?
            }
        };
        if is_modern(context) {
            return Ok(Outcome::NeedsInput(required));
        }
        input = Some(ask_client(&context.peer, required).await?);
    }
    Err(InputError::Call(CallError::Host(format!(
        "the plugin asked for client input more than {MAX_INPUT_ROUNDS} times"
    ))))
}

/// The `input_required` answer for a 2026-07-28 client.
pub(super) fn input_required(
    seal: &StateSeal,
    target: &str,
    required: InputRequired,
) -> Result<InputRequiredResult, ErrorData> {
    let mut requests = InputRequests::new();
    for (key, request) in required.requests {
        requests.insert(
            key,
            protocol::input_request(&request).map_err(|e| ErrorData::internal_error(e, None))?,
        );
    }
    let state = seal.seal(target, required.state)?;
    Ok(InputRequiredResult::new(Some(requests), Some(state)))
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
