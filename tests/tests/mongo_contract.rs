//! The repository contract, run against MongoDB: each case on a fresh database (see
//! `tests::mongo` for where the server comes from).

adapters::payment_repository_contract!(tests::mongo::contract_repository);

/// The same contract on a repository that writes concurrent inserts together (as in async mode).
mod batched_inserts {
    adapters::payment_repository_contract!(tests::mongo::batched_contract_repository);
}
