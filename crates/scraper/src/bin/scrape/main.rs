//! `scrape`: fetch URLs or crawl a site concurrently and politely, one row per page.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
