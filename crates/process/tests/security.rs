//! The pool against its neighbours: its socket directory is private whatever the umask, a
//! connection from another process is refused, and a Ctrl-C at the terminal reaches the
//! parent only.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::functions::*;
use common::{WORKER, builder, watchdog};
use futurepool_worker::{Hello, codec, frame};

#[test]
fn the_socket_directory_is_private_even_under_umask_000() {
    // The umask is process-wide: the test worker program sets it in a process of its own.
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(WORKER)
        .arg("umask")
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let dirs: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("futurepool-process-"))
        .collect();
    assert_eq!(dirs.len(), 1, "{stdout}");
    assert!(dirs[0].ends_with(" 700"), "not private: {}", dirs[0]);
}

/// A worker program that tells the test its socket path (through the FIFO `DIR/socket`),
/// then waits for the test's go-ahead (through the FIFO `DIR/go`) before it becomes the
/// worker, so that the test connects first.
fn slow_worker_script(dir: &std::path::Path) -> std::path::PathBuf {
    let script = dir.join("slow-worker.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n\
             dir=\"$1\"; shift\n\
             for a in \"$@\"; do case \"$a\" in --futurepool-worker=*) printf '%s\\n' \"${{a#--futurepool-worker=}}\" > \"$dir/socket\";; esac; done\n\
             read go < \"$dir/go\"\n\
             exec '{WORKER}' \"$@\"\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    for fifo in ["socket", "go"] {
        let made = Command::new("mkfifo").arg(dir.join(fifo)).status().unwrap();
        assert!(made.success());
    }
    script
}

#[tokio::test]
async fn a_connection_from_another_process_is_refused_and_the_child_still_connects() {
    watchdog(async {
        let tmp = tempfile::tempdir().unwrap();
        let script = slow_worker_script(tmp.path());
        let pool = builder(1)
            .program(&script)
            .args([tmp.path().to_str().unwrap()])
            .build()
            .unwrap();
        let task = pool.submit(SQUARE, 7);
        let dir = tmp.path().to_owned();
        let intruder = tokio::task::spawn_blocking(move || {
            let mut path = String::new();
            BufReader::new(std::fs::File::open(dir.join("socket")).unwrap())
                .read_line(&mut path)
                .unwrap();
            // Connect before the child, and pose as it.
            let mut stream = UnixStream::connect(path.trim_end()).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            let hello = codec::encode(&Hello::new(&worker_registry())).unwrap();
            let _ = frame::write_frame(&mut stream, &hello);
            // Let the child go on.
            std::fs::write(dir.join("go"), "go\n").unwrap();
            let mut received = Vec::new();
            let read = stream.read_to_end(&mut received);
            (read.map_err(|e| e.kind()), received)
        });
        assert_eq!(task.await.unwrap(), 49, "the real child served the task");
        let (read, received) = intruder.await.unwrap();
        // Closed at once: cleanly, or reset because the pool left the forged hello unread.
        assert!(
            matches!(read, Ok(0) | Err(std::io::ErrorKind::ConnectionReset)),
            "the intruder's connection was not closed: {read:?}"
        );
        assert!(received.is_empty(), "the intruder got {received:?}");
    })
    .await;
}

#[test]
fn a_ctrl_c_at_the_terminal_reaches_the_parent_only_and_running_tasks_finish() {
    // The test program plays a parent that handles Ctrl-C; it runs in a process group of its
    // own, like a job a shell starts, and the test sends SIGINT to that whole group, as the
    // terminal does on Ctrl-C.
    let mut parent = Command::new(WORKER)
        .arg("sigint")
        .process_group(0)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pgid = parent.id();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    let stdout = parent.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = lines_tx.send(line.unwrap());
        }
    });
    let limit = Duration::from_secs(30);
    let first = lines.recv_timeout(limit).expect("watchdog: no `running`");
    assert_eq!(first, "running");
    let sent = Command::new("kill")
        .args(["-INT", "--", &format!("-{pgid}")])
        .status()
        .unwrap();
    assert!(sent.success());
    let result = lines.recv_timeout(limit).expect("watchdog: no result");
    let _ = parent.kill();
    let _ = parent.wait();
    assert!(
        result.starts_with("ok "),
        "the running task failed: {result}"
    );
}
