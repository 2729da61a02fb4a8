//! The JSON of EKS answers: the one place where the model's typed values become EKS's
//! shapes (member names, constant members, derived endpoints). Timestamps are epoch
//! seconds as JSON numbers. [`state`] renders the admin API's state dump with the same
//! views. What the files share is in `shared.rs`.

mod cluster;
mod resources;
mod shared;
mod state;
mod versions;

pub(crate) use cluster::cluster;
pub(crate) use resources::{addon, addon_versions, insights, nodegroup, update};
pub(crate) use shared::page;
pub(crate) use state::state;
pub(crate) use versions::cluster_versions;
