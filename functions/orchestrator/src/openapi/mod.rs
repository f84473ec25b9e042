//! What every operation of the chat API's OpenAPI document shares: the member's JWT scheme, and the errors any
//! authenticated operation can give (401, 429, 500, 503, 504, with `Retry-After` where it applies). The document
//! itself is `api::ApiDoc`, generated from the handlers' annotations and the very types they read and write.

use utoipa::Modify;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, RefOr, ResponseBuilder, Type};

/// The security scheme every operation but health and this document needs.
pub const MEMBER_JWT: &str = "member_jwt";

/// The member's JWT, as API Gateway's authorizer checks it (`navigator serve` stands in a local member instead).
pub(crate) struct MemberJwt;

impl Modify for MemberJwt {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            MEMBER_JWT,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A member's JWT from the identity provider; `sub` is the member, the plan claim their plan.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The answers every authenticated operation can give, whatever it does: written once here rather than on each
/// handler. An operation's own answers (its 400, 403, 404, 413) stay on its handler.
pub(crate) struct SharedErrors;

/// (status, when, carries `Retry-After`)
const SHARED_ERRORS: [(&str, &str, bool); 5] = [
    ("401", "No valid member token.", false),
    (
        "429",
        "Over capacity: refused at the door before any work. Retry after the seconds `Retry-After` gives. (On AWS, \
         API Gateway's own throttle may answer first, with its own body `{\"message\": \"Too Many Requests\"}`.)",
        true,
    ),
    (
        "500",
        "An internal failure; the detail is in the logs under the request id.",
        false,
    ),
    (
        "503",
        "A dependency the request needs is unavailable. Retry after the seconds `Retry-After` gives.",
        true,
    ),
    (
        "504",
        "The request could not be answered within its deadline (3 s for a chat turn).",
        false,
    ),
];

impl Modify for SharedErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in [&mut item.get, &mut item.post, &mut item.delete].into_iter().flatten() {
                let public = operation
                    .security
                    .as_ref()
                    .is_some_and(|requirements| requirements.iter().all(is_empty_requirement));
                if public {
                    continue;
                }
                for (status, description, retry_after) in SHARED_ERRORS {
                    operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| RefOr::T(error_response(description, retry_after)));
                }
            }
        }
    }
}

/// `security(())` on an operation: no scheme needed.
fn is_empty_requirement(requirement: &SecurityRequirement) -> bool {
    *requirement == SecurityRequirement::default()
}

fn error_response(description: &str, retry_after: bool) -> utoipa::openapi::Response {
    let content = utoipa::openapi::ContentBuilder::new()
        .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
        .build();
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/json", content)
        .header(
            "x-request-id",
            utoipa::openapi::HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some("The request's id, also in the body"))
                .build(),
        );
    if retry_after {
        response = response.header(
            "Retry-After",
            utoipa::openapi::HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)))
                .description(Some("Seconds to wait before retrying"))
                .build(),
        );
    }
    response.build()
}

#[cfg(test)]
mod tests;
