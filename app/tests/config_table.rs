//! README's configuration table is generated from `payment-server --help`'s definition, so it
//! cannot go stale: this test fails when they differ. Regenerate with
//! `UPDATE_README=1 cargo test -p app --test config_table`.

mod support;

use app::Config;
use clap::{Arg, CommandFactory};

const START: &str = "<!-- config-table:start -->\n";
const END: &str = "<!-- config-table:end -->";

/// One table row per option, in `--help` order.
fn table() -> String {
    let command = Config::command();
    let mut table =
        String::from("| flag | environment variable | default | meaning |\n|---|---|---|---|\n");
    for arg in command.get_arguments() {
        let Some(long) = arg
            .get_long()
            .filter(|long| !matches!(*long, "help" | "version"))
        else {
            continue;
        };
        let env = arg.get_env().map_or("—".to_owned(), |env| {
            format!("`{}`", env.to_string_lossy())
        });
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|value| format!("`{}`", value.to_string_lossy()))
            .collect();
        let default = if defaults.is_empty() {
            "—".to_owned()
        } else {
            defaults.join(", ")
        };
        table.push_str(&format!(
            "| `--{long}` | {env} | {default} | {} |\n",
            meaning(arg)
        ));
    }
    table
}

/// The help text on one line, with the accepted values of an enumerated option.
fn meaning(arg: &Arg) -> String {
    let help = arg
        .get_long_help()
        .or_else(|| arg.get_help())
        .map(ToString::to_string)
        .unwrap_or_default();
    let mut text = help.split_whitespace().collect::<Vec<_>>().join(" ");
    // clap drops the final period of one-line help; the table wants sentences.
    if !text.ends_with('.') {
        text.push('.');
    }
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .map(|value| format!("`{}`", value.get_name()))
        .collect();
    if arg.get_action().takes_values() && !values.is_empty() {
        text.push_str(&format!(" One of {}.", values.join(", ")));
    }
    text.replace('|', "\\|")
}

#[test]
fn the_readme_config_table_matches_the_command_line_definition() {
    support::assert_readme_section(
        START,
        END,
        &table(),
        "UPDATE_README=1 cargo test -p app --test config_table",
    );
}

#[test]
fn every_option_has_a_row() {
    let table = table();
    for arg in Config::command().get_arguments() {
        if let Some(long) = arg
            .get_long()
            .filter(|long| !matches!(*long, "help" | "version"))
        {
            assert!(table.contains(&format!("| `--{long}` |")), "--{long}");
        }
    }
    assert!(table.contains(
        "| `--max-concurrent-requests` | `PAYMENT_SERVER_MAX_CONCURRENT_REQUESTS` | `1024` |"
    ));
}
