//! The repository contract, run against MongoDB: each case on a fresh database (see
//! `tests::mongo` for where the server comes from).

adapters::payment_repository_contract!(tests::mongo::contract_repository);
