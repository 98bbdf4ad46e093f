//! Unit tests of the configuration: defaults, overrides and refused values.

use super::*;

#[test]
fn defaults_are_the_documented_ones() {
    let config = Config::defaults();
    assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 8080)));
    assert_eq!(config.storage, StorageKind::Memory);
    assert_eq!(config.max_body_bytes, 1_048_576);
    assert_eq!(config.mongo_database, "payment");
    assert!(config.mongo_journal);
}

#[test]
fn flags_override_defaults() {
    let config = Config::try_parse_from([
        "payment-server",
        "--storage",
        "mongo",
        "--listen",
        "0.0.0.0:9000",
        "--mongo-journal",
        "false",
    ])
    .unwrap();
    assert_eq!(config.storage, StorageKind::Mongo);
    assert_eq!(config.listen.port(), 9000);
    assert!(!config.mongo_journal);
}

#[test]
fn limits_that_would_refuse_every_request_are_rejected() {
    for args in [
        ["--max-concurrent-requests", "0"],
        ["--max-concurrent-requests", "1000001"],
        ["--request-timeout-ms", "0"],
        ["--mongo-max-detached-operations", "0"],
        ["--nats-partitions", "0"],
        ["--nats-partitions", "1025"],
        ["--nats-replicas", "6"],
        ["--nats-ack-wait-ms", "10"],
        ["--nats-max-deliver", "0"],
    ] {
        let parsed = Config::try_parse_from(["payment-server", args[0], args[1]]);
        assert!(parsed.is_err(), "{args:?} should be refused");
    }
}
