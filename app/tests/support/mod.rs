//! Shared by the tests that keep README's generated tables in step with the code.

use std::path::PathBuf;

/// Asserts README's text between the markers `start` and `end` is `expected`; with
/// `UPDATE_README` set, writes it there instead. `regenerate` is the command to tell the reader.
pub fn assert_readme_section(start: &str, end: &str, expected: &str, regenerate: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md is readable");
    let from = readme
        .find(start)
        .unwrap_or_else(|| panic!("README has the marker {start:?}"))
        + start.len();
    let to = readme
        .find(end)
        .unwrap_or_else(|| panic!("README has the marker {end:?}"));

    if readme[from..to] != *expected {
        if std::env::var_os("UPDATE_README").is_some() {
            let updated = format!("{}{expected}{}", &readme[..from], &readme[to..]);
            std::fs::write(&path, updated).expect("README.md is writable");
            return;
        }
        panic!("README's table is stale; regenerate it with `{regenerate}`. Expected:\n{expected}");
    }
}
