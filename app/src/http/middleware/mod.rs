//! The middleware around every request: [`edge::Edge`], one tower service wrapped around the
//! whole router, doing in order what the modules below define (see [`edge`] for the order and
//! why it is one service).

pub mod authenticate;
pub mod body_limit;
pub mod context;
pub mod edge;
pub mod panic;
pub mod request_id;
pub mod timeout;
