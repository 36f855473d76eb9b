//! A throwaway PostgreSQL cluster for the Postgres test tier (feature `test-cluster`): `initdb`
//! in a temporary directory, `postgres` on a free loopback port, stopped and deleted on drop.
//! PostgreSQL refuses to run as root, so when the tests run as root the server runs as
//! `nobody` (through `setpriv`) on a data dir handed to that user. The binaries are Debian's
//! (`/usr/lib/postgresql/<version>/bin`), or `$CLAWGATE_PG_BIN`. Blocking by design: tests
//! call it before and between their async parts.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A started cluster with one database, `clawgate`, and that database's URL.
#[derive(Debug)]
pub struct TestDatabase {
    pub cluster: TestCluster,
    pub url: String,
}

impl TestDatabase {
    pub fn start() -> Result<Self, String> {
        let cluster = TestCluster::start()?;
        let url = cluster.create_database("clawgate")?;
        Ok(TestDatabase { cluster, url })
    }
}

/// A running (or stopped) throwaway cluster.
#[derive(Debug)]
pub struct TestCluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    server: Option<Child>,
    _dir: tempfile::TempDir,
}

fn find_bin() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("CLAWGATE_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(|e| format!("{}: {e} (install Debian's postgresql)", root.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .ok_or_else(|| "no PostgreSQL server binaries found (install postgresql)".into())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program` run as the cluster's user: `nobody` when we are root, else ourselves.
fn as_user(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let out = command.output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

impl TestCluster {
    /// Initialises and starts a cluster (user `postgres`, trust auth on loopback).
    pub fn start() -> Result<Self, String> {
        let bin = find_bin()?;
        let dir = tempfile::Builder::new()
            .prefix("clawgate-pg-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let data = dir.path().join("data");
        std::fs::create_dir(&data).map_err(|e| e.to_string())?;
        if is_root() {
            run(
                Command::new("chmod").arg("0755").arg(dir.path()),
                "chmod the cluster dir",
            )?;
            run(
                Command::new("chown").arg("nobody:nogroup").arg(&data),
                "chown the data dir",
            )?;
        }
        run(
            as_user(&bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
                .arg("--no-instructions"),
            "initdb",
        )?;
        let mut cluster = TestCluster {
            bin,
            data,
            port: free_port()?,
            server: None,
            _dir: dir,
        };
        cluster.resume()?;
        Ok(cluster)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `db` (see [`Self::create_database`]).
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates database `name` and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        run(
            Command::new(self.bin.join("createdb"))
                .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
                .arg(self.port.to_string())
                .arg(name),
            "createdb",
        )?;
        Ok(self.url(name))
    }

    /// Starts the server again (after [`Self::stop`]) on the same port and data.
    pub fn resume(&mut self) -> Result<(), String> {
        let child = as_user(&self.bin.join("postgres"))
            .arg("-D")
            .arg(&self.data)
            .arg("-p")
            .arg(self.port.to_string())
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=",
            ])
            .args(["-c", "fsync=off", "-c", "max_connections=200"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("postgres: {e}"))?;
        self.server = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p"])
                .arg(self.port.to_string())
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err("PostgreSQL did not become ready within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server (fast shutdown: clients are disconnected) and waits for it to exit.
    pub fn stop(&mut self) -> Result<(), String> {
        if self.server.is_none() {
            return Ok(());
        }
        run(
            as_user(&self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&self.data)
                .args(["stop", "-m", "fast", "-w"]),
            "pg_ctl stop",
        )?;
        if let Some(mut child) = self.server.take() {
            let _ = child.wait();
        }
        Ok(())
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        if self.stop().is_err()
            && let Some(mut child) = self.server.take()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
