//! The command log contract, run against the in-memory log. Its readers' group has one member
//! at a time (a new subscription takes every partition; see `InMemoryCommandLog`), so the case
//! of two members sharing the partitions does not apply; every other case runs.
#![cfg(all(feature = "memory-log", feature = "contract-tests"))]

use std::sync::Arc;

use adapters::InMemoryCommandLog;
use domain::CommandLog;

adapters::command_log_contract!(single_member: || async {
    Arc::new(InMemoryCommandLog::new(8)) as Arc<dyn CommandLog>
});
