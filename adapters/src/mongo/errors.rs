//! Driver errors mapped onto the port's [`RepositoryError`]: what a retry may cure is
//! `Unavailable` (503), everything else `Internal` (500, details in the log only).

use std::collections::HashMap;
use std::time::Duration;

use domain::RepositoryError;
use mongodb::error::{Error, ErrorKind, WriteFailure};

/// The duplicate-key error code (E11000).
const DUPLICATE_KEY: i32 = 11000;
/// "Collection already exists".
const NAMESPACE_EXISTS: i32 = 48;

/// Server error codes that mean "this node cannot serve you right now": not (or no longer)
/// primary, shutting down, interrupted, network trouble seen by the server, time limits.
/// From the MongoDB error-code list and the driver's SDAM retry rules.
const TRANSIENT_CODES: [i32; 16] = [
    6,     // HostUnreachable
    7,     // HostNotFound
    50,    // MaxTimeMSExpired
    64,    // WriteConcernFailed (wtimeout)
    89,    // NetworkTimeout
    91,    // ShutdownInProgress
    134,   // ReadConcernMajorityNotAvailableYet
    189,   // PrimarySteppedDown
    262,   // ExceededTimeLimit
    9001,  // SocketException
    10058, // LegacyNotPrimary
    10107, // NotWritablePrimary
    11600, // InterruptedAtShutdown
    11602, // InterruptedDueToReplStateChange
    13435, // NotPrimaryNoSecondaryOk
    13436, // NotPrimaryOrSecondary
];

/// Whether `error` is a duplicate key on insert.
pub(super) fn is_duplicate_key(error: &Error) -> bool {
    match error.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(write)) => write.code == DUPLICATE_KEY,
        ErrorKind::Command(command) => command.code == DUPLICATE_KEY,
        _ => false,
    }
}

/// Whether an unordered `insert_many` failed only because some ids were taken (every other
/// document was inserted).
pub(super) fn is_only_duplicate_keys(error: &Error) -> bool {
    match insert_many_failures(error) {
        Some(failures) => {
            !failures.is_empty()
                && failures
                    .values()
                    .all(|failure| *failure == InsertFailure::Taken)
        }
        None => is_duplicate_key(error),
    }
}

/// How the documents of an unordered `insert_many` that failed fared, by their index in the
/// call: a document absent from the map was inserted. `None` when the call failed as a whole
/// (or its write concern did), so that nothing can be said per document.
pub(super) fn insert_many_failures(error: &Error) -> Option<HashMap<usize, InsertFailure>> {
    match error.kind.as_ref() {
        ErrorKind::InsertMany(failure) if failure.write_concern_error.is_none() => Some(
            failure
                .write_errors
                .iter()
                .flatten()
                .map(|e| {
                    let failure = match e.code {
                        DUPLICATE_KEY => InsertFailure::Taken,
                        _ => InsertFailure::Refused(format!("MongoDB: {}", e.message)),
                    };
                    (e.index, failure)
                })
                .collect(),
        ),
        _ => None,
    }
}

/// How one document of an insert went, when it was not refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Written {
    /// Inserted.
    Inserted,
    /// Not inserted: its `_id` (or another unique key) is taken.
    Taken,
}

/// How each of the `count` documents of an unordered `insert_many` fared, in their order, from
/// the call's result: a call that failed as a whole (or whose write concern did) fails every
/// document, which may or may not be stored.
pub(super) fn insert_many_answers<T>(
    result: &Result<T, Error>,
    count: usize,
) -> Vec<Result<Written, RepositoryError>> {
    let failures = match result {
        Ok(_) => HashMap::new(),
        Err(error) => match insert_many_failures(error) {
            Some(failures) => failures,
            None => return vec![Err(repository_error(error)); count],
        },
    };
    (0..count)
        .map(|index| match failures.get(&index) {
            None => Ok(Written::Inserted),
            Some(InsertFailure::Taken) => Ok(Written::Taken),
            Some(InsertFailure::Refused(message)) => {
                Err(RepositoryError::Internal(message.clone()))
            }
        })
        .collect()
}

/// Why one document of an `insert_many` was not inserted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum InsertFailure {
    /// Its `_id` was taken.
    Taken,
    /// Refused otherwise (the server's message).
    Refused(String),
}

/// Whether `error` says the collection to create exists already (code 48, NamespaceExists).
pub(super) fn is_namespace_exists(error: &Error) -> bool {
    matches!(error.kind.as_ref(), ErrorKind::Command(command) if command.code == NAMESPACE_EXISTS)
}

/// Whether a retry of the operation, later, may succeed.
pub(super) fn is_transient(error: &Error) -> bool {
    let code = match error.kind.as_ref() {
        ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::ServerSelection { .. }
        | ErrorKind::DnsResolve { .. } => return true,
        ErrorKind::Command(command) => Some(command.code),
        ErrorKind::Write(WriteFailure::WriteConcernError(concern)) => Some(concern.code),
        _ => None,
    };
    code.is_some_and(|code| TRANSIENT_CODES.contains(&code))
        || error.contains_label(mongodb::error::RETRYABLE_WRITE_ERROR)
}

/// The port's error for a driver error.
pub(super) fn repository_error(error: &Error) -> RepositoryError {
    if is_transient(error) {
        RepositoryError::Unavailable(format!("MongoDB: {error}"))
    } else {
        RepositoryError::Internal(format!("MongoDB: {error}"))
    }
}

/// The port's error for an operation that did not finish within `limit`.
pub(super) fn timed_out(limit: Duration) -> RepositoryError {
    RepositoryError::Unavailable(format!(
        "MongoDB did not answer within {} ms",
        limit.as_millis()
    ))
}

