//! Webhook delivery: takes the events the chat queued (`domain/hooks.rs`) one at a time,
//! in order, and POSTs each to the configured URL as Stream does: the event's JSON as the
//! body, `X-Signature` (hex HMAC-SHA256 of the body with the API secret), `X-Webhook-Id`
//! (the same on every attempt), `X-Webhook-Attempt` (from 1) and `X-Api-Key`.
//!
//! Retries follow Stream's rules: a response of 408, 429 or 5xx, or a request that timed
//! out, is tried up to 3 times; a receiver that cannot be reached, up to 2 times; any other
//! status (2xx is success) is final. Each request has 6 s, the whole delivery 15 s; the
//! waits between attempts double from 250 ms. Delivery is strictly sequential for the app,
//! so a receiver sees events in the order they happened (a later event waits until the one
//! before it succeeded or gave up).
//!
//! The client is a small HTTP/1.1 client over a TCP stream (`http://` URLs only: a local
//! server's receivers are local): one connection per attempt (`Connection: close`), and
//! only the status line of the answer is read.

use bytes::Bytes;
use stream_chat_protocol::webhook::{
    API_KEY_HEADER, SIGNATURE_HEADER, WEBHOOK_ATTEMPT_HEADER, WEBHOOK_ID_HEADER, sign,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep, timeout};

use crate::config::{
    WEBHOOK_ATTEMPTS_ON_ERROR_STATUS, WEBHOOK_ATTEMPTS_ON_NETWORK_ERROR, WEBHOOK_DELIVERY_TIMEOUT,
    WEBHOOK_FIRST_RETRY_DELAY, WEBHOOK_REQUEST_TIMEOUT,
};

/// Where webhooks go: `http://host[:port]/path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// `host:port`, to connect to.
    addr: String,
    /// The `Host` header.
    host: String,
    /// Path and query.
    path: String,
}

impl Target {
    /// Parses a webhook URL; only `http://` is supported.
    pub(crate) fn parse(url: &str) -> Result<Target, String> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            format!("webhook URL '{url}' must start with http:// (https is not supported by the local server)")
        })?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(format!("webhook URL '{url}' has no usable host"));
        }
        let has_port = authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        let addr = if has_port {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        Ok(Target {
            addr,
            host: authority.to_owned(),
            path: path.to_owned(),
        })
    }
}

/// What one attempt came to.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Delivered,
    /// A status worth another try (408, 429, 5xx) or a timeout.
    Retry(String),
    /// The receiver could not be reached.
    Unreachable(String),
    /// A status that retrying will not change.
    Refused(u16),
}

/// The delivery task's settings.
pub(crate) struct Deliverer {
    pub target: Target,
    pub api_key: String,
    pub secret: String,
}

impl Deliverer {
    /// Delivers queued events until the queue closes or the server shuts down.
    pub(crate) async fn run(
        self,
        mut queue: mpsc::Receiver<Bytes>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            let body = tokio::select! {
                next = queue.recv() => match next {
                    Some(body) => body,
                    None => return,
                },
                _ = shutdown.wait_for(|down| *down) => return,
            };
            tokio::select! {
                () = self.deliver(&body) => {}
                _ = shutdown.wait_for(|down| *down) => return,
            }
        }
    }

    /// One event, with its retries, within [`WEBHOOK_DELIVERY_TIMEOUT`].
    async fn deliver(&self, body: &Bytes) {
        let id = crate::domain::hooks::hook_id();
        let signature = sign(body, self.secret.as_bytes());
        let deadline = Instant::now() + WEBHOOK_DELIVERY_TIMEOUT;
        let mut delay = WEBHOOK_FIRST_RETRY_DELAY;
        let mut attempt = 1;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let limit = left.min(WEBHOOK_REQUEST_TIMEOUT);
            let outcome = match timeout(limit, self.post(body, &id, &signature, attempt)).await {
                Ok(outcome) => outcome,
                Err(_) => Outcome::Retry(format!("no answer within {limit:?}")),
            };
            let max = match &outcome {
                Outcome::Delivered => return,
                Outcome::Refused(status) => {
                    tracing::warn!(%id, attempt, status, "webhook refused; not retried");
                    return;
                }
                Outcome::Retry(_) => WEBHOOK_ATTEMPTS_ON_ERROR_STATUS,
                Outcome::Unreachable(_) => WEBHOOK_ATTEMPTS_ON_NETWORK_ERROR,
            };
            if attempt >= max || Instant::now() + delay >= deadline {
                tracing::warn!(%id, attempt, ?outcome, "webhook delivery failed; giving up");
                return;
            }
            tracing::info!(%id, attempt, ?outcome, "webhook attempt failed; retrying");
            sleep(delay).await;
            delay *= 2;
            attempt += 1;
        }
    }

    async fn post(&self, body: &[u8], id: &str, signature: &str, attempt: u32) -> Outcome {
        let mut stream = match TcpStream::connect(&self.target.addr).await {
            Ok(stream) => stream,
            Err(e) => return Outcome::Unreachable(e.to_string()),
        };
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {len}\r\nUser-Agent: stream-chat-server/{version}\r\n\
             {API_KEY_HEADER}: {key}\r\n{SIGNATURE_HEADER}: {signature}\r\n\
             {WEBHOOK_ID_HEADER}: {id}\r\n{WEBHOOK_ATTEMPT_HEADER}: {attempt}\r\n\
             Connection: close\r\n\r\n",
            path = self.target.path,
            host = self.target.host,
            len = body.len(),
            version = env!("CARGO_PKG_VERSION"),
            key = self.api_key,
        );
        let sent = async {
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body).await?;
            stream.flush().await
        };
        if let Err(e) = sent.await {
            return Outcome::Unreachable(e.to_string());
        }
        match read_status(&mut stream).await {
            Ok(status) => classify(status),
            Err(e) => Outcome::Unreachable(e.to_string()),
        }
    }
}

/// Reads the status code of an HTTP/1.x response.
async fn read_status(stream: &mut TcpStream) -> std::io::Result<u16> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        if line.len() > 1024 || stream.read(&mut byte).await? == 0 {
            return Err(std::io::Error::other("no HTTP status line in the answer"));
        }
        line.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&line);
    text.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .filter(|_| text.starts_with("HTTP/1."))
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP status line: {}", text.trim())))
}

fn classify(status: u16) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered,
        408 | 429 | 500.. => Outcome::Retry(format!("HTTP {status}")),
        other => Outcome::Refused(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_statuses() {
        let t = Target::parse("http://127.0.0.1:8080/hook?x=1").unwrap();
        assert_eq!(t.addr, "127.0.0.1:8080");
        assert_eq!(t.path, "/hook?x=1");
        assert_eq!(
            Target::parse("http://example.test").unwrap().addr,
            "example.test:80"
        );
        assert!(Target::parse("https://example.test/").is_err());
        assert!(Target::parse("http:///x").is_err());
        assert_eq!(classify(204), Outcome::Delivered);
        assert!(matches!(classify(503), Outcome::Retry(_)));
        assert!(matches!(classify(429), Outcome::Retry(_)));
        assert_eq!(classify(404), Outcome::Refused(404));
    }
}
