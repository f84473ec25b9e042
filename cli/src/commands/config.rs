//! `navigator config`: the resolved budgets, as the functions will see them.

use navigator_platform::config::Budgets;

pub fn run() -> Result<(), String> {
    let budgets = Budgets::from_env().map_err(|errors| errors.to_string())?;
    let json = serde_json::to_string_pretty(&budgets).map_err(|e| e.to_string())?;
    println!("{json}");
    Ok(())
}
