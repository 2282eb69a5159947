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
