//! The EKS API on the wire (rest-json, API version 2017-11-01): routes ([`routes`]),
//! request parsing ([`request`]), injected faults and stats (here), the operations of
//! the model (`crate::model`) and the JSON of their answers ([`render`]).

pub(crate) mod render;
mod request;
mod routes;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::Method;
use bytes::Bytes;
use serde_json::Value;

use crate::error::ApiError;
use crate::faults::Faults;
use crate::model::{AddonVersionsQuery, ClusterVersionsQuery, IamResource, State};
use crate::shared::Shared;
use crate::util::parse_query;

use request::{body, Query};
use routes::Op;

pub(crate) use routes::OPERATIONS;

/// What an EKS request produced.
pub(crate) struct EksAnswer {
    pub op: &'static str,
    pub result: Result<Value, ApiError>,
}

/// Handles one EKS request: stats, faults, then the operation under the state lock.
pub(crate) async fn handle(
    shared: &Arc<Shared>,
    state: &Mutex<State>,
    method: &Method,
    segs: &[String],
    query: Option<&str>,
    raw: &Bytes,
) -> EksAnswer {
    let Some(op) = Op::route(method, segs) else {
        return unknown_operation(state, method, segs);
    };
    let name = op.name();
    let q = Query(parse_query(query));
    let (latency, fault) = admit(state, &op, &q, raw);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let result = match fault {
        Some(e) => Err(e),
        None => run(shared, state, &op, &q, raw),
    };
    if let Err(e) = &result {
        let mut st = state.lock().unwrap();
        *st.requests.errors_by_code.entry(e.code.into()).or_default() += 1;
    }
    EksAnswer { op: name, result }
}

fn unknown_operation(state: &Mutex<State>, method: &Method, segs: &[String]) -> EksAnswer {
    let mut st = state.lock().unwrap();
    st.requests.total += 1;
    *st.requests.by_operation.entry("UnknownOperation".into()).or_default() += 1;
    *st.requests
        .errors_by_code
        .entry("UnknownOperationException".into())
        .or_default() += 1;
    EksAnswer {
        op: "UnknownOperation",
        result: Err(ApiError::unknown_operation(format!(
            "Unknown operation: {method} /{}",
            segs.join("/")
        ))),
    }
}

/// Whether the rate faults apply to operation `name`.
fn faulted(f: &Faults, name: &str) -> bool {
    f.operations.is_empty() || f.operations.iter().any(|o| o == name)
}

/// A 500 ServerException naming the operation's cluster.
fn server_error(op: &Op) -> ApiError {
    let e = ApiError::server("An internal error occurred. Please try again later.");
    match op.cluster() {
        Some(c) => e.cluster(c),
        None => e,
    }
}

/// The resource IAM authorizes an operation on (the service authorization reference:
/// cluster, node group or add-on; DescribeUpdate and ListUpdates the node group or add-on
/// named in the query, else the cluster).
fn iam_resource(op: &Op, q: &Query, raw: &Bytes) -> IamResource {
    let cluster = |c: &str| IamResource::Cluster(c.to_string());
    match op {
        Op::CreateCluster => serde_json::from_slice::<Value>(raw)
            .ok()
            .and_then(|v| v.get("name").and_then(Value::as_str).map(cluster))
            .unwrap_or(IamResource::AllClusters),
        Op::ListClusters => IamResource::AllClusters,
        Op::DescribeAddonVersions | Op::DescribeClusterVersions => IamResource::Any,
        Op::DescribeNodegroup(c, n) | Op::UpdateNodegroupVersion(c, n) => IamResource::Nodegroup(c.clone(), n.clone()),
        Op::DescribeAddon(c, a) | Op::UpdateAddon(c, a) => IamResource::Addon(c.clone(), a.clone()),
        Op::DescribeUpdate(c, _) | Op::ListUpdates(c) => match (q.get("nodegroupName"), q.get("addonName")) {
            (Some(n), _) => IamResource::Nodegroup(c.clone(), n.to_string()),
            (None, Some(a)) => IamResource::Addon(c.clone(), a.to_string()),
            (None, None) => cluster(c),
        },
        other => other.cluster().map(cluster).unwrap_or(IamResource::Any),
    }
}

/// Counts the request (and the token of an update call), answers a denied operation
/// with AccessDeniedException, then rolls the dice of the rate faults. Returns the
/// latency to add and the injected error, if any.
fn admit(state: &Mutex<State>, op: &Op, q: &Query, raw: &Bytes) -> (u64, Option<ApiError>) {
    let name = op.name();
    let mut st = state.lock().unwrap();
    st.requests.total += 1;
    *st.requests.by_operation.entry(name.into()).or_default() += 1;
    if let (Some(c), "UpdateClusterVersion" | "UpdateNodegroupVersion" | "UpdateAddon") = (op.cluster(), name) {
        let token = serde_json::from_slice::<Value>(raw)
            .ok()
            .and_then(|v| v.get("clientRequestToken").and_then(Value::as_str).map(str::to_string));
        st.record_update_call(c, name, token.as_deref());
    }
    let f = st.faults.clone();
    if let Some(e) = st.access_denied(name, &iam_resource(op, q, raw)) {
        st.requests.denied += 1;
        return (f.latency_ms, Some(e));
    }
    let applies = faulted(&f, name);
    let mut fault = None;
    if applies && f.throttle_rate > 0.0 && st.rng.next_f64() < f.throttle_rate {
        st.requests.throttled += 1;
        let e = ApiError::throttling();
        fault = Some(match op.cluster() {
            Some(c) => e.cluster(c),
            None => e,
        });
    } else if applies && f.error_rate > 0.0 && st.rng.next_f64() < f.error_rate {
        st.requests.server_errors += 1;
        fault = Some(if st.rng.next_f64() < 0.5 {
            server_error(op)
        } else {
            ApiError::unavailable("Service Unavailable. Please try again later.")
        });
    }
    (f.latency_ms, fault)
}

