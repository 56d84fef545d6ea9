//! The codec and the frames: round trips, tolerance of added fields, and broken input.

use futurepool_worker::frame::{self, MAX_FRAME_LEN};
use futurepool_worker::{Call, Hello, Outcome, Registry, RemoteFn, Reply, codec};
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct PointV1 {
    x: i32,
    y: i32,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct PointV2 {
    x: i32,
    y: i32,
    #[serde(default)]
    label: Option<String>,
}

#[test]
fn a_reader_skips_a_field_it_does_not_know() {
    let newer = PointV2 {
        x: 1,
        y: 2,
        label: Some("origin-ish".into()),
    };
    let older: PointV1 = codec::decode(&codec::encode(&newer).unwrap()).unwrap();
    assert_eq!(older, PointV1 { x: 1, y: 2 });
}

#[test]
fn a_missing_optional_field_reads_as_none() {
    let older = PointV1 { x: 3, y: 4 };
    let newer: PointV2 = codec::decode(&codec::encode(&older).unwrap()).unwrap();
    assert_eq!(
        newer,
        PointV2 {
            x: 3,
            y: 4,
            label: None
        }
    );
}

#[test]
fn structs_are_encoded_with_their_field_names() {
    let bytes = codec::encode(&PointV1 { x: 1, y: 2 }).unwrap();
    assert!(bytes.windows(1).any(|w| w == b"x"));
    assert_eq!(bytes[0], 0x82, "a fixmap of two entries");
}

#[test]
fn the_messages_round_trip() {
    fn square(n: u64) -> u64 {
        n * n
    }
    const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
    let hello = Hello::new(&Registry::new().with(SQUARE));
    assert_eq!(
        codec::decode::<Hello>(&codec::encode(&hello).unwrap()).unwrap(),
        hello
    );
    let call = SQUARE.call(9, &3).unwrap();
    assert_eq!(
        codec::decode::<Call>(&codec::encode(&call).unwrap()).unwrap(),
        call
    );
    for outcome in [
        Outcome::Value(vec![1, 2, 3]),
        Outcome::Panicked("boom".into()),
        Outcome::Invalid("nope".into()),
    ] {
        let reply = Reply { id: 4, outcome };
        assert_eq!(
            codec::decode::<Reply>(&codec::encode(&reply).unwrap()).unwrap(),
            reply
        );
    }
}

#[test]
fn frames_round_trip_back_to_back() {
    let mut wire = Vec::new();
    for payload in [&b""[..], b"a", &[7u8; 1000]] {
        frame::write_frame(&mut wire, payload).unwrap();
    }
    let mut reader = &wire[..];
    assert_eq!(frame::read_frame(&mut reader).unwrap(), Some(vec![]));
    assert_eq!(frame::read_frame(&mut reader).unwrap(), Some(b"a".to_vec()));
    assert_eq!(
        frame::read_frame(&mut reader).unwrap(),
        Some(vec![7u8; 1000])
    );
    assert_eq!(frame::read_frame(&mut reader).unwrap(), None);
}

#[test]
fn a_stream_ending_inside_a_frame_is_an_error() {
    let mut cut_in_prefix: &[u8] = &[0, 0];
    assert_eq!(
        frame::read_frame(&mut cut_in_prefix).unwrap_err().kind(),
        std::io::ErrorKind::UnexpectedEof
    );
    let mut cut_in_payload: &[u8] = &[0, 0, 0, 5, 1, 2];
    assert_eq!(
        frame::read_frame(&mut cut_in_payload).unwrap_err().kind(),
        std::io::ErrorKind::UnexpectedEof
    );
}

#[test]
fn an_oversized_length_is_refused_without_allocating_it() {
    let len = (MAX_FRAME_LEN as u32 + 1).to_be_bytes();
    let mut reader: &[u8] = &len;
    assert_eq!(
        frame::read_frame(&mut reader).unwrap_err().kind(),
        std::io::ErrorKind::InvalidData
    );
}

#[tokio::test]
async fn async_frames_read_what_blocking_frames_wrote_and_back() {
    let mut wire = Vec::new();
    frame::write_frame(&mut wire, b"one").unwrap();
    frame::write_frame_async(&mut wire, b"two").await.unwrap();
    let mut reader = &wire[..];
    assert_eq!(
        frame::read_frame_async(&mut reader).await.unwrap(),
        Some(b"one".to_vec())
    );
    assert_eq!(
        frame::read_frame(&mut reader).unwrap(),
        Some(b"two".to_vec())
    );
    let mut cut: &[u8] = &[0, 0, 0, 9, 1];
    assert!(frame::read_frame_async(&mut cut).await.is_err());
}
