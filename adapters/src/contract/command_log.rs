//! The command log contract suite: every [`CommandLog`] must pass it.
//!
//! Each case is a public async function taking a fresh log: a new, empty topic and a consumer
//! group nobody else uses. The [`command_log_contract!`](crate::command_log_contract) macro
//! turns them into `#[tokio::test]`s for one log (the calling crate needs `tokio` with the
//! `macros` and `rt-multi-thread` features as a dev-dependency):
//!
//! ```ignore
//! // tests/my_log_contract.rs
//! adapters::command_log_contract!(my_crate::fresh_log);
//! // A log that talks to a broker also checks the outage rule, given a log whose broker
//! // cannot be reached and the bound its appends keep:
//! adapters::command_log_contract!(
//!     my_crate::fresh_log,
//!     unreachable: my_crate::unreachable_log,
//!     within: std::time::Duration::from_secs(1)
//! );
//! ```
//!
//! Reading cases poll [`LogSubscription::next`] with short waits until the records came or a
//! generous limit passed, so a log that needs seconds to hand out partitions (a Kafka group
//! join) passes, and one that loses records fails with a message instead of hanging. They commit
//! each record before waiting for the next one of its partition, as the port asks of readers (a
//! NATS JetStream log holds a partition's next record back until then).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::{CommandLog, LogError, LogPosition, LogRecord, LogSubscription};
use tokio::time::Instant;

/// The log under test.
pub type Log = Arc<dyn CommandLog>;

/// The longest a case waits for records that should come (a group join included).
const READ_LIMIT: Duration = Duration::from_secs(30);
/// One wait of `next` while polling.
const POLL: Duration = Duration::from_millis(200);
/// Scheduling slack on a loaded two-core machine, for the outage case's bound.
const SLACK: Duration = Duration::from_millis(1_500);

/// Generates one `#[tokio::test]` per contract case; `$make` is a closure (or function) returning
/// a future of a fresh `Arc<dyn CommandLog>`. With `unreachable:` (a closure returning a future
/// of a log whose broker cannot be reached) and `within:` (its append bound, a `Duration`), the
/// outage case runs too. With `single_member:` (a log whose readers' group has one member at a
/// time, as the in-memory log's), every case but the sharing of partitions between members.
#[macro_export]
macro_rules! command_log_contract {
    ($make:expr, unreachable: $unreachable:expr, within: $bound:expr $(,)?) => {
        $crate::command_log_contract!($make);

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn unreachable_log_is_unavailable_within_its_bound() {
            let make = $unreachable;
            $crate::contract::command_log::unreachable_log_is_unavailable_within_its_bound(
                make().await,
                $bound,
            )
            .await;
        }
    };
    (single_member: $make:expr $(,)?) => {
        $crate::command_log_contract!(@cases $make;
            records_of_one_key_are_read_in_append_order,
            each_key_keeps_to_one_partition_and_keys_spread_over_several,
            a_new_subscription_resumes_after_the_committed_position,
            records_not_committed_are_delivered_again_to_the_next_subscription,
            a_subscription_holds_the_partitions_it_delivers_from,
            concurrent_readers_of_one_subscription_get_different_records,
            a_paused_partition_goes_on_after_its_last_delivered_record,
            lag_counts_records_appended_but_not_committed,
            health_check_succeeds_when_the_log_answers,
        );
    };
    ($make:expr $(,)?) => {
        $crate::command_log_contract!(single_member: $make);
        $crate::command_log_contract!(@cases $make; subscriptions_of_one_group_share_the_partitions);
    };
    (@cases $make:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let make = $make;
                $crate::contract::command_log::$case(make().await).await;
            }
        )+
    };
}

