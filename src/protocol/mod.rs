//! The wire protocol: request decoding (`decode`) and reply encoding (`encode`).

pub mod decode;
pub mod encode;

pub use decode::{Decoded, Limits, ProtocolError, Request, RequestDecoder};
pub use encode::ReplyBuf;
