//! A real three-node JetStream cluster on loopback: three `nats-server` processes joined by
//! `cluster { routes }`, each with its own store folder and free ports; a node can be killed
//! (`kill -9`), stopped gracefully and started again on the same ports and store.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{fresh_dir, server_binary};

/// One node: its name (`n1`..), ports and directory, and its process while it runs.
struct Node {
    name: String,
    dir: PathBuf,
    config: PathBuf,
    port: u16,
    monitor: u16,
    child: Option<Child>,
}

/// A JetStream cluster of `nats-server` processes on 127.0.0.1; killed when dropped.
pub struct Cluster {
    nodes: Vec<Node>,
    /// Every node's client URL, comma-separated (what pools and workers are given).
    pub url: String,
}

/// A port free on 127.0.0.1 just now (bound, read and released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

impl Cluster {
    /// Starts `size` nodes and waits (up to 30 s) until they have elected a meta leader and
    /// every node is a current member. A node that could not listen on its ports (taken by
    /// another process between being found free and the node binding them) makes it start
    /// the cluster anew on other ports, up to three times.
    pub async fn start(size: usize) -> Self {
        for attempt in 1..=3 {
            let mut cluster = Self::configure(size);
            for i in 0..size {
                cluster.start_node(i);
            }
            match cluster.whole_within(&[], Duration::from_secs(30)).await {
                Ok(()) => return cluster,
                Err(why) if attempt < 3 && cluster.lost_a_port() => {
                    eprintln!("a node's port was taken ({why}); starting the cluster anew");
                }
                Err(why) => panic!(
                    "the cluster is not whole after 30 s: {why}\n{}",
                    cluster.logs()
                ),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// Whether a node's log says it could not listen on one of its ports.
    fn lost_a_port(&self) -> bool {
        self.nodes.iter().any(|n| {
            std::fs::read_to_string(n.dir.join("server.log"))
                .is_ok_and(|log| log.contains("address already in use"))
        })
    }

    /// `size` nodes' configurations on free ports, none started.
    fn configure(size: usize) -> Self {
        let ports: Vec<(u16, u16, u16)> = (0..size)
            .map(|_| (free_port(), free_port(), free_port()))
            .collect();
        let routes: Vec<String> = ports
            .iter()
            .map(|(_, route, _)| format!("\"nats-route://127.0.0.1:{route}\""))
            .collect();
        let nodes = ports
            .iter()
            .enumerate()
            .map(|(i, &(port, route, monitor))| {
                let name = format!("n{}", i + 1);
                let dir = fresh_dir();
                let config = dir.join("server.conf");
                std::fs::write(
                    &config,
                    format!(
                        "server_name: {name}\nhost: 127.0.0.1\nport: {port}\nhttp: \"127.0.0.1:{monitor}\"\n\
                         jetstream {{ store_dir: \"{}\", max_memory_store: 64MB, max_file_store: 1GB }}\n\
                         cluster {{\n  name: futurepool\n  listen: \"127.0.0.1:{route}\"\n  routes: [{}]\n}}\n",
                        dir.join("js").display(),
                        routes.join(", ")
                    ),
                )
                .expect("a node's configuration");
                Node {
                    name,
                    dir,
                    config,
                    port,
                    monitor,
                    child: None,
                }
            })
            .collect::<Vec<_>>();
        let url = nodes
            .iter()
            .map(|n| format!("nats://127.0.0.1:{}", n.port))
            .collect::<Vec<_>>()
            .join(",");
        Self { nodes, url }
    }

    /// How many nodes the cluster has.
    pub fn size(&self) -> usize {
        self.nodes.len()
    }

    /// Node `i`'s client URL.
    pub fn node_url(&self, i: usize) -> String {
        format!("nats://127.0.0.1:{}", self.nodes[i].port)
    }

    /// Starts node `i` (again) with its configuration, ports and store.
    pub fn start_node(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        assert!(node.child.is_none(), "node {} already runs", node.name);
        let log = std::fs::File::create(node.dir.join("server.log")).expect("a log file");
        let child = Command::new(server_binary())
            .arg("-c")
            .arg(&node.config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("nats-server starts");
        node.child = Some(child);
    }

    /// `kill -9` of node `i`; waits for it to exit.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A graceful stop of node `i` (SIGTERM, as a service manager sends); waits for it to exit
    /// (killing it after 10 s).
    pub fn stop(&mut self, i: usize) {
        let Some(mut child) = self.nodes[i].child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        for _ in 0..200 {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// The index of the node leading `stream` now, from `$JS.API.STREAM.INFO.<stream>` (asked
    /// of the running nodes in turn, until one names a leader; up to 20 s).
    pub async fn stream_leader(&self, stream: &str) -> usize {
        for _ in 0..100 {
            if let Some(info) = self.stream_info(stream).await
                && let Some(leader) = cluster_field(&info, "leader")
                && let Some(i) = self.nodes.iter().position(|n| n.name == leader)
            {
                return i;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("no node leads {stream} after 20 s");
    }

    /// The raw `$JS.API.STREAM.INFO` answer for `stream` from the first running node that gives
    /// one without an error.
    async fn stream_info(&self, stream: &str) -> Option<String> {
        self.ask(&format!("$JS.API.STREAM.INFO.{stream}")).await
    }

    /// The answer to the `$JS.API` request `subject` from the first running node that gives one
    /// without an error (each asked for up to 2 s).
    async fn ask(&self, subject: &str) -> Option<String> {
        for (i, node) in self.nodes.iter().enumerate() {
            if node.child.is_none() {
                continue;
            }
            let Ok(Ok(client)) = tokio::time::timeout(
                Duration::from_secs(2),
                async_nats::connect(self.node_url(i)),
            )
            .await
            else {
                continue;
            };
            if let Some(text) = ask_on(&client, subject, Duration::from_secs(2)).await {
                return Some(text);
            }
        }
        None
    }

    /// The names of `stream`'s consumers.
    pub async fn consumer_names(&self, stream: &str) -> Vec<String> {
        let Some(answer) = self.ask(&format!("$JS.API.CONSUMER.NAMES.{stream}")).await else {
            return Vec::new();
        };
        let Some(list) = answer
            .find("\"consumers\"")
            .map(|at| &answer[at..])
            .and_then(|rest| Some(&rest[rest.find('[')? + 1..rest.find(']')?]))
        else {
            return Vec::new();
        };
        list.split(',')
            .map(|name| name.trim().trim_matches('"').to_owned())
            .filter(|name| !name.is_empty())
            .collect()
    }

    /// The name of the node leading each of `groups` now (`None` when none answers).
    pub async fn leaders(&self, groups: &[Group]) -> Vec<Option<String>> {
        let mut leaders = Vec::new();
        for group in groups {
            let info = self.ask(&group.subject).await;
            leaders.push(info.and_then(|info| cluster_field(&info, "leader")));
        }
        leaders
    }

    /// After node `dead` was killed at `killed_at`: when each of `groups` whose leader it was
    /// (`before`, from [`leaders`](Self::leaders)) had a new leader, asked every 100 ms of a
    /// running node for up to `limit`. A timeline of the failover, for a test's message.
    pub async fn elections(
        &self,
        groups: &[Group],
        before: &[Option<String>],
        dead: usize,
        killed_at: Instant,
        limit: Duration,
    ) -> Vec<Election> {
        let dead_name = self.nodes[dead].name.clone();
        let mut elections: Vec<Election> = groups
            .iter()
            .zip(before)
            .map(|(group, before)| Election {
                label: group.label.clone(),
                before: before.clone(),
                after: None,
                at: None,
            })
            .collect();
        let live = (0..self.nodes.len()).find(|&i| i != dead && self.nodes[i].child.is_some());
        let Some(live) = live else { return elections };
        let Ok(Ok(client)) = tokio::time::timeout(
            Duration::from_secs(2),
            async_nats::connect(self.node_url(live)),
        )
        .await
        else {
            return elections;
        };
        while killed_at.elapsed() < limit {
            // The groups the dead node led that have no new leader yet, all asked at once.
            let waiting: Vec<usize> = (0..groups.len())
                .filter(|&i| {
                    elections[i].at.is_none()
                        && elections[i].before.as_deref() == Some(dead_name.as_str())
                })
                .collect();
            if waiting.is_empty() {
                return elections;
            }
            let asked = waiting
                .iter()
                .map(|&i| ask_on(&client, &groups[i].subject, Duration::from_millis(200)));
            let answers = futures::future::join_all(asked).await;
            for (i, info) in waiting.into_iter().zip(answers) {
                let leader = info
                    .and_then(|info| cluster_field(&info, "leader"))
                    .filter(|leader| !leader.is_empty() && *leader != dead_name);
                if leader.is_some() {
                    elections[i].after = leader;
                    elections[i].at = Some(killed_at.elapsed());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for election in &mut elections {
            if election.at.is_none() && election.before.as_deref() == Some(dead_name.as_str()) {
                election.after = Some(format!("no leader within {limit:?}"));
            }
        }
        elections
    }

    /// Waits (up to 30 s) until the cluster is whole: every node runs, each sees the same meta
    /// leader and that leader has every other node as a current peer; and each of `streams` has
    /// a leader and every replica current.
    pub async fn wait_whole(&self, streams: &[String]) {
        if let Err(why) = self.whole_within(streams, Duration::from_secs(30)).await {
            panic!(
                "the cluster is not whole after 30 s: {why}\n{}",
                self.logs()
            );
        }
    }

    /// [`wait_whole`](Self::wait_whole) for up to `limit`: what is missing when it is not.
    async fn whole_within(&self, streams: &[String], limit: Duration) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let why = match self.whole(streams).await {
                Ok(()) => return Ok(()),
                Err(why) => why,
            };
            if tokio::time::Instant::now() >= deadline {
                return Err(why);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn whole(&self, streams: &[String]) -> Result<(), String> {
        let mut leader = None;
        for node in &self.nodes {
            if node.child.is_none() {
                return Err(format!("{} is down", node.name));
            }
            let jsz = http_get(node.monitor, "/jsz")
                .ok_or_else(|| format!("{} gives no /jsz", node.name))?;
            let meta = jsz
                .find("\"meta_cluster\"")
                .map(|at| &jsz[at..])
                .ok_or_else(|| format!("{} has no meta group yet", node.name))?;
            let this = field(meta, "leader")
                .filter(|l| !l.is_empty())
                .ok_or_else(|| format!("{} knows no meta leader", node.name))?;
            if *leader.get_or_insert_with(|| this.clone()) != this {
                return Err("the nodes disagree on the meta leader".to_owned());
            }
            if node.name == this {
                let current = meta.matches("\"current\": true").count()
                    + meta.matches("\"current\":true").count();
                if current + 1 < self.nodes.len() {
                    return Err(format!("the meta leader sees {current} current peers"));
                }
            }
        }
        for stream in streams {
            let info = self
                .stream_info(stream)
                .await
                .ok_or_else(|| format!("no info on {stream}"))?;
            let cluster = info
                .find("\"cluster\"")
                .map(|at| &info[at..])
                .ok_or_else(|| format!("{stream} has no cluster info"))?;
            field(cluster, "leader")
                .filter(|l| !l.is_empty())
                .ok_or_else(|| format!("{stream} has no leader"))?;
            let current = cluster.matches("\"current\":true").count();
            let replicas = cluster.matches("\"name\":").count().saturating_sub(1);
            if current < replicas || replicas + 1 < self.nodes.len() {
                return Err(format!(
                    "{stream}: {current} of {replicas} followers current"
                ));
            }
        }
        Ok(())
    }

    /// What each node's log says last, for a failing test's message.
    pub fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(|n| {
                let log = std::fs::read_to_string(n.dir.join("server.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                format!(
                    "--- {}:\n{}\n",
                    n.name,
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )
            })
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
            let _ = std::fs::remove_dir_all(&self.nodes[i].dir);
        }
    }
}

/// A replicated group of the cluster, whose leader a failover moves: a stream, or a consumer.
pub struct Group {
    /// What a timeline calls it.
    pub label: String,
    /// The `$JS.API` subject of its info.
    subject: String,
}

impl Group {
    /// The stream `stream`.
    pub fn stream(stream: &str) -> Self {
        Self {
            label: format!("stream {stream}"),
            subject: format!("$JS.API.STREAM.INFO.{stream}"),
        }
    }

    /// The consumer `consumer` of `stream`.
    pub fn consumer(stream: &str, consumer: &str) -> Self {
        Self {
            label: format!("consumer {consumer}"),
            subject: format!("$JS.API.CONSUMER.INFO.{stream}.{consumer}"),
        }
    }
}

/// One group's part in a failover: who led it before, and when a new leader was seen.
pub struct Election {
    pub label: String,
    pub before: Option<String>,
    pub after: Option<String>,
    /// How long after the kill the new leader was seen (`None`: the group kept its leader, or
    /// none was seen in time).
    pub at: Option<Duration>,
}

impl std::fmt::Display for Election {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let before = self.before.as_deref().unwrap_or("?");
        match (&self.after, self.at) {
            (Some(after), Some(at)) => write!(f, "{} {before} -> {after} at +{at:.1?}", self.label),
            (Some(after), None) => write!(f, "{} {before} -> {after}", self.label),
            (None, _) => write!(f, "{} {before}", self.label),
        }
    }
}

/// The answer to `subject` on `client` within `limit`, unless it is an error.
async fn ask_on(client: &async_nats::Client, subject: &str, limit: Duration) -> Option<String> {
    let request = client.request(subject.to_owned(), "".into());
    let reply = tokio::time::timeout(limit, request).await.ok()?.ok()?;
    let text = String::from_utf8_lossy(&reply.payload).into_owned();
    (!text.contains("\"error\"")).then_some(text)
}

/// The string value of `"name"` in the `"cluster"` object of a stream info answer.
fn cluster_field(info: &str, name: &str) -> Option<String> {
    field(&info[info.find("\"cluster\"")?..], name)
}

/// The first string value of `"name"` in JSON `text` (compact or pretty-printed).
fn field(text: &str, name: &str) -> Option<String> {
    let key = format!("\"{name}\"");
    let rest = &text[text.find(&key)? + key.len()..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_owned())
}

/// The body of `GET path` on the monitoring port `port`, if it answers within 2 s.
fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut body = String::new();
    stream.read_to_string(&mut body).ok()?;
    Some(body.split("\r\n\r\n").nth(1)?.to_owned())
}
