//! One handler per route.

mod create;
mod delete;
mod fallback;
mod get;
mod health_live;
mod health_ready;
mod list;
mod metrics;
mod update;

pub use create::create_payment;
pub use delete::delete_payment;
pub use fallback::{method_not_allowed, route_not_found};
pub use get::get_payment;
pub use health_live::{health_live, Liveness};
pub use health_ready::{health_ready, Readiness};
pub use list::list_payments;
pub use metrics::metrics;
pub use update::update_payment;
