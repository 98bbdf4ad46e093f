//! `GET /v1/payments`.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use domain::{ListQuery, OrganisationId, PageSize, PaymentId};

use crate::auth::Caller;
use crate::http::error::ApiError;
use crate::http::extract::{query_integer, query_pairs};
use crate::http::openapi::{params::ListParams, responses, PAYMENTS_TAG};
use crate::http::response;
use crate::http::state::AppState;

/// Lists payments in ascending id order, one page at a time.
#[utoipa::path(
    get,
    path = "/v1/payments",
    tag = PAYMENTS_TAG,
    operation_id = "list_payments",
    params(ListParams),
    responses(responses::ListPayments)
)]
pub async fn list_payments(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let query = parse_list_query(query.as_deref())?;
    let page = state.service.list_as(&caller.access, &query).await?;
    Ok(response::page(
        &page.items,
        &query,
        page.next_cursor(),
        &state.links,
    ))
}

fn parse_list_query(raw: Option<&str>) -> Result<ListQuery, ApiError> {
    let mut query = ListQuery::default();
    for (name, value) in query_pairs(raw)? {
        match name.as_str() {
            "filter[organisation_id]" => {
                let organisation = OrganisationId::parse(&value).map_err(|_| {
                    ApiError::invalid_query(format!(
                        "filter[organisation_id] must be a UUID, got {value:?}"
                    ))
                })?;
                query.organisation_id = Some(organisation);
            }
            "page[size]" => {
                query.page_size = PageSize::new(query_integer("page[size]", &value)?)
                    .map_err(|e| ApiError::invalid_query(e.message))?;
            }
            "page[after]" => {
                let after = PaymentId::parse(&value).map_err(|_| {
                    ApiError::invalid_query(format!(
                        "page[after] must be a payment id, got {value:?}"
                    ))
                })?;
                query.after = Some(after);
            }
            _ => {
                return Err(ApiError::invalid_query(format!(
                    "unknown query parameter {name:?}"
                )))
            }
        }
    }
    Ok(query)
}
