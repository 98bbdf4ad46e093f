//! librdkafka's errors, sorted into the port's two kinds: worth retrying, or refused for good.

use std::time::Duration;

use domain::LogError;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// `error` from `what` (e.g. "append") as a [`LogError`]: a record too large is
/// [`LogError::TooLarge`], the other refusals no retry can change are
/// [`LogError::Internal`]; everything else (timeouts, brokers down, leaders moving, a group
/// rebalancing) is [`LogError::Unavailable`].
pub(super) fn log_error(what: &str, error: &KafkaError) -> LogError {
    use RDKafkaErrorCode as Code;
    if let Some(Code::MessageSizeTooLarge | Code::InvalidMessageSize) = error.rdkafka_error_code() {
        return LogError::TooLarge(format!("{what}: {error}"));
    }
    let permanent = match error {
        KafkaError::ClientConfig(..) | KafkaError::ClientCreation(_) | KafkaError::Nul(_) => true,
        KafkaError::MessageConsumptionFatal(_) => true,
        other => other.rdkafka_error_code().is_some_and(is_permanent),
    };
    let too_large = matches!(
        error.rdkafka_error_code(),
        Some(RDKafkaErrorCode::MessageSizeTooLarge | RDKafkaErrorCode::InvalidMessageSize)
    );
    if too_large {
        LogError::TooLarge(format!("{what}: {error}"))
    } else if permanent {
        LogError::Internal(format!("{what}: {error}"))
    } else {
        LogError::Unavailable(format!("{what}: {error}"))
    }
}

/// The codes that mean "this request will never succeed as it is".
fn is_permanent(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode as Code;
    matches!(
        code,
        Code::Fatal
            | Code::InvalidArgument
            | Code::BadMessage
            | Code::InvalidMessage
            | Code::InvalidMessageSize
            | Code::MessageSizeTooLarge
            | Code::InvalidRecord
            | Code::InvalidTopic
            | Code::InvalidRequiredAcks
            | Code::InvalidRequest
            | Code::InvalidConfig
            | Code::UnsupportedVersion
            | Code::UnsupportedForMessageFormat
            | Code::TopicAuthorizationFailed
            | Code::ClusterAuthorizationFailed
            | Code::Authentication
            | Code::SaslAuthenticationFailed
            | Code::PolicyViolation
            | Code::InvalidPartitions
            | Code::InvalidReplicationFactor
    )
}

/// The answer for an operation that did not finish within `bound`.
pub(super) fn timed_out(what: &str, bound: Duration) -> LogError {
    LogError::Unavailable(format!(
        "{what}: no answer from Kafka within {} ms",
        bound.as_millis()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broker_that_does_not_answer_is_unavailable() {
        for code in [
            RDKafkaErrorCode::MessageTimedOut,
            RDKafkaErrorCode::AllBrokersDown,
            RDKafkaErrorCode::BrokerTransportFailure,
            RDKafkaErrorCode::NotLeaderForPartition,
            RDKafkaErrorCode::QueueFull,
            RDKafkaErrorCode::UnknownTopicOrPartition,
            RDKafkaErrorCode::RebalanceInProgress,
        ] {
            let error = log_error("append", &KafkaError::MessageProduction(code));
            assert!(matches!(error, LogError::Unavailable(_)), "{code:?}");
        }
    }

    #[test]
    fn a_record_the_broker_can_never_take_is_internal() {
        let error = log_error(
            "append",
            &KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge),
        );
        assert!(matches!(error, LogError::TooLarge(_)), "{error:?}");
        for code in [
            RDKafkaErrorCode::TopicAuthorizationFailed,
            RDKafkaErrorCode::Fatal,
        ] {
            let error = log_error("append", &KafkaError::MessageProduction(code));
            assert!(matches!(error, LogError::Internal(_)), "{code:?}");
        }
    }

    #[test]
    fn a_record_larger_than_the_broker_takes_is_too_large() {
        for code in [
            RDKafkaErrorCode::MessageSizeTooLarge,
            RDKafkaErrorCode::InvalidMessageSize,
        ] {
            let error = log_error("append", &KafkaError::MessageProduction(code));
            assert!(matches!(error, LogError::TooLarge(_)), "{code:?}");
        }
    }
}
