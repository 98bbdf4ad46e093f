//! README's error table is generated from the error catalogue (`ErrorCode`), like the API
//! document's error responses, so the three cannot disagree: this test fails when README differs.
//! Regenerate with `UPDATE_README=1 cargo test -p app --test error_table`.

use std::path::PathBuf;

use app::http::error_code::ErrorCode;

const START: &str = "<!-- error-codes:start -->\n";
const END: &str = "<!-- error-codes:end -->";

/// One row per code, in the catalogue's order.
fn table() -> String {
    let mut table = String::from("| status | `error_code` | when |\n|---|---|---|\n");
    for code in ErrorCode::ALL {
        table.push_str(&format!(
            "| {} | `{}` | {} |\n",
            code.status().as_u16(),
            code.as_str(),
            code.when().replace('|', "\\|")
        ));
    }
    table
}

#[test]
fn the_readme_error_table_matches_the_catalogue() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md is readable");
    let start = readme
        .find(START)
        .expect("README has the error-codes start marker")
        + START.len();
    let end = readme
        .find(END)
        .expect("README has the error-codes end marker");
    let expected = table();

    if readme[start..end] != expected {
        if std::env::var_os("UPDATE_README").is_some() {
            let updated = format!("{}{expected}{}", &readme[..start], &readme[end..]);
            std::fs::write(&path, updated).expect("README.md is writable");
            return;
        }
        panic!(
            "README's error table is stale; regenerate it with \
             `UPDATE_README=1 cargo test -p app --test error_table`. Expected:\n{expected}"
        );
    }
}
