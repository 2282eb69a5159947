//! The IAM permissions an AWS call needs, worked out from its serialized
//! request, so the local stack can check every function's calls against the
//! template's policies. Only the local stack needs this: the Lambdas keep no
//! requests and carry no such table.

use serde_json::Value;
use shop::outbound::call_counter::Call;

/// An IAM action and, for DynamoDB index reads, the index it needs it on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Permission {
    pub action: String,
    pub index: Option<String>,
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.index {
            Some(index) => write!(f, "{} on index/{index}", self.action),
            None => f.write_str(&self.action),
        }
    }
}

/// What `call` needed; nothing if its request was not kept.
pub fn of_call(call: &Call) -> Vec<Permission> {
    let Some(request) = &call.request else { return Vec::new() };
    let (service, name) = call.operation.split_once('.').unwrap_or((call.operation.as_str(), ""));
    needed(service, name, request)
}

/// What a call needs, from its serialized request (both services speak JSON).
/// A transaction needs the action of each of its items.
pub fn needed(service: &str, operation: &str, body: &[u8]) -> Vec<Permission> {
    let plain = |action: String| Permission { action, index: None };
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match service.to_ascii_lowercase().as_str() {
        "dynamodb" => match operation {
            "TransactWriteItems" | "TransactGetItems" => {
                let mut actions: Vec<Permission> = request["TransactItems"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|item| item.as_object()?.keys().next().cloned())
                    .map(|kind| match kind.as_str() {
                        "ConditionCheck" => plain("dynamodb:ConditionCheckItem".into()),
                        "Get" => plain("dynamodb:GetItem".into()),
                        other => plain(format!("dynamodb:{other}Item")),
                    })
                    .collect();
                actions.sort();
                actions.dedup();
                actions
            }
            _ => vec![Permission {
                action: format!("dynamodb:{operation}"),
                index: request["IndexName"].as_str().map(str::to_owned),
            }],
        },
        // Batch sends and deletes are allowed by the single-message actions.
        "sqs" => vec![plain(format!("sqs:{}", operation.trim_end_matches("Batch")))],
        "cognito identity provider" => vec![plain(format!("cognito-idp:{operation}"))],
        "secrets manager" => vec![plain(format!("secretsmanager:{operation}"))],
        other => vec![plain(format!("{other}:{operation}"))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions(service: &str, operation: &str, body: &str) -> Vec<String> {
        needed(service, operation, body.as_bytes()).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_transaction_needs_the_action_of_each_item_kind() {
        let body = r#"{"TransactItems":[{"Put":{}},{"Update":{}},{"Put":{}},{"ConditionCheck":{}},{"Delete":{}}]}"#;
        assert_eq!(
            actions("DynamoDB", "TransactWriteItems", body),
            ["dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        );
    }

    #[test]
    fn a_call_works_its_permissions_out_from_the_request_it_kept() {
        let query = Call {
            operation: "DynamoDB.Query".into(),
            request: Some(br#"{"TableName":"t","IndexName":"orders-index"}"#.to_vec()),
        };
        assert_eq!(
            of_call(&query).iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["dynamodb:Query on index/orders-index"]
        );
        let unkept = Call { operation: "DynamoDB.Query".into(), request: None };
        assert!(of_call(&unkept).is_empty());
    }

    #[test]
    fn an_index_query_names_its_index_and_batches_need_their_own_action() {
        assert_eq!(
            actions("DynamoDB", "Query", r#"{"TableName":"t","IndexName":"orders-index"}"#),
            ["dynamodb:Query on index/orders-index"]
        );
        assert_eq!(actions("DynamoDB", "Query", r#"{"TableName":"t"}"#), ["dynamodb:Query"]);
        assert_eq!(actions("DynamoDB", "BatchGetItem", "{}"), ["dynamodb:BatchGetItem"]);
        assert_eq!(actions("SQS", "SendMessageBatch", "{}"), ["sqs:SendMessage"]);
        assert_eq!(actions("Cognito Identity Provider", "AdminGetUser", "{}"), ["cognito-idp:AdminGetUser"]);
    }
}
