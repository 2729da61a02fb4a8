//! The binary: the listening line, env vars, a taken port, a bad seed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use hyper::http::Method;

use crate::common::raw;

const BIN: &str = env!("CARGO_BIN_EXE_eks-emulator");

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn prints_listening_line_and_serves() {
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/seeds/demo.json");
    let mut child = Child(
        Command::new(BIN)
            .args(["--port", "0", "--seed", seed])
            .env("EKS_EMULATOR_UPDATE_DURATION_MS", "5")
            .env("EKS_EMULATOR_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("eks-emulator listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"));
    let (status, h, body) = raw(&url, Method::GET, "/clusters/demo", &[], "").await;
    assert_eq!(status, 200, "{body}");
    assert!(h.contains_key("x-amzn-requestid"));
    let (_, _, body) = raw(&url, Method::GET, "/_emulator/durations", &[], "").await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["clusterUpdateMs"], 5, "env var applied");
    // One log line per request on stderr.
    let _ = child.0.kill();
    let out = child.0.wait_with_output_ref();
    assert!(out.contains("GET /clusters/demo 200 DescribeCluster"), "{out}");
}

trait WaitOutput {
    fn wait_with_output_ref(&mut self) -> String;
}

impl WaitOutput for std::process::Child {
    fn wait_with_output_ref(&mut self) -> String {
        let _ = self.wait();
        let mut s = String::new();
        if let Some(mut e) = self.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut s);
        }
        s
    }
}

#[test]
fn taken_port_exits_2_with_a_clear_message() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = Command::new(BIN)
        .env("EKS_EMULATOR_PORT", port.to_string())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "port {port} is already in use; pass --port or set EKS_EMULATOR_PORT"
        )),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_seed_and_bad_rate_exit_2() {
    let dir = std::env::temp_dir().join(format!("eks-emulator-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed = dir.join("bad.json");
    std::fs::write(&seed, r#"{"clusters":[{"name":"x"}]}"#).unwrap();
    let out = Command::new(BIN)
        .args(["--port", "0", "--seed"])
        .arg(&seed)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid seed"));
    let out = Command::new(BIN)
        .args(["--port", "0", "--throttle-rate", "1.5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(dir);
}
