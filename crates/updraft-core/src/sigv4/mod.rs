//! AWS Signature Version 4.

mod encode;

pub use encode::uri_encode;
