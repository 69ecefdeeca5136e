//! Claiming ports: every port is bound before any server starts, so a taken port means nothing
//! started, and the message says who holds it.

use std::net::{IpAddr, SocketAddr};

use procfs::{
    net::TcpState,
    process::{FDTarget, all_processes},
};

/// A port some other process holds.
#[derive(Debug)]
pub struct PortTaken {
    pub server: &'static str,
    pub addr: SocketAddr,
    pub error: std::io::Error,
}

impl std::fmt::Display for PortTaken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "port {} is not available for the {} server ({})",
            self.addr.port(),
            self.server,
            self.error
        )?;
        match holder(self.addr.port()) {
            Some((pid, name)) => write!(f, "; it is held by {name} (pid {pid})")?,
            None => write!(f, "; the process holding it is not visible to this user")?,
        }
        write!(
            f,
            ". Stop that process, or choose another port (--{}-port N); nothing was started.",
            self.server
        )
    }
}

impl std::error::Error for PortTaken {}

/// Binds every `(server, port)` on `ip`, or none: on the first failure the ones already bound
/// are released.
pub fn claim(
    ip: IpAddr,
    wanted: &[(&'static str, u16)],
) -> Result<Vec<(&'static str, std::net::TcpListener)>, PortTaken> {
    let mut bound = Vec::with_capacity(wanted.len());
    for (server, port) in wanted {
        let addr = SocketAddr::new(ip, *port);
        match std::net::TcpListener::bind(addr) {
            Ok(listener) => bound.push((*server, listener)),
            Err(error) => {
                return Err(PortTaken {
                    server,
                    addr,
                    error,
                });
            }
        }
    }
    Ok(bound)
}

/// The process listening on TCP `port`, found through /proc.
fn holder(port: u16) -> Option<(i32, String)> {
    let tables = [procfs::net::tcp(), procfs::net::tcp6()];
    let inode = tables
        .into_iter()
        .flatten()
        .flatten()
        .find(|e| e.state == TcpState::Listen && e.local_address.port() == port)?
        .inode;
    all_processes().ok()?.flatten().find_map(|p| {
        let holds = p
            .fd()
            .ok()?
            .flatten()
            .any(|fd| matches!(fd.target, FDTarget::Socket(i) if i == inode));
        holds.then(|| {
            let name = p.stat().map(|s| s.comm).unwrap_or_else(|_| "?".into());
            (p.pid, name)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_names_its_holder_and_releases_the_others() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let err = claim(
            "127.0.0.1".parse().unwrap(),
            &[("monitoring", 0), ("workflow", port)],
        )
        .unwrap_err();
        let text = err.to_string();
        assert_eq!(err.server, "workflow");
        assert!(text.contains(&format!("port {port}")), "{text}");
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
    }
}
