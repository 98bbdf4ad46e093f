//! Attributes the API does not model are stored and returned untouched.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tests::requests::payment_path;
use tests::{new_organisation_id, TestApp};

/// Attributes exercising every JSON shape: nesting, arrays, integer and float numbers, unicode,
/// escapes, null, booleans and empty containers.
fn rich_attributes() -> Value {
    json!({
        "amount": "0010.5",
        "currency": "GBP",
        "beneficiary_party": {
            "account_name": "Zoë Ångström 王秀英",
            "address": ["1 The Beneficiary Localtown SE2", {"line": 2, "flags": [true, false, null]}],
            "account_number_code": "BBAN",
            "account_type": 0,
        },
        "charges_information": {
            "sender_charges": [{"amount": "5.00", "currency": "GBP"}, {"amount": "10.00", "currency": "USD"}],
        },
        "fx": {"exchange_rate": 2.0, "original_amount": 200.42, "tiny": 1e-7, "huge": 1.5e300},
        "integers": [0, -1, 9_223_372_036_854_775_807_i64, i64::MIN],
        "quotes": "she said \"hi\"\n\ttab\\slash \u{2028} 🚀",
        "empty_object": {},
        "empty_array": [],
        "nothing": null,
        "yes": true,
    })
}

fn document(organisation: &str, attributes: &Value) -> Value {
    json!({"data": {"type": "payments", "organisation_id": organisation, "attributes": attributes}})
}

/// Asserts every number keeps its kind: integers stay integers, floats stay floats.
fn assert_number_kinds(attributes: &Value) {
    assert!(
        attributes["beneficiary_party"]["account_type"].is_i64(),
        "{attributes}"
    );
    assert!(
        attributes["beneficiary_party"]["address"][1]["line"].is_i64(),
        "{attributes}"
    );
    for float in ["exchange_rate", "original_amount", "tiny", "huge"] {
        assert!(attributes["fx"][float].is_f64(), "{float}: {attributes}");
    }
    for integer in attributes["integers"].as_array().unwrap() {
        assert!(integer.is_i64(), "{integer}");
    }
}

async fn unmodelled_attributes_round_trip_untouched_through_create_get_and_list(app: TestApp) {
    let organisation = new_organisation_id();
    let attributes = rich_attributes();

    let created = app
        .post("/v1/payments", &document(&organisation, &attributes))
        .await;
    let fetched = app.get(&payment_path(&created.body["data"])).await;
    let listed = app
        .get(&format!(
            "/v1/payments?filter[organisation_id]={organisation}"
        ))
        .await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    for returned in [
        &created.body["data"]["attributes"],
        &fetched.body["data"]["attributes"],
        &listed.body["data"][0]["attributes"],
    ] {
        assert_eq!(*returned, attributes);
        assert_number_kinds(returned);
    }
    assert_eq!(fetched.body["data"]["attributes"]["amount"], "0010.5");
}

async fn unmodelled_attributes_round_trip_untouched_through_update(app: TestApp) {
    let organisation = new_organisation_id();
    let path = payment_path(&app.create_payment(&organisation).await);
    let attributes = rich_attributes();
    let mut replacement = document(&organisation, &attributes);
    replacement["data"]["version"] = json!(0);

    let updated = app.put(&path, &replacement).await;
    let fetched = app.get(&path).await;

    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["data"]["attributes"], attributes);
    assert_eq!(fetched.body["data"]["attributes"], attributes);
    assert_number_kinds(&fetched.body["data"]["attributes"]);
}

async fn integer_and_float_with_the_same_value_stay_distinct(app: TestApp) {
    let organisation = new_organisation_id();
    let body = format!(
        r#"{{"data": {{"organisation_id": "{organisation}",
            "attributes": {{"amount": "1.00", "currency": "GBP", "int": 1, "float": 1.0, "exp": 1e2}}}}}}"#
    );

    let created = app
        .send_raw(Method::POST, "/v1/payments", Some("application/json"), body)
        .await;
    let fetched = app.get(&payment_path(&created.body["data"])).await;

    let attributes = &fetched.body["data"]["attributes"];
    assert!(attributes["int"].is_i64(), "{attributes}");
    assert!(attributes["float"].is_f64(), "{attributes}");
    assert!(attributes["exp"].is_f64(), "{attributes}");
    assert_eq!(attributes["float"].as_f64(), Some(1.0));
    assert_eq!(attributes["exp"].as_f64(), Some(100.0));
}

async fn floats_keep_their_exact_value(app: TestApp) {
    let organisation = new_organisation_id();
    let floats = [
        0.1,
        0.30000000000000004,
        123456.789,
        2.2250738585072014e-308,
        -0.5,
    ];
    let attributes = json!({"amount": "1.00", "currency": "GBP", "floats": floats});

    let created = app
        .post("/v1/payments", &document(&organisation, &attributes))
        .await;
    let fetched = app.get(&payment_path(&created.body["data"])).await;

    let returned: Vec<f64> = fetched.body["data"]["attributes"]["floats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|value| value.as_f64().unwrap())
        .collect();
    assert_eq!(returned, floats);
}

/// NUL ends a key in BSON but is ordinary inside a string value: values keep it (keys with NUL
/// are refused at the edge, see `api_bad_documents`).
async fn string_values_with_nul_and_control_characters_round_trip(app: TestApp) {
    let organisation = new_organisation_id();
    let attributes = json!({
        "amount": "1.00",
        "currency": "GBP",
        "reference": "before\u{0}after",
        "controls": "\u{1}\u{1f}\u{7f}",
        "list": ["\u{0}", "\u{0}\u{0}"],
    });

    let created = app
        .post("/v1/payments", &document(&organisation, &attributes))
        .await;
    let fetched = app.get(&payment_path(&created.body["data"])).await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(fetched.body["data"]["attributes"], attributes);
}

tests::backend_tests!(
    unmodelled_attributes_round_trip_untouched_through_create_get_and_list,
    unmodelled_attributes_round_trip_untouched_through_update,
    integer_and_float_with_the_same_value_stay_distinct,
    floats_keep_their_exact_value,
    string_values_with_nul_and_control_characters_round_trip,
);
