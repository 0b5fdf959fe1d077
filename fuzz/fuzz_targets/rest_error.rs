#![no_main]
libfuzzer_sys::fuzz_target!(
    |input: stream_chat_fuzz::RestError<'_>| stream_chat_fuzz::rest_error(&input)
);
