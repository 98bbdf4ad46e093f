//! The inbound HTTP adapter: routes, handlers, wire DTOs, the error mapping and the middleware.
//!
//! This module is the root: it builds the router from the modules below, and none of them
//! imports it. Below it, modules import each other without cycles; the leaves
//! ([`json_text`], [`error_code`], [`limits`]) import nothing of their callers.

pub mod async_write;
pub mod body;
pub mod dto;
pub mod error;
pub mod error_code;
pub mod extract;
pub mod handlers;
pub mod json;
pub mod json_text;
pub mod limits;
pub mod links;
pub mod middleware;
pub mod openapi;
pub mod response;
pub mod state;

use axum::routing::get;
use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use limits::Limits;
use middleware::edge::Edge;
pub use state::AppState;

/// The whole HTTP service: [`router`]'s routes behind [`middleware::edge`].
pub type App = Edge<Router>;

/// The Swagger UI's routes: HTML and scripts for people, not part of the API, so undocumented.
const DOCS_UI_ROUTES: [&str; 3] = ["/docs", "/docs/", "/docs/{*file}"];

/// The whole HTTP surface: the documented routes (see `documented_routes`), the Swagger UI at
/// `/docs`, JSON 404/405 answers, all behind [`middleware::edge`] with `state.limits`. Publishes
/// the API document for `GET /openapi.json`.
pub fn router(state: AppState) -> App {
    let (documented, api) = documented_routes().split_for_parts();
    let mut router = documented;
    for route in DOCS_UI_ROUTES {
        router = router.route(route, get(handlers::docs_ui));
    }
    let templates = api
        .paths
        .paths
        .keys()
        .map(String::as_str)
        .chain(DOCS_UI_ROUTES);
    let edge = behind_edge(router, templates, state);
    openapi::publish(|| openapi::finish(api));
    edge
}

/// What a worker process serves (`--role worker`): `/health/live`, `/health/ready` and
/// `/metrics`, behind the same edge, and JSON 404s for everything else. Never the payments API:
/// a worker that answered writes would write them synchronously, past the command log and its
/// per-organisation order.
pub fn operations_router(state: AppState) -> App {
    let (router, api) = probe_routes().split_for_parts();
    behind_edge(router, api.paths.paths.keys().map(String::as_str), state)
}

/// `router` with JSON 404/405 answers, behind [`middleware::edge`] (which names the route of a
/// request by `templates`) with `state`'s metrics, limits and authentication.
fn behind_edge<'t>(
    router: Router<AppState>,
    templates: impl IntoIterator<Item = &'t str>,
    state: AppState,
) -> App {
    let metrics = state.metrics.clone();
    let limits = state.limits;
    let auth = state.auth.clone();
    let router = router
        .fallback(handlers::route_not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .with_state(state);
    Edge::new(router, templates, metrics, limits, auth)
}

/// The complete API document.
pub fn document() -> OpenApi {
    openapi::finish(documented_routes().into_openapi())
}

/// Every route of the API document, registered once for both the router and the document so the
/// two cannot drift: the payments API with the seed's singular aliases (`POST /v1/payment`,
/// `GET/PUT/DELETE /v1/payment/{id}`), and the operational routes.
fn documented_routes() -> OpenApiRouter<AppState> {
    let payments = OpenApiRouter::new()
        .routes(routes!(handlers::list_payments, handlers::create_payment))
        .routes(routes!(
            handlers::get_payment,
            handlers::update_payment,
            handlers::delete_payment
        ))
        .routes(routes!(handlers::get_payment_command))
        .routes(openapi::alias(
            "/v1/payment",
            routes!(handlers::create_payment),
        ))
        .routes(openapi::alias(
            "/v1/payment/{id}",
            routes!(
                handlers::get_payment,
                handlers::update_payment,
                handlers::delete_payment
            ),
        ));
    let operations = probe_routes().routes(routes!(handlers::openapi_document));
    OpenApiRouter::with_openapi(openapi::base())
        .merge(payments)
        .merge(operations)
}

/// The routes every role serves: the health probes and the metrics.
fn probe_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::health_live))
        .routes(routes!(handlers::health_ready))
        .routes(routes!(handlers::metrics))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use adapters::InMemoryPaymentRepository;
    use domain::PaymentService;

    use super::links::Links;
    use super::*;
    use crate::metrics::Metrics;

    fn app() -> App {
        router(AppState {
            service: PaymentService::new(Arc::new(InMemoryPaymentRepository::new())),
            auth: crate::auth::Authentication::none(),
            writes: None,
            links: Links::new(None),
            metrics: Metrics::new().unwrap(),
            limits: Limits {
                max_body_bytes: 1024,
                request_timeout: Duration::from_secs(1),
                max_concurrent_requests: 1,
            },
        })
    }

    #[test]
    fn the_edge_names_the_route_the_router_serves() {
        let app = app();
        let (_, api) = documented_routes().split_for_parts();
        for template in api.paths.paths.keys() {
            let path = template.replace("{id}", "4ee3a8d8-ca7b-4290-a52c-dd5b6165ec43");
            assert_eq!(app.route_of(&path), Some(template.as_str()), "{path}");
        }
        for (path, route) in [
            ("/v1/payments/anything", Some("/v1/payments/{id}")),
            ("/v1/payment/x", Some("/v1/payment/{id}")),
            ("/v1/payments", Some("/v1/payments")),
            ("/docs", Some("/docs")),
            ("/docs/swagger-ui.css", Some("/docs/{*file}")),
            ("/v1/payments/a/b", None),
            ("/nowhere", None),
        ] {
            assert_eq!(app.route_of(path), route, "{path}");
        }
    }
}
