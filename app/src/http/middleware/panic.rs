//! A panicking handler is a bug: the client gets the generic 500 body, the log gets the message.

use std::any::Any;

use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;

/// The response for a request whose handler panicked (the edge catches the panic).
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    tracing::error!(panic = message, "request handler panicked");
    ApiError::internal().into_response()
}
