//! The whole shop on one machine: the AWS emulator (moto, DynamoDB requests
//! serialized), the template's resources, a seeded catalog and demo users, the
//! API on 127.0.0.1 with the Lambdas' own handlers, the Lambda Invoke API, and
//! the queue and stream pollers, and the storefront on the API's origin.

pub mod aws_costs;
pub mod endpoint_tour;
pub mod functions;
pub mod gateway;
pub mod permissions;
pub mod pollers;
pub mod resources;
pub mod sdk_time;
pub mod stack;
pub mod storefront;
pub mod template;

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("setup: {0}")]
    Setup(String),
    #[error("event does not fit the function: {0}")]
    BadEvent(String),
    #[error("handler failed: {0}")]
    Handler(String),
    #[error(transparent)]
    Template(#[from] template::TemplateError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
