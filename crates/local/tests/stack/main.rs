//! Drives the real HTTP API of the local stack as the sample frontend does.
//! One stack serves every test here; tests that check per-product totals use
//! a product no other test touches (see `support::product_for`).

mod support;

mod admin;
mod calls;
mod cart;
mod catalog;
mod contention;
mod emulator;
mod events;
mod hostile;
mod index_partitions;
mod journey;
mod migrate;
mod permissions;
mod pollers;
mod repair;
mod reviews;
mod second_factor;
mod store;
mod strict_stripe;
mod stripe;
mod throttles;
mod tokens;
mod totals;
