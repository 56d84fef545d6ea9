//! Connecting to the NATS server: the caller's `ConnectOptions`, credentials from the URL,
//! errors that name the server but never a secret, and the server's `max_payload`.

use std::time::Duration;

use async_nats::jetstream::{self, Context};
use async_nats::{Client, ConnectOptions, ServerAddr};
use futurepool_core::BuildError;

/// How long `build` and `run` wait for the server before giving up.
const CONNECT_LIMIT: Duration = Duration::from_secs(5);

/// A connection to the server, with what the pool and the workers read from it.
pub(crate) struct Connection {
    pub(crate) client: Client,
    pub(crate) js: Context,
    /// The largest message (headers and payload) the server accepts, from its INFO.
    pub(crate) max_payload: usize,
}

/// The server URLs of a `url(..)` setting without their user info, and the credentials that
/// user info held.
#[derive(Debug, PartialEq)]
pub(crate) struct Servers {
    /// Each URL without user info: safe to print.
    pub(crate) shown: Vec<String>,
    /// `user:password` or a token, from the URLs that have user info (all the same: one
    /// connection presents one set of credentials to whichever server it reaches).
    credentials: Option<Credentials>,
    /// Every password or token found in any URL, to scrub from messages.
    secrets: Vec<String>,
}

#[derive(Debug, PartialEq)]
enum Credentials {
    UserPassword(String, String),
    Token(String),
}

impl Servers {
    /// Reads a comma-separated list of URLs (`nats://user:pass@host:4222`, `nats://TOKEN@host`,
    /// `host:4222`). URLs of one list may carry user info or not; those that do must carry the
    /// same (a connection presents one set of credentials to every server of a cluster), else
    /// the error says so, naming no secret.
    pub(crate) fn parse(urls: &str) -> Result<Self, String> {
        let mut shown = Vec::new();
        let mut credentials = None;
        let mut secrets = Vec::new();
        let mut differ = false;
        for url in urls.split(',').map(str::trim).filter(|u| !u.is_empty()) {
            let (scheme, rest) = match url.find("://") {
                Some(at) => (&url[..at + 3], &url[at + 3..]),
                None => ("", url),
            };
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (info, host) = match rest[..authority_end].rfind('@') {
                Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
                None => (None, rest),
            };
            if let Some(info) = info {
                let found = match info.split_once(':') {
                    Some((user, password)) => {
                        Credentials::UserPassword(percent_decode(user), percent_decode(password))
                    }
                    None => Credentials::Token(percent_decode(info)),
                };
                // Both the decoded secret and its form as written in the URL.
                let (secret, raw) = match (&found, info.split_once(':')) {
                    (Credentials::UserPassword(_, password), Some((_, raw))) => {
                        (password.clone(), raw)
                    }
                    (Credentials::Token(token), _) => (token.clone(), info),
                    (Credentials::UserPassword(..), None) => unreachable!("split above"),
                };
                for secret in [secret, raw.to_owned()] {
                    if !secret.is_empty() && !secrets.contains(&secret) {
                        secrets.push(secret);
                    }
                }
                match &credentials {
                    None => credentials = Some(found),
                    Some(first) => differ |= *first != found,
                }
            }
            shown.push(format!("{scheme}{host}"));
        }
        // Longest first, so a secret containing another is scrubbed whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        if differ {
            return Err(format!(
                "the NATS server URLs {} carry different credentials in their user info: one \
                 connection presents one set to every server; give the same user info on each \
                 URL (or on one), or use `connect_options`",
                shown.join(",")
            ));
        }
        Ok(Self {
            shown,
            credentials,
            secrets,
        })
    }

    /// The URLs for messages: never a password or a token.
    pub(crate) fn display(&self) -> String {
        self.shown.join(",")
    }

    /// `text` with every secret of every URL replaced by `***`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.secrets {
            text = text.replace(secret.as_str(), "***");
        }
        text
    }

    /// `options` with the URLs' credentials, if any (they win over the options' own).
    fn apply(&self, options: ConnectOptions) -> ConnectOptions {
        match &self.credentials {
            Some(Credentials::UserPassword(user, password)) => {
                options.user_and_password(user.clone(), password.clone())
            }
            Some(Credentials::Token(token)) => options.token(token.clone()),
            None => options,
        }
    }
}

