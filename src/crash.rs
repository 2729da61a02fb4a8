//! A test hook: named points where an invocation dies as if its process had crashed, to prove
//! that every point resumes without a lost or duplicated update. Off unless set explicitly:
//! `ORCHESTRATOR_TEST_CRASH_AT=after:UpdateClusterVersion` (comma-separated; each point fires
//! once per process). Points: `after:<EKS call>` (the call went out, its answer is not
//! written), with calls `DescribeCluster`, `UpdateClusterVersion`, `FindUpdatesInProgress`,
//! `DescribeUpdate`; and `before:continuation` (the handoff is written, the continuation not sent).

use std::sync::Mutex;

/// The environment variable that arms crash points in the function's process.
pub const CRASH_AT_VAR: &str = "ORCHESTRATOR_TEST_CRASH_AT";

#[derive(Debug, Default)]
pub struct CrashPoints {
    armed: Mutex<Vec<String>>,
    /// Abort the process (the real binary) rather than return an error (in-process tests).
    abort_process: bool,
}

/// Returned by a crash point in an in-process test: nothing after it ran.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("injected crash at {0}")]
pub struct InjectedCrash(pub String);

impl CrashPoints {
    /// No crash points: what production runs.
    pub fn none() -> Self {
        Self::default()
    }

    /// Points that make [`CrashPoints::hit`] return an error.
    pub fn in_process<I: IntoIterator<Item = S>, S: Into<String>>(points: I) -> Self {
        Self {
            armed: Mutex::new(points.into_iter().map(Into::into).collect()),
            abort_process: false,
        }
    }

    /// Points from `ORCHESTRATOR_TEST_CRASH_AT`, aborting the process when hit.
    pub fn from_env() -> Self {
        let points = std::env::var(CRASH_AT_VAR).unwrap_or_default();
        Self {
            armed: Mutex::new(
                points
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            abort_process: true,
        }
    }

    pub fn is_armed(&self) -> bool {
        !self.armed.lock().map(|a| a.is_empty()).unwrap_or(true)
    }

    /// Arms one more point.
    pub fn arm(&self, point: &str) {
        if let Ok(mut armed) = self.armed.lock() {
            armed.push(point.to_owned());
        }
    }

    /// Dies here if `point` is armed (once).
    pub fn hit(&self, point: &str) -> Result<(), InjectedCrash> {
        let fired = match self.armed.lock() {
            Ok(mut armed) => match armed.iter().position(|p| p == point) {
                Some(i) => {
                    armed.remove(i);
                    true
                }
                None => false,
            },
            Err(_) => false,
        };
        if !fired {
            return Ok(());
        }
        if self.abort_process {
            tracing::error!(point, "injected crash: aborting the process ({CRASH_AT_VAR})");
            std::process::abort();
        }
        Err(InjectedCrash(point.to_owned()))
    }
}
