//! The real `planetmint-stream` binary as a child process: [`Process`] starts it on
//! ephemeral loopback ports with its standard error piped, signals it, waits for it, and kills
//! it with SIGKILL if a test ends without reaping it; [`Binary`] is a process that is
//! serving, its ports learnt from its `listening` log line.

use std::ffi::{OsStr, OsString};
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::timeout;

/// The binary running, reaped by [`Process::wait`] or killed on drop.
pub struct Process {
    child: Option<Child>,
    pid: u32,
}

impl Process {
    /// Runs the binary with `args` (a subcommand and its own flags) plus loopback listeners
    /// on ephemeral ports, with `env` added to an environment cleared of `PLANETMINT_*`;
    /// returns it and the read end of its standard error.
    pub fn spawn<I, S>(args: I, env: &[(&str, &str)]) -> (Process, ChildStderr)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args = args.into_iter().map(|arg| arg.as_ref().to_owned());
        let listeners = ["--ws-host", "127.0.0.1", "--ws-port", "0"]
            .into_iter()
            .chain(["--api-bind", "127.0.0.1:0"])
            .map(OsString::from);
        Process::spawn_as_told(args.chain(listeners), env)
    }

    /// [`Process::spawn`] with `args` and `env` alone: the listeners are where they say.
    pub fn spawn_as_told<I, S>(args: I, env: &[(&str, &str)]) -> (Process, ChildStderr)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new(env!("CARGO_BIN_EXE_planetmint-stream"));
        command
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("PLANETMINT_") {
                command.env_remove(name);
            }
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("starting the binary");
        let stderr = child.stderr.take().expect("stderr");
        let pid = child.id();
        let process = Process {
            child: Some(child),
            pid,
        };
        (process, stderr)
    }

    /// Runs the binary (as [`Process::spawn`] does) until it exits, at most `within`;
    /// returns its status and every line of its standard error.
    pub async fn run<I, S>(args: I, within: Duration) -> (ExitStatus, Vec<String>)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Process::exit_of(Process::spawn(args, &[]), within).await
    }

    /// [`Process::run`] of [`Process::spawn_as_told`].
    pub async fn run_as_told<I, S>(
        args: I,
        env: &[(&str, &str)],
        within: Duration,
    ) -> (ExitStatus, Vec<String>)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Process::exit_of(Process::spawn_as_told(args, env), within).await
    }

    async fn exit_of(
        (mut process, stderr): (Process, ChildStderr),
        within: Duration,
    ) -> (ExitStatus, Vec<String>) {
        let mut lines = read_lines(stderr);
        let status = process.wait(within).await;
        (status, drain(&mut lines).await)
    }

    /// Sends `signal` (a `kill` name such as "TERM" or "KILL").
    pub fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([format!("-{signal}"), self.pid.to_string()])
            .status()
            .expect("running kill");
        assert!(sent.success(), "kill -{signal} {} failed", self.pid);
    }

    /// Waits (at most `within`, else panics) for the process to exit; returns its status.
    pub async fn wait(&mut self, within: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("not reaped yet");
        timeout(within, tokio::task::spawn_blocking(move || child.wait()))
            .await
            .unwrap_or_else(|_| panic!("the binary did not exit within {within:?}"))
            .expect("waiting for the binary")
            .expect("waiting for the binary")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The binary serving: its ports, and its log lines.
pub struct Binary {
    pub api: SocketAddr,
    pub ws: SocketAddr,
    process: Process,
    lines: mpsc::UnboundedReceiver<String>,
    /// The log lines read before `listening`.
    pub startup: Vec<String>,
}

impl Binary {
    /// [`Process::spawn`], once the binary logs `listening`, within 10 s.
    pub async fn start<I, S>(args: I, env: &[(&str, &str)]) -> Binary
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Binary::listening(Process::spawn(args, env)).await
    }

    /// [`Process::spawn_as_told`], once the binary logs `listening`, within 10 s.
    pub async fn start_as_told<I, S>(args: I, env: &[(&str, &str)]) -> Binary
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Binary::listening(Process::spawn_as_told(args, env)).await
    }

    async fn listening((process, stderr): (Process, ChildStderr)) -> Binary {
        let mut lines = read_lines(stderr);
        let mut startup = Vec::new();
        let listening = timeout(Duration::from_secs(10), async {
            while let Some(line) = lines.recv().await {
                let field = |name: &str| {
                    line.split_once(&format!("{name}="))
                        .and_then(|(_, rest)| rest.split_whitespace().next())
                        .and_then(|addr| addr.parse::<SocketAddr>().ok())
                };
                if line.contains("listening")
                    && let (Some(api), Some(ws)) = (field("api"), field("streams"))
                {
                    return Some((api, ws));
                }
                startup.push(line);
            }
            None
        })
        .await;
        match listening {
            Ok(Some((api, ws))) => Binary {
                api,
                ws,
                process,
                lines,
                startup,
            },
            Ok(None) => panic!("the binary ended before listening:\n{}", startup.join("\n")),
            // Dropping the process kills it.
            Err(_) => panic!("no `listening` line within 10 s:\n{}", startup.join("\n")),
        }
    }

    /// Sends `signal` (a `kill` name such as "TERM" or "KILL").
    pub fn signal(&self, signal: &str) {
        self.process.signal(signal);
    }

    /// Waits (at most `within`) for the process to exit; returns its status and the log
    /// lines it wrote after `listening`.
    pub async fn wait(mut self, within: Duration) -> (ExitStatus, Vec<String>) {
        let status = self.process.wait(within).await;
        (status, drain(&mut self.lines).await)
    }
}

/// The lines of `stderr`, from a thread that reads it to its end.
fn read_lines(stderr: ChildStderr) -> mpsc::UnboundedReceiver<String> {
    let (lines_tx, lines) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_tx.send(strip_ansi(&line)).is_err() {
                break;
            }
        }
    });
    lines
}

/// The lines left in `lines` once the process has exited: the reader thread ends at the end
/// of standard error, which the exit has closed.
async fn drain(lines: &mut mpsc::UnboundedReceiver<String>) -> Vec<String> {
    let mut rest = Vec::new();
    timeout(Duration::from_secs(5), async {
        while let Some(line) = lines.recv().await {
            rest.push(line);
        }
    })
    .await
    .expect("stderr did not end after the exit");
    rest
}

/// Removes ANSI escape sequences, in case the log is coloured after all.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Runs the binary with `args` (at most 10 s) and checks it refused them as a usage error:
/// exit status 2 and one line on standard error naming `file` and saying `says`.
pub async fn assert_refuses_file<I, S>(args: I, file: &Path, says: &str)
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let (status, lines) = Process::run(args, Duration::from_secs(10)).await;
    let what = file.display();
    assert_eq!(
        status.code(),
        Some(2),
        "{what}: exit status {status}, {lines:?}"
    );
    assert_eq!(lines.len(), 1, "{what}: not one line on stderr: {lines:?}");
    assert!(
        lines[0].contains(&what.to_string()) && lines[0].contains(says),
        "{what}: the line does not name the file and say {says:?}: {}",
        lines[0]
    );
}
