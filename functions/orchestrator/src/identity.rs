//! Who is asking. On AWS the user id is the `sub` claim that API Gateway's JWT authorizer puts in the request
//! context; a request without one is answered 401. Nothing in the body can name a user.

use lambda_http::request::RequestContext;
use uuid::Uuid;

/// The authenticated member, placed in the request's extensions by an identity layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub user_id: Uuid,
}

/// Namespace for mapping identity-provider subjects that are not UUIDs onto stable member ids.
const SUBJECT_NAMESPACE: Uuid = Uuid::from_u128(0x6e61_7669_6761_746f_722d_7375_626a_6563);

impl Identity {
    /// A member id from an identity provider's subject: a UUID subject (Cognito's) is used as is; any other string
    /// maps to a stable name-based UUID, so every provider works and one subject is always one member.
    pub fn from_subject(subject: &str) -> Option<Self> {
        let subject = subject.trim();
        if subject.is_empty() {
            return None;
        }
        let user_id = Uuid::parse_str(subject).unwrap_or_else(|_| Uuid::new_v5(&SUBJECT_NAMESPACE, subject.as_bytes()));
        Some(Self { user_id })
    }

    /// The `sub` claim from an API Gateway HTTP API (v2) JWT authorizer, or a REST API (v1) Cognito authorizer.
    pub fn from_request_context(context: &RequestContext) -> Option<Self> {
        let subject = match context {
            RequestContext::ApiGatewayV2(v2) => v2.authorizer.as_ref()?.jwt.as_ref()?.claims.get("sub")?.clone(),
            RequestContext::ApiGatewayV1(v1) => {
                let claims = v1.authorizer.fields.get("claims")?;
                claims.get("sub")?.as_str()?.to_string()
            }
            // Other front doors (ALB, WebSocket) carry no authorizer claims: no member.
            _ => return None,
        };
        Self::from_subject(&subject)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_subjects_are_kept_and_others_map_stably() {
        let cognito = "3f6c1a52-8d1e-4b7a-9c2f-0d5e6a7b8c9d";
        assert_eq!(Identity::from_subject(cognito).unwrap().user_id.to_string(), cognito);
        let auth0 = Identity::from_subject("auth0|12345").unwrap();
        assert_eq!(auth0, Identity::from_subject("auth0|12345").unwrap());
        assert_ne!(auth0, Identity::from_subject("auth0|12346").unwrap());
        assert_eq!(Identity::from_subject("  "), None);
    }
}
