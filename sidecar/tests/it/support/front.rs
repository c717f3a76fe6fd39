//! Real reverse proxies (Debian's nginx, Caddy and haproxy) run in front of the sidecar
//! and the app, each on a loopback port of its own, stopped when dropped.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{TempDir, free_addr};

/// A proxy process and the address it listens on.
pub struct Front {
    pub addr: SocketAddr,
    child: Child,
    dir: TempDir,
}

impl Front {
    /// nginx with `servers` (the `server { … }` blocks; `{listen}` stands for the
    /// address it is given) inside an `http` block of its own.
    pub fn nginx(servers: &str) -> Self {
        let addr = free_addr();
        let dir = TempDir::new();
        let prefix = dir.0.display().to_string();
        // One process: nothing is left behind when it is killed.
        let conf = format!(
            "master_process off;\n\
             worker_processes 1;\n\
             pid {prefix}/nginx.pid;\n\
             error_log {prefix}/error.log;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n\
             access_log off;\n\
             client_body_temp_path {prefix}/body;\n\
             proxy_temp_path {prefix}/proxy;\n\
             {}\n\
             }}\n",
            servers.replace("{listen}", &addr.to_string())
        );
        let path = dir.write("nginx.conf", &conf);
        let child = Command::new(binary("nginx", "/usr/sbin/nginx"))
            .arg("-p")
            .arg(&dir.0)
            .arg("-e")
            .arg(dir.0.join("error.log"))
            .arg("-c")
            .arg(&path)
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nginx runs (Debian's nginx-light)");
        Self::started(addr, child, dir, "error.log")
    }

    /// Caddy with `sites` (a Caddyfile's site blocks; `{listen}` stands for the address
    /// it is given, `{port}` for its port), its admin API off and its state in a temp dir.
    pub fn caddy(sites: &str) -> Self {
        let addr = free_addr();
        let dir = TempDir::new();
        let caddyfile = format!(
            "{{\n\tadmin off\n\tauto_https off\n}}\n{}\n",
            sites
                .replace("{listen}", &addr.to_string())
                .replace("{port}", &addr.port().to_string())
        );
        let path = dir.write("Caddyfile", &caddyfile);
        let log = std::fs::File::create(dir.0.join("caddy.log")).unwrap();
        let child = Command::new(binary("caddy", "/usr/bin/caddy"))
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(&path)
            .env("HOME", &dir.0)
            .env("XDG_DATA_HOME", dir.0.join("data"))
            .env("XDG_CONFIG_HOME", dir.0.join("config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("caddy runs (Debian's caddy)");
        Self::started(addr, child, dir, "caddy.log")
    }

    /// haproxy with `sections` (`frontend` and `backend` sections; `{listen}` stands for
    /// the address it is given) after `defaults` for HTTP, in the foreground.
    pub fn haproxy(sections: &str) -> Self {
        let addr = free_addr();
        let dir = TempDir::new();
        let config = format!(
            "defaults\n\
             \tmode http\n\
             \ttimeout connect 5s\n\
             \ttimeout client 30s\n\
             \ttimeout server 30s\n\
             {}\n",
            sections.replace("{listen}", &addr.to_string())
        );
        let path = dir.write("haproxy.cfg", &config);
        let log = std::fs::File::create(dir.0.join("haproxy.log")).unwrap();
        let child = Command::new(binary("haproxy", "/usr/sbin/haproxy"))
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("haproxy runs (Debian's haproxy)");
        Self::started(addr, child, dir, "haproxy.log")
    }

    /// Waits until the proxy accepts connections on `addr`.
    fn started(addr: SocketAddr, mut child: Child, dir: TempDir, log: &str) -> Self {
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(addr).is_err() {
            if Instant::now() >= deadline || child.try_wait().unwrap().is_some() {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the proxy did not start on {addr}; its log:\n{}",
                    read(&dir.0.join(log))
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { addr, child, dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The directory the proxy's config and logs are in.
    pub fn dir(&self) -> &Path {
        &self.dir.0
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `name` on the `PATH`, else where Debian puts it (`/usr/sbin` is not on every `PATH`).
fn binary(name: &str, debian: &str) -> String {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()));
    if on_path {
        name.to_owned()
    } else {
        debian.to_owned()
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
