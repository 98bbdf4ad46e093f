//! Settling invoices by paying them, and cancelling a settlement.

use std::sync::Arc;

use domain::{
    CreatePaymentError, DeletePaymentError, NewPayment, PaymentId, PaymentRepository,
    PaymentService, RepositoryError, ValidationError, Version,
};
use thiserror::Error;

use crate::invoice::{Invoice, InvoiceId};

/// The payment that settles an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// The payment.
    pub payment_id: PaymentId,
    /// Its version: what [`InvoiceSettler::cancel`] must be given.
    pub version: Version,
    /// `true` when an earlier call had already settled the invoice (a retry).
    pub already_settled: bool,
}

/// Why an invoice could not be settled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SettleError {
    /// The payments domain refuses a payment for this invoice.
    #[error("invoice {invoice} cannot be paid: {reason}")]
    Unpayable {
        /// The invoice.
        invoice: InvoiceId,
        /// What the payments domain refused.
        reason: ValidationError,
    },
    /// The invoice was already settled by a payment with other terms (its amount changed since).
    #[error("invoice {invoice} was already settled with different terms")]
    SettledDifferently {
        /// The invoice.
        invoice: InvoiceId,
    },
    /// Payments could not be reached; the same call may be retried later.
    #[error("payments are unavailable, try again later")]
    TryAgainLater,
    /// Payments failed in a way a retry will not fix.
    #[error("payments failed: {0}")]
    Failed(String),
}

/// Why a settlement could not be cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CancelError {
    /// The invoice has no settlement to cancel.
    #[error("invoice {invoice} is not settled")]
    NotSettled {
        /// The invoice.
        invoice: InvoiceId,
    },
    /// The payment changed after the caller looked at it; they must look again before cancelling.
    #[error("the payment for invoice {invoice} changed: seen version {seen}, now {current}")]
    ChangedMeanwhile {
        /// The invoice.
        invoice: InvoiceId,
        /// The version the caller saw.
        seen: Version,
        /// The version stored now.
        current: Version,
    },
    /// Payments could not be reached; the same call may be retried later.
    #[error("payments are unavailable, try again later")]
    TryAgainLater,
    /// Payments failed in a way a retry will not fix.
    #[error("payments failed: {0}")]
    Failed(String),
}

/// Our use case on top of the payments domain: one invoice is settled by exactly one payment.
#[derive(Clone)]
pub struct InvoiceSettler {
    payments: PaymentService,
}

impl InvoiceSettler {
    /// A settler storing payments in `repository`: production storage in the binary, the
    /// in-memory repository or a mock in tests.
    pub fn new(repository: Arc<dyn PaymentRepository>) -> Self {
        Self {
            payments: PaymentService::new(repository),
        }
    }

    /// Pays `invoice`. Safe to retry: settling an invoice again returns the existing settlement.
    pub async fn settle(&self, invoice: &Invoice) -> Result<Settlement, SettleError> {
        let content = invoice
            .payment_content()
            .map_err(|reason| SettleError::Unpayable {
                invoice: invoice.id,
                reason,
            })?;
        let request = NewPayment {
            id: Some(invoice.id.payment_id()),
            content,
        };
        match self.payments.create(request).await {
            Ok(created) => Ok(Settlement {
                payment_id: created.payment.id(),
                version: created.payment.version(),
                already_settled: !created.newly_created,
            }),
            Err(CreatePaymentError::Conflict { .. }) => Err(SettleError::SettledDifferently {
                invoice: invoice.id,
            }),
            Err(CreatePaymentError::Storage(error)) => Err(match storage_failure(error) {
                Retry::Later => SettleError::TryAgainLater,
                Retry::Never(detail) => SettleError::Failed(detail),
            }),
            // `create` acts for every organisation; only `create_as` refuses one.
            Err(CreatePaymentError::Forbidden(refused)) => {
                Err(SettleError::Failed(refused.to_string()))
            }
        }
    }

    /// Cancels the settlement of `invoice`, but only if its payment is still at `seen`, the
    /// version the caller based the decision on.
    pub async fn cancel(&self, invoice: InvoiceId, seen: Version) -> Result<(), CancelError> {
        match self.payments.delete(invoice.payment_id(), Some(seen)).await {
            Ok(()) => Ok(()),
            Err(DeletePaymentError::NotFound { .. }) => Err(CancelError::NotSettled { invoice }),
            Err(DeletePaymentError::VersionConflict { actual, .. }) => {
                Err(CancelError::ChangedMeanwhile {
                    invoice,
                    seen,
                    current: actual,
                })
            }
            Err(DeletePaymentError::Storage(error)) => Err(match storage_failure(error) {
                Retry::Later => CancelError::TryAgainLater,
                Retry::Never(detail) => CancelError::Failed(detail),
            }),
        }
    }
}

/// Whether a storage failure is worth retrying.
enum Retry {
    Later,
    Never(String),
}

fn storage_failure(error: RepositoryError) -> Retry {
    match error {
        RepositoryError::Unavailable(_) => Retry::Later,
        RepositoryError::Internal(detail) | RepositoryError::TooLarge(detail) => {
            Retry::Never(detail)
        }
    }
}

#[cfg(test)]
mod tests;
