//! A hello-world Lambda function: the floor the orchestrator's cold start is compared with
//! (scripts/bench). Same runtime crate, same release profile, nothing else.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(json!({ "hello": event.payload }))
    }))
    .await
}
