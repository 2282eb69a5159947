//! Carts: every cart write is conditional on the version it read, or (an
//! addition to a live line) on the line's state, so concurrent requests and
//! retries never lose or double an update; a merge moves lines in
//! transactions; the cleanup deletes only what is still migrated.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::builders::UpdateBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};

use super::items::CartLineItem;
use super::keys::{cart_pk, line_sk, PRODUCT_PREFIX};
use super::{build_error, item_of, key, n, s, Item, Store, StoreError};
use crate::domain::{CartLine, CartOwner, ProductId};
use crate::use_cases::ports::{CartStore, LineAddition, LineContext, LineMove};

impl Store {
    /// Deletes a migrated line, unless it was revived (written again) since.
    /// Returns false when there was nothing (left) to delete.
    pub async fn delete_migrated_line(
        &self,
        cart: &CartOwner,
        id: &ProductId,
        version: u64,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(cart_pk(cart), line_sk(id))))
            .condition_expression("version = :v AND attribute_exists(migratedTo)")
            .expression_attribute_values(":v", n(version))
            .send()
            .await;
        match result.map_err(StoreError::from) {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

impl CartStore for Store {
    /// Strongly consistent, so a shopper reads their own writes.
    async fn cart_lines(&self, owner: &CartOwner) -> Result<Vec<CartLine>, StoreError> {
        let pk = cart_pk(owner);
        let items: Vec<CartLineItem> = self
            .query_all(|q| {
                q.consistent_read(true)
                    .key_condition_expression("pk = :pk AND begins_with(sk, :line)")
                    .expression_attribute_values(":pk", s(pk.clone()))
                    .expression_attribute_values(":line", s(PRODUCT_PREFIX))
            })
            .await?;
        items.into_iter().map(CartLineItem::into_line).collect()
    }

    /// The product, its stock and the owner's line, in one `BatchGetItem`.
    async fn line_context(&self, owner: &CartOwner, id: &ProductId) -> Result<LineContext, StoreError> {
        let found = self.line_view(id, owner).await?;
        Ok(LineContext {
            product: found.product,
            available: found.stock.map_or(0, |s| s.available),
            line: found.own_line,
        })
    }

    async fn put_cart_line(
        &self,
        owner: &CartOwner,
        line: &CartLine,
        read_version: Option<u64>,
    ) -> Result<(), StoreError> {
        let (condition, values) = version_condition(read_version);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_of(&CartLineItem::new(owner, line))?))
            .condition_expression(condition)
            .set_expression_attribute_values(values)
            .send()
            .await?;
        Ok(())
    }

    async fn add_to_line(&self, owner: &CartOwner, add: &LineAddition<'_>) -> Result<i64, StoreError> {
        let mut set = String::from(
            "SET quantity = quantity + :d, version = version + :one, expirationTime = :exp, productDetail = :p",
        );
        let mut condition = String::from(
            "attribute_exists(quantity) AND attribute_not_exists(migratedTo) AND expirationTime > :now AND quantity <= :most",
        );
        let mut values = HashMap::from([
            (":d".to_owned(), n(add.delta)),
            (":one".to_owned(), n(1)),
            (":exp".to_owned(), n(add.expires_at)),
            (":p".to_owned(), serde_dynamo::to_attribute_value(add.product)?),
            (":now".to_owned(), n(add.now)),
            (":most".to_owned(), n(add.most_before)),
        ]);
        if let Some(request) = add.request {
            set.push_str(", recentRequests = list_append(if_not_exists(recentRequests, :none), :request)");
            condition.push_str(" AND NOT contains(recentRequests, :key)");
            values.insert(":none".into(), AttributeValue::L(Vec::new()));
            values.insert(":request".into(), AttributeValue::L(vec![s(request)]));
            values.insert(":key".into(), s(request));
        }
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(cart_pk(owner), line_sk(add.product_id))))
            .update_expression(format!("{set} REMOVE checkoutOrder"))
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await?;
        let quantity = out.attributes.as_ref().and_then(|a| a.get("quantity")).and_then(|v| v.as_n().ok());
        quantity
            .and_then(|q| q.parse().ok())
            .ok_or_else(|| StoreError::Malformed("an addition answered no quantity".into()))
    }

    async fn delete_cart_line(&self, owner: &CartOwner, id: &ProductId, read_version: u64) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(cart_pk(owner), line_sk(id))))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(read_version))
            .send()
            .await?;
        Ok(())
    }

    /// Writes each merged user line (conditional on the user line's version
    /// read, or its absence) and marks its anonymous line migrated
    /// (conditional on the version read and on not being migrated), all in
    /// one transaction per 49 lines. A retry or a concurrent migration finds
    /// the mark and moves nothing twice.
    async fn migrate_lines(
        &self,
        anonymous: &CartOwner,
        user: &CartOwner,
        moves: &[LineMove],
    ) -> Result<(), StoreError> {
        for chunk in moves.chunks(crate::domain::MAX_CHECKOUT_LINES) {
            let mut items = Vec::with_capacity(chunk.len() * 2);
            for LineMove { anonymous: line, merged, user_version } in chunk {
                let (condition, values) = version_condition(*user_version);
                let put_user_line = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item_of(&CartLineItem::new(user, merged))?))
                    .condition_expression(condition)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(build_error)?;
                let mark_migrated = self
                    .line_update(
                        anonymous,
                        line,
                        "SET migratedTo = :to, version = :next",
                        Some("attribute_not_exists(migratedTo)"),
                    )
                    .expression_attribute_values(":to", s(cart_pk(user)))
                    .build()
                    .map_err(build_error)?;
                items.push(TransactWriteItem::builder().put(put_user_line).build());
                items.push(TransactWriteItem::builder().update(mark_migrated).build());
            }
            if items.is_empty() {
                continue;
            }
            self.client.transact_write_items().set_transact_items(Some(items)).send().await?;
        }
        Ok(())
    }
}

impl Store {
    /// An update of a cart line from the version it was read at to the next:
    /// `expression` sets `version = :next`, and the write fails if the line is
    /// no longer at that version (or `also` does not hold).
    pub(crate) fn line_update(
        &self,
        owner: &CartOwner,
        line: &CartLine,
        expression: &str,
        also: Option<&str>,
    ) -> UpdateBuilder {
        let condition = match also {
            Some(also) => format!("version = :v AND {also}"),
            None => "version = :v".to_owned(),
        };
        Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(cart_pk(owner), line_sk(&line.product_id))))
            .update_expression(expression)
            .condition_expression(condition)
            .expression_attribute_values(":v", n(line.version))
            .expression_attribute_values(":next", n(line.version + 1))
    }
}

pub(crate) fn version_condition(read_version: Option<u64>) -> (String, Option<Item>) {
    match read_version {
        None => ("attribute_not_exists(pk)".into(), None),
        Some(v) => ("version = :v".into(), Some(HashMap::from([(":v".to_owned(), n(v))]))),
    }
}
