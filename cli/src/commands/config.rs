//! `navigator config`: the resolved budgets and providers, as the functions will see them; a bad variable is named.

use navigator_platform::config::Settings;

pub fn run() -> Result<(), String> {
    let settings = Settings::from_env().map_err(|errors| errors.to_string())?;
    let json = serde_json::to_string_pretty(&settings).map_err(|e| e.to_string())?;
    println!("{json}");
    Ok(())
}
