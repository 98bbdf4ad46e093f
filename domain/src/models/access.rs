//! Tenancy: which organisations' payments a caller may see and change.
//!
//! Authorisation by organisation is a domain rule: every use case takes the caller's [`Access`]
//! and refuses what it does not permit, whichever inbound adapter (HTTP, the command worker)
//! calls it. How a caller proves who it is (a JWT, nothing at all) is the inbound adapter's
//! business; what it may touch is decided here.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::models::OrganisationId;

/// The organisations a caller acts for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Access {
    /// Every organisation: a server without authentication, or a command written before
    /// authentication existed.
    #[default]
    Unrestricted,
    /// These organisations only (sorted, without repeats; possibly none, which permits nothing).
    Organisations(Arc<[OrganisationId]>),
}

/// The caller named an organisation it does not act for (a create or update body, a list
/// filter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error, Serialize, Deserialize)]
#[error("organisation {organisation_id} is not one the caller acts for")]
pub struct Forbidden {
    /// The organisation named.
    pub organisation_id: OrganisationId,
}

impl Access {
    /// Access to exactly `organisations` (order and repeats do not matter).
    pub fn organisations(organisations: impl IntoIterator<Item = OrganisationId>) -> Self {
        let mut held: Vec<OrganisationId> = organisations.into_iter().collect();
        held.sort_unstable();
        held.dedup();
        Self::Organisations(held.into())
    }

    /// Whether the caller may see and change `organisation`'s payments.
    pub fn permits(&self, organisation: OrganisationId) -> bool {
        match self {
            Self::Unrestricted => true,
            Self::Organisations(held) => held.binary_search(&organisation).is_ok(),
        }
    }

    /// `Ok` when the caller acts for `organisation`, else [`Forbidden`].
    pub fn require(&self, organisation: OrganisationId) -> Result<(), Forbidden> {
        match self.permits(organisation) {
            true => Ok(()),
            false => Err(Forbidden {
                organisation_id: organisation,
            }),
        }
    }

    /// The organisations held, or `None` when unrestricted.
    pub fn held(&self) -> Option<&[OrganisationId]> {
        match self {
            Self::Unrestricted => None,
            Self::Organisations(held) => Some(held),
        }
    }

    /// Whether the caller acts for no organisation at all (and so may touch nothing).
    pub fn is_empty(&self) -> bool {
        self.held().is_some_and(<[OrganisationId]>::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(n: u8) -> OrganisationId {
        OrganisationId::parse(&format!("00000000-0000-4000-8000-0000000000{n:02}")).unwrap()
    }

    #[test]
    fn unrestricted_access_permits_every_organisation() {
        assert!(Access::Unrestricted.permits(org(1)));
        assert_eq!(Access::Unrestricted.require(org(2)), Ok(()));
        assert!(!Access::Unrestricted.is_empty());
    }

    #[test]
    fn organisation_access_permits_exactly_the_organisations_held() {
        let access = Access::organisations([org(3), org(1), org(3)]);
        assert_eq!(access.held(), Some(&[org(1), org(3)][..]));
        assert!(access.permits(org(1)) && access.permits(org(3)));
        assert!(!access.permits(org(2)));
        assert_eq!(
            access.require(org(2)),
            Err(Forbidden {
                organisation_id: org(2)
            })
        );
    }

    #[test]
    fn access_to_no_organisation_permits_nothing() {
        let access = Access::organisations([]);
        assert!(access.is_empty());
        assert!(!access.permits(org(1)));
    }
}
