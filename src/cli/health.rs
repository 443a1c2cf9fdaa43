//! `passkey-idp healthcheck`: the container health check, for images without curl. Asks the
//! running server on `server.listen` for `GET /readyz` and succeeds only on 200, within 5 s.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

const LIMIT: Duration = Duration::from_secs(5);

/// The address to ask: `server.listen`, with an unspecified address (0.0.0.0, ::) meaning the
/// loopback address of its family.
pub fn target(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// `Ok` when `/readyz` answered 200 within 5 s; otherwise an error that says what happened.
pub fn check(listen: SocketAddr) -> anyhow::Result<()> {
    let addr = target(listen);
    let deadline = Instant::now() + LIMIT;
    let mut stream =
        TcpStream::connect_timeout(&addr, LIMIT).with_context(|| format!("no answer on {addr}"))?;
    let left = || {
        deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    };
    stream.set_write_timeout(Some(left()))?;
    stream.write_all(
        format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    // The status line is all that matters; read until it is complete or the time is up.
    while !head.contains(&b'\n') {
        stream.set_read_timeout(Some(left()))?;
        let n = stream
            .read(&mut buf)
            .with_context(|| format!("{addr} did not answer /readyz within 5 s"))?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        if Instant::now() >= deadline {
            bail!("{addr} did not answer /readyz within 5 s");
        }
    }
    let line = String::from_utf8_lossy(&head);
    let status = line.lines().next().unwrap_or("").trim().to_string();
    match status.split(' ').nth(1) {
        Some("200") => Ok(()),
        _ if status.is_empty() => bail!("{addr} closed the connection without an answer"),
        _ => bail!("/readyz on {addr} answered {status:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_mean_loopback() {
        let t = |s: &str| target(s.parse().expect("addr")).to_string();
        assert_eq!(t("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(t("[::]:8080"), "[::1]:8080");
        assert_eq!(t("10.1.2.3:9000"), "10.1.2.3:9000");
    }
}
