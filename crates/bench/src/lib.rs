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
    let (stack, file) = match std::env::var("SHOP_STACK_FILE") {
        Ok(file) => (None, file.into()),
        Err(_) => {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let binary = std::env::current_exe().map(|p| p.with_file_name("shop-local")).unwrap_or_default();
            let stack = shop_local::stack::spawn_child_stack(&binary, &root, &[]).map_err(|e| e.to_string())?;
            let file = stack.coordinates_file.clone();
            (Some(stack), file)
        }
    };
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let coordinates = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok((stack, coordinates))
}
