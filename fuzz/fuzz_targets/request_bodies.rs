#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| stream_chat_fuzz::request_bodies(data));
