//! [`Registry`]: the functions a worker serves, by name.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec;
use crate::message::{Call, Failure, Outcome, Signature};
use crate::remote_fn::RemoteFn;

type Handler = Arc<dyn Fn(&[u8]) -> Outcome + Send + Sync>;

#[derive(Clone)]
struct Entry {
    signature: Signature,
    handler: Handler,
}

/// The registered functions a worker can run, by name; a cheap `Clone`.
///
/// The parent builds the same registry (it gives it to the pool), and a worker process serves
/// it from [`main_if_worker`](crate::main_if_worker).
///
/// # Examples
///
/// ```
/// use futurepool_worker::{Registry, RemoteFn};
///
/// fn square(n: u64) -> u64 { n * n }
/// fn shout(s: String) -> String { s.to_uppercase() }
/// const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
/// const SHOUT: RemoteFn<String, String> = RemoteFn::new("shout", shout);
///
/// let registry = Registry::new().with(SQUARE).with(SHOUT);
/// assert_eq!(registry.names().collect::<Vec<_>>(), ["shout", "square"]);
/// ```
#[derive(Clone, Default)]
pub struct Registry {
    entries: Arc<BTreeMap<&'static str, Entry>>,
}

impl Registry {
    /// An empty registry.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(futurepool_worker::Registry::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The registry with `f` added.
    ///
    /// # Panics
    ///
    /// When a function with the same name is already registered (the name is the wire
    /// identity); the message names it.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_worker::{Registry, RemoteFn};
    ///
    /// fn one(_: ()) -> u8 { 1 }
    /// fn two(_: ()) -> u8 { 2 }
    /// let dup = std::panic::catch_unwind(|| {
    ///     Registry::new().with(RemoteFn::new("n", one)).with(RemoteFn::new("n", two))
    /// });
    /// assert!(dup.is_err());
    /// ```
    #[must_use]
    pub fn with<A, R>(mut self, f: RemoteFn<A, R>) -> Self
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        let name = f.name();
        if let Some(existing) = self.entries.get(name) {
            panic!(
                "a function named `{name}` is already registered ({}); each name in a Registry must be unique",
                existing.signature
            );
        }
        let entry = Entry {
            signature: f.signature(),
            handler: Arc::new(move |arg: &[u8]| run(f, arg)),
        };
        Arc::make_mut(&mut self.entries).insert(name, entry);
        self
    }

    /// The names of the registered functions, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(futurepool_worker::Registry::new().names().count(), 0);
    /// ```
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.entries.keys().copied()
    }

    /// The signatures of the registered functions, in name order.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_worker::{Registry, RemoteFn};
    ///
    /// fn neg(n: i64) -> i64 { -n }
    /// let registry = Registry::new().with(RemoteFn::new("neg", neg));
    /// assert_eq!(registry.signatures()[0].to_string(), "neg(i64) -> i64");
    /// ```
    pub fn signatures(&self) -> Vec<Signature> {
        self.entries.values().map(|e| e.signature.clone()).collect()
    }

    /// The signature of the function registered as `name`, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_worker::{Registry, RemoteFn};
    ///
    /// fn neg(n: i64) -> i64 { -n }
    /// let registry = Registry::new().with(RemoteFn::new("neg", neg));
    /// assert_eq!(registry.signature("neg").unwrap().arg_type, "i64");
    /// assert!(registry.signature("pos").is_none());
    /// ```
    pub fn signature(&self, name: &str) -> Option<&Signature> {
        self.entries.get(name).map(|e| &e.signature)
    }

    /// Checks that `f` is registered here with the same argument and result types: what a
    /// pool does before it sends a call of `f` (a worker with this registry could not run it
    /// otherwise).
    ///
    /// # Errors
    ///
    /// [`Failure::Invalid`] naming the function, when it is missing or registered with other
    /// types.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_worker::{Registry, RemoteFn};
    ///
    /// fn neg(n: i64) -> i64 { -n }
    /// fn pos(n: i64) -> i64 { n }
    /// const NEG: RemoteFn<i64, i64> = RemoteFn::new("neg", neg);
    /// let registry = Registry::new().with(NEG);
    /// assert!(registry.check(NEG).is_ok());
    /// let err = registry.check(RemoteFn::new("pos", pos)).unwrap_err();
    /// assert!(err.to_string().contains("`pos` is not in the pool's registry"));
    /// ```
    pub fn check<A, R>(&self, f: RemoteFn<A, R>) -> Result<(), Failure> {
        let wanted = f.signature();
        match self.signature(f.name()) {
            Some(known) if known.matches(&wanted) => Ok(()),
            Some(known) => Err(Failure::Invalid(format!(
                "function `{}` has other types in the pool's registry: it holds {known}, the task wants {wanted}",
                f.name()
            ))),
            None => Err(Failure::Invalid(format!(
                "function `{}` is not in the pool's registry (add it with `Registry::with`)",
                f.name()
            ))),
        }
    }

    /// The [`Call`] of `f(arg)` with `id`, once [`check`](Self::check) finds `f` here: what
    /// a pool encodes and sends.
    ///
    /// # Errors
    ///
    /// [`Failure::Invalid`] when `f` is not registered here with its types, or when `arg`
    /// does not encode.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_worker::{Registry, RemoteFn};
    ///
    /// fn neg(n: i64) -> i64 { -n }
    /// const NEG: RemoteFn<i64, i64> = RemoteFn::new("neg", neg);
    /// let call = Registry::new().with(NEG).call(NEG, 7, &5).unwrap();
    /// assert_eq!(call.id, 7);
    /// assert!(Registry::new().call(NEG, 8, &5).is_err());
    /// ```
    pub fn call<A: Serialize, R>(
        &self,
        f: RemoteFn<A, R>,
        id: u64,
        arg: &A,
    ) -> Result<Call, Failure> {
        self.check(f)?;
        f.call(id, arg)
    }

    /// How many functions are registered.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(futurepool_worker::Registry::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no function is registered.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(futurepool_worker::Registry::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Runs `call` here: checks the function is registered with the caller's types, decodes the
    /// argument, runs the function catching a panic, and encodes the result.
    ///
    /// Never panics because of the call: every failure is an [`Outcome`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_worker::{Outcome, Registry, RemoteFn};
    ///
    /// fn square(n: u64) -> u64 { n * n }
    /// fn cube(n: u64) -> u64 { n * n * n }
    /// const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
    /// let registry = Registry::new().with(SQUARE);
    ///
    /// let outcome = registry.execute(&SQUARE.call(1, &9).unwrap());
    /// assert_eq!(SQUARE.result(outcome), Ok(81));
    ///
    /// let missing = RemoteFn::new("cube", cube).call(2, &3).unwrap();
    /// assert!(matches!(registry.execute(&missing), Outcome::Invalid(_)));
    /// ```
    pub fn execute(&self, call: &Call) -> Outcome {
        match self.entries.get(call.function.name.as_str()) {
            Some(entry) if entry.signature.matches(&call.function) => {
                if call.batch.is_empty() {
                    return (entry.handler)(&call.arg);
                }
                return Outcome::Batch(call.batch.iter().map(|arg| (entry.handler)(arg)).collect());
            }
            _ => {}
        }
        match call.function.check_served(&self.signatures()) {
            Err(failure) => Outcome::Invalid(failure.to_string()),
            Ok(()) => Outcome::Invalid(format!(
                "function `{}` could not be looked up in the worker",
                call.function.name
            )),
        }
    }
}

