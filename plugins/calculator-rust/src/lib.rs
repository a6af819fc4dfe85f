//! A calculator plugin: `add`, `multiply` and `divide`.

use corral_sdk::prelude::*;

/// Add two numbers.
///
/// # Arguments
/// * `a` - The first addend
/// * `b` - The second addend
#[tool(annotations(read_only = true, idempotent = true))]
fn add(a: f64, b: f64) -> f64 {
    a + b
}

/// Multiply two numbers.
///
/// # Arguments
/// * `a` - The first factor
/// * `b` - The second factor
#[tool]
fn multiply(a: f64, b: f64) -> f64 {
    a * b
}

/// Divide `a` by `b`.
#[tool(tags = ["math"], annotations(read_only = true, idempotent = true))]
fn divide(a: f64, b: f64) -> Result<f64, ToolError> {
    if b == 0.0 {
        return Err(ToolError::new("Division by zero is not allowed"));
    }
    Ok(a / b)
}

corral_sdk::export!(tools: [add, multiply, divide]);
