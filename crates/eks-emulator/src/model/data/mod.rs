//! What the model's state holds: each resource's type, its statuses and its own small
//! methods. No file here knows `State` or an operation, so the operations (`../*.rs`) and
//! `../state.rs` import these and none of these imports them back.

pub(super) mod activity;
pub(super) mod addon;
pub(super) mod cluster;
pub(super) mod insight;
pub(super) mod last_upgrade;
pub(super) mod nodegroup;
pub(super) mod token;
pub(super) mod update;
pub(super) mod version;
