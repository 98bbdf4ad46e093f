//! The edge: everything that happens to every request before and after its handler, as one
//! tower service with one boxed future per request.
//!
//! In order, outermost first (ARCHITECTURE.md explains why):
//!
//! 1. the request id ([`super::request_id`]): assigned before anything can log, echoed in the
//!    response;
//! 2. the request context ([`super::context`]) for everything logged while it runs, the
//!    in-flight gauge, and after the answer the HTTP metrics and the access line
//!    ([`crate::telemetry::access`]), which so see the final status of everything inside,
//!    timeouts and panics included;
//! 3. authentication, for the payment API only (routes under `/v1/`, see
//!    [`super::authenticate`]): before the body is read, so a request without a valid token is
//!    refused whatever it sends; the caller's `sub` joins the request context;
//! 4. the request timeout ([`super::timeout`]), bounding the rest, time queued for a slot
//!    included;
//! 5. the body limit ([`super::body_limit`]): a body declared larger than `--max-body-bytes` is
//!    413 at once; otherwise the body extractor counts what arrives against the same limit;
//! 6. the concurrency limit, for the payment API only (routes under `/v1/`): health probes and
//!    scrapes must still answer when the API is saturated, or an overloaded instance would be
//!    restarted instead of relieved;
//! 7. a panicking handler becomes the generic 500 ([`super::panic`]).
//!
//! These were once five axum `from_fn` middlewares and two tower layers. Each of those clones and
//! boxes the rest of the stack for every request; together they cost about as much CPU as the
//! whole request of the bare-axum ceiling (docs/benchmarks/README.md). The edge wraps the whole
//! router rather than each route (as `Router::layer` would, boxing every route once more), so
//! it finds the route template itself, with the router's own matcher (`matchit`) over the same
//! templates.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::Request;
use axum::response::Response;
use futures_util::FutureExt as _;
use tokio::sync::Semaphore;
use tower::Service;

use super::authenticate::authenticate;
use super::body_limit::{declared_over, refuse_oversized};
use super::context::{self, RequestContext};
use super::panic::panic_response;
use super::request_id::{self, REQUEST_ID_HEADER};
use super::timeout::timed_out;
use crate::auth::{Authentication, Caller};
use crate::http::limits::Limits;
use crate::metrics::{Metrics, RouteRecorder};
use crate::telemetry::access;

/// Routes under this prefix are the payment API, which the concurrency limit applies to.
const API_PREFIX: &str = "/v1/";

/// What the edge needs, shared by every request.
struct Settings {
    /// Each template with its index in `recorder`.
    routes: matchit::Router<(Arc<str>, usize)>,
    recorder: RouteRecorder,
    metrics: Metrics,
    limits: Limits,
    api_slots: Semaphore,
    auth: Authentication,
}

/// See the [module documentation](self).
#[derive(Clone)]
pub struct Edge<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S> Edge<S> {
    /// `inner` behind the edge; `templates` are the route templates `inner` serves (in its
    /// syntax: `/v1/payments/{id}`, `/docs/{*file}`), recording into `metrics`, authenticating
    /// `/v1/` requests with `auth`.
    pub fn new<'t>(
        inner: S,
        templates: impl IntoIterator<Item = &'t str>,
        metrics: Metrics,
        limits: Limits,
        auth: Authentication,
    ) -> Self {
        let templates: Vec<&str> = templates.into_iter().collect();
        let mut routes = matchit::Router::new();
        for (index, template) in templates.iter().enumerate() {
            // The router has accepted the same templates, so they cannot conflict here.
            let _ = routes.insert(*template, (Arc::from(*template), index));
        }
        Self {
            inner,
            settings: Arc::new(Settings {
                routes,
                recorder: metrics.route_recorder(templates),
                metrics,
                api_slots: Semaphore::new(
                    limits.max_concurrent_requests.min(Semaphore::MAX_PERMITS),
                ),
                limits,
                auth,
            }),
        }
    }

    /// The template of the route serving `path`, if any.
    pub fn route_of(&self, path: &str) -> Option<&str> {
        route_of(&self.settings, path).map(|(route, _)| &**route)
    }
}

fn route_of<'s>(settings: &'s Settings, path: &str) -> Option<&'s (Arc<str>, usize)> {
    settings.routes.at(path).ok().map(|matched| matched.value)
}

impl<S> Service<Request> for Edge<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The standard tower move: serve with the instance that was polled ready, keep a clone.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(serve(self.settings.clone(), inner, request).map(Ok))
    }
}

async fn serve<S>(settings: Arc<Settings>, inner: S, mut request: Request) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible> + Send,
    S::Future: Send,
{
    let started = Instant::now();
    let request_id = request_id::assign(&request);
    let (route, route_index) = match route_of(&settings, request.uri().path()) {
        Some((route, index)) => (Some(route.clone()), *index),
        None => (None, settings.recorder.unmatched()),
    };
    let is_api = route
        .as_deref()
        .is_some_and(|route| route.starts_with(API_PREFIX));
    let refusal = match is_api {
        true => match authenticate(&settings.auth, request.method(), request.headers()).await {
            Ok(caller) => {
                request.extensions_mut().insert(caller);
                None
            }
            Err(refusal) => Some(refusal),
        },
        false => None,
    };
    let request_context = RequestContext {
        request_id: request_id.clone(),
        method: request.method().clone(),
        route,
        subject: request
            .extensions()
            .get::<Caller>()
            .and_then(|caller| caller.subject.clone()),
    };
    // Cheap (a reference count) and only kept when the access line will be written.
    let uri = access::enabled().then(|| request.uri().clone());
    let in_flight = settings.metrics.start_request();

    let mut response = context::scope(request_context.clone(), async {
        if let Some(refusal) = refusal {
            return refusal;
        }
        let limit = settings.limits.request_timeout;
        match tokio::time::timeout(limit, handle(&settings, inner, request, is_api)).await {
            Ok(response) => response,
            Err(_) => timed_out(limit),
        }
    })
    .await;

    drop(in_flight);
    let latency = started.elapsed();
    let status = response.status().as_u16();
    let route = request_context.route();
    settings
        .recorder
        .record(route_index, &request_context.method, status, latency);
    if let Some(uri) = uri {
        access::log(&access::Entry {
            method: request_context.method.as_str(),
            route,
            path: uri.path(),
            status,
            latency,
            request_id: request_context.request_id(),
            subject: request_context.subject.as_deref(),
        });
    }
    response.headers_mut().insert(REQUEST_ID_HEADER, request_id);
    response
}

/// Steps 5 to 7 of the module documentation.
async fn handle<S>(settings: &Settings, mut inner: S, request: Request, is_api: bool) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible> + Send,
    S::Future: Send,
{
    if declared_over(&request, settings.limits.max_body_bytes) {
        return refuse_oversized(request);
    }
    // Never closed, so acquiring fails never; a failure would only skip the limit.
    let _slot = if is_api {
        settings.api_slots.acquire().await.ok()
    } else {
        None
    };
    // Both the call (which may run extractors' synchronous parts) and the future may panic.
    let call = std::panic::catch_unwind(AssertUnwindSafe(|| inner.call(request)));
    let outcome = match call {
        Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
        Err(panic) => Err(panic),
    };
    match outcome {
        Ok(Ok(response)) => response,
        Ok(Err(never)) => match never {},
        Err(panic) => panic_response(panic),
    }
}
