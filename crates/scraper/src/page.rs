//! The body of a fetched page on its way to a [`Page`]: scanned while it streams on the runtime, or
//! kept whole and scanned on the run's `CpuPool` (see `Config::offload_parse_bytes`).

use crate::exec::Cpu;
use crate::html::{self, Extract, Page, PageScanner};
use crate::http::{BodyHead, BodySink};
use url::Url;

/// Non-blank bytes needed to tell, without a `Content-Type`, whether a body is HTML.
const SNIFF_NON_BLANK: usize = 14;

/// Where one HTML body goes; a [`BodySink`] for [`crate::http::fetch_url`].
pub(crate) enum PageBody {
    /// No `Content-Type`: the first bytes say whether this is HTML (`<!doctype html`, `<html`).
    Sniffing {
        head: Vec<u8>,
        base: Url,
        extract: Extract,
    },
    /// Scanned chunk by chunk as it arrives.
    Streaming(PageScanner),
    /// Kept whole, to be scanned on the CPU pool.
    Buffered {
        body: Vec<u8>,
        content_type: Option<String>,
        base: Url,
        extract: Extract,
    },
    /// Not HTML after all: ignored.
    Skipped,
}

impl PageBody {
    /// The sink for a response, or `None` when it is not HTML: bodies whose `Content-Length`
    /// exceeds `offload_bytes` are kept for the CPU pool, the others stream through a scanner.
    pub(crate) fn open(
        head: BodyHead<'_>,
        extract: Extract,
        offload_bytes: u64,
    ) -> Option<PageBody> {
        let base = head.final_url.clone();
        match head.content_type {
            None => Some(PageBody::Sniffing {
                head: Vec::new(),
                base,
                extract,
            }),
            Some(ct) if !html::is_html(Some(ct), b"") => None,
            Some(ct) if head.content_length.is_some_and(|n| n > offload_bytes) => {
                Some(PageBody::Buffered {
                    body: Vec::new(),
                    content_type: Some(ct.to_owned()),
                    base,
                    extract,
                })
            }
            Some(ct) => Some(PageBody::Streaming(PageScanner::new(
                Some(ct),
                &base,
                extract,
            ))),
        }
    }

    /// The page: scanned already, or scanned now on `cpu` (when given) for a kept body.
    pub(crate) async fn into_page(self, cpu: Option<&Cpu>) -> Option<Page> {
        match self {
            PageBody::Skipped => None,
            PageBody::Streaming(scanner) => Some(scanner.finish()),
            PageBody::Sniffing {
                head,
                base,
                extract,
            } => {
                if !html::is_html(None, &head) {
                    return None;
                }
                let mut scanner = PageScanner::new(None, &base, extract);
                scanner.feed(&head);
                Some(scanner.finish())
            }
            PageBody::Buffered {
                body,
                content_type,
                base,
                extract,
            } => {
                let scan = move || {
                    let mut scanner = PageScanner::new(content_type.as_deref(), &base, extract);
                    scanner.feed(&body);
                    scanner.finish()
                };
                match cpu {
                    Some(cpu) => cpu.run(scan).await.ok(),
                    None => Some(scan()),
                }
            }
        }
    }
}

impl BodySink for PageBody {
    fn write(&mut self, chunk: &[u8]) {
        match self {
            PageBody::Skipped => {}
            PageBody::Streaming(scanner) => scanner.feed(chunk),
            PageBody::Buffered { body, .. } => body.extend_from_slice(chunk),
            PageBody::Sniffing {
                head,
                base,
                extract,
            } => {
                head.extend_from_slice(chunk);
                let non_blank = head.iter().skip_while(|b| b.is_ascii_whitespace()).count();
                if non_blank < SNIFF_NON_BLANK {
                    return;
                }
                *self = if html::is_html(None, head) {
                    let mut scanner = PageScanner::new(None, base, *extract);
                    scanner.feed(head);
                    PageBody::Streaming(scanner)
                } else {
                    PageBody::Skipped
                };
            }
        }
    }
}
