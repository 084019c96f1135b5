//! `appliance_exporter`: parse flags, set up logging, run.

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    let flags = appliance_exporter::cli::Flags::parse();
    appliance_exporter::logging::init(flags.log_level, flags.log_format);
    appliance_exporter::run(flags)
}
