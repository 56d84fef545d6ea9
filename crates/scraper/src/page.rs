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
        /// How many of `head`'s first bytes are blank (final once `started`: a non-blank byte
        /// came). Each chunk is looked at once, so sniffing stays linear in the body.
        blank: usize,
        started: bool,
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
                blank: 0,
                started: false,
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

    /// The page, once the body has ended, with at most `max_links` links, and the number of
    /// distinct links it has.
    pub(crate) fn into_page(self, max_links: usize) -> Option<(Page, usize)> {
        match self {
            PageBody::Skipped => None,
            PageBody::Streaming { scanner, .. } => scanner.map(|s| s.finish_limited(max_links)),
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
                Some(scanner.finish_limited(max_links))
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
                blank,
                started,
                base,
                extract,
                cpu,
            } => {
                if !*started {
                    match chunk.iter().position(|b| !b.is_ascii_whitespace()) {
                        Some(at) => {
                            *blank += at;
                            *started = true;
                        }
                        None => *blank += chunk.len(),
                    }
                }
                head.extend_from_slice(&chunk);
                let non_blank = head.len() - *blank;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A body without a `Content-Type`, trickled in one-byte chunks, is sniffed in linear time:
    /// rescanning what came before on every chunk took minutes for these 400 KB.
    #[test]
    fn sniffing_a_trickled_body_is_linear() {
        let (done, wait) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let url = Url::parse("http://example.com/").unwrap();
            let head = BodyHead {
                content_type: None,
                content_length: None,
                final_url: &url,
            };
            let mut body = PageBody::open(head, Extract::Title, u64::MAX, None).unwrap();
            futures::executor::block_on(async {
                for _ in 0..400_000 {
                    body.write(Bytes::from_static(b" ")).await;
                }
                for byte in b"<!doctype html><title>t</title>" {
                    body.write(Bytes::copy_from_slice(&[*byte])).await;
                }
            });
            let _ = done.send(body.into_page(usize::MAX).and_then(|(p, _)| p.title));
        });
        let title = wait
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("sniffing finished (watchdog)");
        assert_eq!(title.as_deref(), Some("t"));
    }
}
