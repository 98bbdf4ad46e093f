//! `GET /v1/payments`: filter, page size, cursor walks and the `next` link.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::json;
use tests::requests::{ids_on_pages, payment_path};
use tests::{new_organisation_id, payment_document, TestApp};

/// Creates `count` payments for `organisation` and returns their ids.
async fn create_many(app: &TestApp, organisation: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        let payment = app.create_payment(organisation).await;
        ids.push(payment["id"].as_str().unwrap().to_owned());
    }
    ids
}

/// Creates a payment with a client-chosen id whose first hex digit is `first`, so it sorts
/// apart from the time-ordered server ids.
async fn create_with_id_starting(app: &TestApp, organisation: &str, first: char) -> String {
    let id = format!("{first}{}", &domain::PaymentId::generate().to_string()[1..]);
    let mut document = payment_document(organisation, "1.00");
    document["data"]["id"] = json!(id);
    let reply = app.post("/v1/payments", &document).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    id
}

fn list_path(organisation: &str, size: Option<usize>) -> String {
    match size {
        Some(size) => {
            format!("/v1/payments?filter[organisation_id]={organisation}&page[size]={size}")
        }
        None => format!("/v1/payments?filter[organisation_id]={organisation}"),
    }
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

async fn list_pages_hold_100_payments_by_default(app: TestApp) {
    let organisation = new_organisation_id();
    let ids = create_many(&app, &organisation, 101).await;

    let pages = app.walk_pages(&list_path(&organisation, None)).await;

    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0]["data"].as_array().unwrap().len(), 100);
    assert_eq!(pages[1]["data"].as_array().unwrap().len(), 1);
    let next = pages[0]["links"]["next"].as_str().unwrap();
    assert!(next.contains("page%5Bsize%5D=100"), "{next}");
    assert_eq!(ids_on_pages(&pages), ids);
}

async fn cursor_walk_sees_every_payment_once_in_ascending_id_order(app: TestApp) {
    let organisation = new_organisation_id();
    let mut ids = create_many(&app, &organisation, 5).await;
    ids.push(create_with_id_starting(&app, &organisation, '0').await);
    ids.push(create_with_id_starting(&app, &organisation, 'f').await);

    let pages = app.walk_pages(&list_path(&organisation, Some(3))).await;

    let sizes: Vec<usize> = pages
        .iter()
        .map(|page| page["data"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [3, 3, 1]);
    let seen = ids_on_pages(&pages);
    assert_eq!(seen, sorted(&ids));
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), ids.len());
    let has_next: Vec<bool> = pages
        .iter()
        .map(|p| p["links"].get("next").is_some())
        .collect();
    assert_eq!(has_next, [true, true, false]);
}

async fn next_is_absent_when_the_last_page_is_exactly_full(app: TestApp) {
    let organisation = new_organisation_id();
    let ids = create_many(&app, &organisation, 6).await;

    for (size, page_count) in [(3, 2), (6, 1), (1, 6), (2, 3)] {
        let pages = app.walk_pages(&list_path(&organisation, Some(size))).await;

        assert_eq!(pages.len(), page_count, "page size {size}");
        assert_eq!(ids_on_pages(&pages), ids, "page size {size}");
        let last = pages.last().unwrap();
        assert!(last["links"].get("next").is_none(), "{last}");
    }
}

async fn list_items_are_the_same_resources_get_returns(app: TestApp) {
    let organisation = new_organisation_id();
    let created = app.create_payment(&organisation).await;

    let reply = app.get(&list_path(&organisation, None)).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.body["data"], json!([created]));
    assert_eq!(app.get(&payment_path(&created)).await.body["data"], created);
}

async fn filter_by_organisation_returns_only_that_organisations_payments(app: TestApp) {
    let (mine, theirs) = (new_organisation_id(), new_organisation_id());
    let my_ids = create_many(&app, &mine, 2).await;
    create_many(&app, &theirs, 3).await;

    let pages = app.walk_pages(&list_path(&mine, Some(1000))).await;

    assert_eq!(ids_on_pages(&pages), my_ids);
    for payment in pages[0]["data"].as_array().unwrap() {
        assert_eq!(payment["organisation_id"], mine.as_str());
    }
}

async fn a_payment_moved_to_another_organisation_is_listed_under_the_new_one(app: TestApp) {
    let (before, after) = (new_organisation_id(), new_organisation_id());
    let created = app.create_payment(&before).await;
    let mut document = payment_document(&after, "1.00");
    document["data"]["version"] = json!(0);
    assert_eq!(
        app.put(&payment_path(&created), &document).await.status,
        StatusCode::OK
    );

    let old_owner = app.get(&list_path(&before, None)).await;
    let new_owner = app.get(&list_path(&after, None)).await;

    assert_eq!(old_owner.body["data"], json!([]));
    assert_eq!(new_owner.body["data"][0]["id"], created["id"]);
    assert_eq!(new_owner.body["data"][0]["version"], 1);
}

