//! `ChatClient::instance()`: an error before any client is built, then the last one built.
//! In a process of its own (`own_process!`): the instance is process-wide, and no other
//! test may build a client first.

use crate::support::process::own_process;
use stream_chat_client::{ChatClient, ErrorKind};

#[test]
fn instance_is_not_initialized_until_a_client_is_built() {
    own_process!(instance_is_not_initialized_until_a_client_is_built);
    let err = ChatClient::instance().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotInitialized);
    assert!(err.to_string().contains("build"), "{err}");
    let _first = ChatClient::builder("first").build().unwrap();
    assert_eq!(ChatClient::instance().unwrap().api_key(), "first");
    let _second = ChatClient::builder("second")
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    let instance = ChatClient::instance().unwrap();
    assert_eq!(instance.api_key(), "second");
    assert_eq!(instance.base_url(), "http://127.0.0.1:9/");
}
