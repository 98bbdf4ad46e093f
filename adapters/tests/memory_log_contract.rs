//! The command log contract, run against the in-memory log. Its readers' group has one member
//! at a time (a new subscription takes every partition; see `InMemoryCommandLog`), so the case
//! of two members sharing the partitions does not apply; every other case runs.
#![cfg(all(feature = "memory-log", feature = "contract-tests"))]

use std::sync::Arc;

use adapters::contract::command_log;
use adapters::InMemoryCommandLog;
use domain::CommandLog;

fn fresh_log() -> Arc<dyn CommandLog> {
    Arc::new(InMemoryCommandLog::new(8))
}

macro_rules! cases {
    ($($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                command_log::$case(fresh_log()).await;
            }
        )+
    };
}

cases!(
    records_of_one_key_are_read_in_append_order,
    each_key_keeps_to_one_partition_and_keys_spread_over_several,
    a_new_subscription_resumes_after_the_committed_position,
    records_not_committed_are_delivered_again_to_the_next_subscription,
    a_subscription_holds_the_partitions_it_delivers_from,
    concurrent_readers_of_one_subscription_get_different_records,
    lag_counts_records_appended_but_not_committed,
    health_check_succeeds_when_the_log_answers,
);
