//! The in-process adapters: a complete payment repository, command store and command log.

mod commands;
#[cfg(feature = "memory-log")]
mod log;
mod repository;

pub use commands::InMemoryCommandStore;
#[cfg(feature = "memory-log")]
pub use log::InMemoryCommandLog;
pub use repository::InMemoryPaymentRepository;
