//! Every bad input of the contract gives a row with a clear error (or a status), and the run goes on.

mod common;

use common::{Behaviour, RawServer, config, fetch_all, fetch_one};
use futurepool_scraper::{Config, ErrorKind};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn invalid_url_is_a_row_without_a_request() {
    let row = fetch_one(config(), "not a url").await;
    assert_eq!(row.url, "not a url");
    assert_eq!(row.status, None);
    assert_eq!(row.attempts, 0);
    assert_eq!(row.error_kind, Some(ErrorKind::InvalidUrl));
    assert!(
        row.error.as_deref().unwrap().starts_with("invalid url"),
        "{row:?}"
    );
}

#[tokio::test]
async fn ftp_scheme_is_unsupported() {
    let row = fetch_one(config(), "ftp://example.com/file.txt").await;
    assert_eq!(row.status, None);
    assert_eq!(row.error.as_deref(), Some("unsupported scheme: ftp"));
    assert_eq!(row.error_kind, Some(ErrorKind::UnsupportedScheme));
}

#[tokio::test]
async fn refused_port_is_retried_then_reported() {
    // Bind and drop a listener to get a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let row = fetch_one(config(), &format!("http://127.0.0.1:{port}/")).await;
    assert_eq!(row.status, None);
    assert_eq!(row.error_kind, Some(ErrorKind::Refused), "{row:?}");
    assert!(
        row.error
            .as_deref()
            .unwrap()
            .starts_with("connection refused")
    );
    assert_eq!(row.attempts, 3, "1 attempt + 2 retries");
}

#[tokio::test]
async fn invalid_tld_host_is_a_dns_error() {
    let row = fetch_one(
        Config {
            retries: 0,
            ..config()
        },
        "http://no-such-host.invalid/",
    )
    .await;
    assert_eq!(row.status, None);
    assert_eq!(row.error_kind, Some(ErrorKind::Dns), "{row:?}");
    assert!(row.error.as_deref().unwrap().starts_with("dns error"));
}

