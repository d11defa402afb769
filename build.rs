//! Records the commit the binary is built from, for `peakrps --version` (bug reports need
//! it), in the PEAKRPS_BUILD environment variable of the compiler: "ed007e7a1b2c 2026-12-01",
//! with "-dirty" after the hash when the sources differ from that commit.
//!
//! Where it comes from, first found: PEAKRPS_GIT_COMMIT (for packagers building outside git),
//! `git` in the source tree, `.cargo_vcs_info.json` (a package from `cargo package`), else
//! "commit unknown".

use std::process::Command;

/// What the binary is built from; "dirty" looks at these only.
const SOURCES: [&str; 4] = ["src", "build.rs", "Cargo.toml", "Cargo.lock"];

fn main() {
    println!("cargo:rerun-if-env-changed=PEAKRPS_GIT_COMMIT");
    let build = std::env::var("PEAKRPS_GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(from_git)
        .or_else(from_vcs_info)
        .unwrap_or_else(|| "commit unknown".into());
    println!("cargo:rustc-env=PEAKRPS_BUILD={build}");
}

fn git(args: &[&str]) -> Option<String> {
    // No optional locks: `git status` must not rewrite the index, or the index would change
    // on every build and the build would never be fresh.
    let out = Command::new("git")
        .arg("--no-optional-locks")
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn from_git() -> Option<String> {
    let hash = git(&["rev-parse", "--short=12", "HEAD"])?;
    // Run again when HEAD moves (commit, checkout) or a source changes.
    let mut watched: Vec<String> = ["HEAD", "packed-refs"]
        .iter()
        .filter_map(|path| git(&["rev-parse", "--git-path", path]))
        .collect();
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.extend(git(&["rev-parse", "--git-path", &branch]));
    }
    watched.extend(SOURCES.map(String::from));
    // A missing file would count as changed on every build: watch only those that exist.
    for path in watched.iter().filter(|p| std::path::Path::new(p).exists()) {
        println!("cargo:rerun-if-changed={path}");
    }
    let mut status = vec!["status", "--porcelain", "--untracked-files=no", "--"];
    status.extend(SOURCES);
    let dirty = git(&status).is_some_and(|s| !s.is_empty());
    let date = git(&["log", "-1", "--format=%cs", "HEAD"]).unwrap_or_default();
    let hash = if dirty { format!("{hash}-dirty") } else { hash };
    Some(format!("{hash} {date}").trim().to_string())
}

/// `cargo package` records the commit in `.cargo_vcs_info.json`:
/// `{"git": {"sha1": "…", "dirty": true}}` ("dirty" only when it was).
fn from_vcs_info() -> Option<String> {
    let text = std::fs::read_to_string(".cargo_vcs_info.json").ok()?;
    let at = text.find("\"sha1\"")?;
    let hash: String = text[at + 6..]
        .chars()
        .skip_while(|c| !c.is_ascii_hexdigit())
        .take_while(char::is_ascii_hexdigit)
        .take(12)
        .collect();
    let dirty = text.replace(' ', "").contains("\"dirty\":true");
    (hash.len() == 12).then(|| if dirty { format!("{hash}-dirty") } else { hash })
}
