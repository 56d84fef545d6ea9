//! The messages a pool and its workers exchange: what a worker serves ([`Hello`],
//! [`Signature`]), a task ([`Call`]) and its answer ([`Reply`], [`Outcome`]).
//!
//! Every message is encoded with [`codec`](crate::codec) (MessagePack with named fields), so a
//! field added by a later version is skipped by an older reader.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The version of the messages in this module; a worker says it in its [`Hello`].
///
/// # Examples
///
/// ```
/// assert_eq!(futurepool_worker::PROTOCOL_VERSION, 2);
/// ```
pub const PROTOCOL_VERSION: u32 = 2;

/// A registered function's identity on the wire: its name and the Rust names of its argument
/// and result types.
///
/// Two sides agree on a function when they [`match`](Signature::matches): the same name and
/// the same types up to module paths (a type's path differs between two programs that include
/// the same source in different modules). A worker built with another type under the same
/// name then fails that function's tasks instead of misreading their bytes.
///
/// # Examples
///
/// ```
/// use futurepool_worker::RemoteFn;
///
/// fn square(n: u64) -> u64 { n * n }
/// let sig = RemoteFn::new("square", square).signature();
/// assert_eq!(sig.name, "square");
/// assert_eq!(sig.arg_type, "u64");
/// assert_eq!(sig.to_string(), "square(u64) -> u64");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Signature {
    /// The function's name, unique within a [`Registry`](crate::Registry).
    pub name: String,
    /// `std::any::type_name` of the argument type.
    pub arg_type: String,
    /// `std::any::type_name` of the result type.
    pub result_type: String,
}

impl Signature {
    /// A signature from its three parts.
    ///
    /// # Examples
    ///
    /// ```
    /// let sig = futurepool_worker::Signature::new("len", "alloc::string::String", "usize");
    /// assert_eq!(sig.result_type, "usize");
    /// ```
    pub fn new(
        name: impl Into<String>,
        arg_type: impl Into<String>,
        result_type: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            arg_type: arg_type.into(),
            result_type: result_type.into(),
        }
    }

    /// Whether `other` is the same function: the same name, and the same argument and result
    /// types once module paths are left out (`app::Point` matches `worker::Point`, not
    /// `app::Line`).
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_worker::Signature;
    ///
    /// let here = Signature::new("area", "app::shapes::Square", "f64");
    /// assert!(here.matches(&Signature::new("area", "worker::Square", "f64")));
    /// assert!(!here.matches(&Signature::new("area", "app::shapes::Circle", "f64")));
    /// assert!(!here.matches(&Signature::new("perimeter", "app::shapes::Square", "f64")));
    /// ```
    pub fn matches(&self, other: &Signature) -> bool {
        if self == other {
            return true;
        }
        self.name == other.name
            && unqualified(&self.arg_type) == unqualified(&other.arg_type)
            && unqualified(&self.result_type) == unqualified(&other.result_type)
    }

    /// Checks that `served` (what a worker said it serves) has this function with the same
    /// types; the error says what is missing or different, naming the function.
    ///
    /// # Errors
    ///
    /// [`Failure::Invalid`] when the name is not served or is served with other types.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_worker::Signature;
    ///
    /// let served = [Signature::new("square", "u64", "u64")];
    /// assert!(Signature::new("square", "u64", "u64").check_served(&served).is_ok());
    /// let err = Signature::new("cube", "u64", "u64").check_served(&served).unwrap_err();
    /// assert!(err.to_string().contains("`cube` is not registered"));
    /// let err = Signature::new("square", "i32", "i32").check_served(&served).unwrap_err();
    /// assert!(err.to_string().contains("other types"));
    /// ```
    pub fn check_served(&self, served: &[Signature]) -> Result<(), Failure> {
        match served.iter().find(|s| s.name == self.name) {
            Some(s) if s.matches(self) => Ok(()),
            Some(s) => Err(Failure::Invalid(format!(
                "function `{}` has other types in the worker: it serves {s}, the caller wants {self}",
                self.name
            ))),
            None => {
                let names: Vec<&str> = served.iter().map(|s| s.name.as_str()).collect();
                Err(Failure::Invalid(format!(
                    "function `{}` is not registered in the worker (it serves: {})",
                    self.name,
                    if names.is_empty() {
                        "nothing".to_owned()
                    } else {
                        names.join(", ")
                    }
                )))
            }
        }
    }
}

/// A type name without its module paths: `alloc::vec::Vec<app::Point>` → `Vec<Point>`.
fn unqualified(type_name: &str) -> String {
    let mut out = String::with_capacity(type_name.len());
    let mut segment_start = 0;
    let mut chars = type_name.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            out.truncate(segment_start);
            continue;
        }
        if !(c.is_alphanumeric() || c == '_') {
            segment_start = out.len() + c.len_utf8();
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}({}) -> {}",
            self.name, self.arg_type, self.result_type
        )
    }
}

