//! The adapters behind the use cases' ports, and the AWS clients they use:
//! DynamoDB (`dynamodb`: the table, its keys and items, every store port),
//! SQS (`sqs`: the cart-cleanup queue), Cognito (`cognito`: token
//! verification and whether an admin has an authenticator app), the payment
//! provider (`payments`), and the clients' setup (`aws`, `call_counter`).

pub mod aws;
pub mod call_counter;
pub mod cognito;
pub mod dynamodb;
pub mod payments;
pub mod sqs;
