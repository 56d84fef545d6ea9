//! The body of a fetched page on its way to a [`Page`]: scanned chunk by chunk while it streams,
//! on the runtime or on the run's `CpuPool` (see `Config::offload_parse_bytes`).

use crate::exec::Cpu;
use crate::html::{self, Extract, Page, PageScanner};
use crate::http::{BodyHead, BodySink};
use bytes::Bytes;
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
        cpu: Option<Cpu>,
    },
    /// Scanned chunk by chunk as it arrives: here, or on `cpu` when given. `scanner` is `None`
    /// only if a scan on the pool was lost (the pool shut down): the page then has no title.
    Streaming {
        scanner: Option<PageScanner>,
        cpu: Option<Cpu>,
    },
    /// Not HTML after all: ignored.
    Skipped,
}

impl PageBody {
    /// The sink for a response, or `None` when it is not HTML. Bodies larger than `offload_bytes`
    /// (or of unknown length) are scanned on `cpu`, the others on the runtime.
    pub(crate) fn open(
        head: BodyHead<'_>,
        extract: Extract,
        offload_bytes: u64,
        cpu: Option<&Cpu>,
    ) -> Option<PageBody> {
        let base = head.final_url.clone();
        let offload = head.content_length.is_none_or(|n| n > offload_bytes);
        let cpu = cpu.filter(|_| offload).cloned();
        match head.content_type {
            None => Some(PageBody::Sniffing {
                head: Vec::new(),
                base,
                extract,
                cpu,
            }),
            Some(ct) if !html::is_html(Some(ct), b"") => None,
            Some(ct) => Some(PageBody::Streaming {
                scanner: Some(PageScanner::new(Some(ct), &base, extract)),
                cpu,
            }),
        }
    }

    /// The page, once the body has ended.
    pub(crate) fn into_page(self) -> Option<Page> {
        match self {
            PageBody::Skipped => None,
            PageBody::Streaming { scanner, .. } => scanner.map(PageScanner::finish),
            PageBody::Sniffing {
                head,
                base,
                extract,
                ..
            } => {
                if !html::is_html(None, &head) {
                    return None;
                }
                let mut scanner = PageScanner::new(None, &base, extract);
                scanner.feed(&head);
                Some(scanner.finish())
            }
        }
    }
}

/// Feeds `chunk` to `scanner`: here, or as a task on `cpu` that hands the scanner back.
async fn scan(scanner: &mut Option<PageScanner>, cpu: Option<&Cpu>, chunk: Bytes) {
    match (scanner.as_mut(), cpu) {
        (None, _) => {}
        (Some(s), _) if s.is_done() => {}
        (Some(s), None) => s.feed(&chunk),
        (Some(_), Some(cpu)) => {
            let Some(mut moved) = scanner.take() else {
                return;
            };
            *scanner = cpu
                .run(move || {
                    moved.feed(&chunk);
                    moved
                })
                .await
                .ok();
        }
    }
}

impl BodySink for PageBody {
    async fn write(&mut self, chunk: Bytes) {
        match self {
            PageBody::Skipped => {}
            PageBody::Streaming { scanner, cpu } => scan(scanner, cpu.as_ref(), chunk).await,
            PageBody::Sniffing {
                head,
                base,
                extract,
                cpu,
            } => {
                head.extend_from_slice(&chunk);
                let non_blank = head.iter().skip_while(|b| b.is_ascii_whitespace()).count();
                if non_blank < SNIFF_NON_BLANK {
                    return;
                }
                if !html::is_html(None, head) {
                    *self = PageBody::Skipped;
                    return;
                }
                let mut scanner = Some(PageScanner::new(None, base, *extract));
                let cpu = cpu.take();
                scan(
                    &mut scanner,
                    cpu.as_ref(),
                    Bytes::from(std::mem::take(head)),
                )
                .await;
                *self = PageBody::Streaming { scanner, cpu };
            }
        }
    }
}
