use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = walkit::cmd::Cli::parse();
    match walkit::cmd::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (`walkit dump … | head`) is the reader's choice, not an error.
            let broken_pipe = e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("walkit: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
