//! An EKS insight: its status, category and what it says.

eks_enum! {
    /// Status of an insight.
    InsightStatus {
        Passing = "PASSING",
        Warning = "WARNING",
        Error = "ERROR",
        Unknown = "UNKNOWN",
    }
}

impl InsightStatus {
    /// ListInsights lists ERROR first, then WARNING, UNKNOWN, PASSING.
    pub(in crate::model) fn rank(self) -> u8 {
        match self {
            InsightStatus::Error => 0,
            InsightStatus::Warning => 1,
            InsightStatus::Unknown => 2,
            InsightStatus::Passing => 3,
        }
    }
}

eks_enum! {
    /// Category of an insight.
    InsightCategory {
        UpgradeReadiness = "UPGRADE_READINESS",
        Misconfiguration = "MISCONFIGURATION",
        RollbackReadiness = "ROLLBACK_READINESS",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Insight {
    pub id: String,
    pub name: String,
    pub category: InsightCategory,
    pub kubernetes_version: String,
    pub status: InsightStatus,
    pub reason: String,
    pub description: String,
    pub last_refresh: f64,
    pub last_transition: f64,
}

impl Insight {
    /// Whether this insight blocks an update (UPGRADE_READINESS) or a rollback
    /// (ROLLBACK_READINESS) to `version` (unless forced).
    pub(in crate::model) fn blocks(&self, category: InsightCategory, version: &str) -> bool {
        self.category == category && self.status == InsightStatus::Error && self.kubernetes_version == version
    }
}