#[tokio::test]
async fn connection_reset_is_retried_then_reported() {
    let server = RawServer::start(Behaviour::Reset).await;
    let row = fetch_one(
        Config {
            retries: 1,
            ..config()
        },
        &server.url("/"),
    )
    .await;
    assert_eq!(row.status, None);
    assert_eq!(row.error_kind, Some(ErrorKind::Reset), "{row:?}");
    assert_eq!(row.attempts, 2);
    assert_eq!(server.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn silent_server_times_out() {
    let server = RawServer::start(Behaviour::Silent).await;
    let cfg = Config {
        timeout: Duration::from_millis(300),
        retries: 1,
        ..config()
    };
    let started = Instant::now();
    let row = fetch_one(cfg, &server.url("/")).await;
    assert_eq!(row.status, None);
    assert_eq!(row.error_kind, Some(ErrorKind::Timeout), "{row:?}");
    assert_eq!(
        row.error.as_deref(),
        Some("timeout: no complete response within 300ms")
    );
    assert_eq!(row.attempts, 2);
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "each attempt waited for its timeout"
    );
}

#[tokio::test]
async fn trickling_body_hits_the_whole_request_timeout() {
    // Headers come at once; the body would take 100 s. The limit covers the body too.
    let server = RawServer::start(Behaviour::Trickle {
        len: 1000,
        every: Duration::from_millis(100),
    })
    .await;
    let cfg = Config {
        timeout: Duration::from_millis(400),
        retries: 0,
        ..config()
    };
    let row = fetch_one(cfg, &server.url("/slow")).await;
    assert_eq!(row.error_kind, Some(ErrorKind::Timeout), "{row:?}");
    assert_eq!(row.status, None, "no complete response, so no status");
    assert_eq!(row.bytes, None);
}

#[tokio::test]
async fn body_too_large_keeps_status_and_stops_reading() {
    let server = MockServer::start().await;
    Mock::given(path("/big"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(vec![b'a'; 50_000], "text/plain"))
        .mount(&server)
        .await;
    let row = fetch_one(
        Config {
            max_bytes: 1000,
            ..config()
        },
        &format!("{}/big", server.uri()),
    )
    .await;
    assert_eq!(row.status, Some(200));
    assert_eq!(row.bytes, Some(1000));
    assert_eq!(row.error_kind, Some(ErrorKind::TooLarge));
    assert_eq!(
        row.error.as_deref(),
        Some("body too large: more than 1000 bytes, stopped reading")
    );
    assert_eq!(row.attempts, 1, "a large body is not retried");
}

#[tokio::test]
async fn endless_body_is_cut_at_max_bytes() {
    // A body that never ends: only the cap can end this row (well before the timeout).
    let server = RawServer::start(Behaviour::Endless).await;
    let cfg = Config {
        max_bytes: 2000,
        timeout: Duration::from_secs(30),
        ..config()
    };
    let row = fetch_one(cfg, &server.url("/")).await;
    assert_eq!(row.error_kind, Some(ErrorKind::TooLarge), "{row:?}");
    assert_eq!(row.status, Some(200));
    assert_eq!(row.bytes, Some(2000));
}

#[tokio::test]
async fn redirect_loop_stops_at_ten() {
    let server = MockServer::start().await;
    Mock::given(path("/a"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/b"))
        .mount(&server)
        .await;
    Mock::given(path("/b"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/a"))
        .mount(&server)
        .await;
    let row = fetch_one(config(), &format!("{}/a", server.uri())).await;
    assert_eq!(row.status, None);
    assert_eq!(row.error_kind, Some(ErrorKind::TooManyRedirects), "{row:?}");
    assert_eq!(
        row.error.as_deref(),
        Some("too many redirects: more than 10 redirects")
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 11, "the first request and 10 redirects");
}

#[tokio::test]
async fn a_redirect_is_followed_and_reported() {
    let server = MockServer::start().await;
    Mock::given(path("/old"))
        .respond_with(ResponseTemplate::new(301).insert_header("location", "/new"))
        .mount(&server)
        .await;
    Mock::given(path("/new"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<title>New</title>", "text/html"))
        .mount(&server)
        .await;
    let url = format!("{}/old", server.uri());
    let row = fetch_one(config(), &url).await;
    assert_eq!(row.url, url);
    assert_eq!(row.final_url, Some(format!("{}/new", server.uri())));
    assert_eq!(row.status, Some(200));
    assert_eq!(row.title.as_deref(), Some("New"));
}

#[tokio::test]
async fn not_found_is_a_fetched_row_without_retries() {
    let server = MockServer::start().await;
    Mock::given(path("/gone"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    let row = fetch_one(config(), &format!("{}/gone", server.uri())).await;
    assert_eq!(row.status, Some(404));
    assert_eq!(row.error, None);
    assert_eq!(row.attempts, 1);
}

#[tokio::test]
async fn server_error_is_retried_and_the_last_status_kept() {
    let server = MockServer::start().await;
    Mock::given(path("/err"))
        .respond_with(ResponseTemplate::new(500))
        .expect(3)
        .mount(&server)
        .await;
    let row = fetch_one(config(), &format!("{}/err", server.uri())).await;
    assert_eq!(row.status, Some(500));
    assert_eq!(
        row.error, None,
        "a 500 is a response, not an error of the tool"
    );
    assert_eq!(row.attempts, 3);
}

#[tokio::test]
async fn server_error_then_success_honours_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/flaky"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/flaky"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<title>ok</title>", "text/html"))
        .mount(&server)
        .await;
    let started = Instant::now();
    let row = fetch_one(config(), &format!("{}/flaky", server.uri())).await;
    assert_eq!(row.status, Some(200));
    assert_eq!(row.attempts, 2);
    assert_eq!(row.title.as_deref(), Some("ok"));
    // The configured backoff is 1 ms: only Retry-After can make the retry wait a second.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn too_many_requests_is_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/limited"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/limited"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let row = fetch_one(config(), &format!("{}/limited", server.uri())).await;
    assert_eq!(row.status, Some(200));
    assert_eq!(row.attempts, 3);
}

#[tokio::test]
async fn too_many_requests_without_retries_left_is_reported_as_429() {
    let server = MockServer::start().await;
    Mock::given(path("/limited"))
        .respond_with(ResponseTemplate::new(429))
        .expect(2)
        .mount(&server)
        .await;
    let row = fetch_one(
        Config {
            retries: 1,
            ..config()
        },
        &format!("{}/limited", server.uri()),
    )
    .await;
    assert_eq!(row.status, Some(429));
    assert_eq!(row.error, None);
    assert_eq!(row.attempts, 2);
}

#[tokio::test]
async fn retry_after_beyond_the_cap_is_not_waited_for() {
    let server = MockServer::start().await;
    Mock::given(path("/later"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "3600"))
        .expect(1)
        .mount(&server)
        .await;
    let row = fetch_one(config(), &format!("{}/later", server.uri())).await;
    assert_eq!(row.status, Some(503));
    assert_eq!(row.attempts, 1, "a server asking for an hour gets no retry");
}

#[tokio::test]
async fn one_bad_url_does_not_stop_the_run() {
    let server = MockServer::start().await;
    Mock::given(path("/ok"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let urls = vec![
        "ftp://x/".to_owned(),
        format!("{}/ok", server.uri()),
        "http://no-such-host.invalid/".to_owned(),
        "::".to_owned(),
    ];
    let rows = fetch_all(
        Config {
            retries: 0,
            ..config()
        },
        &urls,
    )
    .await;
    assert_eq!(rows.len(), 4);
    assert_eq!(rows.iter().filter(|r| r.status == Some(200)).count(), 1);
    assert_eq!(rows.iter().filter(|r| r.error.is_some()).count(), 3);
}

#[test]
fn retry_after_accepts_seconds_and_http_dates() {
    use futurepool_scraper::http::parse_retry_after;
    use std::time::SystemTime;
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // 2015-10-21 07:28:00 UTC
    assert_eq!(
        parse_retry_after("120", now),
        Some(Duration::from_secs(120))
    );
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
        Some(Duration::ZERO),
        "past dates mean now"
    );
    assert_eq!(parse_retry_after("-5", now), None);
    assert_eq!(parse_retry_after("tomorrow", now), None);
}