/// Appends `payload` under `key`, failing the test on an error.
async fn appended(log: &Log, key: &str, payload: &str) -> LogRecord {
    let id = domain::CommandId::generate().to_string();
    let position = log
        .append(&id, key.as_bytes(), payload.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("append of {payload:?} under {key:?} failed: {e}"));
    LogRecord {
        position,
        key: key.as_bytes().to_vec(),
        payload: payload.as_bytes().to_vec(),
        delivery_limit_reached: false,
        generation: 0,
    }
}

/// `record` as [`appended`] returns it, to compare: without the generation it was delivered
/// under (the case `a_subscription_holds_the_partitions_it_delivers_from` checks those).
fn as_appended(record: LogRecord) -> LogRecord {
    LogRecord {
        generation: 0,
        ..record
    }
}

async fn subscribed(log: &Log) -> Arc<dyn LogSubscription> {
    log.subscribe().await.expect("subscribe succeeds")
}

/// Reads until `count` records came, committing each as it comes, failing the test after
/// [`READ_LIMIT`].
async fn read(subscription: &dyn LogSubscription, count: usize) -> Vec<LogRecord> {
    read_then(subscription, count, |record| async move {
        subscription
            .commit(record.position)
            .await
            .expect("commit succeeds");
    })
    .await
}

/// Reads one record and leaves it uncommitted.
async fn read_one_uncommitted(subscription: &dyn LogSubscription) -> LogRecord {
    let mut records = read_then(subscription, 1, |_| async {}).await;
    records.remove(0)
}

/// Reads until `count` records came, calling `after` with each, failing the test after
/// [`READ_LIMIT`].
async fn read_then<F: std::future::Future<Output = ()>>(
    subscription: &dyn LogSubscription,
    count: usize,
    mut after: impl FnMut(LogRecord) -> F,
) -> Vec<LogRecord> {
    let deadline = Instant::now() + READ_LIMIT;
    let mut records = Vec::with_capacity(count);
    while records.len() < count {
        assert!(
            Instant::now() < deadline,
            "only {} of {count} records within {READ_LIMIT:?}: {records:?}",
            records.len()
        );
        if let Some(record) = subscription.next(POLL).await.expect("next succeeds") {
            records.push(as_appended(record.clone()));
            after(record).await;
        }
    }
    records
}

/// Asserts that nothing more comes within `quiet`.
async fn assert_nothing_more(subscription: &dyn LogSubscription, quiet: Duration) {
    let deadline = Instant::now() + quiet;
    while Instant::now() < deadline {
        let extra = subscription.next(POLL).await.expect("next succeeds");
        assert_eq!(extra, None, "a record beyond those appended");
    }
}

/// Case: records of one key share a partition, with growing offsets, and are read in the order
/// they were appended, exactly as appended.
pub async fn records_of_one_key_are_read_in_append_order(log: Log) {
    let mut appended_records = Vec::new();
    for n in 0..20 {
        appended_records.push(appended(&log, "organisation-a", &format!("command {n}")).await);
    }
    let partitions: BTreeSet<u32> = appended_records
        .iter()
        .map(|r| r.position.partition)
        .collect();
    assert_eq!(partitions.len(), 1, "one key on several partitions");
    assert!(
        appended_records
            .windows(2)
            .all(|pair| pair[0].position.offset < pair[1].position.offset),
        "offsets do not grow: {appended_records:?}"
    );

    let subscription = subscribed(&log).await;
    assert_eq!(read(&*subscription, 20).await, appended_records);
}

