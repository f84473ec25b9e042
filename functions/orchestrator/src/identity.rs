//! Who is asking. On AWS the user id is the `sub` claim that API Gateway's JWT authorizer puts in the request
//! context; a request without one is answered 401. The member's plan is another claim of the same token, named by
//! `PLAN_CLAIM` (default `custom:plan_id`); a token without it reads only the member's own documents. Nothing in
//! the body can name a user or a plan.

use lambda_http::request::RequestContext;
use navigator_platform::owner::{PlanId, Readers};
use std::sync::OnceLock;
use uuid::Uuid;

/// The claim that names the member's plan unless `PLAN_CLAIM` names another.
pub const DEFAULT_PLAN_CLAIM: &str = "custom:plan_id";

/// The authenticated member and their plan, placed in the request's extensions by an identity layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: Uuid,
    pub plan_id: Option<PlanId>,
}

/// The plan claim's name, read from `PLAN_CLAIM` once per execution environment.
pub fn plan_claim() -> &'static str {
    static CLAIM: OnceLock<String> = OnceLock::new();
    CLAIM.get_or_init(|| {
        std::env::var("PLAN_CLAIM")
            .ok()
            .map(|claim| claim.trim().to_string())
            .filter(|claim| !claim.is_empty())
            .unwrap_or_else(|| DEFAULT_PLAN_CLAIM.to_string())
    })
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
        Some(Self { user_id, plan_id: None })
    }

    /// This member, of `plan`.
    pub fn with_plan(self, plan: Option<PlanId>) -> Self {
        Self { plan_id: plan, ..self }
    }

    /// Whose documents this member reads.
    pub fn readers(&self) -> Readers {
        Readers::new(self.user_id, self.plan_id.clone())
    }

    /// The `sub` claim, and the plan claim named `plan_claim`, from an API Gateway HTTP API (v2) JWT authorizer or a
    /// REST API (v1) Cognito authorizer. A plan claim that is not a valid plan id is ignored (and logged): the member
    /// then reads only their own documents, never someone else's.
    pub fn from_request_context(context: &RequestContext, plan_claim: &str) -> Option<Self> {
        let (subject, plan) = match context {
            RequestContext::ApiGatewayV2(v2) => {
                let claims = &v2.authorizer.as_ref()?.jwt.as_ref()?.claims;
                (claims.get("sub")?.clone(), claims.get(plan_claim).cloned())
            }
            RequestContext::ApiGatewayV1(v1) => {
                let claims = v1.authorizer.fields.get("claims")?;
                let plan = claims.get(plan_claim).and_then(|p| p.as_str()).map(str::to_string);
                (claims.get("sub")?.as_str()?.to_string(), plan)
            }
            // Other front doors (ALB, WebSocket) carry no authorizer claims: no member.
            _ => return None,
        };
        Self::from_claims(&subject, plan, plan_claim)
    }

    /// The claims of a bearer token whose signature is NOT checked: what API Gateway's JWT authorizer would pass on,
    /// for `sam local start-api`, which does not emulate authorizers. Only `lambda_edge` calls this, and only under
    /// SAM (`AWS_SAM_LOCAL`, which Lambda itself never sets); deployed, the authorizer has checked the token.
    pub fn from_unverified_bearer(authorization: &str, plan_claim: &str) -> Option<Self> {
        use base64::Engine;
        let token = authorization.strip_prefix("Bearer ").unwrap_or(authorization).trim();
        let payload = token.split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()?;
        let claims: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&bytes).ok()?;
        let subject = claims.get("sub")?.as_str()?;
        let plan = claims.get(plan_claim).and_then(|p| p.as_str()).map(str::to_string);
        Self::from_claims(subject, plan, plan_claim)
    }

    fn from_claims(subject: &str, plan: Option<String>, plan_claim: &str) -> Option<Self> {
        let plan = plan.and_then(|raw| match PlanId::parse(raw.trim()) {
            Ok(plan) => Some(plan),
            Err(error) => {
                tracing::warn!(claim = plan_claim, %error, "ignoring a plan claim that is not a plan id");
                None
            }
        });
        Some(Self::from_subject(subject)?.with_plan(plan))
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

    fn context_with_claims(claims: serde_json::Value) -> RequestContext {
        let event = serde_json::json!({
            "version": "2.0", "routeKey": "POST /v1/chat", "rawPath": "/v1/chat", "rawQueryString": "",
            "headers": {}, "isBase64Encoded": false, "body": "{}",
            "requestContext": {
                "accountId": "1", "apiId": "a", "domainName": "d", "domainPrefix": "d", "requestId": "r",
                "routeKey": "POST /v1/chat", "stage": "$default", "time": "t", "timeEpoch": 0,
                "http": {"method": "POST", "path": "/v1/chat", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                         "userAgent": "test"},
                "authorizer": {"jwt": {"claims": claims, "scopes": null}}
            }
        });
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        lambda_http::RequestExt::request_context(&request)
    }

    fn bearer(claims: serde_json::Value) -> String {
        use base64::Engine;
        let part = |value: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string().as_bytes())
        };
        format!(
            "Bearer {}.{}.signature",
            part(&serde_json::json!({"alg": "RS256"})),
            part(&claims)
        )
    }

    #[test]
    fn an_unverified_bearer_gives_the_claims_an_authorizer_would() {
        let sub = "3f6c1a52-8d1e-4b7a-9c2f-0d5e6a7b8c9d";
        let token = bearer(serde_json::json!({"sub": sub, "custom:plan_id": "plan-a"}));
        let identity = Identity::from_unverified_bearer(&token, DEFAULT_PLAN_CLAIM).unwrap();
        assert_eq!(identity.user_id.to_string(), sub);
        assert_eq!(identity.plan_id.unwrap().as_str(), "plan-a");
        let hostile = bearer(serde_json::json!({"sub": sub, "custom:plan_id": "../plan-b"}));
        assert_eq!(
            Identity::from_unverified_bearer(&hostile, DEFAULT_PLAN_CLAIM)
                .unwrap()
                .plan_id,
            None
        );
        for garbage in [
            "",
            "Bearer",
            "Bearer abc",
            "Bearer a.!!!.c",
            &bearer(serde_json::json!({"plan": "x"})),
        ] {
            assert_eq!(
                Identity::from_unverified_bearer(garbage, DEFAULT_PLAN_CLAIM),
                None,
                "{garbage}"
            );
        }
    }

    #[test]
    fn the_plan_comes_from_the_named_claim_and_a_bad_one_reads_no_plan() {
        let sub = "3f6c1a52-8d1e-4b7a-9c2f-0d5e6a7b8c9d";
        let context =
            context_with_claims(serde_json::json!({"sub": sub, "custom:plan_id": "plan-a", "tenant": "plan-b"}));
        let identity = Identity::from_request_context(&context, DEFAULT_PLAN_CLAIM).unwrap();
        assert_eq!(identity.user_id.to_string(), sub);
        assert_eq!(identity.plan_id.unwrap().as_str(), "plan-a");
        let other_claim = Identity::from_request_context(&context, "tenant").unwrap();
        assert_eq!(other_claim.plan_id.unwrap().as_str(), "plan-b");

        let no_plan = context_with_claims(serde_json::json!({"sub": sub}));
        assert_eq!(
            Identity::from_request_context(&no_plan, DEFAULT_PLAN_CLAIM)
                .unwrap()
                .plan_id,
            None
        );
        let hostile = context_with_claims(serde_json::json!({"sub": sub, "custom:plan_id": "../plan-b"}));
        let identity = Identity::from_request_context(&hostile, DEFAULT_PLAN_CLAIM).unwrap();
        assert_eq!(identity.plan_id, None, "a claim that is not a plan id reads no plan");
        assert_eq!(identity.readers().owner_keys(), vec![format!("member:{sub}")]);
        let anonymous = context_with_claims(serde_json::json!({"custom:plan_id": "plan-a"}));
        assert_eq!(Identity::from_request_context(&anonymous, DEFAULT_PLAN_CLAIM), None);
    }
}
