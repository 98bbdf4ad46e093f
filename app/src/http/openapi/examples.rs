//! Example values shown in the API document (the README's tour payment).

use serde_json::{json, Value};

/// The example payment's id.
pub const PAYMENT_ID: &str = "4ee3a8d8-ca7b-4290-a52c-dd5b6165ec43";
/// The example payment's organisation.
pub const ORGANISATION_ID: &str = "743d5b63-8e6f-432e-a8fa-c5d8d2ee5fcb";

/// Example attributes, unmodelled fields included.
pub fn attributes() -> Value {
    json!({
        "amount": "100.21",
        "currency": "GBP",
        "payment_scheme": "FPS",
        "processing_date": "2026-11-26",
        "reference": "Payment for Em's piano lessons",
        "beneficiary_party": {"account_name": "W Owens", "account_number": "31926819"},
        "debtor_party": {"account_name": "EJ Brown Black", "account_number": "GB29XABC10161234567801"}
    })
}

/// An example create request.
pub fn create_request() -> Value {
    json!({
        "data": {
            "type": "payments",
            "id": PAYMENT_ID,
            "organisation_id": ORGANISATION_ID,
            "attributes": attributes()
        }
    })
}

/// An example update request (of version 0). It leaves out `data.id`, which is optional and
/// must equal the path id, so the example fits any path.
pub fn update_request() -> Value {
    let mut attributes = attributes();
    attributes["amount"] = json!("120.00");
    json!({
        "data": {
            "version": 0,
            "organisation_id": ORGANISATION_ID,
            "attributes": attributes
        }
    })
}

/// The example payment as returned.
pub fn payment_response() -> Value {
    json!({
        "data": {
            "type": "payments",
            "id": PAYMENT_ID,
            "version": 0,
            "organisation_id": ORGANISATION_ID,
            "attributes": attributes()
        },
        "links": {"self": format!("/v1/payments/{PAYMENT_ID}")}
    })
}

/// The example payment after the example update.
pub fn updated_response() -> Value {
    let mut response = payment_response();
    response["data"]["version"] = json!(1);
    response["data"]["attributes"]["amount"] = json!("120.00");
    response
}

/// An example page of payments.
pub fn list_response() -> Value {
    let payment = payment_response()["data"].clone();
    json!({
        "data": [payment],
        "links": {
            "self": format!("/v1/payments?filter%5Borganisation_id%5D={ORGANISATION_ID}&page%5Bsize%5D=1"),
            "next": format!("/v1/payments?filter%5Borganisation_id%5D={ORGANISATION_ID}&page%5Bsize%5D=1&page%5Bafter%5D={PAYMENT_ID}")
        }
    })
}

/// A command's status resource, applied.
pub fn command_response() -> Value {
    json!({
        "data": {
            "type": "payment_commands",
            "id": "01939a4e-8f3c-7cc2-9d4e-5b1f0a2c3d4e",
            "status": "applied",
            "action": "update",
            "payment_id": PAYMENT_ID,
            "organisation_id": ORGANISATION_ID,
            "accepted_at": "2026-12-07T10:15:30.123000Z",
            "finished_at": "2026-12-07T10:15:30.141000Z",
            "result": {"status": 200, "version": 1}
        },
        "links": {
            "self": "/v1/payment-commands/01939a4e-8f3c-7cc2-9d4e-5b1f0a2c3d4e",
            "payment": format!("/v1/payments/{PAYMENT_ID}")
        }
    })
}
