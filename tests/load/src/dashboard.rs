//! Proves the Grafana dashboard shows data: every PromQL query of every panel, run through a real Prometheus that
//! scraped `navigator serve` during the load run, must return at least one series.

use serde_json::Value;
use std::time::Duration;

/// One panel query: the panel's title, the target's expression.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelQuery {
    pub panel: String,
    pub expr: String,
}

/// Every target expression of every panel (rows' nested panels too), with Grafana's interval variables replaced by
/// `rate_window` so Prometheus can run them.
pub fn panel_queries(dashboard: &Value, rate_window: &str) -> Vec<PanelQuery> {
    let mut out = Vec::new();
    collect(dashboard.get("panels"), rate_window, &mut out);
    out
}

fn collect(panels: Option<&Value>, rate_window: &str, out: &mut Vec<PanelQuery>) {
    for panel in panels.and_then(Value::as_array).into_iter().flatten() {
        let title = panel["title"].as_str().unwrap_or("untitled").to_string();
        for target in panel["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = target["expr"].as_str() {
                out.push(PanelQuery {
                    panel: title.clone(),
                    expr: expr
                        .replace("$__rate_interval", rate_window)
                        .replace("$__interval", rate_window),
                });
            }
        }
        collect(panel.get("panels"), rate_window, out);
    }
}

/// What Prometheus answered for one query over the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub series: usize,
    /// Series with at least one finite sample (a quantile of no traffic is NaN: a series, but not yet data).
    pub with_values: usize,
}

/// Reads a `/api/v1/query_range` response.
pub fn read_answer(body: &Value) -> Result<Answer, String> {
    if body["status"] != "success" {
        return Err(format!(
            "{}: {}",
            body["errorType"].as_str().unwrap_or("error"),
            body["error"].as_str().unwrap_or("no message")
        ));
    }
    let series = body["data"]["result"].as_array().cloned().unwrap_or_default();
    let with_values = series
        .iter()
        .filter(|one| {
            one["values"].as_array().into_iter().flatten().any(|pair| {
                pair[1]
                    .as_str()
                    .and_then(|v| v.parse::<f64>().ok())
                    .is_some_and(f64::is_finite)
            })
        })
        .count();
    Ok(Answer {
        series: series.len(),
        with_values,
    })
}

/// Runs every panel query over the last `lookback` and says, line by line, what each returned; `Err` lists the
/// panels that showed nothing.
pub async fn check(
    client: &reqwest::Client,
    prometheus: &str,
    dashboard: &Value,
    lookback: Duration,
) -> Result<Vec<String>, Vec<String>> {
    let end = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let start = end - lookback.as_secs_f64();
    let mut lines = Vec::new();
    let mut empty = Vec::new();
    for query in panel_queries(dashboard, "1m") {
        let form = format!(
            "query={}&start={start:.3}&end={end:.3}&step=5",
            form_encode(&query.expr)
        );
        let response = client
            .post(format!("{prometheus}/api/v1/query_range"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await;
        let answer = match response {
            Ok(response) => match response.json::<Value>().await {
                Ok(body) => read_answer(&body),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(e.to_string()),
        };
        match answer {
            Ok(answer) if answer.series > 0 => lines.push(format!(
                "ok     {:<48} {} series, {} with values",
                query.panel, answer.series, answer.with_values
            )),
            Ok(_) => empty.push(format!("EMPTY  {:<48} {}", query.panel, query.expr)),
            Err(e) => empty.push(format!("FAILED {:<48} {}: {e}", query.panel, query.expr)),
        }
    }
    if empty.is_empty() {
        Ok(lines)
    } else {
        Err(lines.into_iter().chain(empty).collect())
    }
}

/// `application/x-www-form-urlencoded` for one value: unreserved bytes as they are, the rest percent-encoded.
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_target_of_every_panel_is_read_with_the_window_filled_in() {
        let dashboard = json!({"panels": [
            {"title": "Rate", "targets": [
                {"expr": "sum(rate(navigator_http_requests_total[$__rate_interval]))"},
                {"expr": "navigator_bulkhead_queued"}]},
            {"title": "Row", "type": "row", "panels": [
                {"title": "Inner", "targets": [{"expr": "rate(x[$__interval])"}]}]},
            {"title": "Text", "type": "text"}
        ]});
        let queries = panel_queries(&dashboard, "1m");
        assert_eq!(
            queries,
            [
                PanelQuery {
                    panel: "Rate".into(),
                    expr: "sum(rate(navigator_http_requests_total[1m]))".into()
                },
                PanelQuery {
                    panel: "Rate".into(),
                    expr: "navigator_bulkhead_queued".into()
                },
                PanelQuery {
                    panel: "Inner".into(),
                    expr: "rate(x[1m])".into()
                },
            ]
        );
    }

    #[test]
    fn the_shipped_dashboard_has_a_query_for_every_panel() {
        let text = include_str!("../../../ops/grafana/navigator.json");
        let dashboard: Value = serde_json::from_str(text).unwrap();
        let queries = panel_queries(&dashboard, "1m");
        let panels = dashboard["panels"].as_array().unwrap();
        assert!(panels.len() >= 12);
        for panel in panels {
            let title = panel["title"].as_str().unwrap();
            assert!(queries.iter().any(|q| q.panel == title), "{title} has no query");
        }
        assert!(queries.iter().all(|q| !q.expr.contains('$')), "{queries:?}");
    }

    #[test]
    fn a_query_is_form_encoded() {
        assert_eq!(
            form_encode(r#"sum by (le) (x{a="5.."}[1m]) / 2"#),
            "sum%20by%20%28le%29%20%28x%7Ba%3D%225..%22%7D%5B1m%5D%29%20%2F%202"
        );
    }

    #[test]
    fn an_answer_counts_series_and_those_with_finite_values() {
        let body = json!({"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {"stage": "guard"}, "values": [[1, "NaN"], [2, "0.004"]]},
            {"metric": {"stage": "compose"}, "values": [[1, "NaN"]]}
        ]}});
        assert_eq!(
            read_answer(&body),
            Ok(Answer {
                series: 2,
                with_values: 1
            })
        );
        let empty = json!({"status": "success", "data": {"resultType": "matrix", "result": []}});
        assert_eq!(
            read_answer(&empty),
            Ok(Answer {
                series: 0,
                with_values: 0
            })
        );
        let bad = json!({"status": "error", "errorType": "bad_data", "error": "parse error"});
        assert_eq!(read_answer(&bad), Err("bad_data: parse error".into()));
    }
}
