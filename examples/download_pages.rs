//! Seed: download several pages at once and print each status code as it
//! completes (`ThreadPoolExecutor` + `requests` + `as_completed`), ported to
//! `AsyncPool` + reqwest + `as_completed`.
//!
//! ```text
//! cargo run --example download_pages
//! ```
//!
//! There is no internet here, so the example first starts a small web server
//! on 127.0.0.1 (on a free port) that plays the three sites, each answering
//! after a short delay; the seed's three URLs become three pages of it.

use std::time::{Duration, Instant};

use axum::{Router, extract::Path, response::Html, routing::get};
use futurepool::prelude::*;
use futures::{FutureExt, StreamExt};

/// The stand-in for the internet: `GET /{site}` answers after 100 ms.
async fn start_local_server() -> std::io::Result<String> {
    let app = Router::new().route(
        "/{site}",
        get(|Path(site): Path<String>| async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Html(format!("<title>{site}</title><h1>Welcome to {site}</h1>"))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base)
}

async fn download_page(client: reqwest::Client, url: String) -> Result<u16, reqwest::Error> {
    let response = client.get(url).send().await?;
    Ok(response.status().as_u16())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = start_local_server().await?;
    let urls = [
        format!("{base}/www.example.com"),
        format!("{base}/www.google.com"),
        format!("{base}/www.wikipedia.org"),
    ];
    // reqwest is built here with rustls and no default crypto provider: pick ring
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();

    let start_time = Instant::now();
    let executor = AsyncPool::new();
    // {executor.submit(download_page, url): url for url in urls}: the URL
    // rides along with its task's result.
    let futures = urls.iter().map(|url| {
        let task = executor.submit(download_page(client.clone(), url.clone()));
        task.map(move |result| (url, result))
    });
    let mut completed = as_completed(futures);
    while let Some((url, result)) = completed.next().await {
        match result {
            Ok(Ok(status_code)) => println!("{url}: {status_code}"),
            Ok(Err(exc)) => println!("{url}: {exc}"),
            Err(exc) => println!("{url}: {exc}"),
        }
    }
    executor.shutdown().await;
    let end_time = Instant::now();
    println!(
        "Downloaded {} pages in {:.2} seconds",
        urls.len(),
        (end_time - start_time).as_secs_f64()
    );
    Ok(())
}
