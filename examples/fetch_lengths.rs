//! Seed: fetch the content length of five sites with
//! `ThreadPoolExecutor(max_workers=5).map(fetch_url, urls)`, ported to
//! `AsyncPool::map` with at most 5 requests at once.
//!
//! ```text
//! cargo run --example fetch_lengths
//! ```
//!
//! There is no internet here, so the example first starts a web server on
//! 127.0.0.1 that plays the five sites (each page a different size, after a
//! short delay).

use std::time::{Duration, Instant};

use axum::{Router, extract::Path, response::Html, routing::get};
use futurepool::prelude::*;
use futures::StreamExt;

async fn start_local_server() -> std::io::Result<String> {
    let app = Router::new().route(
        "/{site}",
        get(|Path(site): Path<String>| async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            // a page whose size depends on the site's name
            Html(format!(
                "<title>{site}</title>{}",
                "<p>hello</p>".repeat(site.len() * 10)
            ))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base)
}

async fn fetch_url(client: reqwest::Client, url: String) -> Result<usize, reqwest::Error> {
    println!(
        "Fetching {url} in thread {}",
        std::thread::current().name().unwrap_or("unnamed")
    );
    let response = client.get(&url).send().await?;
    Ok(response.bytes().await?.len())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = start_local_server().await?;
    let urls: Vec<String> = [
        "www.google.com",
        "www.yahoo.com",
        "www.bing.com",
        "www.duckduckgo.com",
        "www.wikipedia.org",
    ]
    .iter()
    .map(|site| format!("{base}/{site}"))
    .collect();
    // reqwest is built here with rustls and no default crypto provider: pick ring
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();

    let start_time = Instant::now();
    let executor = AsyncPool::builder().max_concurrency(5).build()?;
    let results: Vec<Result<Result<usize, reqwest::Error>, TaskError>> = executor
        .map(|url| fetch_url(client.clone(), url), urls.clone())
        .collect()
        .await;
    executor.shutdown().await;
    let end_time = Instant::now();
    println!(
        "AsyncPool Execution Time: {:.4} seconds",
        (end_time - start_time).as_secs_f64()
    );
    for (url, length) in urls.iter().zip(results) {
        println!("{url}: {}", length??);
    }
    Ok(())
}
