//! The command log contract, run against Kafka: each case on a fresh topic and group (see
//! `tests::kafka` for where the broker comes from).

adapters::command_log_contract!(
    tests::kafka::fresh_log,
    unreachable: tests::kafka::unreachable_log,
    within: tests::kafka::UNREACHABLE_APPEND_TIMEOUT,
);
