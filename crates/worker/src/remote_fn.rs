//! [`RemoteFn`]: a function that can run in another process, known by its name.

use std::any::type_name;
use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec;
use crate::message::{Call, Failure, Outcome, Signature};

/// A function that can run in another process: a name (its identity on the wire) and a plain
/// `fn(A) -> R` whose argument and result are serde types. Several arguments are one tuple.
///
/// Made in a `const`, so the parent (which submits it) and the worker (which registers it in
/// its [`Registry`](crate::Registry)) name the same thing.
///
/// # Examples
///
/// ```
/// use futurepool_worker::RemoteFn;
///
/// fn add((a, b): (u64, u64)) -> u64 { a + b }
/// pub const ADD: RemoteFn<(u64, u64), u64> = RemoteFn::new("add", add);
///
/// let copy = ADD; // `Copy`
/// assert_eq!(copy.name(), "add");
/// assert_eq!(ADD.run((2, 3)), 5);
/// ```
pub struct RemoteFn<A, R> {
    name: &'static str,
    f: fn(A) -> R,
}

impl<A, R> Clone for RemoteFn<A, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A, R> Copy for RemoteFn<A, R> {}

impl<A, R> fmt::Debug for RemoteFn<A, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RemoteFn({}({}) -> {})",
            self.name,
            type_name::<A>(),
            type_name::<R>()
        )
    }
}

impl<A, R> RemoteFn<A, R> {
    /// A remote function named `name` that runs `f`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_worker::RemoteFn;
    ///
    /// fn square(n: u64) -> u64 { n * n }
    /// pub const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
    /// assert_eq!(SQUARE.name(), "square");
    /// ```
    pub const fn new(name: &'static str, f: fn(A) -> R) -> Self {
        Self { name, f }
    }

    /// The function's name, its identity on the wire.
    ///
    /// # Examples
    ///
    /// ```
    /// fn id(s: String) -> String { s }
    /// assert_eq!(futurepool_worker::RemoteFn::new("id", id).name(), "id");
    /// ```
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Runs the function here, in this process.
    ///
    /// # Examples
    ///
    /// ```
    /// fn double(n: i32) -> i32 { 2 * n }
    /// assert_eq!(futurepool_worker::RemoteFn::new("double", double).run(21), 42);
    /// ```
    pub fn run(&self, arg: A) -> R {
        (self.f)(arg)
    }

    /// The function's [`Signature`]: its name and the names of its argument and result types.
    ///
    /// # Examples
    ///
    /// ```
    /// fn len(s: String) -> usize { s.len() }
    /// let sig = futurepool_worker::RemoteFn::new("len", len).signature();
    /// assert_eq!(sig.to_string(), "len(alloc::string::String) -> usize");
    /// ```
    pub fn signature(&self) -> Signature {
        Signature::new(self.name, type_name::<A>(), type_name::<R>())
    }
}

impl<A, R> RemoteFn<A, R> {
    /// Checks that `served` (what a worker said it serves) has this function with the same
    /// types, as [`Signature::check_served`] does, without building a signature when they match.
    ///
    /// # Errors
    ///
    /// [`Failure::Invalid`] naming the function when it is missing or has other types.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_worker::{RemoteFn, Signature};
    ///
    /// fn square(n: u64) -> u64 { n * n }
    /// let served = [Signature::new("square", "u64", "u64")];
    /// assert!(RemoteFn::new("square", square).check_served(&served).is_ok());
    /// assert!(RemoteFn::new("cube", square).check_served(&served).is_err());
    /// ```
    pub fn check_served(&self, served: &[Signature]) -> Result<(), Failure> {
        let exact = served.iter().any(|s| {
            s.name == self.name
                && s.arg_type == type_name::<A>()
                && s.result_type == type_name::<R>()
        });
        if exact {
            Ok(())
        } else {
            self.signature().check_served(served)
        }
    }
}

impl<A: Serialize, R> RemoteFn<A, R> {
    /// The [`Call`] that asks a worker to run this function on `arg`, with the caller's id.
    ///
    /// # Errors
    ///
    /// [`Failure::Invalid`] naming the function when `arg` fails to encode.
    ///
    /// # Examples
    ///
    /// ```
    /// fn square(n: u64) -> u64 { n * n }
    /// let call = futurepool_worker::RemoteFn::new("square", square).call(1, &4).unwrap();
    /// assert_eq!(call.function.name, "square");
    /// ```
    pub fn call(&self, id: u64, arg: &A) -> Result<Call, Failure> {
        let arg = codec::encode(arg).map_err(|e| {
            Failure::Invalid(format!(
                "the argument of `{}` failed to serialize as {}: {e}",
                self.name,
                type_name::<A>()
            ))
        })?;
        Ok(Call {
            id,
            function: self.signature(),
            arg,
        })
    }
}

impl<A, R: DeserializeOwned> RemoteFn<A, R> {
    /// The function's result from a worker's [`Outcome`].
    ///
    /// # Errors
    ///
    /// [`Failure::Panicked`] for a panic in the function; [`Failure::Invalid`] when the task
    /// could not run or its result does not decode as `R` (the message names the function).
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_worker::{Failure, Outcome, RemoteFn, codec};
    ///
    /// fn square(n: u64) -> u64 { n * n }
    /// let f = RemoteFn::new("square", square);
    /// let value = Outcome::Value(codec::encode(&16u64).unwrap());
    /// assert_eq!(f.result(value), Ok(16));
    /// let wrong = Outcome::Value(codec::encode("sixteen").unwrap());
    /// assert!(matches!(f.result(wrong), Err(Failure::Invalid(_))));
    /// ```
    pub fn result(&self, outcome: Outcome) -> Result<R, Failure> {
        match outcome {
            Outcome::Value(bytes) => codec::decode(&bytes).map_err(|e| {
                Failure::Invalid(format!(
                    "the result of `{}` failed to deserialize as {}: {e}",
                    self.name,
                    type_name::<R>()
                ))
            }),
            Outcome::Panicked(msg) => Err(Failure::Panicked(msg)),
            Outcome::Invalid(msg) => Err(Failure::Invalid(msg)),
        }
    }
}
