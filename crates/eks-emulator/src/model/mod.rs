//! The emulated EKS, one module per resource: clusters, updates (with the
//! clientRequestToken bookkeeping), node groups, add-ons, insights, Kubernetes versions,
//! and seeding. What the state holds is in `data/` (types only, importing nothing of the
//! model's operations), `State` itself in `state.rs`, and each operation file adds its
//! `impl State` block: so no file imports one that imports it back. Operations take typed requests and return typed values (`*Out`, [`Update`],
//! [`Page`]); `crate::eks::render` is the only place that turns them into EKS's JSON.
//!
//! Everything here runs under one lock and never waits: time moves forward only when
//! [`State::advance`] is called with the current time.

/// Declares a closed enum of EKS values with their exact spelling: `as_str`, `parse`,
/// `Display` and `Serialize` (as the string).
macro_rules! eks_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        #[allow(dead_code)]
        impl $name {
            /// The EKS spelling.
            pub(crate) fn as_str(&self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// Parses the EKS spelling.
            pub(crate) fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

/// Like `eks_enum!`, plus an `Other(String)` variant for text that seeds may give
/// verbatim (seeds have always accepted any status for node groups and add-ons).
macro_rules! eks_enum_open {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub(crate) enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A status seeded verbatim that EKS does not know.
            Other(String),
        }

        impl $name {
            /// The EKS spelling (or the seeded text).
            pub(crate) fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Other(text) => text,
                }
            }

            /// Parses any text; unknown text is kept as `Other`.
            pub(crate) fn from_text(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)+
                    _ => Self::Other(text.to_string()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

mod access;
mod activity;
mod addons;
mod clusters;
mod data;
mod health;
mod insights;
mod launch_templates;
mod nodegroups;
mod rollback;
mod seeding;
mod state;
mod tokens;
mod updates;
mod versions;

pub(crate) use access::IamResource;
pub(crate) use addons::{AddonOut, AddonVersions, AddonVersionsQuery};
pub(crate) use clusters::{ClusterOut, INSIGHTS_BLOCKING_MESSAGE};
pub(crate) use data::addon::AddonStatus;
pub(crate) use data::cluster::ClusterStatus;
pub(crate) use data::insight::{Insight, InsightCategory, InsightStatus};
pub(crate) use data::last_upgrade::ROLLBACK_WINDOW_SECS;
pub(crate) use data::nodegroup::NodegroupStatus;
pub(crate) use data::update::{Cancellation, Target, Update, UpdateParamType, UpdateStatus, UpdateType};
pub(crate) use data::version::{VersionInfo, VersionStatus};
pub(crate) use launch_templates::LaunchTemplate;
pub(crate) use nodegroups::NodegroupOut;
pub(crate) use rollback::ROLLBACK_INSIGHTS_BLOCKING_MESSAGE;
pub(crate) use seeding::{ClusterDump, StateDump};
pub(crate) use state::{Page, State, StateInit};
pub(crate) use versions::ClusterVersionsQuery;