/// Case: every record of a key lands on one partition; several keys use several partitions;
/// records are read where their append said they were stored.
pub async fn each_key_keeps_to_one_partition_and_keys_spread_over_several(log: Log) {
    let keys: Vec<String> = (0..32).map(|n| format!("organisation-{n}")).collect();
    let mut by_position = BTreeMap::new();
    let mut partitions_of: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
    for round in 0..3 {
        for key in &keys {
            let record = appended(&log, key, &format!("{key} #{round}")).await;
            assert!(record.position.partition < log.partitions());
            partitions_of
                .entry(key)
                .or_default()
                .insert(record.position.partition);
            by_position.insert(record.position, record);
        }
    }
    for (key, partitions) in &partitions_of {
        assert_eq!(partitions.len(), 1, "{key} is on partitions {partitions:?}");
    }
    let used: BTreeSet<u32> = partitions_of.values().flatten().copied().collect();
    if log.partitions() > 1 {
        assert!(used.len() > 1, "32 keys all on partition {used:?}");
    }

    let subscription = subscribed(&log).await;
    let read_back: BTreeMap<LogPosition, LogRecord> = read(&*subscription, by_position.len())
        .await
        .into_iter()
        .map(|record| (record.position, record))
        .collect();
    assert_eq!(read_back, by_position);
}

/// Case: after `commit(p)`, a new subscription (the first one dropped) starts right after `p`,
/// even when `p` was committed twice; what was read after `p` without a commit comes again.
pub async fn a_new_subscription_resumes_after_the_committed_position(log: Log) {
    let mut records = Vec::new();
    for n in 0..6 {
        records.push(appended(&log, "organisation-b", &format!("command {n}")).await);
    }
    let first = subscribed(&log).await;
    assert_eq!(read(&*first, 3).await, records[..3]);
    first
        .commit(records[2].position)
        .await
        .expect("committing a record again succeeds");
    assert_eq!(read_one_uncommitted(&*first).await, records[3]);
    drop(first);

    let second = subscribed(&log).await;
    assert_eq!(read(&*second, 3).await, records[3..]);
    assert_nothing_more(&*second, Duration::from_secs(1)).await;
}

/// Case: a record read but not committed is delivered again to the next subscription, and the
/// records after it follow in order.
pub async fn records_not_committed_are_delivered_again_to_the_next_subscription(log: Log) {
    let mut records = Vec::new();
    for n in 0..4 {
        records.push(appended(&log, "organisation-c", &format!("command {n}")).await);
    }
    let first = subscribed(&log).await;
    assert_eq!(read_one_uncommitted(&*first).await, records[0]);
    drop(first);

    let second = subscribed(&log).await;
    assert_eq!(read(&*second, 4).await, records);
}

/// Case: a subscription holds the partition of every record it delivers, when it delivers it
/// (while it is the group's only member), under the record's generation, and no partition the
/// log does not have.
pub async fn a_subscription_holds_the_partitions_it_delivers_from(log: Log) {
    let mut count = 0;
    for n in 0..8 {
        appended(&log, &format!("organisation-{n}"), "command").await;
        count += 1;
    }
    let subscription = subscribed(&log).await;
    let subscription = &*subscription;
    read_then(subscription, count, |record| async move {
        let partition = record.position.partition;
        assert_eq!(
            subscription.holding(partition),
            Some(record.generation),
            "delivered from partition {partition} without holding it, or under another holding"
        );
        subscription
            .commit(record.position)
            .await
            .expect("commit succeeds");
    })
    .await;
    assert!(!subscription.holds(log.partitions()));
    assert!(!subscription.holds(u32::MAX));
}

/// Case: tasks calling `next` on one subscription at once each get different records, and
/// together every record.
pub async fn concurrent_readers_of_one_subscription_get_different_records(log: Log) {
    let mut expected = BTreeSet::new();
    for n in 0..12 {
        let record = appended(&log, &format!("organisation-{}", n % 3), &format!("{n}")).await;
        expected.insert(record.position);
    }
    let subscription = subscribed(&log).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let deadline = Instant::now() + READ_LIMIT;
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (subscription, seen) = (subscription.clone(), seen.clone());
            tokio::spawn(async move {
                while seen.lock().expect("no reader panicked").len() < 12
                    && Instant::now() < deadline
                {
                    if let Some(record) = subscription.next(POLL).await.expect("next succeeds") {
                        seen.lock()
                            .expect("no reader panicked")
                            .push(record.position);
                        subscription
                            .commit(record.position)
                            .await
                            .expect("commit succeeds");
                    }
                }
            })
        })
        .collect();
    for reader in readers {
        reader.await.expect("a reader finishes");
    }
    let seen = seen.lock().expect("no reader panicked").clone();
    let distinct: BTreeSet<LogPosition> = seen.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        seen.len(),
        "a record was read twice: {seen:?}"
    );
    assert_eq!(distinct, expected);
}

