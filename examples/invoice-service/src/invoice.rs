//! Our invoices, and the payment that settles one.

use std::fmt;

use domain::{
    Amount, Currency, OrganisationId, PaymentAttributes, PaymentContent, PaymentId, ValidationError,
};
use serde_json::json;
use uuid::Uuid;

/// The identity of one of our invoices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InvoiceId(Uuid);

impl InvoiceId {
    /// Wraps an invoice's UUID.
    pub const fn new(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The id of the payment that settles this invoice.
    ///
    /// One invoice, one payment: reusing the invoice's UUID as the payment id makes every retry of
    /// a settlement the same create request, which the payments service recognises instead of
    /// paying twice.
    pub const fn payment_id(self) -> PaymentId {
        PaymentId::from_uuid(self.0)
    }
}

impl fmt::Display for InvoiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

/// An invoice one organisation owes us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    /// Our invoice id.
    pub id: InvoiceId,
    /// Our human-facing invoice number, quoted as the payment reference.
    pub number: String,
    /// The organisation that pays.
    pub payer: OrganisationId,
    /// How much.
    pub amount: Amount,
    /// In which currency.
    pub currency: Currency,
}

impl Invoice {
    /// What the payment settling this invoice holds.
    ///
    /// Fails when the payments domain refuses the payment (an amount above the FPS scheme limit,
    /// for instance); the caller reports that as an invoice that cannot be paid this way.
    pub fn payment_content(&self) -> Result<PaymentContent, ValidationError> {
        let attributes = PaymentAttributes::from_value(json!({
            "amount": self.amount.to_string(),
            "currency": self.currency.code(),
            "payment_scheme": "FPS",
            "reference": format!("Invoice {}", self.number),
            "invoice_id": self.id.to_string(),
        }))?;
        Ok(PaymentContent {
            organisation_id: self.payer,
            attributes,
        })
    }
}
