//! `navigator guard [--json] "<text>"`: the guard's verdict, the redacted text and the stage timings.

use guard::Guard;
use navigator_platform::config::Settings;
use navigator_resilience::Deadline;

pub async fn run(json: bool, text: &str) -> Result<(), String> {
    let Settings { budgets, providers } = Settings::from_env().map_err(|e| e.to_string())?;
    let guard = Guard::from_config(&budgets.guard, providers.guard_ml)
        .await
        .map_err(|e| e.to_string())?;
    let output = guard
        .check(text, Deadline::after(budgets.guard.total))
        .await
        .map_err(|e| e.to_string())?;
    if json {
        println!("{}", serde_json::to_string_pretty(&output).map_err(|e| e.to_string())?);
        return Ok(());
    }
    let verdict = serde_json::to_value(output.verdict).unwrap_or_default();
    let category = output.category.map(|c| c.as_str()).unwrap_or("-");
    println!(
        "verdict: {}   category: {category}",
        verdict.as_str().unwrap_or_default()
    );
    println!("text: {}", output.text);
    for finding in &output.findings {
        println!(
            "finding: {} at {}..{} (score {:.2})",
            finding.kind, finding.start, finding.end, finding.score
        );
    }
    if let Some(refusal) = &output.refusal {
        println!("refusal: {refusal}");
    }
    let stages: Vec<String> = output
        .stages_ms
        .iter()
        .map(|(stage, ms)| format!("{stage} {ms} ms"))
        .collect();
    println!(
        "stages: {}{}",
        stages.join(", "),
        if output.degraded { "  (degraded)" } else { "" }
    );
    Ok(())
}
