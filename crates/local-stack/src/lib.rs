//! Dev-only helpers for the local stack (never linked into the Lambda function):
//! - the upgrades table, created in dynalite from `template.yaml`'s `UpgradesTable` resource, so
//!   the template stays the one definition of the table;
//! - starting dynalite and waiting for ports;
//! - following an upgrade record and printing each change as it happens.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};
use std::path::Path;
use std::time::Duration;
use yaml_rust2::{Yaml, YamlLoader};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// (attribute name, key type or attribute type) pairs, as the template lists them.
pub type NamePairs = Vec<(String, String)>;

/// The parts of `UpgradesTable` in `template.yaml` that shape the table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSpec {
    pub attributes: NamePairs,
    pub key_schema: NamePairs,
    /// (index name, key schema, projection type)
    pub indexes: Vec<(String, NamePairs, String)>,
    pub ttl_attribute: Option<String>,
    pub billing_mode: String,
}

/// Reads the `UpgradesTable` resource of a SAM/CloudFormation template.
pub fn table_spec_from_template(path: &Path) -> Result<TableSpec, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    table_spec_from_str(&text).map_err(|e| format!("{}: {e}", path.display()).into())
}

pub fn table_spec_from_str(text: &str) -> Result<TableSpec, Error> {
    let docs = YamlLoader::load_from_str(text)?;
    let props = &docs.first().ok_or("empty template")?["Resources"]["UpgradesTable"]["Properties"];
    if props.is_badvalue() {
        return Err("no Resources.UpgradesTable.Properties".into());
    }
    let pairs = |node: &Yaml, a: &str, b: &str| -> Result<Vec<(String, String)>, Error> {
        node.as_vec()
            .ok_or_else(|| format!("expected a list with {a} and {b}"))?
            .iter()
            .map(|e| match (e[a].as_str(), e[b].as_str()) {
                (Some(x), Some(y)) => Ok((x.to_owned(), y.to_owned())),
                _ => Err(format!("expected {a} and {b} in {e:?}").into()),
            })
            .collect()
    };
    let mut indexes = Vec::new();
    if let Some(list) = props["GlobalSecondaryIndexes"].as_vec() {
        for index in list {
            let name = index["IndexName"].as_str().ok_or("index without IndexName")?;
            let projection = index["Projection"]["ProjectionType"].as_str().unwrap_or("ALL");
            indexes.push((
                name.to_owned(),
                pairs(&index["KeySchema"], "AttributeName", "KeyType")?,
                projection.to_owned(),
            ));
        }
    }
    let ttl = &props["TimeToLiveSpecification"];
    Ok(TableSpec {
        attributes: pairs(&props["AttributeDefinitions"], "AttributeName", "AttributeType")?,
        key_schema: pairs(&props["KeySchema"], "AttributeName", "KeyType")?,
        indexes,
        ttl_attribute: (ttl["Enabled"].as_bool() == Some(true))
            .then(|| ttl["AttributeName"].as_str().map(str::to_owned))
            .flatten(),
        billing_mode: props["BillingMode"].as_str().unwrap_or("PAY_PER_REQUEST").to_owned(),
    })
}

fn key_schema(pairs: &[(String, String)]) -> Result<Vec<KeySchemaElement>, Error> {
    pairs
        .iter()
        .map(|(name, kind)| {
            Ok(KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(KeyType::from(kind.as_str()))
                .build()?)
        })
        .collect()
}

/// The SDK configuration for a local endpoint, with dummy credentials: built in one place for
/// every client the local stack makes.
pub async fn local_sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::from_env()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local",
            "local",
            None,
            None,
            "local-stack",
        ))
        .load()
        .await
}

/// A DynamoDB client for a local endpoint.
pub async fn dynamodb_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&local_sdk_config(endpoint).await)
}

