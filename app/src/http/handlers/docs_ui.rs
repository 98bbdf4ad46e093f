//! `GET /docs/…`: Swagger UI for `/openapi.json`, served from files compiled into the binary.

use std::sync::{Arc, LazyLock};

use axum::http::header::CONTENT_TYPE;
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use utoipa_swagger_ui::Config;

use crate::http::error::ApiError;

/// Where the UI finds the document: relative to `/docs/`, so it also works behind a proxy that
/// mounts the server under a prefix.
static CONFIG: LazyLock<Arc<Config<'static>>> =
    LazyLock::new(|| Arc::new(Config::new(["../openapi.json"])));

/// Serves the Swagger UI file named by the path under `/docs/` (`index.html` for `/docs/`);
/// `/docs` itself redirects to `/docs/` so the page's relative links resolve. Unknown files are
/// our JSON 404.
pub async fn docs_ui(uri: Uri) -> Response {
    let Some(file) = uri.path().strip_prefix("/docs/") else {
        return Redirect::permanent("docs/").into_response();
    };
    match utoipa_swagger_ui::serve(file, CONFIG.clone()) {
        Ok(Some(file)) => {
            ([(CONTENT_TYPE, file.content_type)], file.bytes.into_owned()).into_response()
        }
        Ok(None) => ApiError::route_not_found().into_response(),
        Err(error) => {
            tracing::error!(%error, "serving the docs UI failed");
            ApiError::internal().into_response()
        }
    }
}
