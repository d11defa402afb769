//! The layout rules of DESIGN.md, checked on the source: modules depend one way only
//! (commands → search/scaling/report → load/endpoint/aws → results/stats), so there is no
//! module cycle, no file in src/ grows past what a reader takes in at once, and no file the
//! package ships passes 1 MB.
//!
//! Run it alone with `cargo test --test architecture`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each top-level module and its layer: a module may use modules of lower layers only.
const LAYERS: &[(&str, u32)] = &[
    ("error", 0),
    ("results", 1),
    ("units", 2),
    ("stats", 2),
    ("aws", 3),
    ("endpoint", 4),
    ("server", 4),
    ("load", 5),
    ("search", 6),
    ("scaling", 6),
    ("report", 6),
    ("cli", 7),
    ("pipeline", 8),
    ("commands", 9),
];

/// The most lines a file in src/ may have.
const MAX_LINES: usize = 600;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).expect("src/ is readable");
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level module a file belongs to (`src/aws/sigv4.rs` → `aws`); None for the crate
/// roots.
fn module_of(path: &Path) -> Option<String> {
    let relative = path.strip_prefix(src()).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.trim_end_matches(".rs");
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

fn layer(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// Every `crate::NAME` a file mentions (in `use` lines and in paths alike), reading grouped
/// imports too: `use crate::{results, stats::{Tally, StreamTally}};` names `results` and
/// `stats`.
fn uses(text: &str) -> BTreeSet<String> {
    text.match_indices("crate::")
        .filter(|(i, _)| {
            // Not part of a longer identifier such as `peakrps_crate::`.
            !text[..*i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
        .flat_map(|(i, m)| {
            let rest = &text[i + m.len()..];
            match rest.strip_prefix('{') {
                Some(group) => group_heads(group),
                None => vec![identifier(rest)],
            }
        })
        .filter(|name| !name.is_empty() && name != "Error" && name != "Result" && name != "self")
        .collect()
}

/// The identifier `text` starts with (empty when it starts with anything else).
fn identifier(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The first name of each item of a `{…}` group, `text` starting just after its `{`: nested
/// groups are skipped, since their items hang off a name already read.
fn group_heads(text: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 1;
    let mut item_start = true;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 1 => item_start = true,
            c if c.is_whitespace() => {}
            _ if item_start && depth == 1 => {
                heads.push(identifier(&text[i..]));
                item_start = false;
            }
            _ => {}
        }
        if depth == 0 {
            break;
        }
    }
    heads
}

#[test]
fn modules_depend_one_way_only() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let Some(module) = module_of(file) else {
            continue;
        };
        let Some(own) = layer(&module) else {
            wrong.push(format!(
                "{}: module `{module}` has no layer in tests/architecture.rs",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("readable");
        for used in uses(&text) {
            if used == module {
                continue;
            }
            match layer(&used) {
                Some(l) if l < own => {}
                Some(l) => wrong.push(format!(
                    "{}: `{module}` (layer {own}) uses `{used}` (layer {l})",
                    file.display()
                )),
                None => wrong.push(format!(
                    "{}: uses `crate::{used}`, which has no layer",
                    file.display()
                )),
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn no_file_in_src_is_longer_than_the_limit() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).ok()?.lines().count();
            (lines > MAX_LINES).then(|| format!("{}: {lines} lines", f.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "over {MAX_LINES} lines:\n{}",
        long.join("\n")
    );
}

/// The largest file the package may ship (Cargo.toml's `include`): fixtures stay small.
const MAX_SHIPPED_BYTES: u64 = 1024 * 1024;

#[test]
fn no_shipped_file_passes_one_megabyte() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "tests", "examples"] {
        every_file(&root.join(dir), &mut files);
    }
    let large: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let bytes = std::fs::metadata(f).ok()?.len();
            (bytes > MAX_SHIPPED_BYTES).then(|| format!("{}: {bytes} bytes", f.display()))
        })
        .collect();
    assert!(large.is_empty(), "over 1 MB:\n{}", large.join("\n"));
}

/// `cargo package --list` runs clean: no warning, the sources, README and LICENSE in, the
/// benchmark and CI scripts out.
#[test]
fn the_package_lists_cleanly() {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["package", "--list", "--offline", "--allow-dirty"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    let listed = String::from_utf8_lossy(&out.stdout);
    let files: Vec<&str> = listed.lines().collect();
    for wanted in [
        "Cargo.toml",
        "LICENSE",
        "README.md",
        "build.rs",
        "src/main.rs",
    ] {
        assert!(files.contains(&wanted), "{wanted} missing from: {listed}");
    }
    for path in &files {
        assert!(
            !path.starts_with("bench/") && !path.starts_with(".ci/"),
            "{path} is packaged"
        );
    }
}

fn every_file(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            every_file(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn the_checks_see_what_they_check() {
    let text = "use crate::results::Step;\nlet x = crate::aws::runtime::f();\nuse crate::Error;";
    let found: Vec<String> = uses(text).into_iter().collect();
    assert_eq!(found, ["aws", "results"]);
    assert_eq!(
        module_of(&src().join("aws").join("sigv4.rs")).as_deref(),
        Some("aws")
    );
    assert_eq!(module_of(&src().join("units.rs")).as_deref(), Some("units"));
    assert_eq!(module_of(&src().join("lib.rs")), None);
}

#[test]
fn the_checks_read_grouped_imports() {
    let found = |text: &str| uses(text).into_iter().collect::<Vec<String>>();
    assert_eq!(
        found("use crate::{results, stats::Tally};"),
        ["results", "stats"]
    );
    assert_eq!(
        found("use crate::{aws::{sigv4, runtime::{Client, Call}}, load, units::Rate};"),
        ["aws", "load", "units"]
    );
    assert_eq!(
        found(
            "use crate::{\n    error::Error,\n    report::{\n        csv,\n        html,\n    },\n    search,\n};"
        ),
        ["error", "report", "search"]
    );
    assert_eq!(
        found("use crate::{self, Error, Result};"),
        Vec::<String>::new()
    );
    assert_eq!(
        found("use crate::{scaling::{self}, stats::Tally as T};\nlet t = crate::endpoint::f();"),
        ["endpoint", "scaling", "stats"]
    );
}
