//! Every AWS client is built from `navigator_platform::aws::load`, so every one shares the one retry policy (at most
//! 2 attempts, ≤ 100 ms backoff): a static look at the workspace finds no other way of loading an AWS configuration,
//! and no crate but the platform depends on `aws-config`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: a panic is a failed test

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if path.is_dir() && name != "target" && !name.starts_with('.') {
            files(&path, extension, out);
        } else if name.ends_with(extension) {
            out.push(path);
        }
    }
}

/// Sources under the workspace's crates, without their inline test modules: tests build clients against local
/// servers by hand, on purpose.
fn production_sources() -> Vec<(PathBuf, String)> {
    let mut paths = Vec::new();
    for dir in ["functions", "shared", "cli"] {
        files(&workspace().join(dir), ".rs", &mut paths);
    }
    paths
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "tests.rs"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let cut = text.find("#[cfg(test)]\nmod tests").unwrap_or(text.len());
            (p, text[..cut].to_string())
        })
        .collect()
}

#[test]
fn only_the_platform_loads_an_aws_configuration() {
    let shared_loader = workspace().join("shared/platform/src/aws.rs");
    let sources = production_sources();
    assert!(sources.len() > 50, "found the sources");
    for (path, code) in sources {
        if path == shared_loader {
            assert!(code.contains("fn load()") && code.contains("retry_policy()"));
            continue;
        }
        for loader in ["aws_config::", "RetryConfig::", ".retry_config("] {
            assert!(
                !code.contains(loader),
                "{} uses {loader}: build AWS clients from navigator_platform::aws::load()",
                path.display()
            );
        }
    }
}

#[test]
fn only_the_platform_depends_on_aws_config() {
    let mut manifests = Vec::new();
    for dir in ["functions", "shared", "cli"] {
        files(&workspace().join(dir), "Cargo.toml", &mut manifests);
    }
    assert!(manifests.len() >= 10, "found the manifests");
    for manifest in manifests {
        let text = std::fs::read_to_string(&manifest).unwrap();
        let depends = text.lines().any(|line| line.trim_start().starts_with("aws-config"));
        let is_platform = manifest.ends_with("shared/platform/Cargo.toml");
        assert_eq!(depends, is_platform, "{}", manifest.display());
    }
}
