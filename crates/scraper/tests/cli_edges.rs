//! The `scrape` binary at its edges: broken pipes, Ctrl-C on an open stdin, input files with a
//! byte-order mark, `--output` onto the input, `--help`'s defaults.

mod common;

use common::{html_page, json_lines, run, scrape, scrape_fast};
use std::io::{BufRead, BufReader};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use wiremock::MockServer;

/// Waits for `child` to exit, killing it and failing the test after `limit`.
fn wait_within(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("scrape did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_into_a_closed_pipe_ends_quietly() {
    // `scrape demo 2>&1 | head -1`: both streams go into a pipe whose reader leaves after one line.
    let bin = assert_cmd::cargo::cargo_bin!("scrape");
    let script = r#"set -o pipefail; "$0" demo --pages 20 2>&1 | head -1 >/dev/null; echo "status ${PIPESTATUS[0]}""#;
    let mut cmd = assert_cmd::Command::new("bash");
    cmd.args(["-c", script, bin.to_str().unwrap()]);
    let out = run(cmd).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.trim(),
        "status 0",
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_ends_the_run_while_stdin_stays_open() {
    let server = MockServer::start().await;
    html_page(&server, "/a", "a", &[]).await;
    let bin = assert_cmd::cargo::cargo_bin!("scrape");
    let mut child = std::process::Command::new(bin)
        .args(["fetch", "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let url = format!("{}/a\n", server.uri());
    let status = tokio::task::spawn_blocking(move || {
        std::io::Write::write_all(&mut stdin, url.as_bytes()).unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        assert!(first.contains("\"title\":\"a\""), "{first}");
        // The row is out; stdin is still open (held here): interrupt.
        let pid = child.id().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = wait_within(&mut child, Duration::from_secs(1));
        drop(stdin);
        status
    })
    .await
    .unwrap();
    assert_eq!(status.code(), Some(130));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_byte_order_mark_at_the_start_of_the_input_file_is_ignored() {
    let server = MockServer::start().await;
    html_page(&server, "/first", "first", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("urls.txt");
    std::fs::write(&input, format!("\u{feff}{}/first\n", server.uri())).unwrap();
    let out = run(scrape_fast(&["fetch", "--input", input.to_str().unwrap()])).await;
    assert_eq!(out.status.code(), Some(0));
    let rows = json_lines(&out.stdout);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["url"], format!("{}/first", server.uri()));
    assert_eq!(rows[0]["title"], "first", "{:?}", rows[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_onto_the_input_file_is_refused_however_it_is_spelled() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let input = dir.path().join("urls.txt");
    let list = "http://127.0.0.1:9/a\n";
    std::fs::write(&input, list).unwrap();
    let link = dir.path().join("link.txt");
    std::os::unix::fs::symlink(&input, &link).unwrap();
    let other_spelling = dir.path().join("sub/../urls.txt");
    for output in [&input, &other_spelling, &link] {
        let out = run(scrape(&[
            "fetch",
            "--input",
            input.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
        ]))
        .await;
        assert_eq!(out.status.code(), Some(2), "--output {}", output.display());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("same file"), "{stderr}");
        assert_eq!(
            std::fs::read_to_string(&input).unwrap(),
            list,
            "the URL list is intact"
        );
    }
}

#[test]
fn help_shows_the_real_user_agent() {
    let out = scrape(&["fetch", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let ua = futurepool_scraper::DEFAULT_USER_AGENT;
    // clap quotes a default that contains spaces
    assert!(
        help.contains(&format!("[default: \"{ua}\"]")),
        "{ua} missing from:\n{help}"
    );
    assert!(!help.contains("VERSION"), "{help}");
}
