//! The floors the SDK is measured against, in the bench's own process: (d) a raw tungstenite
//! echo over loopback, and the server's `POST /channels/{type}/{id}/message` timed by a bare
//! keep-alive HTTP/1.1 client (no SDK, no JSON parsing beyond the status line), so that what
//! remains is the server's own time plus two loopback hops.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use stream_chat_server::ServerHandle;
use tungstenite::Message;

use crate::common::{TEXT, WARMUP, ms};

const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A frame the size of a `message.new` event for [`TEXT`] (about 1 KiB).
fn echo_payload() -> String {
    let mut payload = String::from(TEXT);
    while payload.len() < 1024 {
        payload.push_str(" and more");
    }
    payload
}

/// `round_trips` text frames of about 1 KiB, each echoed by a tungstenite server thread.
pub fn tungstenite_echo(round_trips: usize) -> Result<Vec<f64>, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = thread::Builder::new()
        .name("echo-server".into())
        .spawn(move || -> Result<(), String> {
            let (tcp, _) = listener.accept().map_err(|e| e.to_string())?;
            tcp.set_nodelay(true).map_err(|e| e.to_string())?;
            tcp.set_read_timeout(Some(IO_TIMEOUT))
                .map_err(|e| e.to_string())?;
            let mut ws = tungstenite::accept(tcp).map_err(|e| e.to_string())?;
            loop {
                match ws.read() {
                    Ok(Message::Text(t)) => ws.send(Message::Text(t)).map_err(|e| e.to_string())?,
                    Ok(Message::Close(_)) | Err(tungstenite::Error::ConnectionClosed) => {
                        return Ok(());
                    }
                    Ok(_) => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
        })
        .map_err(|e| e.to_string())?;

    let tcp = TcpStream::connect_timeout(&addr, IO_TIMEOUT).map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let (mut ws, _) =
        tungstenite::client(format!("ws://{addr}/"), tcp).map_err(|e| e.to_string())?;
    let payload = echo_payload();
    let mut samples = Vec::with_capacity(round_trips);
    for i in 0..WARMUP + round_trips {
        let started = Instant::now();
        ws.send(Message::text(payload.clone()))
            .map_err(|e| e.to_string())?;
        match ws.read().map_err(|e| e.to_string())? {
            Message::Text(t) if t.len() == payload.len() => {}
            other => return Err(format!("echo returned {other:?}")),
        }
        if i >= WARMUP {
            samples.push(ms(started.elapsed()));
        }
    }
    let _ = ws.close(None);
    let _ = ws.flush();
    drop(ws);
    match server.join() {
        Ok(Ok(())) | Ok(Err(_)) => Ok(samples),
        Err(_) => Err("the echo server thread panicked".into()),
    }
}

/// `posts` messages posted one after another on one keep-alive connection by a user of
/// `server` into `livestream:{channel}`, which `watchers` raw WebSocket clients watch (each
/// read by a thread of its own). Returns each request's time, write to last byte.
pub fn server_post(
    server: &ServerHandle,
    channel: &str,
    posts: usize,
    watchers: usize,
) -> Result<Vec<f64>, String> {
    let user = "floor-poster";
    let token = server.create_token(user, None);
    let base = server.base_url();
    let key = server.api_key();
    // The user and the channel, created through the ordinary REST API.
    let agent = ureq::Agent::new_with_defaults();
    agent
        .post(format!("{base}/users?api_key={key}"))
        .header("Authorization", server.server_token())
        .header("Stream-Auth-Type", "jwt")
        .send_json(serde_json::json!({ "users": { user: { "id": user } } }))
        .map_err(|e| format!("upsert {user}: {e}"))?;
    agent
        .post(format!(
            "{base}/channels/livestream/{channel}/query?api_key={key}"
        ))
        .header("Authorization", &token)
        .header("Stream-Auth-Type", "jwt")
        .send_json(serde_json::json!({ "state": true }))
        .map_err(|e| format!("create livestream:{channel}: {e}"))?;

    let mut readers = Vec::new();
    for i in 0..watchers {
        readers.push(raw_watcher(
            &agent,
            server,
            channel,
            &format!("floor-watcher-{i}"),
        )?);
    }

    let tcp = TcpStream::connect_timeout(&server.addr(), IO_TIMEOUT).map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let mut writer = tcp.try_clone().map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(tcp);
    let mut samples = Vec::with_capacity(posts);
    for i in 0..WARMUP + posts {
        let body =
            serde_json::json!({ "message": { "id": format!("{channel}-{i}"), "text": TEXT } })
                .to_string();
        let request = format!(
            "POST /channels/livestream/{channel}/message?api_key={key} HTTP/1.1\r\n\
             Host: {}\r\nAuthorization: {token}\r\nStream-Auth-Type: jwt\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            server.addr(),
            body.len()
        );
        let started = Instant::now();
        writer
            .write_all(request.as_bytes())
            .map_err(|e| e.to_string())?;
        let status = read_response(&mut reader)?;
        let took = started.elapsed();
        if status != 201 && status != 200 {
            return Err(format!("POST …/message answered HTTP {status}"));
        }
        if i >= WARMUP {
            samples.push(ms(took));
        }
    }
    for (tcp, reader) in readers {
        let _ = tcp.shutdown(std::net::Shutdown::Both);
        let _ = reader.join();
    }
    Ok(samples)
}

/// A bare WebSocket client of `user` watching `livestream:{channel}`, drained by a thread
/// until its socket is shut down (through the returned handle).
fn raw_watcher(
    agent: &ureq::Agent,
    server: &ServerHandle,
    channel: &str,
    user: &str,
) -> Result<(TcpStream, thread::JoinHandle<()>), String> {
    let token = server.create_token(user, None);
    let payload = serde_json::json!({ "user_id": user, "user_details": { "id": user } });
    let encoded: String =
        url::form_urlencoded::byte_serialize(payload.to_string().as_bytes()).collect();
    let url = format!(
        "ws://{}/connect?json={encoded}&api_key={}&authorization={token}&stream-auth-type=jwt",
        server.addr(),
        server.api_key()
    );
    let tcp = TcpStream::connect_timeout(&server.addr(), IO_TIMEOUT).map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let handle = tcp.try_clone().map_err(|e| e.to_string())?;
    let (mut ws, _) = tungstenite::client(url, tcp).map_err(|e| format!("{user}: {e}"))?;
    let first = match ws.read().map_err(|e| e.to_string())? {
        Message::Text(t) => {
            serde_json::from_str::<serde_json::Value>(t.as_str()).map_err(|e| e.to_string())?
        }
        other => return Err(format!("{user}: first frame {other:?}")),
    };
    let connection_id = first["connection_id"]
        .as_str()
        .ok_or(format!("{user}: no connection_id in {first}"))?;
    agent
        .post(format!(
            "{}/channels/livestream/{channel}/query?api_key={}&connection_id={connection_id}",
            server.base_url(),
            server.api_key()
        ))
        .header("Authorization", &token)
        .header("Stream-Auth-Type", "jwt")
        .send_json(serde_json::json!({ "state": true, "watch": true }))
        .map_err(|e| format!("{user} watches livestream:{channel}: {e}"))?;
    handle.set_read_timeout(None).map_err(|e| e.to_string())?;
    let reader = thread::Builder::new()
        .name(format!("{user}-reader"))
        .spawn(move || while ws.read().is_ok() {})
        .map_err(|e| e.to_string())?;
    Ok((handle, reader))
}

/// Reads one HTTP/1.1 response with a `Content-Length` body; returns its status.
fn read_response(reader: &mut BufReader<TcpStream>) -> Result<u16, String> {
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|e| e.to_string())?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {line:?}"))?;
    let mut length = None;
    loop {
        line.clear();
        reader.read_line(&mut line).map_err(|e| e.to_string())?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let length = length.ok_or("a response without Content-Length")?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).map_err(|e| e.to_string())?;
    Ok(status)
}
