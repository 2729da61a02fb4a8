//! Launch templates of managed node groups: the template a node group was created with
//! (name, id, version), the `launchTemplate` of CreateNodegroup and UpdateNodegroupVersion
//! requests and the checks EKS makes on it, and what a custom AMI shows: the AMI id as
//! `releaseVersion`, the Kubernetes version of each template version's AMI (a seed
//! extension). The rules of UpdateNodegroupVersion that use them are in `nodegroups.rs`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::seed::SeedLaunchTemplate;
use crate::util::stable_id;

/// The AMI type of a node group whose launch template names the image.
pub(super) const CUSTOM_AMI: &str = "CUSTOM";

/// UpdateNodegroupVersion with `version` or `releaseVersion` on a custom AMI (eksctl
/// #5748, #5999).
pub(super) const CUSTOM_AMI_UPDATE: &str = eks_rules::messages::CUSTOM_AMI_UPDATE;

/// CreateNodegroup with `version` or `releaseVersion` and a custom AMI (pulumi-eks #1283,
/// terraform-aws-eks-blueprints #615).
pub(super) const CUSTOM_AMI_CREATE: &str =
    "You cannot specify a kubernetes version to use when specifying an image id to use within the launch template.";

/// A `launchTemplate` with both (or, at creation, neither) name and id (eksctl #3104,
/// aws-controllers-k8s #2645).
const NAME_OR_ID: &str = "Either provide launch template ID or launch template name in the request.";

/// Inferred from the model's documentation of UpdateNodegroupVersionRequest.
const SAME_TEMPLATE: &str =
    "You must specify the same launch template ID or name that was used to create the node group.";

/// Inferred from the model's documentation of UpdateNodegroupVersionRequest.
const NO_TEMPLATE: &str = "You can only update a node group using a launch template if the node group was originally deployed with a launch template.";

/// A node group's launch template, as DescribeNodegroup shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LaunchTemplate {
    /// Unknown when the node group was created with an id only.
    pub name: Option<String>,
    pub id: String,
    pub version: String,
}

/// `launchTemplate` of a request (the model's LaunchTemplateSpecification).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LaunchTemplateReq {
    pub name: Option<String>,
    pub version: Option<String>,
    pub id: Option<String>,
}

/// `lt-0` and 16 hex digits, the same for the same name.
fn template_id(name: &str) -> String {
    let hex = stable_id(&format!("launch-template/{name}")).replace('-', "");
    format!("lt-0{}", &hex[..16])
}

impl LaunchTemplate {
    /// A seeded template: the id derived from the name when not given, version "1" by
    /// default.
    pub(super) fn from_seed(s: &SeedLaunchTemplate) -> Result<LaunchTemplate, String> {
        let id = match (&s.id, &s.name) {
            (Some(id), _) => id.clone(),
            (None, Some(name)) => template_id(name),
            (None, None) => return Err("launchTemplate needs a name or an id".into()),
        };
        Ok(LaunchTemplate {
            name: s.name.clone(),
            id,
            version: s.version.clone().unwrap_or_else(|| "1".into()),
        })
    }

    /// The template of a CreateNodegroup request: a name or an id, not both.
    pub(super) fn from_request(r: &LaunchTemplateReq) -> Result<LaunchTemplate, ApiError> {
        if r.name.is_some() == r.id.is_some() {
            return Err(ApiError::invalid_parameter(NAME_OR_ID));
        }
        let seed = SeedLaunchTemplate {
            name: r.name.clone(),
            version: r.version.clone(),
            id: r.id.clone(),
        };
        LaunchTemplate::from_seed(&seed).map_err(ApiError::invalid_parameter)
    }

    /// The AMI id a custom-AMI node group shows as `releaseVersion` for this template
    /// version (the emulator makes one up: `ami-0` and 16 hex digits).
    pub(super) fn ami_id(&self) -> String {
        let hex = stable_id(&format!("ami/{}/{}", self.id, self.version)).replace('-', "");
        format!("ami-0{}", &hex[..16])
    }

    /// The template version an UpdateNodegroupVersion request moves the node group to:
    /// the request's (else the current one), provided it names this template by name or
    /// id, not both, or names none.
    pub(super) fn requested_version(
        current: Option<&LaunchTemplate>,
        req: &LaunchTemplateReq,
    ) -> Result<String, ApiError> {
        let Some(lt) = current else {
            return Err(ApiError::invalid_parameter(NO_TEMPLATE));
        };
        if req.name.is_some() && req.id.is_some() {
            return Err(ApiError::invalid_parameter(NAME_OR_ID));
        }
        let other_name = req.name.as_ref().is_some_and(|n| lt.name.as_ref() != Some(n));
        let other_id = req.id.as_ref().is_some_and(|i| *i != lt.id);
        if other_name || other_id {
            return Err(ApiError::invalid_parameter(SAME_TEMPLATE));
        }
        Ok(req.version.clone().unwrap_or_else(|| lt.version.clone()))
    }
}

/// The Kubernetes version of the AMI in launch-template version `lt_version` of a custom
/// AMI node group: the seeded one, else `unchanged` when the template version stays, else
/// the cluster's.
pub(super) fn ami_kubernetes_version(
    versions: &BTreeMap<String, String>,
    lt_version: &str,
    current: &LaunchTemplate,
    unchanged: &str,
    cluster: &str,
) -> String {
    match versions.get(lt_version) {
        Some(v) => v.clone(),
        None if current.version == lt_version => unchanged.to_string(),
        None => cluster.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lt() -> LaunchTemplate {
        LaunchTemplate::from_seed(&SeedLaunchTemplate {
            name: Some("web".into()),
            version: Some("4".into()),
            id: None,
        })
        .unwrap()
    }

    #[test]
    fn ids_are_derived_from_the_name() {
        let t = lt();
        assert!(t.id.starts_with("lt-0") && t.id.len() == 20, "{}", t.id);
        assert_eq!(t.id, lt().id);
        assert!(t.ami_id().starts_with("ami-0") && t.ami_id().len() == 21);
        let no_version = LaunchTemplate::from_seed(&SeedLaunchTemplate {
            id: Some("lt-1".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!((no_version.version.as_str(), no_version.name), ("1", None));
    }

    #[test]
    fn update_requests_name_the_same_template() {
        let t = lt();
        let req = |name: Option<&str>, id: Option<&str>| LaunchTemplateReq {
            name: name.map(str::to_string),
            version: Some("5".into()),
            id: id.map(str::to_string),
        };
        let ok = |r: LaunchTemplateReq| LaunchTemplate::requested_version(Some(&t), &r);
        assert_eq!(ok(req(Some("web"), None)).unwrap(), "5");
        assert_eq!(ok(req(None, Some(&t.id))).unwrap(), "5");
        assert_eq!(ok(req(None, None)).unwrap(), "5");
        assert_eq!(ok(req(Some("other"), None)).unwrap_err().message, SAME_TEMPLATE);
        assert_eq!(ok(req(Some("web"), Some(&t.id))).unwrap_err().message, NAME_OR_ID);
        let none = LaunchTemplate::requested_version(None, &req(None, None)).unwrap_err();
        assert_eq!(none.message, NO_TEMPLATE);
    }
}
