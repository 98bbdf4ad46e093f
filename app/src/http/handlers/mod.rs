//! One handler per route. Each documented handler carries its `#[utoipa::path]`; the glob
//! re-exports bring the generated `__path_*` types along for `utoipa_axum::routes!`.

mod create;
mod delete;
mod docs_ui;
mod fallback;
mod get;
mod get_command;
mod health_live;
mod health_ready;
mod list;
mod metrics;
mod openapi_document;
mod update;

pub use create::*;
pub use delete::*;
pub use docs_ui::*;
pub use fallback::*;
pub use get::*;
pub use get_command::*;
pub use health_live::*;
pub use health_ready::*;
pub use list::*;
pub use metrics::*;
pub use openapi_document::*;
pub use update::*;
