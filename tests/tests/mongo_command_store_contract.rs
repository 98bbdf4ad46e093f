//! The command store contract, run against MongoDB: each case on a fresh database.

adapters::command_store_contract!(tests::mongo::contract_command_store);
