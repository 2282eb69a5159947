//! The use cases' rules without the emulator, each file one use case's
//! specification, all run against the in-memory ports of `fake`.

mod cart;
mod catalog;
mod checkout;
mod confirmation;
mod fake;
mod holds;
mod payment;
mod refund;
mod reviews;
