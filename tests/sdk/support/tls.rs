//! A TLS-terminating proxy in front of the local server (which speaks plain HTTP and
//! WebSocket): the SDK's `https` and `wss` paths end to end. Its certificate (`tls/`,
//! for 127.0.0.1 and localhost, valid until 2126) is signed by a test CA, [`TEST_CA`], that
//! a client is told to trust with `tls_root_certificates`. See `tls/README.md`.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use rustls::ServerConnection;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use stream_chat_server::ServerHandle;

/// The root the proxy's certificate chains to (DER).
pub const TEST_CA: &[u8] = include_bytes!("tls/ca-cert.der");

/// A TLS server config presenting `cert` (DER) with its PKCS#8 `key` (DER).
pub fn server_config(cert: &[u8], key: &[u8]) -> Arc<rustls::ServerConfig> {
    let cert = CertificateDer::from(cert.to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.to_vec()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    Arc::new(config)
}

/// Starts the proxy for `server`; its base URL (`https://127.0.0.1:port`).
pub fn tls_front(server: &ServerHandle) -> String {
    let config = server_config(
        include_bytes!("tls/leaf-cert.der"),
        include_bytes!("tls/leaf-key.pk8.der"),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let upstream = server.addr();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            std::thread::spawn(move || terminate(client, upstream, config));
        }
    });
    url
}

/// One connection: TLS from `client`, plain bytes to and from the server, until either
/// side closes. The session is shared by the two directions under a lock; bytes to the
/// client are written under it (TLS records must leave in the order they were made), bytes
/// to the server outside it.
fn terminate(client: TcpStream, upstream: SocketAddr, config: Arc<rustls::ServerConfig>) {
    let Ok(server) = TcpStream::connect(upstream) else {
        return;
    };
    let Ok(session) = ServerConnection::new(config) else {
        return;
    };
    let session = Arc::new(Mutex::new(session));
    let (Ok(to_client), Ok(from_server)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let back_session = Arc::clone(&session);
    let back = std::thread::spawn(move || {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match (&from_server).read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mut tls = back_session.lock().unwrap();
            if tls.writer().write_all(&buf[..n]).is_err() || send_tls(&mut tls, &to_client).is_err()
            {
                break;
            }
        }
        let _ = to_client.shutdown(Shutdown::Both);
    });
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match (&client).read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let plain = {
            let mut tls = session.lock().unwrap();
            match receive_tls(&mut tls, &buf[..n])
                .and_then(|p| send_tls(&mut tls, &client).map(|()| p))
            {
                Ok(plain) => plain,
                Err(_) => break,
            }
        };
        if (&server).write_all(&plain).is_err() {
            break;
        }
    }
    let _ = server.shutdown(Shutdown::Both);
    let _ = back.join();
}

/// Feeds TLS bytes to the session; the plain bytes they carried.
fn receive_tls(tls: &mut ServerConnection, mut bytes: &[u8]) -> io::Result<Vec<u8>> {
    while !bytes.is_empty() {
        tls.read_tls(&mut bytes)?;
        tls.process_new_packets().map_err(io::Error::other)?;
    }
    let mut plain = Vec::new();
    match tls.reader().read_to_end(&mut plain) {
        Ok(_) => Ok(plain),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(plain),
        Err(e) => Err(e),
    }
}

/// Writes what the session has for the client (handshake, records).
fn send_tls(tls: &mut ServerConnection, mut to: &TcpStream) -> io::Result<()> {
    while tls.wants_write() {
        tls.write_tls(&mut to)?;
    }
    Ok(())
}
