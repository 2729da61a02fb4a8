//! `eks-upgrade`: see the library's documentation and the README's "Command line".

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = eks_upgrade::cli::Cli::parse();
    let code = eks_upgrade::run(cli, &mut std::io::stdout(), &mut std::io::stderr()).await;
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}
