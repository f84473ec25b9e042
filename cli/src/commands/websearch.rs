//! `navigator websearch [--json] "<query>"`: one web search through the configured provider (Tavily with
//! `TAVILY_API_KEY`; disabled, and saying so, without it).

use navigator_platform::config::Budgets;
use navigator_platform::contracts::WebSearchInput;
use navigator_platform::envelope::ValidInput;
use navigator_resilience::Deadline;
use web_search::WebSearch;

pub async fn run(json: bool, max_results: u8, query: &str) -> Result<(), String> {
    let budgets = Budgets::from_env().map_err(|e| e.to_string())?;
    let input = WebSearchInput {
        query: query.to_string(),
        max_results: Some(max_results),
    };
    input.validate().map_err(|e| e.public_message())?;
    let tool = WebSearch::from_env(&budgets.web_search)
        .await
        .map_err(|e| e.to_string())?;
    let output = tool
        .search(
            &input,
            Deadline::after(budgets.web_search.search + budgets.web_search.parse),
        )
        .await
        .map_err(|e| e.to_string())?;
    if json {
        println!("{}", serde_json::to_string_pretty(&output).map_err(|e| e.to_string())?);
        return Ok(());
    }
    for (rank, result) in output.results.iter().enumerate() {
        println!(
            "#{} {:.2}  {}\n   {}\n   {}\n",
            rank + 1,
            result.score,
            result.title,
            result.url,
            result.snippet
        );
    }
    Ok(())
}
