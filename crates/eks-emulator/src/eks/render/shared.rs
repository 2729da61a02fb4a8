//! What every rendered answer shares: JSON wrapping, pages, and the `health` member.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::Page;
use crate::seed::HealthIssue;

pub(super) fn to_json(v: impl Serialize) -> Value {
    serde_json::to_value(v).expect("answers serialize to JSON")
}

/// `{key: value}`.
pub(super) fn wrap(key: &str, v: impl Serialize) -> Value {
    let mut o = Map::new();
    o.insert(key.into(), to_json(v));
    Value::Object(o)
}

/// `{key: [items], "nextToken": ...}` (no `nextToken` on the last page).
pub(crate) fn page<T: Serialize>(key: &str, page: Page<T>) -> Value {
    let mut o = Map::new();
    o.insert(key.into(), to_json(page.items));
    if let Some(n) = page.next_token {
        o.insert("nextToken".into(), Value::String(n));
    }
    Value::Object(o)
}

// ---------------------------------------------------------------- shared members

/// `health` of clusters, node groups and add-ons: `{"issues": [...]}`, empty when healthy.
#[derive(Serialize)]
pub(super) struct Health<'a> {
    issues: Vec<IssueView<'a>>,
}

/// An entry of `health.issues` (ClusterIssue, Issue and AddonIssue have the same members).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IssueView<'a> {
    code: &'a str,
    message: &'a str,
    resource_ids: &'a [String],
}

pub(super) const HEALTHY: Health<'static> = Health { issues: Vec::new() };

pub(super) fn health(issues: &[HealthIssue]) -> Health<'_> {
    if issues.is_empty() {
        return HEALTHY;
    }
    let issues = issues
        .iter()
        .map(|i| IssueView {
            code: &i.code,
            message: &i.message,
            resource_ids: &i.resource_ids,
        })
        .collect();
    Health { issues }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_carry_next_token_only_when_more() {
        let last = Page {
            items: vec!["a".to_string()],
            next_token: None,
        };
        assert_eq!(page("clusters", last), serde_json::json!({"clusters": ["a"]}));
        let more = Page {
            items: vec![1, 2],
            next_token: Some("x".into()),
        };
        assert_eq!(page("n", more), serde_json::json!({"n": [1, 2], "nextToken": "x"}));
    }

    #[test]
    fn health_has_no_issues() {
        assert_eq!(to_json(HEALTHY), serde_json::json!({"issues": []}));
    }
}
