//! Listing payments page by page.

use crate::errors::FieldError;
use crate::models::{OrganisationId, Payment, PaymentId};

/// How many payments one page holds: 1 to 1000, 100 by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(u16);

impl PageSize {
    /// The smallest page.
    pub const MIN: u16 = 1;
    /// The largest page.
    pub const MAX: u16 = 1000;
    /// The page size when none is asked for.
    pub const DEFAULT: PageSize = PageSize(100);

    /// A page size; fails outside 1..=1000.
    pub fn new(size: u64) -> Result<Self, FieldError> {
        u16::try_from(size)
            .ok()
            .filter(|size| (Self::MIN..=Self::MAX).contains(size))
            .map(Self)
            .ok_or_else(|| {
                FieldError::new(
                    "",
                    format!("page size must be between {} and {}", Self::MIN, Self::MAX),
                )
            })
    }

    /// The number of payments.
    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

impl Default for PageSize {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Which payments to list: optionally one organisation's, in ascending id order, after a cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListQuery {
    /// Only this organisation's payments.
    pub organisation_id: Option<OrganisationId>,
    /// Only payments whose id sorts after this one (the previous page's last id).
    pub after: Option<PaymentId>,
    /// At most this many.
    pub page_size: PageSize,
}

/// One page of payments in ascending id order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The payments.
    pub items: Vec<Payment>,
    /// Whether more payments match after the last one.
    pub has_more: bool,
}

impl Page {
    /// The cursor for the next page, if there is one.
    pub fn next_cursor(&self) -> Option<PaymentId> {
        self.has_more
            .then(|| self.items.last().map(Payment::id))
            .flatten()
    }
}
