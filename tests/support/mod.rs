//! Peers for the pool, deadline and shutdown tests (the silent server is in `common`): a proxy that
//! forwards some requests to the local server and holds others, thread counting, and
//! polling with a deadline.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

/// What the proxy does with a request, chosen by its path.
pub enum Route {
    /// Pass it to the upstream server.
    Forward,
    /// Never answer (keep the connection open).
    Hold,
    /// Forward it once `gate` yields a message or is dropped.
    After(Receiver<()>),
}

/// A proxy in front of the local server. Every request it holds or gates is reported
/// (its path) on `seen`.
pub struct Proxy {
    pub url: String,
    pub seen: Receiver<String>,
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    pub fn start(
        upstream: SocketAddr,
        route: impl Fn(&str) -> Route + Send + Sync + 'static,
    ) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (seen_tx, seen) = crossbeam_channel::unbounded();
        let held = Arc::new(Mutex::new(Vec::new()));
        let route = Arc::new(route);
        let keep = Arc::clone(&held);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (route, seen_tx, keep) =
                    (Arc::clone(&route), seen_tx.clone(), Arc::clone(&keep));
                std::thread::spawn(move || serve(stream, upstream, &*route, &seen_tx, &keep));
            }
        });
        Proxy { url, seen, held }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        for stream in self.held.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    route: &(dyn Fn(&str) -> Route + Send + Sync),
    seen: &Sender<String>,
    held: &Mutex<Vec<TcpStream>>,
) {
    // Read the request head to learn the path.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let line = String::from_utf8_lossy(&head);
    let path = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    match route(&path) {
        Route::Forward => {}
        Route::Hold => {
            let _ = seen.send(path);
            held.lock().unwrap().push(client);
            return;
        }
        Route::After(gate) => {
            let _ = seen.send(path);
            let _ = gate.recv();
        }
    }
    let Ok(mut server) = TcpStream::connect(upstream) else {
        return;
    };
    if server.write_all(&head).is_err() {
        return;
    }
    let (Ok(mut client_r), Ok(mut server_w)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_r, &mut server_w);
        let _ = server_w.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut server, &mut client);
    let _ = client.shutdown(Shutdown::Both);
    let _ = up.join();
}

/// Names of this process's threads whose name starts with `prefix` (Linux only).
pub fn threads_named(prefix: &str) -> Option<Vec<String>> {
    let dir = std::fs::read_dir("/proc/self/task").ok()?;
    Some(
        dir.filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .map(|name| name.trim_end().to_owned())
            .filter(|name| name.starts_with(prefix))
            .collect(),
    )
}

/// Polls `check` until it returns true or `limit` passes; returns how long it took, or
/// `None` on timeout.
pub fn poll_until(limit: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    loop {
        if check() {
            return Some(started.elapsed());
        }
        if started.elapsed() >= limit {
            return None;
        }
        std::thread::park_timeout(Duration::from_millis(5));
    }
}
