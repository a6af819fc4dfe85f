//! A prompts plugin: `analyze_data`.

use corral_sdk::prelude::*;

/// Creates a prompt asking for analysis of numerical data.
///
/// # Arguments
/// * `data_points` - The numbers to analyze, as a JSON array
#[prompt]
fn analyze_data(data_points: Vec<f64>) -> String {
    let formatted = data_points
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    format!("Please analyze these data points: {formatted}")
}

corral_sdk::export!(prompts: [analyze_data]);
