//! Every code of the error catalogue is answered somewhere: named as `ErrorCode::Variant` by the
//! HTTP layer outside the catalogue and the API document. (The document names every code and no
//! other, see `tests/tests/ops_openapi_errors.rs`; with this, no code is documented unanswered.)

use std::path::{Path, PathBuf};

use app::http::error_code::ErrorCode;

/// The text of every source file under `dir`, except the catalogue and the document's modules.
fn answering_sources(dir: &Path, texts: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("a readable source directory") {
        let path = entry.expect("an entry").path();
        if path.ends_with("openapi") || path.ends_with("error_code.rs") {
            continue;
        }
        if path.is_dir() {
            answering_sources(&path, texts);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a readable source file");
            // Test modules answer nothing.
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            texts.push(code.to_owned());
        }
    }
}

#[test]
fn every_catalogued_code_is_built_by_the_http_layer() {
    let mut texts = Vec::new();
    answering_sources(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut texts,
    );
    let unanswered: Vec<&str> = ErrorCode::ALL
        .iter()
        .filter(|code| {
            let named = format!("ErrorCode::{code:?}");
            !texts.iter().any(|text| text.contains(&named))
        })
        .map(|code| code.as_str())
        .collect();
    assert!(
        unanswered.is_empty(),
        "catalogued but never answered: {unanswered:?}"
    );
}
