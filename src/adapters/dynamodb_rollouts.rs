//! [`RolloutStore`] over `aws-sdk-dynamodb`, in the upgrades table: partition key `cluster` =
//! `rollout#<name>`, sort key `requestId`; `sweepBucket` `ROLLOUT` while unfinished, in the
//! same sparse index the sweep reads.

use super::dynamodb::{store_error, DynamoStore, RESUMABLE_INDEX};
use crate::domain::rollout::{partition, RolloutRecord, ROLLOUT_BUCKET};
use crate::ports::{Replaced, RolloutStore, StoreError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

type Item = HashMap<String, AttributeValue>;

fn to_item(record: &RolloutRecord) -> Result<Item, StoreError> {
    serde_dynamo::to_item(record).map_err(|e| StoreError(format!("cannot encode rollout: {e}")))
}

fn from_item(item: Item) -> Result<RolloutRecord, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError(format!("stored rollout does not decode: {e}")))
}

async fn all(query: QueryFluentBuilder) -> Result<Vec<RolloutRecord>, StoreError> {
    let mut pages = query.into_paginator().send();
    let mut records = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| store_error("Query", &e))?;
        for item in page.items.unwrap_or_default() {
            // One item that does not decode must not stop the others being ticked.
            match from_item(item) {
                Ok(record) => records.push(record),
                Err(e) => tracing::warn!(error = %e, "rollout item skipped"),
            }
        }
    }
    Ok(records)
}

fn conflict<E>(e: &aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

impl RolloutStore for DynamoStore {
    async fn insert_rollout(&self, record: &RolloutRecord) -> Result<Option<RolloutRecord>, StoreError> {
        let result = self
            .client()
            .await
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_item(record)?))
            .condition_expression("attribute_not_exists(#cluster)")
            .expression_attribute_names("#cluster", "cluster")
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(e) if conflict(&e) => match self.get_rollout(&record.name, &record.request_id).await? {
                Some(existing) => Ok(Some(existing)),
                None => Err(StoreError("rollout existed, then vanished; try again".into())),
            },
            Err(e) => Err(store_error("PutItem", &e)),
        }
    }

    async fn get_rollout(&self, name: &str, request_id: &str) -> Result<Option<RolloutRecord>, StoreError> {
        let out = self
            .client()
            .await
            .get_item()
            .table_name(self.table())
            .key("cluster", AttributeValue::S(partition(name)))
            .key("requestId", AttributeValue::S(request_id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem", &e))?;
        out.item.map(from_item).transpose()
    }

    async fn replace_rollout(&self, record: &RolloutRecord, expected_revision: u64) -> Result<Replaced, StoreError> {
        let result = self
            .client()
            .await
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_item(record)?))
            .condition_expression("#revision = :expected")
            .expression_attribute_names("#revision", "revision")
            .expression_attribute_values(":expected", AttributeValue::N(expected_revision.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Replaced::Done),
            Err(e) if conflict(&e) => Ok(Replaced::Conflict),
            Err(e) => Err(store_error("PutItem", &e)),
        }
    }

    async fn list_rollouts(&self, name: &str) -> Result<Vec<RolloutRecord>, StoreError> {
        let query = self
            .client()
            .await
            .query()
            .table_name(self.table())
            .key_condition_expression("#cluster = :partition")
            .expression_attribute_names("#cluster", "cluster")
            .expression_attribute_values(":partition", AttributeValue::S(partition(name)))
            .consistent_read(true);
        all(query).await
    }

    async fn list_unfinished_rollouts(&self) -> Result<Vec<RolloutRecord>, StoreError> {
        let query = self
            .client()
            .await
            .query()
            .table_name(self.table())
            .index_name(RESUMABLE_INDEX)
            .key_condition_expression("#bucket = :bucket")
            .expression_attribute_names("#bucket", "sweepBucket")
            .expression_attribute_values(":bucket", AttributeValue::S(ROLLOUT_BUCKET.to_owned()));
        all(query).await
    }
}
