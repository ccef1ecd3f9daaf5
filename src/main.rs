use hermes_forensics::app;
use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(app::main_with(std::env::args_os()))
}
