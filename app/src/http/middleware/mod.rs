//! The middleware around every route: [`edge::EdgeLayer`], one tower layer doing, in order,
//! what the modules below define (see [`edge`] for the order and why it is one layer).

pub mod body_limit;
pub mod context;
pub mod edge;
pub mod panic;
pub mod request_id;
pub mod timeout;
