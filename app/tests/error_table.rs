//! README's error table is generated from the error catalogue (`ErrorCode`), like the API
//! document's error responses, so the three cannot disagree: this test fails when README differs.
//! Regenerate with `UPDATE_README=1 cargo test -p app --test error_table`.

mod support;

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
    support::assert_readme_section(
        START,
        END,
        &table(),
        "UPDATE_README=1 cargo test -p app --test error_table",
    );
}