/// Runs one call of `f`: decodes the argument, runs the function, encodes the result, each
/// step inside a panic guard, so that a panicking `Deserialize`, function or `Serialize` is
/// the task's [`Outcome::Panicked`] and the worker lives on.
fn run<A, R>(f: RemoteFn<A, R>, arg: &[u8]) -> Outcome
where
    A: DeserializeOwned,
    R: Serialize,
{
    let arg: A = match guarded(|| codec::decode(arg)) {
        Ok(Ok(arg)) => arg,
        Ok(Err(e)) => {
            return Outcome::Invalid(format!(
                "the argument of `{}` failed to deserialize as {}: {e}",
                f.name(),
                std::any::type_name::<A>()
            ));
        }
        Err(panic) => {
            return Outcome::Panicked(format!(
                "the argument of `{}` panicked while deserializing as {}: {panic}",
                f.name(),
                std::any::type_name::<A>()
            ));
        }
    };
    let result = match guarded(|| f.run(arg)) {
        Ok(result) => result,
        Err(panic) => return Outcome::Panicked(panic),
    };
    match guarded(|| codec::encode(&result)) {
        Ok(Ok(bytes)) => Outcome::Value(bytes),
        Ok(Err(e)) => Outcome::Invalid(format!(
            "the result of `{}` failed to serialize as {}: {e}",
            f.name(),
            std::any::type_name::<R>()
        )),
        Err(panic) => Outcome::Panicked(format!(
            "the result of `{}` panicked while serializing as {}: {panic}",
            f.name(),
            std::any::type_name::<R>()
        )),
    }
}

/// Runs `f`, giving the text of its panic, if it panics, as the error.
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(panic_text)
}

/// The text of a panic payload: the `&str` or `String` that `panic!` produced.
fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(s) => (*s).to_owned(),
            Err(_) => "Box<dyn Any>".to_owned(),
        },
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.values().map(|e| e.signature.to_string()))
            .finish()
    }
}
