//! A webhook receiver for tests: a plain HTTP/1.1 listener on a free port that records each
//! request (headers, exact body) and answers with the status a policy picks.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc;
use std::time::Duration;

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// Header names lowercased.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    /// The status it was answered with.
    pub status: u16,
}

impl Delivery {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map_or("", String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a webhook body is JSON")
    }
}

pub struct Receiver {
    pub addr: SocketAddr,
    deliveries: mpsc::Receiver<Delivery>,
}

impl Receiver {
    /// Answers each request with `policy(attempt)` (the `X-Webhook-Attempt` number).
    pub fn start(policy: impl Fn(u32) -> u16 + Send + 'static) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, deliveries) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut headers = HashMap::new();
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    continue;
                }
                loop {
                    line.clear();
                    reader.read_line(&mut line).unwrap();
                    if line.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                    }
                }
                let length = headers
                    .get("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let attempt = headers
                    .get("x-webhook-attempt")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let status = policy(attempt);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} Test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                if tx
                    .send(Delivery {
                        headers,
                        body,
                        status,
                    })
                    .is_err()
                {
                    return;
                }
            }
        });
        Receiver { addr, deliveries }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hooks/stream", self.addr)
    }

    /// The next request, within `within`.
    pub fn next(&self, within: Duration) -> Option<Delivery> {
        self.deliveries.recv_timeout(within).ok()
    }
}
