//! The call machinery of the Stream Chat Rust SDK: [`Call`], [`ChatResult`], [`ChatError`],
//! the worker pool and callback executors. No networking lives here.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod result;

pub use error::{ChatError, ErrorKind};
pub use result::ChatResult;