async fn organisation_without_payments_lists_empty_without_next(app: TestApp) {
    let reply = app.get(&list_path(&new_organisation_id(), None)).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["data"], json!([]));
    assert!(reply.body["links"]["self"].is_string());
    assert!(reply.body["links"].get("next").is_none(), "{}", reply.body);
}

async fn page_sizes_1_and_1000_are_accepted(app: TestApp) {
    let organisation = new_organisation_id();
    create_many(&app, &organisation, 2).await;

    let smallest = app.get(&list_path(&organisation, Some(1))).await;
    let largest = app.get(&list_path(&organisation, Some(1000))).await;

    assert_eq!(smallest.status, StatusCode::OK);
    assert_eq!(smallest.body["data"].as_array().unwrap().len(), 1);
    assert!(smallest.body["links"]["next"].is_string());
    assert_eq!(largest.status, StatusCode::OK);
    assert_eq!(largest.body["data"].as_array().unwrap().len(), 2);
}

async fn page_size_outside_1_to_1000_returns_400(app: TestApp) {
    for size in ["0", "1001", "-1", "abc", "", "1.5", "99999999999999999999"] {
        let reply = app.get(&format!("/v1/payments?page[size]={size}")).await;

        reply.assert_error(StatusCode::BAD_REQUEST, "invalid_query");
    }
}

async fn malformed_filter_cursor_or_parameters_return_400(app: TestApp) {
    for query in [
        "filter[organisation_id]=not-a-uuid",
        "page[after]=not-a-uuid",
        "page[number]=2",
        "page[size]=5&page[size]=6",
    ] {
        let reply = app.get(&format!("/v1/payments?{query}")).await;

        reply.assert_error(StatusCode::BAD_REQUEST, "invalid_query");
    }
}

async fn unfiltered_list_is_ascending_and_starts_after_the_cursor(app: TestApp) {
    let organisation = new_organisation_id();
    let ids = create_many(&app, &organisation, 3).await;

    let reply = app
        .get(&format!(
            "/v1/payments?page[after]={}&page[size]=1000",
            ids[0]
        ))
        .await;

    assert_eq!(reply.status, StatusCode::OK);
    let listed = ids_on_pages(std::slice::from_ref(&reply.body));
    assert!(listed.iter().all(|id| id > &ids[0]), "{listed:?}");
    assert!(
        listed.windows(2).all(|pair| pair[0] < pair[1]),
        "{listed:?}"
    );
    let position = |id: &String| listed.iter().position(|listed| listed == id);
    assert!(position(&ids[1]).is_some() && position(&ids[1]) < position(&ids[2]));
}

async fn cursor_of_a_deleted_payment_still_continues_the_walk(app: TestApp) {
    let organisation = new_organisation_id();
    let ids = create_many(&app, &organisation, 4).await;
    let first_page = app.get(&list_path(&organisation, Some(2))).await;
    let next = first_page.body["links"]["next"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.delete(&format!("/v1/payments/{}", ids[1])).await.status,
        StatusCode::NO_CONTENT
    );

    let rest = app.walk_pages(&next).await;

    assert_eq!(ids_on_pages(&rest), ids[2..]);
}

async fn payment_created_during_a_walk_is_seen_exactly_once(app: TestApp) {
    let organisation = new_organisation_id();
    let mut ids = create_many(&app, &organisation, 4).await;
    let first_page = app.get(&list_path(&organisation, Some(2))).await;
    let next = first_page.body["links"]["next"]
        .as_str()
        .unwrap()
        .to_owned();
    ids.extend(create_many(&app, &organisation, 1).await);

    let mut pages = vec![first_page.body];
    pages.extend(app.walk_pages(&next).await);

    assert_eq!(ids_on_pages(&pages), ids);
}

tests::backend_tests!(
    list_pages_hold_100_payments_by_default,
    cursor_walk_sees_every_payment_once_in_ascending_id_order,
    next_is_absent_when_the_last_page_is_exactly_full,
    list_items_are_the_same_resources_get_returns,
    filter_by_organisation_returns_only_that_organisations_payments,
    a_payment_moved_to_another_organisation_is_listed_under_the_new_one,
    organisation_without_payments_lists_empty_without_next,
    page_sizes_1_and_1000_are_accepted,
    page_size_outside_1_to_1000_returns_400,
    malformed_filter_cursor_or_parameters_return_400,
    unfiltered_list_is_ascending_and_starts_after_the_cursor,
    cursor_of_a_deleted_payment_still_continues_the_walk,
    payment_created_during_a_walk_is_seen_exactly_once,
);
