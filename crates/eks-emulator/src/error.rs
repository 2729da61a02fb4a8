//! EKS errors as they appear on the wire: `x-amzn-ErrorType`, status code, JSON body.

use serde_json::{Map, Value};

/// An error answer of the EKS API.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub cluster: Option<String>,
    pub nodegroup: Option<String>,
    pub addon: Option<String>,
}

impl ApiError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            cluster: None,
            nodegroup: None,
            addon: None,
        }
    }

    pub fn invalid_parameter(m: impl Into<String>) -> Self {
        Self::new(400, "InvalidParameterException", m)
    }
    pub fn invalid_request(m: impl Into<String>) -> Self {
        Self::new(400, "InvalidRequestException", m)
    }
    pub fn invalid_state(m: impl Into<String>) -> Self {
        Self::new(400, "InvalidStateException", m)
    }
    /// 403, body `{"message": ...}` (the model's AccessDeniedException has no other member).
    pub fn access_denied(m: impl Into<String>) -> Self {
        Self::new(403, "AccessDeniedException", m)
    }
    pub fn in_use(m: impl Into<String>) -> Self {
        Self::new(409, "ResourceInUseException", m)
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(404, "ResourceNotFoundException", m)
    }
    pub fn throttling() -> Self {
        Self::new(429, "ThrottlingException", "Rate exceeded")
    }
    pub fn server(m: impl Into<String>) -> Self {
        Self::new(500, "ServerException", m)
    }
    pub fn unavailable(m: impl Into<String>) -> Self {
        Self::new(503, "ServiceUnavailableException", m)
    }
    pub fn serialization(m: impl Into<String>) -> Self {
        Self::new(400, "SerializationException", m)
    }
    /// Credentials of an STS session past their expiration.
    pub fn expired_token() -> Self {
        Self::new(
            403,
            "ExpiredTokenException",
            "The security token included in the request is expired",
        )
    }
    /// Credentials of an account used in a region it has not enabled.
    pub fn unrecognized_client() -> Self {
        Self::new(
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    }
    pub fn unknown_operation(m: impl Into<String>) -> Self {
        Self::new(404, "UnknownOperationException", m)
    }

    pub fn cluster(mut self, c: &str) -> Self {
        self.cluster = Some(c.to_string());
        self
    }
    pub fn nodegroup(mut self, n: &str) -> Self {
        self.nodegroup = Some(n.to_string());
        self
    }
    pub fn addon(mut self, a: &str) -> Self {
        self.addon = Some(a.to_string());
        self
    }

    /// "No cluster found for name: X."
    pub fn no_cluster(name: &str) -> Self {
        Self::not_found(eks_rules::messages::cluster_not_found(name)).cluster(name)
    }

    /// "No update found for ID: <id>"
    pub fn no_update(cluster: &str, id: &str) -> Self {
        Self::not_found(eks_rules::messages::update_not_found(id)).cluster(cluster)
    }

    /// A refusal of EKS's rules (`eks-rules`, shared with the orchestrator's fake), on the wire.
    pub fn refused(r: eks_rules::Refusal) -> Self {
        use eks_rules::Code;
        match r.code {
            Code::ResourceInUse => Self::in_use(r.message),
            Code::InvalidParameter => Self::invalid_parameter(r.message),
            Code::InvalidRequest => Self::invalid_request(r.message),
            Code::InvalidState => Self::invalid_state(r.message),
            Code::ResourceNotFound => Self::not_found(r.message),
        }
    }

    pub fn no_nodegroup(cluster: &str, ng: &str) -> Self {
        Self::not_found(format!("No node group found for name: {ng}."))
            .cluster(cluster)
            .nodegroup(ng)
    }

    pub fn no_addon(cluster: &str, addon: &str) -> Self {
        Self::not_found(format!("No addon: {addon} found in cluster: {cluster}"))
            .cluster(cluster)
            .addon(addon)
    }

    /// The members the service model gives this error shape (besides `message`).
    fn fields(&self) -> &'static [&'static str] {
        match self.code {
            "InvalidParameterException" | "ResourceNotFoundException" => &[
                "clusterName",
                "nodegroupName",
                "fargateProfileName",
                "addonName",
                "subscriptionId",
            ],
            "InvalidRequestException" | "ClientException" | "ServerException" => {
                &["clusterName", "nodegroupName", "addonName", "subscriptionId"]
            }
            "ResourceInUseException" => &["clusterName", "nodegroupName", "addonName"],
            "InvalidStateException" | "ThrottlingException" => &["clusterName"],
            _ => &[],
        }
    }

    /// The JSON body: the model's lowercase members, `null` where not applicable.
    pub fn body(&self) -> Value {
        let mut m = Map::new();
        for f in self.fields() {
            let v = match *f {
                "clusterName" => self.cluster.clone(),
                "nodegroupName" => self.nodegroup.clone(),
                "addonName" => self.addon.clone(),
                _ => None,
            };
            m.insert((*f).to_string(), v.map(Value::String).unwrap_or(Value::Null));
        }
        m.insert("message".into(), Value::String(self.message.clone()));
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_follow_the_model() {
        let e = ApiError::in_use("busy").cluster("c1");
        assert_eq!(
            e.body(),
            serde_json::json!({"clusterName":"c1","nodegroupName":null,"addonName":null,"message":"busy"})
        );
        let t = ApiError::throttling().cluster("c1");
        assert_eq!(t.status, 429);
        assert_eq!(
            t.body(),
            serde_json::json!({"clusterName":"c1","message":"Rate exceeded"})
        );
        assert_eq!(ApiError::unavailable("x").body(), serde_json::json!({"message":"x"}));
    }
}
