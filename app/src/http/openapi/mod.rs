//! The OpenAPI 3.1 document. Its paths come from the same `routes!` registrations as the router
//! (see `documented_routes` in the parent module), so the two cannot drift; this module adds the
//! metadata, the schemas, and the parts every operation shares, and keeps the document the
//! router [`publish`]es for `GET /openapi.json`.

pub mod attributes;
pub mod examples;
pub mod params;
pub mod responses;
pub mod schemas;

use std::sync::OnceLock;

use axum::body::Bytes;
use axum::http::Method;
use utoipa::openapi::path::{Operation, Paths};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, InfoBuilder, LicenseBuilder, OpenApi, OpenApiBuilder, RefOr,
};
use utoipa_axum::router::UtoipaMethodRouter;

use crate::auth::Scope;

/// The tag of the payments API.
pub const PAYMENTS_TAG: &str = "payments";
/// The tag of health, metrics and this document.
pub const OPERATIONS_TAG: &str = "operations";

const DESCRIPTION: &str = "\
A Form3-style payments API: payment documents created, fetched, updated (optimistic concurrency \
on `version`), deleted and listed.

Every refusal is a JSON body `{error_code, error_message, details?}` with a stable `error_code`. \
Every response carries `x-request-id`: the one you sent if it is 1 to 128 visible ASCII \
characters, a generated UUID otherwise. 503 answers carry `Retry-After`.

With `--auth jwt` every `/v1/` operation needs `Authorization: Bearer <JWT>` (use \"Authorize\" \
to paste one): `scope` must hold the operation's scope (`payments:read` for reads, \
`payments:write` for writes), and the `organisation_ids` claim the organisations the token acts \
for. Another organisation's payment is answered 404, as if it did not exist.";

/// The name of the bearer security scheme.
pub const BEARER_SCHEME: &str = "bearer";

/// The document before the operations are added.
pub fn base() -> OpenApi {
    let info = InfoBuilder::new()
        .title("payment-server")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(DESCRIPTION))
        .license(Some(
            LicenseBuilder::new()
                .name("MIT OR Apache-2.0")
                .identifier(Some("MIT OR Apache-2.0"))
                .build(),
        ))
        .build();
    let attribute_schemas = [
        ("PaymentAttributes", attributes::payment_attributes()),
        ("AttributeValue", attributes::attribute_value()),
    ];
    let components = schemas::all()
        .into_iter()
        .chain(attribute_schemas)
        .fold(ComponentsBuilder::new(), |components, (name, schema)| {
            components.schema(name, schema)
        })
        .response(
            responses::UNROUTED_RESPONSE,
            responses::error_response(&responses::UNROUTED),
        )
        .security_scheme(
            BEARER_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A JWT from your identity provider (server started with `--auth jwt`).",
                    ))
                    .build(),
            ),
        )
        .build();
    OpenApiBuilder::new()
        .info(info)
        .tags(Some([
            TagBuilder::new()
                .name(PAYMENTS_TAG)
                .description(Some("Payments."))
                .build(),
            TagBuilder::new()
                .name(OPERATIONS_TAG)
                .description(Some("Health, metrics and this document, for operators."))
                .build(),
        ]))
        .components(Some(components))
        .build()
}

/// `routes` moved to `path`: the seed's singular aliases, documented as operations of their own
/// (operation ids suffixed `_singular`, since ids must be unique).
pub fn alias<S>(
    path: &str,
    (schemas, paths, method_router): UtoipaMethodRouter<S>,
) -> UtoipaMethodRouter<S> {
    let mut aliased = Paths::new();
    for (canonical, mut item) in paths.paths {
        for operation in operations(&mut item) {
            operation.operation_id = operation
                .operation_id
                .take()
                .map(|id| format!("{id}_singular"));
            operation.description = Some(format!(
                "The seed's singular alias of `{canonical}`; it behaves the same."
            ));
        }
        aliased.paths.insert(path.to_owned(), item);
    }
    (schemas, aliased, method_router)
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    operations_by_method(item).map(|(_, operation)| operation)
}

fn operations_by_method(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = (Method, &mut Operation)> {
    [
        (Method::GET, &mut item.get),
        (Method::PUT, &mut item.put),
        (Method::POST, &mut item.post),
        (Method::DELETE, &mut item.delete),
        (Method::PATCH, &mut item.patch),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_mut().map(|operation| (method, operation)))
}

/// The security requirement of every `/v1/` operation: the bearer scheme with the scope the
/// edge asks for its method ([`Scope::required_for`], the same rule).
fn require_scopes(document: &mut OpenApi) {
    for (path, item) in document.paths.paths.iter_mut() {
        if !path.starts_with("/v1/") {
            continue;
        }
        for (method, operation) in operations_by_method(item) {
            let scope = Scope::required_for(&method).as_str();
            operation.security = Some(vec![SecurityRequirement::new(BEARER_SCHEME, [scope])]);
        }
    }
}

/// Adds what every operation shares: the optional `x-request-id` header parameter and the
/// `x-request-id` response header; and the bearer scope each `/v1/` operation needs.
pub fn finish(mut document: OpenApi) -> OpenApi {
    require_scopes(&mut document);
    for item in document.paths.paths.values_mut() {
        for operation in operations(item) {
            operation
                .parameters
                .get_or_insert_with(Vec::new)
                .push(RefOr::T(params::request_id()));
            for response in operation.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    response.headers.insert(
                        "x-request-id".into(),
                        RefOr::T(responses::text_header(
                            "The request id (see the `x-request-id` parameter).",
                        )),
                    );
                }
            }
        }
    }
    document
}

/// The document as served, serialized once: set by the first router built (every router
/// documents the same routes), read by `GET /openapi.json`, which cannot build it itself: the
/// document lists that handler's own route.
static PUBLISHED: OnceLock<Published> = OnceLock::new();

/// The served document in both forms: with the bearer scheme and each operation's scope (a
/// server with `--auth jwt`), and without them (`--auth none`: no operation needs a token, so
/// the document must not say one does).
struct Published {
    secured: Result<Bytes, String>,
    open: Result<Bytes, String>,
}

/// Publishes the document `document` builds (the router's routes, [`finish`]ed) for
/// [`published`], unless a router has already.
pub fn publish(document: impl FnOnce() -> OpenApi) {
    PUBLISHED.get_or_init(|| {
        let secured = document();
        let open = without_security(secured.clone());
        let json = |document: OpenApi| {
            document
                .to_json()
                .map(Bytes::from)
                .map_err(|error| error.to_string())
        };
        Published {
            secured: json(secured),
            open: json(open),
        }
    });
}

/// `document` for a server without authentication: no security requirement on any operation
/// and no security scheme.
pub fn without_security(mut document: OpenApi) -> OpenApi {
    for item in document.paths.paths.values_mut() {
        for operation in operations(item) {
            operation.security = None;
        }
    }
    if let Some(components) = document.components.as_mut() {
        components.security_schemes.remove(BEARER_SCHEME);
    }
    document
}

/// The published document's JSON for a server with (`secured`) or without authentication, or
/// why it could not be serialized; `None` before any router was built.
pub fn published(secured: bool) -> Option<&'static Result<Bytes, String>> {
    PUBLISHED.get().map(|published| match secured {
        true => &published.secured,
        false => &published.open,
    })
}
