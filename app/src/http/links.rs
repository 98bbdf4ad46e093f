//! Building the URLs that responses link to.

use std::sync::Arc;

use domain::{ListQuery, PaymentId};

use super::json_text::{hyphenated, needs_escape};

/// The path of the command status resources.
pub const COMMANDS_PATH: &str = "/v1/payment-commands";

/// The canonical collection path.
pub const PAYMENTS_PATH: &str = "/v1/payments";

/// Makes links path-absolute, or absolute under a configured public base URL.
#[derive(Debug, Clone)]
pub struct Links {
    // Shared, not copied: the router state (and so this) is cloned for every request.
    base: Arc<str>,
    /// Whether the base holds nothing JSON escapes, so that no link does (the rest of a link is
    /// a fixed path, hex ids, digits and percent-encoding).
    plain: bool,
}

impl Links {
    /// Links under `public_base_url` (e.g. `https://api.example.com`), or path-absolute.
    pub fn new(public_base_url: Option<&str>) -> Self {
        let base = public_base_url.unwrap_or_default().trim_end_matches('/');
        Self {
            plain: !needs_escape(base),
            base: base.into(),
        }
    }

    /// Whether links hold nothing that JSON escapes (true for any base URL written as URLs
    /// are), so they can be copied into a JSON string as they are.
    pub fn are_plain(&self) -> bool {
        self.plain
    }

    /// `/v1/payments/{id}`.
    pub fn payment(&self, id: PaymentId) -> String {
        let id = hyphenated(id.as_uuid());
        let mut link = Vec::with_capacity(self.base.len() + PAYMENTS_PATH.len() + 1 + id.len());
        link.extend_from_slice(self.base.as_bytes());
        link.extend_from_slice(PAYMENTS_PATH.as_bytes());
        link.push(b'/');
        link.extend_from_slice(&id);
        // The base is a `str`, the rest ASCII.
        String::from_utf8(link).unwrap_or_default()
    }

    /// The URL of a command's status resource.
    pub fn command(&self, id: domain::CommandId) -> String {
        format!("{}{COMMANDS_PATH}/{id}", self.base)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_plain_unless_the_base_holds_what_json_escapes() {
        assert!(Links::new(None).are_plain());
        assert!(Links::new(Some("https://api.example.com/base/")).are_plain());
        for base in ["https://x/\"q", "https://x/\\", "https://x/\t"] {
            assert!(!Links::new(Some(base)).are_plain(), "{base:?}");
        }
        let id = PaymentId::generate();
        assert_eq!(
            Links::new(Some("https://api.example.com/")).payment(id),
            format!("https://api.example.com/v1/payments/{id}")
        );
    }
}
