//! [`RecordStore`] over `aws-sdk-dynamodb`. Table layout (see `template.yaml`, the one source of
//! truth for it):
//! - partition key `cluster` (S), sort key `requestId` (S);
//! - sparse global secondary index `resumable`: `sweepBucket` (S, present only while a record
//!   is unfinished) and `heartbeatAt` (N), for the sweep;
//! - TTL on `expiresAt`;
//! - each cluster's lock is an item of its own partition with the sort key `#lock`.
//!
//! Every write is conditional; nothing here depends on transactions, TTL expiry or
//! ReturnValuesOnConditionCheckFailure, which dynalite lacks.

use super::aws::LazyClient;
use super::sdk_failure;
use crate::domain::record::lock::{ClusterLock, FIRST_REQUEST_ID, LOCK_KEY};
use crate::domain::record::RESUMABLE;
use crate::domain::UpgradeRecord;
use crate::ports::{Inserted, Listed, RecordStore, Replaced, StoreError, Unreadable};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub const RESUMABLE_INDEX: &str = "resumable";

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: LazyClient<aws_sdk_dynamodb::Client>,
    table: String,
}

impl DynamoStore {
    pub(super) async fn client(&self) -> &aws_sdk_dynamodb::Client {
        self.client.get().await
    }

    pub(super) fn table(&self) -> &str {
        &self.table
    }

    pub fn new(client: impl Into<LazyClient<aws_sdk_dynamodb::Client>>, table: impl Into<String>) -> Self {
        Self {
            client: client.into(),
            table: table.into(),
        }
    }
}

pub(super) type Item = HashMap<String, AttributeValue>;

impl DynamoStore {
    /// One item by its keys, read strongly consistent.
    pub(super) async fn get_item_at(&self, partition: &str, sort: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client()
            .await
            .get_item()
            .table_name(&self.table)
            .key("cluster", AttributeValue::S(partition.to_owned()))
            .key("requestId", AttributeValue::S(sort.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem", &e))?;
        Ok(out.item)
    }

    /// Puts `item` only if nothing is at its keys (`expected_revision` none) or the item there
    /// has that revision; `Conflict` when the condition fails.
    pub(super) async fn put_item_if(&self, item: Item, expected_revision: Option<u64>) -> Result<Replaced, StoreError> {
        let request = self
            .client()
            .await
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        let request = match expected_revision {
            None => request
                .condition_expression("attribute_not_exists(#cluster)")
                .expression_attribute_names("#cluster", "cluster"),
            Some(revision) => request
                .condition_expression("#revision = :expected")
                .expression_attribute_names("#revision", "revision")
                .expression_attribute_values(":expected", AttributeValue::N(revision.to_string())),
        };
        match request.send().await {
            Ok(_) => Ok(Replaced::Done),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(Replaced::Conflict)
            }
            Err(e) => Err(store_error("PutItem", &e)),
        }
    }
}

/// Every record a query finds, through all its pages (the SDK's paginator); an item that does
/// not decode is set aside, not a reason to fail.
async fn all_records(query: QueryFluentBuilder) -> Result<Listed, StoreError> {
    let mut pages = query.into_paginator().send();
    let mut listed = Listed::default();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| store_error("Query", &e))?;
        for item in page.items.unwrap_or_default() {
            let key = |name: &str| match item.get(name) {
                Some(AttributeValue::S(s)) => s.clone(),
                _ => String::new(),
            };
            let (cluster, request_id) = (key("cluster"), key("requestId"));
            match from_item(item) {
                Ok(record) => listed.records.push(record),
                Err(e) => listed.unreadable.push(Unreadable {
                    cluster,
                    request_id,
                    error: e.0,
                }),
            }
        }
    }
    Ok(listed)
}

fn to_item(record: &UpgradeRecord) -> Result<Item, StoreError> {
    serde_dynamo::to_item(record).map_err(|e| StoreError(format!("cannot encode record: {e}")))
}

fn from_item(item: Item) -> Result<UpgradeRecord, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError(format!("stored record does not decode: {e}")))
}

pub(super) fn store_error<E>(
    operation: &str,
    err: &aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let failure = sdk_failure(err);
    StoreError(format!("{operation}: {} {}", failure.code, failure.message).replace("  ", " "))
}

impl RecordStore for DynamoStore {
    async fn insert_new(&self, record: &UpgradeRecord) -> Result<Inserted, StoreError> {
        match self.put_item_if(to_item(record)?, None).await? {
            Replaced::Done => Ok(Inserted::Created),
            Replaced::Conflict => match self.get(&record.cluster, &record.request_id).await? {
                Some(existing) => Ok(Inserted::AlreadyExists(Box::new(existing))),
                None => Err(StoreError("record existed, then vanished; try again".to_owned())),
            },
        }
    }

    async fn get(&self, cluster: &str, request_id: &str) -> Result<Option<UpgradeRecord>, StoreError> {
        self.get_item_at(cluster, request_id).await?.map(from_item).transpose()
    }

    async fn replace(&self, record: &UpgradeRecord, expected_revision: u64) -> Result<Replaced, StoreError> {
        self.put_item_if(to_item(record)?, Some(expected_revision)).await
    }

    async fn list_cluster(&self, cluster: &str) -> Result<Listed, StoreError> {
        // From the lowest request id on: the records, not the lock (`#lock` sorts before).
        let query = self
            .client
            .get()
            .await
            .query()
            .table_name(&self.table)
            .key_condition_expression("#cluster = :cluster AND #request >= :first")
            .expression_attribute_names("#cluster", "cluster")
            .expression_attribute_names("#request", "requestId")
            .expression_attribute_values(":cluster", AttributeValue::S(cluster.to_owned()))
            .expression_attribute_values(":first", AttributeValue::S(FIRST_REQUEST_ID.to_owned()))
            .consistent_read(true);
        all_records(query).await
    }

    async fn get_lock(&self, cluster: &str) -> Result<Option<ClusterLock>, StoreError> {
        self.get_item_at(cluster, LOCK_KEY)
            .await?
            .map(|item| {
                serde_dynamo::from_item(item).map_err(|e| StoreError(format!("stored lock does not decode: {e}")))
            })
            .transpose()
    }

    async fn put_lock(&self, lock: &ClusterLock, expected_revision: Option<u64>) -> Result<Replaced, StoreError> {
        let item = serde_dynamo::to_item(lock).map_err(|e| StoreError(format!("cannot encode lock: {e}")))?;
        self.put_item_if(item, expected_revision).await
    }

    async fn list_resumable(&self, heartbeat_before: i64) -> Result<Listed, StoreError> {
        let query = self
            .client
            .get()
            .await
            .query()
            .table_name(&self.table)
            .index_name(RESUMABLE_INDEX)
            .key_condition_expression("#bucket = :bucket AND #heartbeat <= :before")
            .expression_attribute_names("#bucket", "sweepBucket")
            .expression_attribute_names("#heartbeat", "heartbeatAt")
            .expression_attribute_values(":bucket", AttributeValue::S(RESUMABLE.to_owned()))
            .expression_attribute_values(":before", AttributeValue::N(heartbeat_before.to_string()));
        all_records(query).await
    }
}
