use clap::Parser;
use hermes_forensics::{app, cli::Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    ExitCode::from(app::run(cli))
}