/// Runs the operation at the current time; a lost-response fault may then replace a
/// successful answer of a mutating operation.
fn run(shared: &Arc<Shared>, state: &Mutex<State>, op: &Op, q: &Query, raw: &Bytes) -> Result<Value, ApiError> {
    let mut st = state.lock().unwrap();
    let now = shared.now();
    st.advance(now);
    let result = execute(&mut st, op, q, raw, now);
    if result.is_ok() && op.mutating() {
        let rate = st.faults.lost_response_rate;
        if faulted(&st.faults, op.name()) && rate > 0.0 && st.rng.next_f64() < rate {
            st.requests.lost_responses += 1;
            return Err(server_error(op));
        }
    }
    result
}

/// Calls the model for one operation and renders its answer.
fn execute(st: &mut State, op: &Op, q: &Query, raw: &Bytes, now: f64) -> Result<Value, ApiError> {
    use render::{addon, cluster, nodegroup, page, update};
    Ok(match op {
        Op::CreateCluster => {
            let (req, v) = body(raw)?;
            cluster(&st.create_cluster(req, &v, now)?)
        }
        Op::ListClusters => page("clusters", st.list_clusters(q.int("maxResults")?, q.get("nextToken"))?),
        Op::DescribeCluster(c) => cluster(&st.describe_cluster(c, now)?),
        Op::DeleteCluster(c) => cluster(&st.delete_cluster(c, now)?),
        Op::UpdateClusterVersion(c) => {
            let (req, _) = body(raw).map_err(|e| e.cluster(c))?;
            update(&st.update_cluster_version(c, req, now)?)
        }
        Op::ListUpdates(c) => {
            let (ng, addon) = (q.get("nodegroupName"), q.get("addonName"));
            page(
                "updateIds",
                st.list_updates(c, ng, addon, q.int("maxResults")?, q.get("nextToken"))?,
            )
        }
        Op::DescribeUpdate(c, u) => update(&st.describe_update(c, u, q.get("nodegroupName"), q.get("addonName"))?),
        Op::CancelUpdate(c, u) => {
            let _: (Value, Value) = body(raw)?;
            update(&st.cancel_update(c, u, now)?)
        }
        Op::CreateNodegroup(c) => {
            let (req, _) = body(raw).map_err(|e| e.cluster(c))?;
            nodegroup(&st.create_nodegroup(c, req, now)?)
        }
        Op::ListNodegroups(c) => page(
            "nodegroups",
            st.list_nodegroups(c, q.int("maxResults")?, q.get("nextToken"))?,
        ),
        Op::DescribeNodegroup(c, n) => nodegroup(&st.describe_nodegroup(c, n)?),
        Op::UpdateNodegroupVersion(c, n) => {
            let (req, _) = body(raw).map_err(|e| e.cluster(c).nodegroup(n))?;
            update(&st.update_nodegroup_version(c, n, req, now)?)
        }
        Op::CreateAddon(c) => {
            let (req, _) = body(raw).map_err(|e| e.cluster(c))?;
            addon(&st.create_addon(c, req, now)?)
        }
        Op::ListAddons(c) => page("addons", st.list_addons(c, q.int("maxResults")?, q.get("nextToken"))?),
        Op::DescribeAddon(c, a) => addon(&st.describe_addon(c, a)?),
        Op::UpdateAddon(c, a) => {
            let (req, _) = body(raw).map_err(|e| e.cluster(c).addon(a))?;
            update(&st.update_addon(c, a, req, now)?)
        }
        Op::DescribeAddonVersions => render::addon_versions(st.describe_addon_versions(&addon_versions_query(q)?)?),
        Op::ListInsights(c) => {
            let (req, _) = body(raw).map_err(|e| e.cluster(c))?;
            render::insights(st.list_insights(c, req, now)?)
        }
        Op::DescribeClusterVersions => {
            render::cluster_versions(st.describe_cluster_versions(&cluster_versions_query(q)?)?)
        }
    })
}

fn addon_versions_query(q: &Query) -> Result<AddonVersionsQuery, ApiError> {
    Ok(AddonVersionsQuery {
        kubernetes_version: q.string("kubernetesVersion"),
        addon_name: q.string("addonName"),
        types: q.all("types"),
        publishers: q.all("publishers"),
        owners: q.all("owners"),
        max_results: q.int("maxResults")?,
        next_token: q.string("nextToken"),
    })
}

fn cluster_versions_query(q: &Query) -> Result<ClusterVersionsQuery, ApiError> {
    Ok(ClusterVersionsQuery {
        cluster_type: q.string("clusterType"),
        cluster_versions: q.all("clusterVersions"),
        default_only: q.bool("defaultOnly")?,
        include_all: q.bool("includeAll")?,
        version_status: q.string("versionStatus"),
        status: q.string("status"),
        max_results: q.int("maxResults")?,
        next_token: q.string("nextToken"),
    })
}