/// Case: pausing a partition skips and repeats nothing: after `resume`, its records come on
/// after the last one delivered, in order, while the other partitions' records came meanwhile.
/// (A pause is a hint, so records of the paused partition may also come while it is paused: a
/// log that holds a partition's next record back until a commit has nothing to pause.)
pub async fn a_paused_partition_goes_on_after_its_last_delivered_record(log: Log) {
    let mut paused = Vec::new();
    for n in 0..10 {
        paused.push(appended(&log, "organisation-p", &format!("command {n}")).await);
    }
    let partition = paused[0].position.partition;
    let mut others = BTreeSet::new();
    for n in 0..16 {
        let record = appended(&log, &format!("organisation-q{n}"), "other").await;
        if record.position.partition == partition {
            paused.push(record);
        } else {
            others.insert(record.position);
        }
    }
    let subscription = subscribed(&log).await;
    let deadline = Instant::now() + READ_LIMIT;
    let mut of_paused = Vec::new();
    let mut other_seen = BTreeSet::new();
    let mut resumed = false;
    while of_paused.len() < paused.len() || other_seen.len() < others.len() {
        assert!(
            Instant::now() < deadline,
            "within {READ_LIMIT:?}, only {of_paused:?} of the paused partition and \
             {other_seen:?} of {others:?}"
        );
        if of_paused.len() >= 2 && !resumed {
            if other_seen.len() < others.len() {
                subscription.pause(partition);
            } else {
                subscription.resume(partition);
                resumed = true;
            }
        }
        let Some(record) = subscription.next(POLL).await.expect("next succeeds") else {
            continue;
        };
        subscription
            .commit(record.position)
            .await
            .expect("commit succeeds");
        if record.position.partition == partition {
            of_paused.push(as_appended(record));
        } else {
            other_seen.insert(record.position);
        }
    }
    assert_eq!(of_paused, paused);
    assert_eq!(other_seen, others);
    assert_nothing_more(&*subscription, Duration::from_secs(1)).await;
}

/// Case: `lag` counts, per partition held, the records appended and not committed: all of
/// them while none is committed, none after the last one is. (A log may learn the numbers
/// while it is read, so the case keeps reading while it waits for them.)
pub async fn lag_counts_records_appended_but_not_committed(log: Log) {
    let mut records = Vec::new();
    for n in 0..5 {
        records.push(appended(&log, "organisation-d", &format!("command {n}")).await);
    }
    let partition = records[0].position.partition;
    let subscription = subscribed(&log).await;
    let mut read_back = vec![read_one_uncommitted(&*subscription).await];

    lag_becomes(&*subscription, partition, 5, &mut read_back).await;
    for record in &read_back {
        subscription
            .commit(record.position)
            .await
            .expect("commit succeeds");
    }
    read_back.extend(read(&*subscription, records.len() - read_back.len()).await);
    assert_eq!(read_back, records);
    let mut extra = Vec::new();
    lag_becomes(&*subscription, partition, 0, &mut extra).await;
    assert_eq!(extra, [], "a record beyond those appended");
}

/// Waits until `partition`'s lag is `expected`, reading meanwhile: records that come are added
/// to `read_back`, uncommitted.
async fn lag_becomes(
    subscription: &dyn LogSubscription,
    partition: u32,
    expected: u64,
    read_back: &mut Vec<LogRecord>,
) {
    let deadline = Instant::now() + READ_LIMIT;
    loop {
        let lag = subscription.lag();
        if lag.contains(&(partition, expected)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "lag of partition {partition} is not {expected} within {READ_LIMIT:?}: {lag:?}"
        );
        if let Some(record) = subscription.next(POLL).await.expect("next succeeds") {
            read_back.push(as_appended(record));
        }
    }
}

