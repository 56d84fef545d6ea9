//! [`RemoteFn`]: a function that can run in another process, known by its name.

use std::any::type_name;
use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec;
use crate::message::{Call, Failure, Outcome, Signature};
use crate::registry::guarded;

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
    /// [`Failure::Invalid`] naming the function when `arg` fails to encode, [`Failure::Panicked`]
    /// when its `Serialize` panics.
    ///
    /// # Examples
    ///
    /// ```
    /// fn square(n: u64) -> u64 { n * n }
    /// let call = futurepool_worker::RemoteFn::new("square", square).call(1, &4).unwrap();
    /// assert_eq!(call.function.name, "square");
    /// ```
    pub fn call(&self, id: u64, arg: &A) -> Result<Call, Failure> {
        Ok(Call {
            id,
            function: self.signature(),
            arg: self.encode_arg(arg)?,
            batch: Vec::new(),
        })
    }

    /// `arg` encoded for a [`Call`]; a panic in its `Serialize` is caught.
    ///
    /// # Errors
    ///
    /// [`Failure::Invalid`] naming the function when `arg` fails to encode,
    /// [`Failure::Panicked`] when its `Serialize` panics.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_worker::RemoteFn;
    ///
    /// fn square(n: u64) -> u64 { n * n }
    /// const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
    /// let args = vec![SQUARE.encode_arg(&2).unwrap(), SQUARE.encode_arg(&3).unwrap()];
    /// assert_eq!(SQUARE.batch(1, args).batch.len(), 2);
    /// ```
    pub fn encode_arg(&self, arg: &A) -> Result<Vec<u8>, Failure> {
        match guarded(|| codec::encode(arg)) {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(e)) => Err(Failure::Invalid(format!(
                "the argument of `{}` failed to serialize as {}: {e}",
                self.name,
                type_name::<A>()
            ))),
            Err(panic) => Err(Failure::Panicked(format!(
                "the argument of `{}` panicked while serializing as {}: {panic}",
                self.name,
                type_name::<A>()
            ))),
        }
    }
}

impl<A, R> RemoteFn<A, R> {
    /// A batch [`Call`]: this function on each of `args` (encoded with
    /// [`encode_arg`](Self::encode_arg)), answered with one [`Outcome::Batch`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_worker::{Registry, RemoteFn};
    ///
    /// fn square(n: u64) -> u64 { n * n }
    /// const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
    /// let args = (1..=3).map(|n| SQUARE.encode_arg(&n).unwrap()).collect();
    /// let outcome = Registry::new().with(SQUARE).execute(&SQUARE.batch(7, args));
    /// let squares: Vec<_> = SQUARE.results(outcome, 3).into_iter().map(Result::unwrap).collect();
    /// assert_eq!(squares, [1, 4, 9]);
    /// ```
    pub fn batch(&self, id: u64, args: Vec<Vec<u8>>) -> Call {
        Call {
            id,
            function: self.signature(),
            arg: Vec::new(),
            batch: args.into_iter().map(serde_bytes::ByteBuf::from).collect(),
        }
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
            Outcome::Value(bytes) => match guarded(|| codec::decode(&bytes)) {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(e)) => Err(Failure::Invalid(format!(
                    "the result of `{}` failed to deserialize as {}: {e}",
                    self.name,
                    type_name::<R>()
                ))),
                Err(panic) => Err(Failure::Panicked(format!(
                    "the result of `{}` panicked while deserializing as {}: {panic}",
                    self.name,
                    type_name::<R>()
                ))),
            },
            Outcome::Panicked(msg) => Err(Failure::Panicked(msg)),
            Outcome::Invalid(msg) => Err(Failure::Invalid(msg)),
            Outcome::Batch(_) => Err(Failure::Invalid(format!(
                "`{}` was answered with a batch where one result was expected",
                self.name
            ))),
        }
    }

    /// The results of a batch of `len` calls from the worker's [`Outcome::Batch`], in order.
    /// An outcome that is not a batch of `len` (such as "result too large" for the whole
    /// batch) is every item's error.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_worker::{Outcome, RemoteFn};
    ///
    /// fn square(n: u64) -> u64 { n * n }
    /// let results = RemoteFn::new("square", square).results(Outcome::Invalid("too large".into()), 2);
    /// assert_eq!(results.len(), 2);
    /// assert!(results.iter().all(Result::is_err));
    /// ```
    pub fn results(&self, outcome: Outcome, len: usize) -> Vec<Result<R, Failure>> {
        match outcome {
            Outcome::Batch(outcomes) if outcomes.len() == len => {
                outcomes.into_iter().map(|o| self.result(o)).collect()
            }
            Outcome::Batch(outcomes) => {
                let failure = Failure::Invalid(format!(
                    "a batch of {len} calls of `{}` was answered with {} outcomes",
                    self.name,
                    outcomes.len()
                ));
                every(failure, len)
            }
            Outcome::Value(_) => {
                let failure = Failure::Invalid(format!(
                    "a batch of `{}` was answered with a single value",
                    self.name
                ));
                every(failure, len)
            }
            Outcome::Panicked(msg) => every(Failure::Panicked(msg), len),
            Outcome::Invalid(msg) => every(Failure::Invalid(msg), len),
        }
    }
}

/// `len` copies of `failure`, as results.
fn every<R>(failure: Failure, len: usize) -> Vec<Result<R, Failure>> {
    (0..len).map(|_| Err(failure.clone())).collect()
}
