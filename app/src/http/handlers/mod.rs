//! One handler per route.

mod create;
mod delete;
mod fallback;
mod get;
mod list;
mod update;

pub use create::create_payment;
pub use delete::delete_payment;
pub use fallback::{method_not_allowed, route_not_found};
pub use get::get_payment;
pub use list::list_payments;
pub use update::update_payment;
