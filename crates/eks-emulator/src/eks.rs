//! Routing and wire format of the EKS operations (rest-json, API version 2017-11-01).

use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;
use crate::server::Shared;
use crate::state::{AddonVersionsQuery, ClusterVersionsQuery};
use crate::util::now_secs;

/// An EKS operation with its path parameters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    CreateCluster,
    ListClusters,
    DescribeCluster(String),
    DeleteCluster(String),
    UpdateClusterVersion(String),
    ListUpdates(String),
    DescribeUpdate(String, String),
    CancelUpdate(String, String),
    CreateNodegroup(String),
    ListNodegroups(String),
    DescribeNodegroup(String, String),
    UpdateNodegroupVersion(String, String),
    CreateAddon(String),
    ListAddons(String),
    DescribeAddon(String, String),
    UpdateAddon(String, String),
    DescribeAddonVersions,
    ListInsights(String),
    DescribeClusterVersions,
}

impl Op {
    /// Maps method and decoded path segments to an operation.
    pub(crate) fn route(method: &Method, segs: &[String]) -> Option<Op> {
        let s: Vec<&str> = segs.iter().map(String::as_str).collect();
        let m = method.as_str();
        let o = |x: &str| x.to_string();
        Some(match (m, s.as_slice()) {
            ("POST", ["clusters"]) => Op::CreateCluster,
            ("GET", ["clusters"]) => Op::ListClusters,
            ("GET", ["clusters", c]) => Op::DescribeCluster(o(c)),
            ("DELETE", ["clusters", c]) => Op::DeleteCluster(o(c)),
            ("POST", ["clusters", c, "updates"]) => Op::UpdateClusterVersion(o(c)),
            ("GET", ["clusters", c, "updates"]) => Op::ListUpdates(o(c)),
            ("GET", ["clusters", c, "updates", u]) => Op::DescribeUpdate(o(c), o(u)),
            ("POST", ["clusters", c, "updates", u, "cancel-update"]) => Op::CancelUpdate(o(c), o(u)),
            ("POST", ["clusters", c, "node-groups"]) => Op::CreateNodegroup(o(c)),
            ("GET", ["clusters", c, "node-groups"]) => Op::ListNodegroups(o(c)),
            ("GET", ["clusters", c, "node-groups", n]) => Op::DescribeNodegroup(o(c), o(n)),
            ("POST", ["clusters", c, "node-groups", n, "update-version"]) => Op::UpdateNodegroupVersion(o(c), o(n)),
            ("POST", ["clusters", c, "addons"]) => Op::CreateAddon(o(c)),
            ("GET", ["clusters", c, "addons"]) => Op::ListAddons(o(c)),
            ("GET", ["clusters", c, "addons", a]) => Op::DescribeAddon(o(c), o(a)),
            ("POST", ["clusters", c, "addons", a, "update"]) => Op::UpdateAddon(o(c), o(a)),
            ("GET", ["addons", "supported-versions"]) => Op::DescribeAddonVersions,
            ("POST", ["clusters", c, "insights"]) => Op::ListInsights(o(c)),
            ("GET", ["cluster-versions"]) => Op::DescribeClusterVersions,
            _ => return None,
        })
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            Op::CreateCluster => "CreateCluster",
            Op::ListClusters => "ListClusters",
            Op::DescribeCluster(_) => "DescribeCluster",
            Op::DeleteCluster(_) => "DeleteCluster",
            Op::UpdateClusterVersion(_) => "UpdateClusterVersion",
            Op::ListUpdates(_) => "ListUpdates",
            Op::DescribeUpdate(..) => "DescribeUpdate",
            Op::CancelUpdate(..) => "CancelUpdate",
            Op::CreateNodegroup(_) => "CreateNodegroup",
            Op::ListNodegroups(_) => "ListNodegroups",
            Op::DescribeNodegroup(..) => "DescribeNodegroup",
            Op::UpdateNodegroupVersion(..) => "UpdateNodegroupVersion",
            Op::CreateAddon(_) => "CreateAddon",
            Op::ListAddons(_) => "ListAddons",
            Op::DescribeAddon(..) => "DescribeAddon",
            Op::UpdateAddon(..) => "UpdateAddon",
            Op::DescribeAddonVersions => "DescribeAddonVersions",
            Op::ListInsights(_) => "ListInsights",
            Op::DescribeClusterVersions => "DescribeClusterVersions",
        }
    }

    fn cluster(&self) -> Option<&str> {
        match self {
            Op::CreateCluster | Op::ListClusters | Op::DescribeAddonVersions | Op::DescribeClusterVersions => None,
            Op::DescribeCluster(c)
            | Op::DeleteCluster(c)
            | Op::UpdateClusterVersion(c)
            | Op::ListUpdates(c)
            | Op::DescribeUpdate(c, _)
            | Op::CancelUpdate(c, _)
            | Op::CreateNodegroup(c)
            | Op::ListNodegroups(c)
            | Op::DescribeNodegroup(c, _)
            | Op::UpdateNodegroupVersion(c, _)
            | Op::CreateAddon(c)
            | Op::ListAddons(c)
            | Op::DescribeAddon(c, _)
            | Op::UpdateAddon(c, _)
            | Op::ListInsights(c) => Some(c),
        }
    }

    fn mutating(&self) -> bool {
        matches!(
            self,
            Op::CreateCluster
                | Op::DeleteCluster(_)
                | Op::UpdateClusterVersion(_)
                | Op::CancelUpdate(..)
                | Op::CreateNodegroup(_)
                | Op::UpdateNodegroupVersion(..)
                | Op::CreateAddon(_)
                | Op::UpdateAddon(..)
        )
    }
}

