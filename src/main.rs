use hermes_forensics::app;
use std::process::ExitCode;

/// Records are built on the parsing threads and freed on the correlating one; mimalloc's
/// per-thread heaps make that allocation and the cross-thread frees cheaper than the system
/// allocator's arenas. Without transparent huge pages, its peak RSS stays that of the data.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    ExitCode::from(app::main_with(std::env::args_os()))
}