/// Creates the table as the template defines it (if absent) and waits until it is ACTIVE.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str, spec: &TableSpec) -> Result<bool, Error> {
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::from(spec.billing_mode.as_str()))
        .set_key_schema(Some(key_schema(&spec.key_schema)?));
    for (attribute, kind) in &spec.attributes {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()?,
        );
    }
    for (index, keys, projection) in &spec.indexes {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index)
                .set_key_schema(Some(key_schema(keys)?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(projection.as_str()))
                        .build(),
                )
                .build()?,
        );
    }
    let created = match request.send().await {
        Ok(_) => true,
        Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => false,
        Err(e) => return Err(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string().into()),
    };
    for _ in 0..200 {
        let table = client.describe_table().table_name(name).send().await?;
        let active = table.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active);
        let indexes_active = table
            .table()
            .map(|t| {
                t.global_secondary_indexes()
                    .iter()
                    .all(|i| i.index_status().map(|s| s.as_str()) == Some("ACTIVE"))
            })
            .unwrap_or(false);
        if active && indexes_active {
            if let (true, Some(attribute)) = (created, &spec.ttl_attribute) {
                // dynalite accepts no TTL settings (and never expires items); AWS does. Nothing
                // in the function depends on expiry.
                let _ = client
                    .update_time_to_live()
                    .table_name(name)
                    .time_to_live_specification(
                        TimeToLiveSpecification::builder()
                            .attribute_name(attribute)
                            .enabled(true)
                            .build()?,
                    )
                    .send()
                    .await;
            }
            return Ok(created);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("table {name} did not become ACTIVE").into())
}

/// Waits until something accepts TCP connections on `addr`.
pub async fn wait_for_port(addr: &str, timeout: Duration) -> Result<(), Error> {
    let start = std::time::Instant::now();
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(format!("nothing listens on {addr} after {timeout:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A dynalite process on loopback, stopped when dropped.
pub struct Dynalite {
    child: tokio::process::Child,
    pub port: u16,
    pub endpoint: String,
}

impl Dynalite {
    /// Starts `dynalite` (the path of its bin script) on `port`, keeping data in `data_dir`
    /// (LevelDB), or in memory when `None`.
    pub async fn start(bin: &Path, port: u16, data_dir: Option<&Path>) -> Result<Self, Error> {
        let mut command = tokio::process::Command::new(bin);
        command
            .arg("--port")
            .arg(port.to_string())
            .arg("--host")
            .arg("127.0.0.1");
        if let Some(dir) = data_dir {
            command.arg("--path").arg(dir);
        }
        command
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true);
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let endpoint = format!("http://127.0.0.1:{port}");
        wait_for_port(&format!("127.0.0.1:{port}"), Duration::from_secs(20)).await?;
        Ok(Self { child, port, endpoint })
    }

    /// Stops the process (the data folder stays).
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Where the project's own install of dynalite lives (`scripts/lib.sh` puts it there).
pub fn dynalite_bin() -> std::path::PathBuf {
    std::env::var_os("DYNALITE_BIN")
        .map(Into::into)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.local/node/node_modules/.bin/dynalite"))
}

/// `template.yaml` at the repository root.
pub fn template_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_table_of_the_template() {
        let spec = table_spec_from_template(&template_path()).unwrap();
        assert_eq!(
            spec.key_schema,
            [("cluster".into(), "HASH".into()), ("requestId".into(), "RANGE".into())]
        );
        assert_eq!(spec.indexes.len(), 1);
        assert_eq!(spec.indexes[0].0, "resumable");
        assert_eq!(
            spec.indexes[0].1,
            [
                ("sweepBucket".into(), "HASH".into()),
                ("heartbeatAt".into(), "RANGE".into())
            ]
        );
        assert_eq!(spec.ttl_attribute.as_deref(), Some("expiresAt"));
        assert_eq!(spec.billing_mode, "PAY_PER_REQUEST");
        assert!(spec.attributes.contains(&("heartbeatAt".into(), "N".into())));
    }
}
