#![no_main]
libfuzzer_sys::fuzz_target!(|input: stream_chat_fuzz::JwtInput<'_>| stream_chat_fuzz::jwt(&input));
