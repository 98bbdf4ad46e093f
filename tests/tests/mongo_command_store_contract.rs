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
