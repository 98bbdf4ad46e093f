//! The command store contract, run against the in-memory store.
#![cfg(all(feature = "memory", feature = "contract-tests"))]

use std::sync::Arc;
use std::time::Duration;

use adapters::InMemoryCommandStore;
use domain::CommandStore;

adapters::command_store_contract!(|| async {
    Arc::new(InMemoryCommandStore::new(Duration::from_secs(3600))) as Arc<dyn CommandStore>
});
