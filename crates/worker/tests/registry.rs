//! `Registry` and `RemoteFn`: registration, and every way a call can end.

use futurepool_worker::{Failure, Outcome, Registry, RemoteFn, Signature, codec};
use serde::{Deserialize, Serialize};

fn square(n: u64) -> u64 {
    n * n
}
fn add((a, b): (u64, u64)) -> u64 {
    a + b
}
fn fail(msg: String) -> u64 {
    panic!("{msg}")
}
fn strict(n: Even) -> u32 {
    n.0
}
fn unencodable(_: ()) -> Unencodable {
    Unencodable
}

const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
const ADD: RemoteFn<(u64, u64), u64> = RemoteFn::new("add", add);
const FAIL: RemoteFn<String, u64> = RemoteFn::new("fail", fail);
const STRICT: RemoteFn<Even, u32> = RemoteFn::new("strict", strict);
const UNENCODABLE: RemoteFn<(), Unencodable> = RemoteFn::new("unencodable", unencodable);

/// Serializes any value, but only an even one deserializes.
#[derive(Debug, Serialize, Deserialize)]
#[serde(try_from = "u32")]
struct Even(u32);

impl TryFrom<u32> for Even {
    type Error = String;
    fn try_from(n: u32) -> Result<Self, String> {
        if n.is_multiple_of(2) {
            Ok(Even(n))
        } else {
            Err(format!("{n} is odd"))
        }
    }
}

/// A result whose `Serialize` always fails.
#[derive(Debug, Deserialize)]
struct Unencodable;

impl Serialize for Unencodable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(
            "this value refuses to be serialized",
        ))
    }
}

fn registry() -> Registry {
    Registry::new()
        .with(SQUARE)
        .with(ADD)
        .with(FAIL)
        .with(STRICT)
        .with(UNENCODABLE)
}

fn invalid_message(outcome: Outcome) -> String {
    match outcome {
        Outcome::Invalid(msg) => msg,
        other => panic!("expected an invalid outcome, got {other:?}"),
    }
}

#[test]
fn a_registered_function_runs_with_its_argument() {
    let r = registry();
    assert_eq!(
        SQUARE.result(r.execute(&SQUARE.call(1, &12).unwrap())),
        Ok(144)
    );
    assert_eq!(
        ADD.result(r.execute(&ADD.call(2, &(40, 2)).unwrap())),
        Ok(42)
    );
}

#[test]
fn a_duplicate_name_panics_naming_it() {
    fn other(n: u64) -> u64 {
        n + 1
    }
    let payload = std::panic::catch_unwind(|| {
        Registry::new()
            .with(SQUARE)
            .with(RemoteFn::new("square", other))
    })
    .unwrap_err();
    let msg = payload.downcast_ref::<String>().unwrap();
    assert!(msg.contains("`square` is already registered"), "{msg}");
}

#[test]
fn registry_lists_names_and_signatures_in_order() {
    let r = registry();
    assert_eq!(r.len(), 5);
    assert_eq!(
        r.names().collect::<Vec<_>>(),
        ["add", "fail", "square", "strict", "unencodable"]
    );
    assert_eq!(r.signatures()[2], Signature::new("square", "u64", "u64"));
    assert_eq!(
        format!("{:?}", Registry::new().with(SQUARE)),
        r#"["square(u64) -> u64"]"#
    );
}

#[test]
fn a_clone_shares_the_functions_and_adding_to_it_leaves_the_original() {
    let one = Registry::new().with(SQUARE);
    let two = one.clone().with(ADD);
    assert_eq!(one.len(), 1);
    assert_eq!(two.len(), 2);
}

#[test]
fn a_panic_is_caught_with_its_message() {
    let outcome = registry().execute(&FAIL.call(1, &"bad input 7".to_owned()).unwrap());
    assert_eq!(outcome, Outcome::Panicked("bad input 7".to_owned()));
    assert_eq!(
        FAIL.result(outcome),
        Err(Failure::Panicked("bad input 7".to_owned()))
    );
}

#[test]
fn an_unknown_function_is_invalid_naming_it_and_what_is_served() {
    fn cube(n: u64) -> u64 {
        n * n * n
    }
    let msg =
        invalid_message(registry().execute(&RemoteFn::new("cube", cube).call(1, &2).unwrap()));
    assert!(msg.contains("`cube` is not registered"), "{msg}");
    assert!(msg.contains("square"), "{msg}");
}

#[test]
fn a_function_known_with_other_types_is_invalid_naming_both() {
    fn square_i32(n: i32) -> i32 {
        n * n
    }
    let call = RemoteFn::new("square", square_i32).call(1, &3).unwrap();
    let msg = invalid_message(registry().execute(&call));
    assert!(msg.contains("`square` has other types"), "{msg}");
    assert!(msg.contains("square(u64) -> u64"), "{msg}");
    assert!(msg.contains("square(i32) -> i32"), "{msg}");
}

#[test]
fn an_argument_that_fails_to_deserialize_is_invalid() {
    let msg = invalid_message(registry().execute(&STRICT.call(1, &Even(3)).unwrap()));
    assert!(
        msg.contains("argument of `strict` failed to deserialize"),
        "{msg}"
    );
    assert!(msg.contains("3 is odd"), "{msg}");
    // The same type with a good value goes through.
    assert_eq!(
        STRICT.result(registry().execute(&STRICT.call(2, &Even(4)).unwrap())),
        Ok(4)
    );
}

#[test]
fn a_result_that_fails_to_serialize_is_invalid() {
    let msg = invalid_message(registry().execute(&UNENCODABLE.call(1, &()).unwrap()));
    assert!(
        msg.contains("result of `unencodable` failed to serialize"),
        "{msg}"
    );
    assert!(msg.contains("refuses to be serialized"), "{msg}");
}

#[test]
fn an_argument_that_fails_to_serialize_fails_at_the_call() {
    fn take(_: Unencodable) -> u8 {
        0
    }
    let err = RemoteFn::new("take", take)
        .call(1, &Unencodable)
        .unwrap_err();
    assert!(
        matches!(&err, Failure::Invalid(m) if m.contains("argument of `take` failed to serialize")),
        "{err}"
    );
}

#[test]
fn a_result_of_another_type_fails_to_decode_naming_the_function() {
    let outcome = Outcome::Value(codec::encode("not a number").unwrap());
    let err = SQUARE.result(outcome).unwrap_err();
    assert!(
        err.to_string()
            .contains("result of `square` failed to deserialize as u64"),
        "{err}"
    );
}

#[test]
fn types_match_across_module_paths_but_not_across_types() {
    let served = [Signature::new(
        "f",
        "worker_bin::shapes::Point",
        "alloc::vec::Vec<worker_bin::shapes::Point>",
    )];
    let same = Signature::new("f", "app::Point", "alloc::vec::Vec<app::Point>");
    assert!(same.check_served(&served).is_ok());
    let other = Signature::new("f", "app::Point", "alloc::vec::Vec<app::Line>");
    assert!(other.check_served(&served).is_err());
    let tuple = Signature::new("g", "(u64, alloc::string::String)", "u8");
    assert!(tuple.matches(&Signature::new("g", "(u64, String)", "u8")));
    assert!(!tuple.matches(&Signature::new("g", "(u64, u64)", "u8")));
}
