//! `make totp`: the demo admin's current authenticator code (and the
//! `otpauth://` URI to add the account to a real authenticator app), read
//! from the running stack's coordinates (SHOP_STACK_FILE, default
//! `.local/stack.json`).

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use shop_local::resources::{otpauth_uri, totp_code};
use shop_local::stack::env_or;

fn main() -> Result<(), String> {
    let file = env_or("SHOP_STACK_FILE", PathBuf::from(".local/stack.json"));
    let text =
        std::fs::read_to_string(&file).map_err(|e| format!("{}: {e} (is `make local` running?)", file.display()))?;
    let coordinates: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|e| e.to_string())?.as_secs();
    for user in coordinates["demoUsers"].as_array().into_iter().flatten() {
        let (Some(name), Some(secret)) = (user["username"].as_str(), user["totpSecret"].as_str()) else { continue };
        let code = totp_code(secret, now).map_err(|e| e.to_string())?;
        println!("{name}: {code} (valid {} s more)", 30 - now % 30);
        println!("  {}", otpauth_uri(name, secret));
    }
    Ok(())
}
