//! The alarms port: the CloudWatch alarms a hop's verification reads (DescribeAlarms).

use crate::domain::eks::AlarmView;
use crate::domain::{EksFailure, Location};
use std::future::Future;

/// Reads alarm states in an account and region (`None`: the function's own; a member
/// cluster's alarms live in its account). A name CloudWatch does not know is absent from the
/// answer (the verification counts that as failed, not as OK).
pub trait Alarms: Send + Sync {
    fn describe(
        &self,
        at: Option<&Location>,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<AlarmView>, EksFailure>> + Send;
}

#[cfg(any(test, feature = "test-util"))]
pub use fake::FakeAlarms;

#[cfg(any(test, feature = "test-util"))]
mod fake {
    use super::Alarms;
    use crate::domain::eks::AlarmView;
    use crate::domain::{EksFailure, Location};
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    /// Alarms set by the test; fails with `failure` while it is set; counts the calls.
    #[derive(Debug, Clone, Default)]
    pub struct FakeAlarms {
        inner: Arc<Mutex<Inner>>,
    }

    #[derive(Debug, Default)]
    struct Inner {
        alarms: BTreeMap<String, (String, String)>,
        /// Set once more than this many calls were made: (calls, name, state, reason).
        later: Vec<(usize, String, String, String)>,
        failure: Option<EksFailure>,
        calls: usize,
        /// Where each call read (`None`: the function's own account and region).
        read_at: Vec<Option<Location>>,
    }

    impl FakeAlarms {
        pub fn set(&self, name: &str, state: &str, reason: &str) {
            let mut inner = self.inner.lock().unwrap();
            inner
                .alarms
                .insert(name.to_owned(), (state.to_owned(), reason.to_owned()));
        }

        /// The alarm reads as it is (OK if unset) for the next `reads` calls (a request's check,
        /// a hop's preflight), then `state`: it fires once the hop has changed the cluster.
        pub fn set_after_reads(&self, name: &str, reads: usize, state: &str, reason: &str) {
            let mut inner = self.inner.lock().unwrap();
            inner
                .alarms
                .entry(name.to_owned())
                .or_insert_with(|| ("OK".to_owned(), "fine so far".to_owned()));
            let at = inner.calls + reads;
            inner
                .later
                .push((at, name.to_owned(), state.to_owned(), reason.to_owned()));
        }

        pub fn fail_with(&self, failure: Option<EksFailure>) {
            self.inner.lock().unwrap().failure = failure;
        }

        pub fn calls(&self) -> usize {
            self.inner.lock().unwrap().calls
        }

        /// Where each call read, in order.
        pub fn read_at(&self) -> Vec<Option<Location>> {
            self.inner.lock().unwrap().read_at.clone()
        }
    }

    impl Alarms for FakeAlarms {
        async fn describe(&self, at: Option<&Location>, names: &[String]) -> Result<Vec<AlarmView>, EksFailure> {
            let mut inner = self.inner.lock().unwrap();
            inner.calls += 1;
            inner.read_at.push(at.cloned());
            let calls = inner.calls;
            let due: Vec<_> = inner.later.iter().filter(|l| calls > l.0).cloned().collect();
            inner.later.retain(|l| calls <= l.0);
            for (_, name, state, reason) in due {
                inner.alarms.insert(name, (state, reason));
            }
            if let Some(failure) = inner.failure.clone() {
                return Err(failure);
            }
            Ok(names
                .iter()
                .filter_map(|name| {
                    inner.alarms.get(name).map(|(state, reason)| AlarmView {
                        name: name.clone(),
                        state: state.clone(),
                        reason: reason.clone(),
                    })
                })
                .collect())
        }
    }
}
