//! A real nginx (Debian's package) in front of the service, configured as an operator would:
//! `packaging/nginx/planetmint-stream.conf` included in a `server` block, its upstream
//! pointed at the service's stream port. [`Nginx::start`] checks the configuration with
//! `nginx -t` first, then runs nginx in the foreground, one process, on a free loopback
//! port with every path in a temporary directory; it is killed by its process id on drop.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;
use tokio::time::Instant;

/// Debian's `nginx`, which the CI image installs.
const NGINX: &str = "/usr/sbin/nginx";
/// Where the snippet sends the streams: this service's default stream port.
const SNIPPET_UPSTREAM: &str = "http://127.0.0.1:9985;";
/// What the `server` block answers on every path that is not a stream, in place of
/// Planetmint's HTTP API.
pub const PLANETMINT: &str = "Planetmint's HTTP API";
/// A bound for failures, not an expected duration.
const STARTS_WITHIN: Duration = Duration::from_secs(10);

/// nginx running, killed when dropped.
pub struct Nginx {
    pub addr: SocketAddr,
    dir: TempDir,
    child: Child,
}

impl Nginx {
    /// nginx proxying the shipped snippet's paths to the streams at `streams`, once
    /// `nginx -t` has passed and it accepts connections.
    pub async fn start(streams: SocketAddr) -> Nginx {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port");
        let snippet = std::fs::read_to_string(super::expected::repository(
            "packaging/nginx/planetmint-stream.conf",
        ))
        .expect("reading the nginx snippet");
        assert!(snippet.contains(SNIPPET_UPSTREAM), "{snippet}");
        let snippet = snippet.replace(SNIPPET_UPSTREAM, &format!("http://{streams};"));
        std::fs::write(dir.path().join("planetmint-stream.conf"), snippet).expect("the snippet");
        std::fs::write(dir.path().join("nginx.conf"), config(dir.path(), addr))
            .expect("the config");
        let checked = nginx(dir.path())
            .arg("-t")
            .output()
            .expect("running nginx -t");
        assert!(
            checked.status.success(),
            "nginx -t refused the snippet:\n{}",
            String::from_utf8_lossy(&checked.stderr)
        );
        let child = nginx(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {NGINX}: {e}"));
        let mut nginx = Nginx { addr, dir, child };
        nginx.wait_for_connections().await;
        nginx
    }

    async fn wait_for_connections(&mut self) {
        let deadline = Instant::now() + STARTS_WITHIN;
        while tokio::net::TcpStream::connect(self.addr).await.is_err() {
            let exited = self.child.try_wait().ok().flatten();
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "nginx on {} did not accept connections (exit {exited:?}):\n{}",
                self.addr,
                std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `nginx` with its prefix, configuration and error log in `dir`.
fn nginx(dir: &Path) -> Command {
    let mut command = Command::new(NGINX);
    command
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(dir.join("error.log"));
    command
}

/// A whole configuration around the snippet: one process in the foreground (so killing
/// its process id stops it), every file it writes in `dir`, and a `server` block as the
/// snippet's own comment shows, with [`PLANETMINT`] answering for Planetmint's HTTP API.
fn config(dir: &Path, addr: SocketAddr) -> String {
    let dir = dir.display();
    format!(
        "daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen {addr};
        include {dir}/planetmint-stream.conf;
        location / {{ return 200 \"{PLANETMINT}\"; }}
    }}
}}
"
    )
}
