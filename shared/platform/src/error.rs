//! One error type for the whole system. It maps to the `errorType` of a failed tool invocation and to the status and
//! JSON body of the chat API (docs/DESIGN.md §3). Messages shown to members are generic; detail goes to the logs.

use serde::Serialize;
use std::time::Duration;

/// A failure any stage can report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NavigatorError {
    /// Malformed or out-of-range input. The message says what is wrong, and never echoes personal data.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// No authenticated user.
    #[error("no authenticated user")]
    Unauthorized,
    /// The member may see it but not do this to it (deleting a plan's document).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Nothing of that name that this member may see.
    #[error("not found: {0}")]
    NotFound(String),
    /// The body is over the size limit.
    #[error("request body over {limit_bytes} bytes")]
    PayloadTooLarge { limit_bytes: usize },
    /// The deadline passed before the work finished.
    #[error("timed out during {stage}")]
    Timeout { stage: String },
    /// A dependency could not be reached or failed.
    #[error("{dependency} unavailable: {detail}")]
    DependencyUnavailable { dependency: String, detail: String },
    /// Refused without trying: over capacity, breaker open, throttled, or switched off.
    #[error("rejected: {reason}")]
    Rejected {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// A bug or an unexpected state.
    #[error("internal error: {0}")]
    Internal(String),
}

/// A provider's `Retry-After` header value (seconds, the form rate-limiting APIs send) as a duration.
pub fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    value
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// The JSON error body of the HTTP API: `{error: {code, message}, request_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"error": {"code": "invalid_input", "message": "message must be 1 to 4000 characters"},
    "request_id": "7f1c1b8e-2f5a-4a4e-9a53-6f0f2b1d9c11"}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable: invalid_input, unauthorized, forbidden, not_found, method_not_allowed,
    /// payload_too_large, rejected, internal, dependency_unavailable, timeout.
    pub code: String,
    /// What went wrong: specific for the caller's own mistakes, generic for the server's.
    pub message: String,
}

impl NavigatorError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidInput(message.into())
    }

    pub fn timeout(stage: impl Into<String>) -> Self {
        Self::Timeout { stage: stage.into() }
    }

    pub fn unavailable(dependency: impl Into<String>, detail: impl ToString) -> Self {
        Self::DependencyUnavailable {
            dependency: dependency.into(),
            detail: detail.to_string(),
        }
    }

    pub fn rejected(reason: impl Into<String>, retry_after: Option<Duration>) -> Self {
        Self::Rejected {
            reason: reason.into(),
            retry_after,
        }
    }

    pub fn internal(detail: impl ToString) -> Self {
        Self::Internal(detail.to_string())
    }

    /// The Lambda `errorType` of a failed tool invocation (docs/DESIGN.md §3).
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) | Self::Unauthorized | Self::PayloadTooLarge { .. } => "InvalidInput",
            Self::Forbidden(_) => "Forbidden",
            Self::NotFound(_) => "NotFound",
            Self::Timeout { .. } => "Timeout",
            Self::DependencyUnavailable { .. } => "DependencyUnavailable",
            Self::Rejected { .. } => "Rejected",
            Self::Internal(_) => "Internal",
        }
    }

    /// The inverse of [`NavigatorError::error_type`], for the orchestrator reading a tool's Lambda error.
    pub fn from_error_type(error_type: &str, message: &str) -> Self {
        match error_type {
            "InvalidInput" => Self::InvalidInput(message.to_string()),
            "Forbidden" => Self::Forbidden(message.to_string()),
            "NotFound" => Self::NotFound(message.to_string()),
            "Timeout" => Self::Timeout {
                stage: message.to_string(),
            },
            "DependencyUnavailable" => Self::unavailable("tool", message),
            "Rejected" => Self::rejected(message, None),
            _ => Self::Internal(format!("{error_type}: {message}")),
        }
    }

    /// The HTTP status of the chat API.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::InvalidInput(_) => 400,
            Self::Unauthorized => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::PayloadTooLarge { .. } => 413,
            Self::Rejected { .. } => 429,
            Self::Internal(_) => 500,
            Self::DependencyUnavailable { .. } => 503,
            Self::Timeout { .. } => 504,
        }
    }

    /// The stable machine-readable code in the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "invalid_input",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::Timeout { .. } => "timeout",
            Self::DependencyUnavailable { .. } => "dependency_unavailable",
            Self::Rejected { .. } => "rejected",
            Self::Internal(_) => "internal",
        }
    }

    /// What a member may read. Input errors say what is wrong; the rest stay generic, with detail in the logs.
    pub fn public_message(&self) -> String {
        match self {
            Self::InvalidInput(message) | Self::Forbidden(message) | Self::NotFound(message) => message.clone(),
            Self::Unauthorized => "sign in to ask about your plan".into(),
            Self::PayloadTooLarge { limit_bytes } => {
                format!("the request body must be at most {limit_bytes} bytes")
            }
            Self::Timeout { .. } => "the answer took too long; please try again".into(),
            Self::DependencyUnavailable { .. } => {
                "the plan information is unavailable right now; please try again".into()
            }
            Self::Rejected { .. } => "too many requests right now; please retry shortly".into(),
            Self::Internal(_) => "something went wrong on our side".into(),
        }
    }

    /// Seconds for a `Retry-After` header, where one applies.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::Rejected { retry_after, .. } => Some(retry_after.map_or(1, |d| d.as_secs().max(1))),
            Self::DependencyUnavailable { .. } => Some(1),
            _ => None,
        }
    }

    pub fn body(&self, request_id: Option<&str>) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message: self.public_message(),
            },
            request_id: request_id.map(str::to_string),
        }
    }
}

