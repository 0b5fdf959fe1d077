//! What TLS trusts: Mozilla's roots (`webpki-roots`) by default, or the root certificates a
//! builder was given instead (`tls_root_certificates`: a private CA, a TLS-terminating
//! proxy). One answer for both transports: the WebSocket's rustls config and the REST
//! agent's roots. And what a TLS failure means, in words and advice, for both.

use std::io;

use std::sync::{Arc, LazyLock};

use stream_chat_callbacks::{ChatError, ErrorKind};

/// The root certificates (DER) a client trusts instead of Mozilla's; `None`: Mozilla's.
/// Compared by content, so clients given the same roots share one REST agent.
pub(crate) type Roots = Option<Arc<Vec<Vec<u8>>>>;

/// The roots as a builder takes them; an empty list is refused (it would trust nothing).
pub(crate) fn roots<I, C>(certs: I) -> Result<Arc<Vec<Vec<u8>>>, ChatError>
where
    I: IntoIterator<Item = C>,
    C: Into<Vec<u8>>,
{
    let certs: Vec<Vec<u8>> = certs.into_iter().map(Into::into).collect();
    if certs.is_empty() {
        return Err(invalid(
            "tls_root_certificates needs at least one certificate",
        ));
    }
    // Parsed once here, so a bad one fails `build()` instead of every connect.
    root_store(&certs)?;
    Ok(Arc::new(certs))
}

fn invalid(message: &str) -> ChatError {
    ChatError::new(ErrorKind::InvalidArgument, message)
}

fn root_store(certs: &[Vec<u8>]) -> Result<rustls::RootCertStore, ChatError> {
    let mut store = rustls::RootCertStore::empty();
    for (n, der) in certs.iter().enumerate() {
        let cert = rustls::pki_types::CertificateDer::from(der.clone());
        store.add(cert).map_err(|e| {
            invalid(&format!(
                "TLS root certificate #{n} is not a usable DER certificate"
            ))
            .with_source(e)
        })?;
    }
    Ok(store)
}

/// The WebSocket's TLS config for `roots`. With Mozilla's roots, one config for the whole
/// process (it holds ~150 trust anchors), not one per client.
pub(crate) fn client_config(roots: &Roots) -> Result<Arc<rustls::ClientConfig>, ChatError> {
    static MOZILLA: LazyLock<Arc<rustls::ClientConfig>> = LazyLock::new(|| {
        let mut store = rustls::RootCertStore::empty();
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        config(store)
    });
    match roots {
        None => Ok(Arc::clone(&MOZILLA)),
        Some(certs) => Ok(config(root_store(certs)?)),
    }
}

fn config(roots: rustls::RootCertStore) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        .unwrap_or_else(|e| {
            // ring supports the default versions; this cannot fail in practice.
            log::error!("TLS setup failed ({e}); falling back to the default config");
            rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth()
        });
    Arc::new(config)
}

/// The REST agent's TLS config for `roots` (ureq's own default is Mozilla's roots too).
pub(crate) fn agent_config(roots: &Roots) -> Option<ureq::tls::TlsConfig> {
    let certs = roots.as_ref()?;
    let certs: Vec<ureq::tls::Certificate<'static>> = certs
        .iter()
        .map(|der| ureq::tls::Certificate::from_der(der).to_owned())
        .collect();
    Some(
        ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
            .build(),
    )
}

/// The advice for a TLS failure.
pub(crate) const TLS_HINT: &str = "the server's TLS certificate or handshake was refused: check \
     that the certificate is valid, unexpired and names the base URL's host, and that no proxy \
     intercepts TLS";

/// The advice when the peer answered a TLS handshake with something that is not TLS
/// (typically a plain `http://` server behind an `https://` base URL).
pub(crate) const NOT_TLS_HINT: &str = "the server did not answer in TLS: if it serves plain \
     HTTP (the local server does unless it is behind a TLS proxy), use an http:// base URL";

/// The advice for a TLS failure: [`NOT_TLS_HINT`] when the peer does not speak TLS at all,
/// else [`TLS_HINT`].
pub(crate) fn tls_hint(e: &rustls::Error) -> &'static str {
    match e {
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            NOT_TLS_HINT
        }
        _ => TLS_HINT,
    }
}

/// The rustls error inside an `io::Error`, if any.
pub(crate) fn tls_cause(io: &io::Error) -> Option<&rustls::Error> {
    io.get_ref()?.downcast_ref::<rustls::Error>()
}

/// What a TLS failure means, in words.
pub(crate) fn tls_message(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(why) => {
            format!("the server's TLS certificate is not trusted: {why:?}")
        }
        other => format!("the TLS handshake failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mozillas_roots_are_one_config_and_bad_roots_are_refused() {
        let a = client_config(&None).unwrap();
        let b = client_config(&None).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let empty: Vec<Vec<u8>> = Vec::new();
        assert_eq!(roots(empty).unwrap_err().kind(), ErrorKind::InvalidArgument);
        let err = roots([b"not a certificate".to_vec()]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.to_string().contains("#0"), "{err}");
    }
}
