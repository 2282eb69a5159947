//! The shop: a serverless shopping cart on AWS Lambda and DynamoDB.
//!
//! A hexagon, each layer depending only on those listed before it:
//! - `domain`: the rules and types, no I/O, no storage formats;
//! - `use_cases`: the operations (cart changes and merge, checkout, payment,
//!   reviews, catalog administration), taking their ports
//!   (`use_cases::ports`) and answering domain values or their own error;
//! - `outbound`: the adapters behind the ports (DynamoDB, SQS, Cognito, the
//!   payment provider) and the AWS clients;
//! - `app`: the composition root, [`app::App`], built once per container
//!   from its settings: the one place adapters are chosen;
//! - `inbound`: the entry points (`http` for API Gateway, `workers` for the
//!   queue, the stream and the schedule): parse, call a use case, answer.
//!
//! `clock` tells the time and `telemetry` sets up the logs, for every layer.

pub mod app;
pub mod clock;
pub mod domain;
pub mod inbound;
pub mod outbound;
pub mod telemetry;
pub mod use_cases;
