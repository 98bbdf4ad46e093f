//! Shared by the `bench` harness and the ceiling binaries.

pub mod procfs;
pub mod stats;
