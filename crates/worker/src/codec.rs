//! The wire codec: MessagePack with named fields.
//!
//! Why MessagePack with named fields (`rmp_serde::to_vec_named`): it is self-describing, so a
//! struct is a map from field names to values and a reader skips the fields it does not know
//! (a parent and a worker built from different versions still understand each other, and a
//! missing `Option` field reads as `None` with `#[serde(default)]`); it is compact and fast,
//! with a real binary type for nested payloads; and it has implementations in every language,
//! so a worker need not be Rust. Positional formats (`bincode`, `postcard`, `rmp_serde::to_vec`)
//! break old readers when a field is added; JSON has no binary type and is slower.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A value that could not be encoded or decoded; the message says why.
///
/// # Examples
///
/// ```
/// let err = futurepool_worker::codec::decode::<u64>(b"\xc1").unwrap_err();
/// assert!(!err.to_string().is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodecError {
    message: String,
}

impl CodecError {
    pub(crate) fn new(err: impl fmt::Display) -> Self {
        Self {
            message: err.to_string(),
        }
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CodecError {}

/// Encodes `value` as MessagePack, structs as maps with their field names.
///
/// # Errors
///
/// When the value's `Serialize` fails (for example a map with non-string keys is fine, but a
/// custom impl may refuse).
///
/// # Examples
///
/// ```
/// use futurepool_worker::codec;
///
/// let bytes = codec::encode(&(1u8, "two")).unwrap();
/// assert_eq!(codec::decode::<(u8, String)>(&bytes).unwrap(), (1, "two".to_owned()));
/// ```
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
    rmp_serde::to_vec_named(value).map_err(CodecError::new)
}

/// Appends the encoding of `value` (as [`encode`] makes it) to `buf`.
///
/// # Errors
///
/// As [`encode`].
///
/// # Examples
///
/// ```
/// use futurepool_worker::codec;
///
/// let mut buf = vec![0xff];
/// codec::encode_into(&mut buf, &3u8).unwrap();
/// assert_eq!(buf, [0xff, 3]);
/// ```
pub fn encode_into<T: Serialize + ?Sized>(buf: &mut Vec<u8>, value: &T) -> Result<(), CodecError> {
    rmp_serde::encode::write_named(buf, value).map_err(CodecError::new)
}

/// Decodes a value that [`encode`] wrote.
///
/// # Errors
///
/// When the bytes are not MessagePack or do not fit `T`.
///
/// # Examples
///
/// ```
/// use futurepool_worker::codec;
///
/// let bytes = codec::encode("text").unwrap();
/// assert!(codec::decode::<u32>(&bytes).is_err());
/// ```
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    rmp_serde::from_slice(bytes).map_err(CodecError::new)
}