/// `%XX` escapes decoded (user info may escape `@`, `:` and `/`); anything else kept as is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Connects to `url` with `options` and checks that the server has JetStream; the error says
/// which failed, naming the server without its credentials.
pub(crate) async fn connect(
    url: &str,
    options: ConnectOptions,
    client_name: &str,
) -> Result<Connection, BuildError> {
    let servers = Servers::parse(url).map_err(BuildError::new)?;
    let shown = servers.display();
    let fail = |what: String| BuildError::new(servers.scrub(&what));
    let addrs = servers
        .shown
        .iter()
        .map(|u| u.parse::<ServerAddr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(format!("the NATS server URL {shown:?} is not valid: {e}")))?;
    if addrs.is_empty() {
        return Err(BuildError::new("no NATS server URL given"));
    }
    let options = servers
        .apply(options)
        .name(client_name)
        .connection_timeout(Duration::from_secs(3))
        // Keep reconnecting forever once connected: a server restart is survived.
        .max_reconnects(None);
    let client = match tokio::time::timeout(CONNECT_LIMIT, options.connect(addrs)).await {
        Err(_) => {
            return Err(fail(format!(
                "cannot reach the NATS server at {shown}: no answer within {CONNECT_LIMIT:?}"
            )));
        }
        Ok(Err(e)) => {
            let hint = match e.kind() {
                async_nats::ConnectErrorKind::AuthorizationViolation => {
                    " (check the credentials: `connect_options`, or user info in the URL)"
                }
                async_nats::ConnectErrorKind::Tls => {
                    " (check the TLS settings in `connect_options`)"
                }
                _ => " (is `nats-server -js` running there?)",
            };
            return Err(fail(format!(
                "cannot connect to the NATS server at {shown}: {e}{hint}"
            )));
        }
        Ok(Ok(client)) => client,
    };
    // `$JS.API.INFO` answers only where JetStream is enabled (no responders elsewhere); read
    // raw, so that servers older or newer than the client's account types both work.
    let no_js = |why: String| {
        fail(format!(
            "the NATS server at {shown} has no JetStream ({why}): start it with `nats-server -js`"
        ))
    };
    // A server without JetStream says so at once (no responders); a slow one (starting, or
    // loaded) is asked again, up to three times.
    let mut asked = 0;
    loop {
        asked += 1;
        let request = client.request("$JS.API.INFO", "".into());
        match tokio::time::timeout(CONNECT_LIMIT, request).await {
            Err(_) if asked < 3 => continue,
            Err(_) => return Err(no_js(format!("no answer within {:?}", CONNECT_LIMIT * 3))),
            Ok(Err(e)) if e.kind() == async_nats::RequestErrorKind::TimedOut && asked < 3 => {
                continue;
            }
            Ok(Err(e)) => return Err(no_js(e.to_string())),
            Ok(Ok(reply)) => {
                let text = String::from_utf8_lossy(&reply.payload);
                if text.contains("\"error\"") {
                    return Err(no_js(text.into_owned()));
                }
                break;
            }
        }
    }
    let max_payload = client.server_info().max_payload;
    let js = jetstream::new(client.clone());
    Ok(Connection {
        client,
        js,
        max_payload,
    })
}

#[cfg(test)]
mod tests {
    use super::{Credentials, Servers};

    #[test]
    fn user_info_is_read_and_never_shown() {
        let s =
            Servers::parse("nats://alice:s%40cret@127.0.0.1:4222, nats://127.0.0.1:4223").unwrap();
        assert_eq!(s.display(), "nats://127.0.0.1:4222,nats://127.0.0.1:4223");
        assert_eq!(
            s.credentials,
            Some(Credentials::UserPassword("alice".into(), "s@cret".into()))
        );
        assert_eq!(s.scrub("bad s@cret here"), "bad *** here");
        let t = Servers::parse("tls://T0KEN@nats.example:4222").unwrap();
        assert_eq!(t.display(), "tls://nats.example:4222");
        assert_eq!(t.credentials, Some(Credentials::Token("T0KEN".into())));
        let plain = Servers::parse("127.0.0.1:4222").unwrap();
        assert_eq!(
            (plain.display().as_str(), plain.credentials),
            ("127.0.0.1:4222", None)
        );
    }

    #[test]
    fn every_urls_user_info_is_read_and_never_shown() {
        // The same credentials on each URL of a cluster, or on one of them: used for all.
        let s = Servers::parse(
            "nats://bob:pw%2F1@127.0.0.1:4222,nats://bob:pw%2F1@127.0.0.1:4223,127.0.0.1:4224",
        )
        .unwrap();
        assert_eq!(
            s.display(),
            "nats://127.0.0.1:4222,nats://127.0.0.1:4223,127.0.0.1:4224"
        );
        assert_eq!(
            s.credentials,
            Some(Credentials::UserPassword("bob".into(), "pw/1".into()))
        );
        assert_eq!(s.scrub("x pw/1 y pw%2F1 z"), "x *** y *** z");
        // Different credentials on two URLs: an error naming neither secret.
        for urls in [
            "nats://bob:first@127.0.0.1:4222,nats://bob:second@127.0.0.1:4223",
            "nats://TOKEN1@127.0.0.1:4222,nats://TOKEN2@127.0.0.1:4223",
            "nats://bob:first@127.0.0.1:4222,nats://TOKEN2@127.0.0.1:4223",
        ] {
            let err = Servers::parse(urls).unwrap_err();
            assert!(err.contains("different credentials"), "{err}");
            assert!(err.contains("127.0.0.1:4223"), "{err}");
            for secret in ["first", "second", "TOKEN1", "TOKEN2"] {
                assert!(!err.contains(secret), "{err}");
            }
        }
    }
}
