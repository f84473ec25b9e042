//! What the harness watches on the server under load: its RSS and open file descriptors (from `/proc`), its live
//! heap bytes, the web breaker's state and the chat bulkhead from `/metrics`, and the retrieval pool's connections as PostgreSQL sees
//! them (`pg_stat_activity`).

use std::time::Duration;
use tokio::time::Instant;

/// One reading (written as JSON with `NaN` as `null`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Reading {
    pub at_s: f64,
    pub rss_mb: f64,
    /// Bytes the program holds on the heap (`navigator_heap_allocated_bytes`), in MB; `NaN` when not reported.
    pub heap_mb: f64,
    pub open_fds: u64,
    /// 0 closed, 1 half-open, 2 open; `NaN` before the breaker's first transition.
    pub breaker: f64,
    pub chat_in_flight: f64,
    /// `NaN` when PostgreSQL could not be asked (it is down).
    pub db_connections: f64,
}

/// Where to read from.
#[derive(Debug, Clone)]
pub struct Target {
    pub pid: u32,
    pub metrics_url: String,
    /// `psql` arguments reaching the server as an administrator; empty when the server has no PostgreSQL (SQLite).
    pub psql: Vec<String>,
}

/// `VmRSS` of `pid` in MB.
pub fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub fn open_fds(pid: u32) -> Option<u64> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64)
}

/// The value of the first sample line of `name` whose labels contain `labels`, in Prometheus text.
pub fn metric(text: &str, name: &str, labels: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find(|line| line.starts_with(name) && line[name.len()..].starts_with('{') && line.contains(labels))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

/// The value of the sample of `name` that has no labels, in Prometheus text.
pub fn unlabeled_metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

/// Runs one statement with `psql` (arguments reaching the server) and returns its unaligned output.
pub async fn psql(args: &[String], sql: &str) -> Result<String, String> {
    let output = tokio::process::Command::new("psql")
        .args(args)
        .args(["-Atc", sql])
        .output()
        .await
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
    }
}

/// Connections the navigator's retrieval pool holds, as PostgreSQL counts them; `None` with no PostgreSQL to ask.
pub async fn db_connections(args: &[String]) -> Option<f64> {
    if args.is_empty() {
        return None;
    }
    psql(
        args,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'navigator-retrieve'",
    )
    .await
    .ok()?
    .parse()
    .ok()
}

impl Target {
    pub async fn read(&self, client: &reqwest::Client, since: Instant) -> Reading {
        let metrics = match client
            .get(&self.metrics_url)
            .timeout(Duration::from_secs(2))
            .send()
            .await
        {
            Ok(response) => response.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        Reading {
            at_s: since.elapsed().as_secs_f64(),
            rss_mb: rss_mb(self.pid).unwrap_or(f64::NAN),
            heap_mb: unlabeled_metric(&metrics, "navigator_heap_allocated_bytes").map_or(f64::NAN, |b| b / 1e6),
            open_fds: open_fds(self.pid).unwrap_or(0),
            breaker: metric(&metrics, "navigator_breaker_state", r#"breaker="tavily""#).unwrap_or(f64::NAN),
            chat_in_flight: metric(&metrics, "navigator_bulkhead_in_flight", r#"bulkhead="chat""#).unwrap_or(f64::NAN),
            db_connections: db_connections(&self.psql).await.unwrap_or(f64::NAN),
        }
    }
}

/// Least-squares slope of `y` over `x`.
pub fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if n < 2.0 {
        return f64::NAN;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let covariance: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let variance: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if variance == 0.0 {
        f64::NAN
    } else {
        covariance / variance
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metric_is_found_by_name_and_labels() {
        let text = "# TYPE breaker_state gauge\nbreaker_state{breaker=\"tavily\"} 2\nbreaker_state_x{breaker=\"tavily\"} 9\nbulkhead_in_flight{bulkhead=\"chat\"} 3\n";
        assert_eq!(metric(text, "breaker_state", r#"breaker="tavily""#), Some(2.0));
        assert_eq!(metric(text, "bulkhead_in_flight", r#"bulkhead="chat""#), Some(3.0));
        assert_eq!(metric(text, "bulkhead_in_flight", r#"bulkhead="web""#), None);
    }

    #[test]
    fn an_unlabeled_metric_is_found_by_its_whole_name() {
        let text = "# HELP navigator_heap_allocated_bytes Bytes held.\nnavigator_heap_allocated_bytes_total 5\nnavigator_heap_allocated_bytes 143500000\n";
        assert_eq!(
            unlabeled_metric(text, "navigator_heap_allocated_bytes"),
            Some(143_500_000.0)
        );
        assert_eq!(unlabeled_metric(text, "process_resident_memory_bytes"), None);
    }

    #[test]
    fn slope_of_a_line_and_of_noise_around_flat() {
        let line: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 3.0 + 0.5 * i as f64)).collect();
        assert!((slope(&line) - 0.5).abs() < 1e-9);
        let flat: Vec<(f64, f64)> = (0..10)
            .map(|i| (i as f64, if i % 2 == 0 { 1.0 } else { -1.0 }))
            .collect();
        assert!(slope(&flat).abs() < 0.2);
    }

    #[test]
    fn this_process_has_an_rss_and_descriptors() {
        let pid = std::process::id();
        assert!(rss_mb(pid).is_some_and(|mb| mb > 0.0));
        assert!(open_fds(pid).is_some_and(|n| n >= 3));
    }
}
