//! `--stack`: the function is the stack's `FunctionArn` output (CloudFormation DescribeStacks,
//! mocked), and a stack without it, or no stack, is one clear error.

use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
use aws_sdk_cloudformation::types::{Output, Stack, StackStatus};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use eks_upgrade::function::function_of_stack;

fn stack(outputs: &[(&str, &str)]) -> DescribeStacksOutput {
    let mut s = Stack::builder()
        .stack_name("eks-upgrade-orchestrator")
        .creation_time(aws_sdk_cloudformation::primitives::DateTime::from_secs(0))
        .stack_status(StackStatus::CreateComplete);
    for (k, v) in outputs {
        s = s.outputs(Output::builder().output_key(*k).output_value(*v).build());
    }
    DescribeStacksOutput::builder().stacks(s.build()).build()
}

#[tokio::test]
async fn the_stack_names_its_function_by_its_output() {
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:eks-upgrade-orchestrator";
    let rule = mock!(aws_sdk_cloudformation::Client::describe_stacks)
        .match_requests(|r| r.stack_name() == Some("eks-upgrade-orchestrator"))
        .then_output(move || stack(&[("UpgradesTableName", "t"), ("FunctionArn", arn)]));
    let client = mock_client!(aws_sdk_cloudformation, [&rule]);
    assert_eq!(
        function_of_stack(&client, "eks-upgrade-orchestrator").await.unwrap(),
        arn
    );
}

#[tokio::test]
async fn a_stack_without_the_output_is_one_clear_error() {
    let rule = mock!(aws_sdk_cloudformation::Client::describe_stacks).then_output(|| stack(&[("Other", "x")]));
    let client = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&rule]);
    let err = function_of_stack(&client, "other-stack").await.unwrap_err().to_string();
    assert_eq!(
        err,
        "cannot reach the function: stack other-stack has no FunctionArn output"
    );
}
