use clap::Parser;

fn main() {
    let cli = plugin::cli::Cli::parse();
    let code = plugin::cli::run(cli);
    std::process::exit(plugin::output::stdio::exit_code(code));
}