/// The first message of a worker process: who it is and what it serves.
///
/// # Examples
///
/// ```
/// use futurepool_worker::{Hello, Registry, RemoteFn};
///
/// fn square(n: u64) -> u64 { n * n }
/// let registry = Registry::new().with(RemoteFn::new("square", square));
/// let hello = Hello::new(&registry);
/// assert_eq!(hello.pid, std::process::id());
/// assert_eq!(hello.functions, registry.signatures());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Hello {
    /// The worker's [`PROTOCOL_VERSION`].
    pub protocol: u32,
    /// The worker's process id.
    pub pid: u32,
    /// Every function the worker serves.
    pub functions: Vec<Signature>,
    /// Set by a process that was started as a worker but is not one (its `main` did not call
    /// [`main_if_worker`](crate::main_if_worker) before reaching futurepool): why it will not
    /// serve. The pool is then broken at once, with this message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

impl Hello {
    /// The hello of this process serving `registry`.
    ///
    /// # Examples
    ///
    /// ```
    /// let hello = futurepool_worker::Hello::new(&futurepool_worker::Registry::new());
    /// assert!(hello.functions.is_empty());
    /// ```
    pub fn new(registry: &crate::Registry) -> Self {
        Self {
            protocol: PROTOCOL_VERSION,
            pid: std::process::id(),
            functions: registry.signatures(),
            refused: None,
        }
    }

    /// The hello of a process that was started as a worker but will not serve, saying why.
    ///
    /// # Examples
    ///
    /// ```
    /// let hello = futurepool_worker::Hello::refusing("main did not call main_if_worker");
    /// assert!(hello.functions.is_empty());
    /// assert_eq!(hello.refused.as_deref(), Some("main did not call main_if_worker"));
    /// ```
    pub fn refusing(why: impl Into<String>) -> Self {
        Self {
            protocol: PROTOCOL_VERSION,
            pid: std::process::id(),
            functions: Vec::new(),
            refused: Some(why.into()),
        }
    }
}

/// One task sent to a worker: which function (with the types the caller expects) and its
/// encoded argument.
///
/// Make one with [`RemoteFn::call`](crate::RemoteFn::call).
///
/// # Examples
///
/// ```
/// use futurepool_worker::RemoteFn;
///
/// fn square(n: u64) -> u64 { n * n }
/// let call = RemoteFn::new("square", square).call(7, &9).unwrap();
/// assert_eq!(call.id, 7);
/// assert_eq!(call.function.name, "square");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Call {
    /// The caller's id for the task, repeated in the [`Reply`].
    pub id: u64,
    /// The function to run, with the types the caller expects.
    pub function: Signature,
    /// The argument, encoded with [`codec::encode`](crate::codec::encode); empty in a batch.
    #[serde(with = "serde_bytes")]
    pub arg: Vec<u8>,
    /// A batch: several arguments of the function, each encoded with
    /// [`codec::encode`](crate::codec::encode), run one after the other and answered with one
    /// [`Outcome::Batch`]. Empty for a single call. Make one with
    /// [`RemoteFn::batch`](crate::RemoteFn::batch).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batch: Vec<serde_bytes::ByteBuf>,
}

/// A worker's answer to one [`Call`].
///
/// # Examples
///
/// ```
/// use futurepool_worker::{Outcome, Reply};
///
/// let reply = Reply { id: 3, outcome: Outcome::Panicked("boom".into()) };
/// assert_eq!(reply.id, 3);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// The [`Call::id`] this answers.
    pub id: u64,
    /// What the function produced.
    pub outcome: Outcome,
}

/// What running a [`Call`] produced: a value, a panic, or why it could not run.
///
/// # Examples
///
/// ```
/// use futurepool_worker::{Outcome, codec};
///
/// let outcome = Outcome::Value(codec::encode(&81u64).unwrap());
/// assert!(matches!(outcome, Outcome::Value(_)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Outcome {
    /// The function returned; the result encoded with [`codec::encode`](crate::codec::encode).
    Value(#[serde(with = "serde_bytes")] Vec<u8>),
    /// The function panicked with this message.
    Panicked(String),
    /// The task could not run: unknown function, other types, an argument that did not
    /// decode or a result that did not encode. The message says which.
    Invalid(String),
    /// The answer to a batch ([`Call::batch`]): one outcome per argument, in order.
    Batch(Vec<Outcome>),
}

/// Why a task produced no value, as far as the worker side can tell: a panic in the function,
/// or a task that could not run.
///
/// The pools turn it into their task error (`is_panic()` / `is_invalid()`).
///
/// # Examples
///
/// ```
/// use futurepool_worker::Failure;
///
/// let failure = Failure::Invalid("function `cube` is not registered".into());
/// assert_eq!(failure.to_string(), "function `cube` is not registered");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The function panicked with this message.
    Panicked(String),
    /// The task could not run; the message names the function and the reason.
    Invalid(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Panicked(msg) | Failure::Invalid(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Failure {}

impl From<Failure> for futurepool_core::TaskError {
    /// The task error a pool resolves a task to: `is_panic()` for [`Failure::Panicked`],
    /// `is_invalid()` for [`Failure::Invalid`], with the message.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_core::TaskError;
    /// use futurepool_worker::Failure;
    ///
    /// let err = TaskError::from(Failure::Panicked("boom".into()));
    /// assert_eq!(err.panic_message(), Some("boom"));
    /// assert!(TaskError::from(Failure::Invalid("no `cube`".into())).is_invalid());
    /// ```
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Panicked(msg) => futurepool_core::TaskError::panicked(msg),
            Failure::Invalid(msg) => futurepool_core::TaskError::invalid(msg),
        }
    }
}
