//! Building the URLs that responses link to.

use std::sync::Arc;

use domain::{ListQuery, PaymentId};

/// The canonical collection path.
pub const PAYMENTS_PATH: &str = "/v1/payments";

/// Makes links path-absolute, or absolute under a configured public base URL.
#[derive(Debug, Clone, Default)]
pub struct Links {
    // Shared, not copied: the router state (and so this) is cloned for every request.
    base: Arc<str>,
}

impl Links {
    /// Links under `public_base_url` (e.g. `https://api.example.com`), or path-absolute.
    pub fn new(public_base_url: Option<&str>) -> Self {
        Self {
            base: public_base_url
                .unwrap_or_default()
                .trim_end_matches('/')
                .into(),
        }
    }

    /// `/v1/payments/{id}`.
    pub fn payment(&self, id: PaymentId) -> String {
        format!("{}{PAYMENTS_PATH}/{id}", self.base)
    }

    /// The list URL for `query`, with every parameter spelled out.
    pub fn page(&self, query: &ListQuery) -> String {
        let mut params = Vec::new();
        if let Some(organisation) = query.organisation_id {
            params.push(format!("filter%5Borganisation_id%5D={organisation}"));
        }
        params.push(format!("page%5Bsize%5D={}", query.page_size.get()));
        if let Some(after) = query.after {
            params.push(format!("page%5Bafter%5D={after}"));
        }
        format!("{}{PAYMENTS_PATH}?{}", self.base, params.join("&"))
    }
}
