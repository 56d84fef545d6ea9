//! `scrape`: fetch URLs or crawl a site concurrently and politely, one row per page.

mod cli;
mod input;
mod resume;
mod session;

fn main() {
    std::process::exit(cli::main());
}
