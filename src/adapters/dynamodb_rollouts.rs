//! [`RolloutStore`] over `aws-sdk-dynamodb`, in the upgrades table: partition key `cluster` =
//! `rollout#<name>`, sort key `requestId`; `sweepBucket` `ROLLOUT` while unfinished, in the
//! same sparse index the sweep reads.

use super::dynamodb::{store_error, DynamoStore, Item, RESUMABLE_INDEX};
use crate::domain::rollout::{partition, RolloutRecord, ROLLOUT_BUCKET};
use crate::ports::{Replaced, RolloutStore, StoreError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;

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

impl RolloutStore for DynamoStore {
    async fn insert_rollout(&self, record: &RolloutRecord) -> Result<Option<RolloutRecord>, StoreError> {
        match self.put_item_if(to_item(record)?, None).await? {
            Replaced::Done => Ok(None),
            Replaced::Conflict => match self.get_rollout(&record.name, &record.request_id).await? {
                Some(existing) => Ok(Some(existing)),
                None => Err(StoreError("rollout existed, then vanished; try again".into())),
            },
        }
    }

    async fn get_rollout(&self, name: &str, request_id: &str) -> Result<Option<RolloutRecord>, StoreError> {
        self.get_item_at(&partition(name), request_id)
            .await?
            .map(from_item)
            .transpose()
    }

    async fn replace_rollout(&self, record: &RolloutRecord, expected_revision: u64) -> Result<Replaced, StoreError> {
        self.put_item_if(to_item(record)?, Some(expected_revision)).await
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
