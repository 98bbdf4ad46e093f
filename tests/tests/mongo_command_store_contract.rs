//! The command store contract, run against MongoDB: each case on a fresh database.

adapters::command_store_contract!(tests::mongo::contract_command_store);

/// A page document expires with its latest record, so it may outlive an older record's
/// retention (and that record's finished copy): such a record is not read from the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_past_retention_is_not_read_from_its_page() {
    // The contract store keeps records an hour.
    let store = tests::mongo::contract_command_store().await;
    let page = domain::CommandPage::generate();
    let now = domain::Timestamp::now().as_millis();
    let record = |accepted_ms: u64| domain::CommandRecord {
        id: page.id(),
        accepted_at: domain::Timestamp::from_millis(accepted_ms),
        ..adapters::command_store_contract::sample_record()
    };
    let (old, recent) = (record(now - 2 * 3_600_000), record(now));
    store
        .record_accepted(&[old.clone(), recent.clone()])
        .await
        .unwrap();
    assert_eq!(store.find(recent.id).await.unwrap(), Some(recent));
    assert_eq!(store.find(old.id).await.unwrap(), None);
}

/// A command finished before outcomes were filed by page has a document of its own in the
/// commands collection: it is read as it is, and as the first outcome (a later one is refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outcome_stored_as_a_document_of_its_own_stays_the_first() {
    use domain::{CommandOutcome, CommandStore, Timestamp, Version};
    use mongodb::bson::{doc, DateTime};

    let database = tests::mongo::TestDatabase::create().await;
    let store = database
        .repository()
        .await
        .command_store("payment_commands", std::time::Duration::from_secs(3600));
    let record = adapters::command_store_contract::sample_record();
    let accepted_at = DateTime::from_millis(record.accepted_at.as_millis() as i64);
    let finished_at = Timestamp::from_millis(record.accepted_at.as_millis() + 5);
    // The document the store wrote for a finished command until outcomes were filed by page.
    let collection = database.collection("payment_commands").await;
    collection
        .insert_one(doc! {
            "_id": record.id.to_string(),
            "state": "finished",
            "finished_at": DateTime::from_millis(finished_at.as_millis() as i64),
            "outcome": {"kind": "created", "detail": {"version": 1}},
            "action": record.action.as_str(),
            "payment_id": record.payment_id.to_string(),
            "organisation_id": record.organisation_id.to_string(),
            "accepted_at": accepted_at,
        })
        .await
        .unwrap();
    let first = record.clone().finished(
        CommandOutcome::Created {
            version: Version::new(1).unwrap(),
        },
        finished_at,
    );
    assert_eq!(store.find(record.id).await.unwrap(), Some(first.clone()));
    assert_eq!(
        store.find_finished_many(&[record.id]).await.unwrap(),
        vec![first.clone()]
    );

    let later = record.clone().finished(
        CommandOutcome::Updated {
            version: Version::new(2).unwrap(),
        },
        Timestamp::now(),
    );
    let answers = store.record_finished_many(&[later]).await;
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].as_ref().unwrap(), &first);
    assert_eq!(store.find(record.id).await.unwrap(), Some(first));
}