/// Parses a JSON request body (empty = `{}`), returning the typed request and the raw value.
fn body<T: DeserializeOwned>(raw: &Bytes) -> Result<(T, Value), ApiError> {
    let v: Value = if raw.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(raw).map_err(|e| ApiError::serialization(format!("Malformed request body: {e}")))?
    };
    if !v.is_object() {
        return Err(ApiError::serialization(
            "Malformed request body: expected a JSON object",
        ));
    }
    let t = serde_json::from_value(v.clone())
        .map_err(|e| ApiError::serialization(format!("Malformed request body: {e}")))?;
    Ok((t, v))
}

struct Query(Vec<(String, String)>);

impl Query {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
    }
    fn all(&self, k: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(a, _)| a == k)
            .flat_map(|(_, v)| v.split(',').map(str::to_string).collect::<Vec<_>>())
            .filter(|v| !v.is_empty())
            .collect()
    }
    fn int(&self, k: &str) -> Result<Option<i64>, ApiError> {
        self.get(k)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| ApiError::invalid_parameter(format!("{k} must be an integer, got {v:?}")))
            })
            .transpose()
    }
    fn bool(&self, k: &str) -> Result<bool, ApiError> {
        match self.get(k) {
            None => Ok(false),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(v) => Err(ApiError::invalid_parameter(format!(
                "{k} must be true or false, got {v:?}"
            ))),
        }
    }
}

/// What an EKS request produced.
pub(crate) struct EksAnswer {
    pub op: &'static str,
    pub result: Result<Value, ApiError>,
}

