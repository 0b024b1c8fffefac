use clap::Parser;

fn main() {
    let cli = plugin::cli::Cli::parse();
    std::process::exit(plugin::cli::run(cli));
}
