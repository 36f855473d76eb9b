//! `clawgate dashboard`: prints the URL of the gateway's Control UI with the gateway token in
//! the URL fragment (`#token=…`: a browser never sends the fragment to the server, so the token
//! is in no request line and no log; the page moves it into the tab's sessionStorage and clears
//! the address bar), and on a desktop (`$DISPLAY` or `$WAYLAND_DISPLAY` set) opens it with
//! `xdg-open` unless `--no-open`. The address is where `clawgate gateway` listens with the same
//! config and flags, seen from this machine (a `lan` bind is reached on 127.0.0.1).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use clap::Args;
use clawgate_config::schema::GatewayBind;
use clawgate_gateway::listen_addr;
use clawgate_runtime::privileged_gateway_token;

use super::Context;
use super::gateway_cmd::parse_bind;

#[derive(Debug, Args)]
pub struct DashboardArgs {
    /// The gateway's port (default: gateway.port, 18789), as given to `clawgate gateway --port`.
    #[arg(long)]
    pub port: Option<u16>,
    /// The gateway's bind, as given to `clawgate gateway --bind` (default: gateway.bind).
    #[arg(long, value_parser = parse_bind, value_name = "BIND")]
    pub bind: Option<GatewayBind>,
    /// Print the URL only; do not open a browser.
    #[arg(long)]
    pub no_open: bool,
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Where a browser on this machine reaches a gateway listening on `addr`.
fn reachable(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
    } else {
        addr
    }
}

/// The Control UI's URL, with the token in the fragment when there is one.
pub fn dashboard_url(addr: SocketAddr, token: Option<&str>) -> String {
    let base = format!("http://{}/", reachable(addr));
    match token {
        Some(token) => format!("{base}#token={}", encode_component(token)),
        None => base,
    }
}

fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

pub fn run(ctx: &Context, args: DashboardArgs) -> anyhow::Result<ExitCode> {
    let loaded = match ctx.load() {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    let token = match privileged_gateway_token(&loaded) {
        Ok(token) => token,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(1));
        }
    };
    let addr = listen_addr(&loaded.config, args.port, args.bind.as_ref());
    let url = dashboard_url(addr, token.as_deref());
    println!("{url}");
    if token.is_some() {
        eprintln!("note: the link carries the gateway token; share it like the token itself");
    }
    if TcpStream::connect_timeout(&reachable(addr), Duration::from_millis(300)).is_err() {
        eprintln!(
            "note: no gateway answers at {} yet; start it with `clawgate gateway`",
            reachable(addr)
        );
    }
    if !args.no_open && has_display() {
        let opened = Command::new("xdg-open")
            .arg(&url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        match opened {
            Ok(status) if status.success() => {}
            Ok(status) => eprintln!("note: xdg-open failed ({status}); open the URL yourself"),
            Err(error) => {
                eprintln!("note: could not run xdg-open ({error}); open the URL yourself")
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_in_the_fragment_percent_encoded() {
        let addr: SocketAddr = "0.0.0.0:18789".parse().unwrap();
        assert_eq!(
            dashboard_url(addr, Some("a b/c#d&e")),
            "http://127.0.0.1:18789/#token=a%20b%2Fc%23d%26e"
        );
        let lo: SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert_eq!(dashboard_url(lo, None), "http://127.0.0.1:9/");
    }
}
