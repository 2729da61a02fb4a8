//! One update in the fake EKS.

use crate::domain::{EksUpdateError, UpdateState, UpdateView};

/// One update in the fake EKS.
#[derive(Debug, Clone)]
pub struct FakeUpdate {
    pub id: String,
    pub cluster: String,
    pub kind: String,
    pub version: Option<String>,
    pub state: UpdateState,
    /// DescribeUpdate calls left before it ends.
    pub polls_left: u32,
    /// How it ends.
    pub outcome: UpdateState,
    pub errors: Vec<EksUpdateError>,
    /// The clientRequestToken that created it (none for a foreign update).
    pub token: Option<String>,
    pub force: bool,
    /// The node group or add-on it updates (none for the control plane).
    pub target: Option<String>,
    /// EKS's `createdAt` (from `FakeEksState::now`, when a test sets it).
    pub created_at: Option<i64>,
}

impl FakeUpdate {
    /// What DescribeUpdate answers of it.
    pub fn view(&self) -> UpdateView {
        UpdateView {
            id: self.id.clone(),
            state: self.state.clone(),
            kind: self.kind.clone(),
            version: self.version.clone(),
            errors: self.errors.clone(),
            created_at: self.created_at,
        }
    }
}
