//! The manual: README.md and the files of `docs/`. Every relative link
//! between them leads to a file that exists and, when it names an anchor,
//! to a heading of that file with that anchor (as GitHub makes anchors);
//! every file of `docs/` is linked from the README. Alert runbook URLs are
//! checked against `docs/runbook.md` in `every_runbook_url_points_at_its_runbook_entry`.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use super::{anchor, file_name, files, read, repo};

/// The Markdown files of the manual, relative to the repository.
fn manual() -> Vec<String> {
    let mut out = vec!["README.md".to_owned()];
    for path in files("docs", ".md") {
        out.push(format!("docs/{}", file_name(&path)));
    }
    out
}

/// `text` without its fenced code blocks (their lines left empty, so that
/// line numbers stay those of the file).
fn prose(text: &str) -> Vec<&str> {
    let mut in_code = false;
    text.lines()
        .map(|l| {
            let fence = l.trim_start().starts_with("```");
            let code = in_code || fence;
            if fence {
                in_code = !in_code;
            }
            if code { "" } else { l }
        })
        .collect()
}

/// The anchors of every heading of the Markdown `text`, as GitHub makes
/// them: lower case, punctuation dropped, spaces as hyphens, and `-1`,
/// `-2`, ... appended to the second, third, ... heading of the same anchor.
pub(super) fn heading_anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in prose(text) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let base = anchor(line.trim_end().trim_end_matches('#'));
        let mut candidate = base.clone();
        let mut n = 0;
        while out.contains(&candidate) {
            n += 1;
            candidate = format!("{base}-{n}");
        }
        out.insert(candidate);
    }
    out
}

/// The link targets of the Markdown `text` outside code (inline links
/// `[text](target)`, images, and reference definitions `[label]: target`),
/// each with the line it is on.
fn links(text: &str) -> Vec<(usize, String)> {
    let lines = prose(text);
    let mut out = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        // Inline code spans hold no links.
        let mut plain = String::new();
        for (i, part) in line.split('`').enumerate() {
            plain.push_str(if i % 2 == 0 { part } else { "" });
        }
        let mut rest = plain.as_str();
        while let Some(at) = rest.find("](") {
            let target: String = rest[at + 2..]
                .chars()
                .take_while(|&c| c != ')' && !c.is_whitespace())
                .collect();
            out.push((n + 1, target));
            rest = &rest[at + 2..];
        }
        let trimmed = plain.trim_start();
        if trimmed.starts_with('[')
            && let Some((_, target)) = trimmed.split_once("]: ")
        {
            out.push((n + 1, target.trim().to_owned()));
        }
    }
    out
}

/// `relative` resolved against the folder of `from` (both relative to the
/// repository), or `None` when it leaves the repository.
fn resolve(from: &str, relative: &str) -> Option<PathBuf> {
    let mut path: Vec<String> = Path::new(from)
        .parent()
        .unwrap()
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    for c in Path::new(relative).components() {
        match c {
            Component::Normal(part) => path.push(part.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                path.pop()?;
            }
            _ => return None,
        }
    }
    Some(path.iter().collect())
}

#[test]
fn github_anchors_drop_punctuation_and_number_repeats() {
    let text = "# Alert runbook\n## Alerts\n```\n# not a heading\n```\n\
                ### `auths.NAME`\n### Enterprise Recon — `licenses` (`GET /v1/licenses`)\n\
                ## Alerts\n#### Hardware health (SNMP)\n";
    let anchors: Vec<String> = heading_anchors(text).into_iter().collect();
    assert_eq!(
        anchors,
        [
            "alert-runbook",
            "alerts",
            "alerts-1",
            "authsname",
            "enterprise-recon--licenses-get-v1licenses",
            "hardware-health-snmp",
        ]
    );
    assert_eq!(
        links("see [a](docs/x.md#y) and `[b](no)`\n```\n[c](no)\n```\n[d]: ../e.md\n"),
        [(1, "docs/x.md#y".to_owned()), (5, "../e.md".to_owned())]
    );
    assert_eq!(
        resolve("docs/a.md", "../README.md"),
        Some("README.md".into())
    );
    assert_eq!(resolve("README.md", "../x"), None);
}

#[test]
fn every_relative_link_of_the_manual_resolves_to_a_file_and_heading() {
    let mut broken = Vec::new();
    let mut checked = 0;
    let mut linked_from_readme = BTreeSet::new();
    for file in manual() {
        let text = read(&file);
        for (line, target) in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, fragment) = target.split_once('#').unwrap_or((&target, ""));
            let resolved = if path.is_empty() {
                Some(PathBuf::from(&file))
            } else {
                resolve(&file, path)
            };
            let Some(resolved) = resolved else {
                broken.push(format!("{file}:{line}: {target}: outside the repository"));
                continue;
            };
            if !repo().join(&resolved).exists() {
                broken.push(format!(
                    "{file}:{line}: {target}: no file {}",
                    resolved.display()
                ));
                continue;
            }
            if file == "README.md" {
                linked_from_readme.insert(resolved.clone());
            }
            if fragment.is_empty() {
                continue;
            }
            let resolved = resolved.to_string_lossy().into_owned();
            if !resolved.ends_with(".md") {
                broken.push(format!(
                    "{file}:{line}: {target}: an anchor in a file that is not Markdown"
                ));
            } else if !heading_anchors(&read(&resolved)).contains(fragment) {
                broken.push(format!(
                    "{file}:{line}: {target}: no heading of {resolved} has the anchor #{fragment}"
                ));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "broken links in the manual:\n  {}",
        broken.join("\n  ")
    );
    assert!(checked > 20, "only {checked} relative links found");
    for file in manual().iter().filter(|f| f.starts_with("docs/")) {
        assert!(
            linked_from_readme.contains(Path::new(file)),
            "{file} is not linked from the README"
        );
    }
}
