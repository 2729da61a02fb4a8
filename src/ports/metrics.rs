//! Where the metrics' EMF lines go: the function's standard output, which Lambda sends to
//! CloudWatch Logs, which extracts the metrics. Not a trait: the only variation is a test's
//! recording of the lines (feature `test-util`).

use crate::domain::metrics::{emf_lines, MetricPoint};
#[cfg(any(test, feature = "test-util"))]
use std::sync::{Arc, Mutex};

/// Prints each metric point as an EMF line, in the name of the function.
#[derive(Debug, Clone, Default)]
pub struct MetricsLog {
    function: String,
    #[cfg(any(test, feature = "test-util"))]
    recorded: Option<Arc<Mutex<Vec<String>>>>,
}

impl MetricsLog {
    /// Lines to standard output, with `FunctionName` `function`.
    pub fn stdout(function: &str) -> Self {
        Self {
            function: function.to_owned(),
            ..Self::default()
        }
    }

    pub fn emit(&self, points: &[MetricPoint], timestamp_ms: i64) {
        if points.is_empty() {
            return;
        }
        for line in emf_lines(points, &self.function, timestamp_ms) {
            #[cfg(any(test, feature = "test-util"))]
            if let Some(recorded) = &self.recorded {
                recorded.lock().expect("lines").push(line);
                continue;
            }
            // Its own line, outside the log formatter: CloudWatch reads a whole JSON line.
            println!("{line}");
        }
    }
}

#[cfg(any(test, feature = "test-util"))]
impl MetricsLog {
    /// Keeps the lines instead of printing them.
    pub fn recording(function: &str) -> Self {
        Self {
            function: function.to_owned(),
            recorded: Some(Arc::default()),
        }
    }

    /// The lines so far, parsed.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        let recorded = self.recorded.as_ref().expect("a recording MetricsLog");
        let lines = recorded.lock().expect("lines");
        lines
            .iter()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }
}
