//! A resources plugin: a static configuration and a profile per user.

use corral_sdk::prelude::*;

/// Application configuration.
#[resource("data://config", mime_type = "application/json")]
fn get_config() -> serde_json::Value {
    serde_json::json!({"theme": "dark", "version": "1.0", "features": ["analytics", "reporting"]})
}

/// A user's profile.
#[resource("users://{user_id}/profile")]
fn get_user_profile(user_id: u32) -> serde_json::Value {
    json!({"id": user_id, "name": format!("User {user_id}"), "status": "active"})
}

corral_sdk::export!(resources: [get_config, get_user_profile]);
