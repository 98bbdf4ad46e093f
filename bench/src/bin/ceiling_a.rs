//! Ceiling A: the framework limit. A bare axum server speaking the same routes as the payment
//! server, with none of its work: no validation, no domain, no serialization, no middleware.
//!
//! `GET /v1/payments/{id}` serves the stored bytes; `POST /v1/payments` stores the body as sent
//! under a new UUIDv7 and echoes it; `PUT /v1/payments/{id}` replaces the bytes of a known id;
//! `GET /v1/payments` serves a prebuilt page read once from `--list-page`. Whatever the payment
//! server does beyond this is the cost of being a payment server.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use clap::Parser;

// The payment server's allocator, so the two differ only in the work they do.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A bare axum server serving stored JSON bytes: the ceiling for the payment server's HTTP side.
#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:18081")]
    listen: SocketAddr,
    /// The body `GET /v1/payments` serves (a real 100-item page of the payment server).
    #[arg(long)]
    list_page: PathBuf,
}

#[derive(Clone)]
struct Store {
    documents: Arc<RwLock<HashMap<String, Bytes>>>,
    list_page: Bytes,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let store = Store {
        documents: Arc::default(),
        list_page: Bytes::from(std::fs::read(&args.list_page)?),
    };
    let app = Router::new()
        .route("/v1/payments", get(list).post(create))
        .route("/v1/payments/{id}", get(fetch).put(replace))
        .with_state(store);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

fn json(status: StatusCode, bytes: Bytes) -> Response {
    let mut response = (status, bytes).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

async fn list(State(store): State<Store>) -> Response {
    json(StatusCode::OK, store.list_page.clone())
}

async fn fetch(State(store): State<Store>, Path(id): Path<String>) -> Response {
    let found = store
        .documents
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&id)
        .cloned();
    match found {
        Some(bytes) => json(StatusCode::OK, bytes),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn create(State(store): State<Store>, body: Bytes) -> Response {
    // A compact copy: the received `Bytes` may pin the whole connection read buffer.
    let body = Bytes::copy_from_slice(&body);
    let id = uuid::Uuid::now_v7().to_string();
    let location = HeaderValue::from_str(&format!("/v1/payments/{id}"));
    store
        .documents
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(id, body.clone());
    let mut response = json(StatusCode::CREATED, body);
    if let Ok(location) = location {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

async fn replace(State(store): State<Store>, Path(id): Path<String>, body: Bytes) -> Response {
    let body = Bytes::copy_from_slice(&body);
    let mut documents = store
        .documents
        .write()
        .unwrap_or_else(PoisonError::into_inner);
    match documents.get_mut(&id) {
        Some(stored) => {
            *stored = body.clone();
            json(StatusCode::OK, body)
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
