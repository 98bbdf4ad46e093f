//! The request being served, as seen by everything that logs while it runs.
//!
//! [`super::edge`] runs each request inside [`scope`]; the log formatter
//! ([`crate::telemetry`]) asks [`current`] and adds the request's id, method and route to every
//! line logged on its behalf, so a storage warning can be matched with the request that met it.
//! This replaces a `tracing` span per request, which cost about a sixth of a `GET`'s CPU time
//! to create, enter and leave even when nothing was logged inside it (docs/benchmarks/README.md).

use std::future::Future;
use std::sync::Arc;

use axum::http::{HeaderValue, Method};

use crate::metrics::UNMATCHED_ROUTE;

tokio::task_local! {
    static CURRENT: RequestContext;
}

/// Who is asking and for what: the fields every log line of a request carries.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The request id (visible ASCII, see [`super::request_id`]).
    pub request_id: HeaderValue,
    /// The HTTP method.
    pub method: Method,
    /// The matched route template; `None` when no route matched.
    pub route: Option<Arc<str>>,
    /// The authenticated caller's `sub`, when there is one.
    pub subject: Option<Arc<str>>,
}

impl RequestContext {
    /// The request id as text.
    pub fn request_id(&self) -> &str {
        // Only visible-ASCII ids are ever assigned, so this never falls back.
        self.request_id.to_str().unwrap_or_default()
    }

    /// The route template (`/v1/payments/{id}`), never the raw path, or
    /// [`UNMATCHED_ROUTE`].
    pub fn route(&self) -> &str {
        self.route.as_deref().unwrap_or(UNMATCHED_ROUTE)
    }
}

/// Runs `work` as the request described by `context`.
pub async fn scope<F: Future>(context: RequestContext, work: F) -> F::Output {
    CURRENT.scope(context, work).await
}

/// The request the current task is serving, if any.
pub fn current() -> Option<RequestContext> {
    CURRENT.try_with(RequestContext::clone).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> RequestContext {
        RequestContext {
            request_id: HeaderValue::from_static("req-1"),
            method: Method::PUT,
            route: None,
            subject: None,
        }
    }

    #[tokio::test]
    async fn the_context_is_visible_inside_the_scope_only() {
        assert!(current().is_none());
        let seen = scope(context(), async {
            tokio::task::yield_now().await;
            current()
        })
        .await
        .expect("visible inside");
        assert_eq!(seen.request_id(), "req-1");
        assert_eq!(seen.method, Method::PUT);
        assert_eq!(seen.route(), UNMATCHED_ROUTE);
        assert!(current().is_none());
    }
}
