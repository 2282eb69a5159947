//! The entry points: what calls the shop. `http` serves API Gateway's
//! requests; `workers` the queue, the table's stream and the schedule. Each
//! parses its event, calls a use case and answers; the rules are not here.

pub mod http;
pub mod workers;
