//! What measures the shop: the flash sale, every route under load through the
//! local stack, each function's cold start, memory and size against a Runtime
//! API of its own (and the Python sample's side by side), the machine's own
//! state while they run, and the report of them all (`make bench`). It uses the
//! local stack (`shop-local`); nothing in the stack or the functions uses it.

pub mod flash_sale;
pub mod load;
pub mod machine;
pub mod runtime_bench;
pub mod shard_sale;

/// The stack a sale runs against: the one SHOP_STACK_FILE names, or one of
/// its own (kept alive by the returned handle), and its coordinates.
pub fn sale_stack() -> Result<(Option<shop_local::stack::ChildStack>, serde_json::Value), String> {
    match std::env::var("SHOP_STACK_FILE") {
        Ok(file) => Ok((None, coordinates_in(file.into())?)),
        Err(_) => own_stack(&[]).map(|(stack, coordinates)| (Some(stack), coordinates)),
    }
}

/// A stack of its own, with `env` (e.g. SHOP_PARAMETER_OVERRIDES), and its coordinates.
pub fn own_stack(env: &[(&str, &str)]) -> Result<(shop_local::stack::ChildStack, serde_json::Value), String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let binary = std::env::current_exe().map(|p| p.with_file_name("shop-local")).unwrap_or_default();
    let stack = shop_local::stack::spawn_child_stack(&binary, &root, env).map_err(|e| e.to_string())?;
    let coordinates = coordinates_in(stack.coordinates_file.clone())?;
    Ok((stack, coordinates))
}

fn coordinates_in(file: std::path::PathBuf) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))
}
