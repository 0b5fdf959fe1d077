#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| stream_chat_fuzz::query_filter(data));