#[cfg(test)]
mod tests {
    use mongodb::bson::{doc, from_document};
    use mongodb::error::{CommandError, WriteConcernError, WriteError};

    use super::*;

    fn command_error(code: i32) -> Error {
        let command: CommandError =
            from_document(doc! {"code": code, "codeName": "X", "errmsg": "from the server"})
                .unwrap();
        ErrorKind::Command(command).into()
    }

    fn write_error(code: i32) -> Error {
        let write: WriteError = from_document(doc! {"code": code, "errmsg": "E11000"}).unwrap();
        ErrorKind::Write(WriteFailure::WriteError(write)).into()
    }

    fn insert_many_error(codes: &[(usize, i32)], concern: bool) -> Error {
        let errors: Vec<_> = codes
            .iter()
            .map(|&(index, code)| doc! {"index": index as i64, "code": code, "errmsg": "refused"})
            .collect();
        let mut failure = doc! {"writeErrors": errors};
        if concern {
            failure.insert(
                "writeConcernError",
                doc! {"code": 64, "codeName": "X", "errmsg": "concern"},
            );
        }
        ErrorKind::InsertMany(from_document(failure).unwrap()).into()
    }

    #[test]
    fn an_insert_many_failure_is_told_per_document_unless_its_write_concern_failed() {
        let error = insert_many_error(&[(0, DUPLICATE_KEY), (2, 121)], false);
        let failures = insert_many_failures(&error).unwrap();
        assert_eq!(failures.len(), 2);
        assert_eq!(failures[&0], InsertFailure::Taken);
        assert_eq!(
            failures[&2],
            InsertFailure::Refused("MongoDB: refused".into())
        );
        assert!(!is_only_duplicate_keys(&error));
        let taken = insert_many_error(&[(1, DUPLICATE_KEY), (3, DUPLICATE_KEY)], false);
        assert!(is_only_duplicate_keys(&taken));
        let concern = insert_many_error(&[(1, DUPLICATE_KEY)], true);
        assert_eq!(insert_many_failures(&concern), None);
        assert!(!is_only_duplicate_keys(&concern));
        assert!(is_only_duplicate_keys(&write_error(DUPLICATE_KEY)));
        assert_eq!(insert_many_failures(&write_error(DUPLICATE_KEY)), None);
    }

    #[test]
    fn an_insert_many_is_answered_per_document_in_order() {
        let inserted: Result<(), Error> = Ok(());
        assert_eq!(
            insert_many_answers(&inserted, 2),
            vec![Ok(Written::Inserted), Ok(Written::Inserted)]
        );
        let mixed: Result<(), Error> =
            Err(insert_many_error(&[(1, DUPLICATE_KEY), (2, 121)], false));
        assert_eq!(
            insert_many_answers(&mixed, 3),
            vec![
                Ok(Written::Inserted),
                Ok(Written::Taken),
                Err(RepositoryError::Internal("MongoDB: refused".into())),
            ]
        );
        let concern: Result<(), Error> = Err(insert_many_error(&[(0, DUPLICATE_KEY)], true));
        let whole = repository_error(concern.as_ref().unwrap_err());
        assert_eq!(
            insert_many_answers(&concern, 2),
            vec![Err(whole.clone()), Err(whole)]
        );
    }

    fn write_concern_error(code: i32) -> Error {
        let concern: WriteConcernError =
            from_document(doc! {"code": code, "codeName": "X", "errmsg": "concern"}).unwrap();
        ErrorKind::Write(WriteFailure::WriteConcernError(concern)).into()
    }

    #[test]
    fn network_failures_are_unavailable() {
        for kind in [
            std::io::ErrorKind::ConnectionRefused,
            std::io::ErrorKind::ConnectionReset,
            std::io::ErrorKind::TimedOut,
        ] {
            let error = Error::from(kind);
            assert!(matches!(
                repository_error(&error),
                RepositoryError::Unavailable(_)
            ));
        }
    }

    #[test]
    fn not_primary_and_shutdown_codes_are_unavailable() {
        for code in [10107, 13435, 11600, 91, 189, 50] {
            assert!(
                matches!(
                    repository_error(&command_error(code)),
                    RepositoryError::Unavailable(_)
                ),
                "code {code}"
            );
        }
        assert!(matches!(
            repository_error(&write_concern_error(64)),
            RepositoryError::Unavailable(_)
        ));
    }

    #[test]
    fn other_server_errors_are_internal() {
        // 2 BadValue, 13 Unauthorized, 100 UnsatisfiableWriteConcern (a misconfiguration).
        for error in [
            command_error(2),
            command_error(13),
            write_concern_error(100),
            write_error(121),
        ] {
            assert!(matches!(
                repository_error(&error),
                RepositoryError::Internal(_)
            ));
        }
    }

    #[test]
    fn duplicate_key_is_recognised_only_for_code_11000() {
        assert!(is_duplicate_key(&write_error(11000)));
        assert!(is_duplicate_key(&command_error(11000)));
        assert!(!is_duplicate_key(&write_error(121)));
        assert!(!is_duplicate_key(&Error::from(
            std::io::ErrorKind::ConnectionRefused
        )));
    }

    #[test]
    fn namespace_exists_is_recognised_only_for_code_48() {
        assert!(is_namespace_exists(&command_error(48)));
        assert!(!is_namespace_exists(&command_error(11000)));
    }

    #[test]
    fn a_timeout_is_unavailable_and_names_the_limit() {
        let error = timed_out(Duration::from_millis(1500));
        assert_eq!(
            error,
            RepositoryError::Unavailable("MongoDB did not answer within 1500 ms".into())
        );
    }
}
