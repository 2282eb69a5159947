//! The sandbox payment provider's ledger, kept in the shop's table so that
//! "charged once" is checkable: one `charge#<order>` item per order.

use crate::domain::OrderId;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::{item_of, Store, StoreError};
use crate::use_cases::ports::ChargeOutcome;

/// What the ledger stores per order.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChargeRecord {
    pk: String,
    sk: String,
    amount: u64,
    card_token: String,
    #[serde(flatten)]
    outcome: ChargeOutcome,
    #[serde(default)]
    refunded: bool,
}

fn ledger_key(order_id: &OrderId) -> (String, String) {
    (format!("charge#{order_id}"), "charge".to_owned())
}

impl Store {
    /// Records a charge attempt's outcome, on condition that the order has no
    /// approved charge (a declined attempt may be followed by another card).
    /// `Conflict` when it has one.
    pub async fn record_charge(
        &self,
        order_id: &OrderId,
        amount: u64,
        card_token: &str,
        outcome: &ChargeOutcome,
    ) -> Result<(), StoreError> {
        let (pk, sk) = ledger_key(order_id);
        let record = ChargeRecord {
            pk,
            sk,
            amount,
            card_token: card_token.to_owned(),
            outcome: outcome.clone(),
            refunded: false,
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_of(&record)?))
            .condition_expression("attribute_not_exists(pk) OR outcome = :declined")
            .expression_attribute_values(":declined", AttributeValue::S("DECLINED".into()))
            .send()
            .await?;
        Ok(())
    }

    /// The last recorded outcome of an order's charge, if any.
    pub async fn charge_outcome(&self, order_id: &OrderId) -> Result<Option<ChargeOutcome>, StoreError> {
        let (pk, sk) = ledger_key(order_id);
        let record: Option<ChargeRecord> = self.get(pk, sk, true).await?.map(serde_dynamo::from_item).transpose()?;
        Ok(record.map(|r| r.outcome))
    }

    /// Marks an approved charge refunded, once: false when there was none to refund.
    pub async fn mark_charge_refunded(&self, order_id: &OrderId) -> Result<bool, StoreError> {
        let (pk, sk) = ledger_key(order_id);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk))
            .key("sk", AttributeValue::S(sk))
            .update_expression("SET refunded = :t")
            .condition_expression("outcome = :approved AND refunded = :f")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":f", AttributeValue::Bool(false))
            .expression_attribute_values(":approved", AttributeValue::S("APPROVED".into()))
            .send()
            .await
            .map_err(StoreError::from);
        match result {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
