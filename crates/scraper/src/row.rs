//! The result record of one URL.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a URL got no usable response; the `error` column of its row starts with [`ErrorKind::label`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not an absolute URL.
    InvalidUrl,
    /// The URL's scheme is not `http` or `https`.
    UnsupportedScheme,
    /// The host name did not resolve.
    Dns,
    /// Nothing listened on the port.
    Refused,
    /// The connection could not be set up for another reason (TLS, unreachable network...).
    Connect,
    /// The peer reset or closed the connection before the response was complete.
    Reset,
    /// The whole attempt took longer than the configured timeout.
    Timeout,
    /// The body was larger than the configured `max_bytes`.
    TooLarge,
    /// More redirects than the cap (10).
    TooManyRedirects,
    /// Any other failure of the request or while reading the body.
    Other,
}

impl ErrorKind {
    /// A short, stable name of the kind, as used in the summary and at the start of `error`.
    ///
    /// ```
    /// assert_eq!(futurepool_scraper::ErrorKind::Timeout.label(), "timeout");
    /// ```
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::InvalidUrl => "invalid url",
            ErrorKind::UnsupportedScheme => "unsupported scheme",
            ErrorKind::Dns => "dns error",
            ErrorKind::Refused => "connection refused",
            ErrorKind::Connect => "connect error",
            ErrorKind::Reset => "connection reset",
            ErrorKind::Timeout => "timeout",
            ErrorKind::TooLarge => "body too large",
            ErrorKind::TooManyRedirects => "too many redirects",
            ErrorKind::Other => "request error",
        }
    }

    /// Whether another attempt may succeed (connect errors and timeouts).
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Dns
                | ErrorKind::Refused
                | ErrorKind::Connect
                | ErrorKind::Reset
                | ErrorKind::Timeout
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One output row: what happened to one URL.
///
/// Fields serialise in the order of the `scrape` contract; `depth` and `links` only appear for
/// crawl rows. A row with an HTTP response has `status` set and `error` `None` (a 404 is not an
/// error of the tool); a row without one has `status` `None` and `error` set, except a body that
/// was too large, which keeps its status.
///
/// ```
/// let row = futurepool_scraper::Row::new("http://example.com/");
/// let json = serde_json::to_string(&row).unwrap();
/// assert!(json.starts_with(r#"{"url":"http://example.com/","final_url":null,"status":null"#));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The URL as given (for crawl: as resolved from its link, fragment dropped).
    pub url: String,
    /// The URL after redirects, if a response came.
    pub final_url: Option<String>,
    /// The HTTP status of the last response.
    pub status: Option<u16>,
    /// Body bytes read (after decompression).
    pub bytes: Option<u64>,
    /// Wall time from the first attempt's start to the row, in milliseconds.
    pub elapsed_ms: u64,
    /// Attempts made (0 when the URL was rejected before any request).
    pub attempts: u32,
    /// What went wrong, if no usable response came; starts with the [`ErrorKind`] label.
    pub error: Option<String>,
    /// The `Content-Type` header of the response.
    pub content_type: Option<String>,
    /// The HTML `<title>`, whitespace collapsed.
    pub title: Option<String>,
    /// Crawl only: link hops from the seed (seed = 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<u32>,
    /// Crawl only: distinct `http(s)` links found on the page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<u64>,
    /// The kind of `error`, for summaries; not part of the output.
    #[serde(skip)]
    pub error_kind: Option<ErrorKind>,
}

impl Row {
    /// An empty row for `url`: no response yet, zero attempts.
    pub fn new(url: impl Into<String>) -> Row {
        Row {
            url: url.into(),
            final_url: None,
            status: None,
            bytes: None,
            elapsed_ms: 0,
            attempts: 0,
            error: None,
            content_type: None,
            title: None,
            depth: None,
            links: None,
            error_kind: None,
        }
    }

    /// Sets `error` to `"{kind label}: {detail}"` and records the kind.
    pub fn set_error(&mut self, kind: ErrorKind, detail: impl fmt::Display) {
        let detail = detail.to_string();
        let label = kind.label();
        let repeats_label = detail
            .get(..label.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(label));
        self.error = Some(if detail.is_empty() {
            label.to_owned()
        } else if repeats_label {
            format!("{label}{}", &detail[label.len()..])
        } else {
            format!("{label}: {detail}")
        });
        self.error_kind = Some(kind);
    }

    /// True when the row has an HTTP response and no error.
    pub fn is_ok(&self) -> bool {
        self.status.is_some() && self.error.is_none()
    }
}