impl From<navigator_resilience::Overloaded> for NavigatorError {
    fn from(overloaded: navigator_resilience::Overloaded) -> Self {
        Self::rejected(overloaded.to_string(), Some(overloaded.retry_after))
    }
}

impl From<navigator_resilience::BreakerOpen> for NavigatorError {
    fn from(open: navigator_resilience::BreakerOpen) -> Self {
        Self::rejected(open.to_string(), Some(open.retry_after))
    }
}

impl From<navigator_resilience::CpuPoolError> for NavigatorError {
    fn from(error: navigator_resilience::CpuPoolError) -> Self {
        use navigator_resilience::CpuPoolError;
        match error {
            CpuPoolError::Overloaded(overloaded) => overloaded.into(),
            CpuPoolError::Timeout => Self::timeout("cpu pool"),
            CpuPoolError::Panicked => Self::internal("CPU work panicked"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_maps_to_a_design_error_type_and_status() {
        let cases = [
            (NavigatorError::invalid("x"), "InvalidInput", 400, "invalid_input"),
            (NavigatorError::Unauthorized, "InvalidInput", 401, "unauthorized"),
            (
                NavigatorError::Forbidden("plan document".into()),
                "Forbidden",
                403,
                "forbidden",
            ),
            (
                NavigatorError::NotFound("document".into()),
                "NotFound",
                404,
                "not_found",
            ),
            (
                NavigatorError::PayloadTooLarge { limit_bytes: 65536 },
                "InvalidInput",
                413,
                "payload_too_large",
            ),
            (NavigatorError::rejected("full", None), "Rejected", 429, "rejected"),
            (NavigatorError::internal("bug"), "Internal", 500, "internal"),
            (
                NavigatorError::unavailable("postgres", "down"),
                "DependencyUnavailable",
                503,
                "dependency_unavailable",
            ),
            (NavigatorError::timeout("wave"), "Timeout", 504, "timeout"),
        ];
        for (error, error_type, status, code) in cases {
            assert_eq!(
                (error.error_type(), error.http_status(), error.code()),
                (error_type, status, code)
            );
        }
    }

    #[test]
    fn error_types_round_trip_through_a_lambda_error() {
        for error in [
            NavigatorError::invalid("bad"),
            NavigatorError::timeout("knn"),
            NavigatorError::unavailable("tool", "db"),
            NavigatorError::rejected("open", None),
            NavigatorError::internal("x"),
            NavigatorError::NotFound("no document".into()),
            NavigatorError::Forbidden("a plan's".into()),
        ] {
            let back = NavigatorError::from_error_type(error.error_type(), "m");
            assert_eq!(back.error_type(), error.error_type());
        }
        assert_eq!(
            NavigatorError::from_error_type("Sandbox.Timedout", "x").error_type(),
            "Internal"
        );
    }

    #[test]
    fn internal_detail_never_reaches_the_body() {
        let body =
            NavigatorError::unavailable("postgres", "password authentication failed for user x").body(Some("r1"));
        let json = serde_json::to_string(&body).unwrap();
        assert!(!json.contains("password"), "{json}");
        assert!(json.contains(r#""code":"dependency_unavailable""#) && json.contains(r#""request_id":"r1""#));
    }

    #[test]
    fn retry_after_headers_in_seconds_are_read() {
        assert_eq!(parse_retry_after(Some(" 7 ")), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(parse_retry_after(None), None);
    }

    #[test]
    fn rejections_carry_a_retry_after_of_at_least_one_second() {
        let error = NavigatorError::rejected("busy", Some(Duration::from_millis(200)));
        assert_eq!(error.retry_after_secs(), Some(1));
        assert_eq!(
            NavigatorError::rejected("busy", Some(Duration::from_secs(7))).retry_after_secs(),
            Some(7)
        );
        assert_eq!(NavigatorError::invalid("x").retry_after_secs(), None);
    }
}
