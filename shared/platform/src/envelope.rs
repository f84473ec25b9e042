//! The envelope every tool invocation shares: `{request_id, deadline_unix_ms, user_id?, plan_id?, input}` → `{output}`.

use navigator_resilience::Deadline;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use uuid::Uuid;

use crate::NavigatorError;
use crate::owner::{PlanId, Readers};

/// The longest request id accepted, so a hostile caller cannot make us log megabytes.
const MAX_REQUEST_ID_LEN: usize = 128;

/// A tool invocation as it arrives, before its input is typed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolRequest<I> {
    pub request_id: String,
    pub deadline_unix_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    /// The authenticated member's plan, from the same identity as `user_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<PlanId>,
    pub input: I,
}

/// A tool's successful answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResponse<O> {
    pub output: O,
}

/// An invocation whose envelope and input have both been checked.
#[derive(Debug, Clone)]
pub struct Invocation<I> {
    pub request_id: String,
    pub deadline: Deadline,
    pub user_id: Option<Uuid>,
    pub plan_id: Option<PlanId>,
    pub input: I,
}

impl<I> Invocation<I> {
    /// The member the envelope vouches for, with their plan; `None` for a call made on behalf of nobody.
    pub fn readers(&self) -> Option<Readers> {
        self.user_id.map(|member| Readers::new(member, self.plan_id.clone()))
    }
}

/// A tool input that knows its own limits.
pub trait ValidInput {
    fn validate(&self) -> Result<(), NavigatorError>;
}

impl<I> ToolRequest<I> {
    /// An envelope for a call made on behalf of `readers`, or of nobody (`None`).
    pub fn new(request_id: impl Into<String>, deadline: Deadline, readers: Option<&Readers>, input: I) -> Self {
        Self {
            request_id: request_id.into(),
            deadline_unix_ms: deadline.to_unix_ms(),
            user_id: readers.map(|r| r.member),
            plan_id: readers.and_then(|r| r.plan.clone()),
            input,
        }
    }
}

/// Parses a raw Lambda payload into a checked invocation.
///
/// Malformed JSON, unknown fields, wrong types and out-of-range values are `InvalidInput`, naming the problem.
/// A deadline already past is `Timeout`: the caller gave up, so the tool does no work.
pub fn parse_invocation<I: DeserializeOwned + ValidInput>(
    payload: serde_json::Value,
) -> Result<Invocation<I>, NavigatorError> {
    let request: ToolRequest<I> = serde_path_to_error::deserialize(payload).map_err(|e| {
        let path = e.path().to_string();
        let place = if path == "." { "envelope".to_string() } else { path };
        NavigatorError::invalid(format!("{place}: {}", e.inner()))
    })?;
    if request.request_id.is_empty() || request.request_id.len() > MAX_REQUEST_ID_LEN {
        return Err(NavigatorError::invalid(format!(
            "request_id must be 1 to {MAX_REQUEST_ID_LEN} characters"
        )));
    }
    request.input.validate()?;
    let deadline = Deadline::from_unix_ms(request.deadline_unix_ms);
    if deadline.is_expired() {
        return Err(NavigatorError::timeout("deadline passed before the tool started"));
    }
    Ok(Invocation {
        request_id: request.request_id,
        deadline,
        user_id: request.user_id,
        plan_id: request.plan_id,
        input: request.input,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contracts::GuardInput;
    use serde_json::json;
    use std::time::{SystemTime, UNIX_EPOCH};

    fn soon() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64 + 5_000
    }

    #[tokio::test]
    async fn a_good_envelope_parses() {
        let payload = json!({"request_id": "r-1", "deadline_unix_ms": soon(), "input": {"text": "copay?"}});
        let invocation = parse_invocation::<GuardInput>(payload).unwrap();
        assert_eq!(invocation.request_id, "r-1");
        assert_eq!(invocation.input.text, "copay?");
        assert!(!invocation.deadline.is_expired());
    }

    #[tokio::test]
    async fn bad_envelopes_are_invalid_input_that_says_why() {
        let cases = [
            (
                json!({"deadline_unix_ms": soon(), "input": {"text": "x"}}),
                "request_id",
            ),
            (
                json!({"request_id": "", "deadline_unix_ms": soon(), "input": {"text": "x"}}),
                "request_id",
            ),
            (
                json!({"request_id": "r", "deadline_unix_ms": "soon", "input": {"text": "x"}}),
                "deadline_unix_ms",
            ),
            (
                json!({"request_id": "r", "deadline_unix_ms": soon(), "input": {"text": 5}}),
                "input",
            ),
            (
                json!({"request_id": "r", "deadline_unix_ms": soon(), "input": {"text": "x"}, "extra": 1}),
                "extra",
            ),
            (json!("not an object"), "envelope"),
        ];
        for (payload, mentions) in cases {
            match parse_invocation::<GuardInput>(payload.clone()) {
                Err(NavigatorError::InvalidInput(message)) => {
                    assert!(message.contains(mentions), "{message} / {payload}")
                }
                other => panic!("expected InvalidInput for {payload}, got {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn a_deadline_in_the_past_is_a_timeout() {
        let payload = json!({"request_id": "r", "deadline_unix_ms": 1_000, "input": {"text": "x"}});
        assert!(matches!(
            parse_invocation::<GuardInput>(payload),
            Err(NavigatorError::Timeout { .. })
        ));
    }
}
