//! Keeps the README's list of supported commands in step with the command table: the list
//! between the `commands:start` and `commands:end` markers must be exactly what the table
//! registers. `RCS_WRITE_README=1 cargo test --test readme` rewrites it from the table.

use rust_cache_server::commands::CommandTable;

const START: &str = "<!-- commands:start -->\n";
const END: &str = "<!-- commands:end -->";

fn generated() -> String {
    let table = CommandTable::new();
    let mut specs: Vec<_> = table.iter().collect();
    specs.sort_by_key(|c| c.name);
    let lines: Vec<String> = specs
        .into_iter()
        .map(|c| {
            let name = c.name.to_ascii_uppercase();
            if c.subcommands.is_empty() {
                format!("`{}`", name)
            } else {
                let mut subs: Vec<String> = c
                    .subcommands
                    .iter()
                    .map(|s| s.name.split('|').nth(1).unwrap_or("").to_ascii_uppercase())
                    .collect();
                subs.sort();
                format!("`{}` ({})", name, subs.join(", "))
            }
        })
        .collect();
    format!("{} commands: {}.\n", table.len(), lines.join(", "))
}

#[test]
fn readme_lists_every_command_in_the_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let start = readme
        .find(START)
        .expect("README has the commands:start marker")
        + START.len();
    let end = readme
        .find(END)
        .expect("README has the commands:end marker");
    let want = generated();
    if std::env::var_os("RCS_WRITE_README").is_some() {
        let updated = format!("{}{}{}", &readme[..start], want, &readme[end..]);
        std::fs::write(path, updated).expect("write README.md");
        return;
    }
    assert_eq!(
        &readme[start..end],
        want,
        "README's command list is out of date: run RCS_WRITE_README=1 cargo test --test readme"
    );
}
