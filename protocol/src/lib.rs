//! The Stream Chat wire format shared by the SDK and the local server: serde models,
//! error codes and HS256 JWT handling. No I/O lives here.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod user;

pub use user::User;