/// Handles one EKS request: stats, faults, then the operation under the state lock.
pub(crate) async fn handle(
    shared: &Arc<Shared>,
    method: &Method,
    segs: &[String],
    query: Option<&str>,
    raw: &Bytes,
) -> EksAnswer {
    let Some(op) = Op::route(method, segs) else {
        let mut st = shared.state.lock().unwrap();
        st.requests.total += 1;
        *st.requests.by_operation.entry("UnknownOperation".into()).or_default() += 1;
        *st.requests
            .errors_by_code
            .entry("UnknownOperationException".into())
            .or_default() += 1;
        return EksAnswer {
            op: "UnknownOperation",
            result: Err(ApiError::unknown_operation(format!(
                "Unknown operation: {method} /{}",
                segs.join("/")
            ))),
        };
    };
    let name = op.name();
    let q = Query(crate::util::parse_query(query));

    // Count, then decide on injected faults.
    let (latency, fault) = {
        let mut st = shared.state.lock().unwrap();
        st.requests.total += 1;
        *st.requests.by_operation.entry(name.into()).or_default() += 1;
        if let (Some(c), "UpdateClusterVersion" | "UpdateNodegroupVersion" | "UpdateAddon") = (op.cluster(), name) {
            let token = serde_json::from_slice::<Value>(raw)
                .ok()
                .and_then(|v| v.get("clientRequestToken").and_then(Value::as_str).map(str::to_string));
            st.record_update_call(c, name, token.as_deref());
        }
        let f = st.faults.clone();
        let applies = f.operations.is_empty() || f.operations.iter().any(|o| o == name);
        let mut fault = None;
        if applies && f.throttle_rate > 0.0 && st.rng.next_f64() < f.throttle_rate {
            st.requests.throttled += 1;
            let mut e = ApiError::throttling();
            if let Some(c) = op.cluster() {
                e = e.cluster(c);
            }
            fault = Some(e);
        } else if applies && f.error_rate > 0.0 && st.rng.next_f64() < f.error_rate {
            st.requests.server_errors += 1;
            fault = Some(if st.rng.next_f64() < 0.5 {
                let mut e = ApiError::server("An internal error occurred. Please try again later.");
                if let Some(c) = op.cluster() {
                    e = e.cluster(c);
                }
                e
            } else {
                ApiError::unavailable("Service Unavailable. Please try again later.")
            });
        }
        (f.latency_ms, fault)
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let result = match fault {
        Some(e) => Err(e),
        None => {
            let mut st = shared.state.lock().unwrap();
            let now = now_secs();
            st.advance(now);
            let mut result = execute(&mut st, &op, &q, raw, now);
            if result.is_ok() && op.mutating() {
                let f = &st.faults;
                let applies = f.operations.is_empty() || f.operations.iter().any(|o| o == name);
                let rate = f.lost_response_rate;
                if applies && rate > 0.0 && st.rng.next_f64() < rate {
                    st.requests.lost_responses += 1;
                    let mut e = ApiError::server("An internal error occurred. Please try again later.");
                    if let Some(c) = op.cluster() {
                        e = e.cluster(c);
                    }
                    result = Err(e);
                }
            }
            result
        }
    };
    if let Err(e) = &result {
        let mut st = shared.state.lock().unwrap();
        *st.requests.errors_by_code.entry(e.code.into()).or_default() += 1;
    }
    EksAnswer { op: name, result }
}

fn execute(st: &mut crate::state::State, op: &Op, q: &Query, raw: &Bytes, now: f64) -> Result<Value, ApiError> {
    match op {
        Op::CreateCluster => {
            let (req, v) = body(raw)?;
            st.create_cluster(req, &v, now)
        }
        Op::ListClusters => st.list_clusters(q.int("maxResults")?, q.get("nextToken")),
        Op::DescribeCluster(c) => st.describe_cluster(c, now),
        Op::DeleteCluster(c) => st.delete_cluster(c, now),
        Op::UpdateClusterVersion(c) => {
            let (req, _) = body(raw).map_err(|e| e.cluster(c))?;
            st.update_cluster_version(c, req, now)
        }
        Op::ListUpdates(c) => st.list_updates(
            c,
            q.get("nodegroupName"),
            q.get("addonName"),
            q.int("maxResults")?,
            q.get("nextToken"),
        ),
        Op::DescribeUpdate(c, u) => st.describe_update(c, u, q.get("nodegroupName"), q.get("addonName")),
        Op::CancelUpdate(c, u) => {
            let _: (Value, Value) = body(raw)?;
            st.cancel_update(c, u, now)
        }
        Op::CreateNodegroup(c) => {
            let (req, _) = body(raw).map_err(|e| e.cluster(c))?;
            st.create_nodegroup(c, req, now)
        }
        Op::ListNodegroups(c) => st.list_nodegroups(c, q.int("maxResults")?, q.get("nextToken")),
        Op::DescribeNodegroup(c, n) => st.describe_nodegroup(c, n),
        Op::UpdateNodegroupVersion(c, n) => {
            let (req, _) = body(raw).map_err(|e| e.cluster(c).nodegroup(n))?;
            st.update_nodegroup_version(c, n, req, now)
        }
        Op::CreateAddon(c) => {
            let (req, _) = body(raw).map_err(|e| e.cluster(c))?;
            st.create_addon(c, req, now)
        }
        Op::ListAddons(c) => st.list_addons(c, q.int("maxResults")?, q.get("nextToken")),
        Op::DescribeAddon(c, a) => st.describe_addon(c, a),
        Op::UpdateAddon(c, a) => {
            let (req, _) = body(raw).map_err(|e| e.cluster(c).addon(a))?;
            st.update_addon(c, a, req, now)
        }
        Op::DescribeAddonVersions => st.describe_addon_versions(&AddonVersionsQuery {
            kubernetes_version: q.get("kubernetesVersion").map(str::to_string),
            addon_name: q.get("addonName").map(str::to_string),
            types: q.all("types"),
            publishers: q.all("publishers"),
            owners: q.all("owners"),
            max_results: q.int("maxResults")?,
            next_token: q.get("nextToken").map(str::to_string),
        }),
        Op::ListInsights(c) => {
            let (req, _) = body(raw).map_err(|e| e.cluster(c))?;
            st.list_insights(c, req, now)
        }
        Op::DescribeClusterVersions => st.describe_cluster_versions(&ClusterVersionsQuery {
            cluster_type: q.get("clusterType").map(str::to_string),
            cluster_versions: q.all("clusterVersions"),
            default_only: q.bool("defaultOnly")?,
            include_all: q.bool("includeAll")?,
            version_status: q.get("versionStatus").map(str::to_string),
            status: q.get("status").map(str::to_string),
            max_results: q.int("maxResults")?,
            next_token: q.get("nextToken").map(str::to_string),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(p: &str) -> Vec<String> {
        p.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect()
    }

    #[test]
    fn routes() {
        assert_eq!(
            Op::route(&Method::POST, &segs("/clusters/c/updates")),
            Some(Op::UpdateClusterVersion("c".into()))
        );
        assert_eq!(
            Op::route(&Method::GET, &segs("/clusters/c/updates/u")),
            Some(Op::DescribeUpdate("c".into(), "u".into()))
        );
        assert_eq!(
            Op::route(&Method::POST, &segs("/clusters/c/insights")),
            Some(Op::ListInsights("c".into()))
        );
        assert_eq!(Op::route(&Method::GET, &segs("/clusters/c/insights")), None);
        assert_eq!(Op::route(&Method::PUT, &segs("/clusters")), None);
        assert_eq!(Op::route(&Method::GET, &segs("/nope")), None);
    }
}