/// Case: two subscriptions of the group, reading a log that keeps receiving records on several
/// partitions, come to hold every partition that receives records between them, each by
/// exactly one of them, and both some.
///
/// (A log may assign a partition only once it has a record to deliver, as NATS JetStream pins a
/// consumer's client then, so records keep coming while the case waits.)
pub async fn subscriptions_of_one_group_share_the_partitions(log: Log) {
    let partitions = log.partitions();
    let (first, second) = (subscribed(&log).await, subscribed(&log).await);
    let keys: Vec<String> = (0..64).map(|n| format!("organisation-{n}")).collect();
    let mut used = BTreeSet::new();
    let deadline = Instant::now() + READ_LIMIT;
    for round in 0.. {
        for key in keys.iter().cycle().skip(round * 8).take(8) {
            used.insert(appended(&log, key, "command").await.position.partition);
        }
        // Both members read, as workers do: a member that does not read takes no part in the
        // group's rebalances.
        tokio::join!(drain(&*first), drain(&*second));
        let first_holds: BTreeSet<u32> = (0..partitions).filter(|&p| first.holds(p)).collect();
        let second_holds: BTreeSet<u32> = (0..partitions).filter(|&p| second.holds(p)).collect();
        let held: BTreeSet<u32> = first_holds.union(&second_holds).copied().collect();
        let shared_fairly = first_holds.is_disjoint(&second_holds)
            && held.is_superset(&used)
            && (partitions < 2 || (!first_holds.is_empty() && !second_holds.is_empty()));
        if shared_fairly {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "partitions {used:?} not shared within {READ_LIMIT:?}: {first_holds:?} and \
             {second_holds:?}"
        );
    }
}

/// Reads and commits what comes within one [`POLL`] wait after another, until a wait brings
/// nothing.
async fn drain(subscription: &dyn LogSubscription) {
    while let Some(record) = subscription.next(POLL).await.expect("next succeeds") {
        subscription
            .commit(record.position)
            .await
            .expect("commit succeeds");
    }
}

/// Case: a log that answers reports healthy.
pub async fn health_check_succeeds_when_the_log_answers(log: Log) {
    log.check_health().await.expect("the log is healthy");
}

/// Runs `operation`, returning its output and how long it took.
async fn timed<T>(operation: impl std::future::Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let output = operation.await;
    (output, started.elapsed())
}

/// Case: with its broker unreachable, `append` and `check_health` answer `Unavailable` within
/// `bound` (never `Ok`, never a hang), and `next` returns within its wait.
pub async fn unreachable_log_is_unavailable_within_its_bound(log: Log, bound: Duration) {
    let (appended, append_took) =
        timed(log.append("command-e", b"organisation-e", b"command")).await;
    let (health, health_took) = timed(log.check_health()).await;
    for (what, answer, took) in [
        ("append", appended.map(|_| ()), append_took),
        ("health check", health, health_took),
    ] {
        assert!(
            matches!(answer, Err(LogError::Unavailable(_))),
            "{what} without a broker answered {answer:?}"
        );
        assert!(
            took <= bound + SLACK,
            "{what} took {took:?}, bound {bound:?}"
        );
    }

    if let Ok(subscription) = log.subscribe().await {
        let wait = Duration::from_millis(500);
        let (next, took) = timed(subscription.next(wait)).await;
        assert!(
            matches!(next, Ok(None) | Err(LogError::Unavailable(_))),
            "{next:?}"
        );
        assert!(took <= wait + SLACK, "next took {took:?}, waiting {wait:?}");
    }
}
