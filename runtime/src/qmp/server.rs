//! QMP sockets: listeners, one thread per connection, and the clients'
//! write ends.
//!
//! A connection thread reads and frames messages, answers what needs no
//! machine (malformed input, capabilities negotiation) and passes every
//! other command through a channel to the thread that owns the machine,
//! which answers through [`Clients`]. A client may have at most
//! [`MAX_PENDING`] commands waiting (QEMU's limit); past that its thread
//! stops reading until one is answered, so a flood cannot grow memory.

use super::wire::{self, Frame, QmpError, Request, Splitter};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Commands a client may have waiting for an answer before its thread
/// stops reading.
pub const MAX_PENDING: usize = 8;

/// How long a write to a client may block before the client is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where to listen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// A unix socket at this path.
    Unix(PathBuf),
    /// A TCP socket (`host:port`; port 0 picks a free one).
    Tcp(String),
}

/// One `-qmp` option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenSpec {
    /// Where.
    pub endpoint: Endpoint,
    /// Wait for a first client before the machine starts (QEMU's default
    /// for `server`; `wait=off` or `nowait` turn it off).
    pub wait: bool,
}

impl ListenSpec {
    /// Parse QEMU's spelling: `unix:PATH,server[,wait=off]` or
    /// `tcp:[HOST]:PORT,server[,wait=off]`.
    pub fn parse(spec: &str) -> Result<ListenSpec, String> {
        let mut parts = spec.split(',');
        let addr = parts.next().unwrap_or_default();
        let endpoint = if let Some(p) = addr.strip_prefix("unix:") {
            if p.is_empty() {
                return Err(format!("-qmp {spec}: no socket path"));
            }
            Endpoint::Unix(PathBuf::from(p))
        } else if let Some(hp) = addr.strip_prefix("tcp:") {
            let Some((host, port)) = hp.rsplit_once(':') else {
                return Err(format!("-qmp {spec}: expected tcp:HOST:PORT"));
            };
            if port.parse::<u16>().is_err() {
                return Err(format!("-qmp {spec}: bad port '{port}'"));
            }
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let host = if host.is_empty() { "0.0.0.0" } else { host };
            if host.contains(':') {
                Endpoint::Tcp(format!("[{host}]:{port}"))
            } else {
                Endpoint::Tcp(format!("{host}:{port}"))
            }
        } else {
            return Err(format!(
                "-qmp {spec}: expected unix:PATH,server or tcp:HOST:PORT,server"
            ));
        };
        let (mut server, mut wait) = (false, true);
        for opt in parts {
            let (k, v) = opt.split_once('=').unwrap_or((opt, "on"));
            let on = match v {
                "on" | "yes" | "true" => true,
                "off" | "no" | "false" => false,
                _ => return Err(format!("-qmp {spec}: bad value '{v}' for {k}")),
            };
            match k {
                "server" => server = on,
                "wait" => wait = on,
                "nowait" => wait = false,
                _ => return Err(format!("-qmp {spec}: unknown option '{k}'")),
            }
        }
        if !server {
            return Err(format!(
                "-qmp {spec}: hemu only listens (add ,server); it does not connect out"
            ));
        }
        Ok(ListenSpec { endpoint, wait })
    }
}

/// A connected stream of either kind.
enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Conn {
    fn try_clone(&self) -> std::io::Result<Conn> {
        Ok(match self {
            Conn::Unix(s) => Conn::Unix(s.try_clone()?),
            Conn::Tcp(s) => Conn::Tcp(s.try_clone()?),
        })
    }
    fn set_write_timeout(&self, d: Duration) -> std::io::Result<()> {
        match self {
            Conn::Unix(s) => s.set_write_timeout(Some(d)),
            Conn::Tcp(s) => s.set_write_timeout(Some(d)),
        }
    }
    fn shutdown(&self) {
        let _ = match self {
            Conn::Unix(s) => s.shutdown(std::net::Shutdown::Both),
            Conn::Tcp(s) => s.shutdown(std::net::Shutdown::Both),
        };
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Unix(s) => s.read(buf),
            Conn::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Unix(s) => s.write(buf),
            Conn::Tcp(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Unix(s) => s.flush(),
            Conn::Tcp(s) => s.flush(),
        }
    }
}

/// What connection threads tell the machine's thread.
#[derive(Debug)]
pub enum Incoming {
    /// A client connected (and was greeted).
    Connected(u64),
    /// A negotiated client sent a command.
    Command(u64, Request),
}

/// One client's write end and state.
struct Client {
    out: Mutex<Conn>,
    negotiated: AtomicBool,
    oob: AtomicBool,
    alive: AtomicBool,
    pending: Mutex<usize>,
    answered: Condvar,
}

impl Client {
    fn send(&self, v: &Value) -> bool {
        if !self.alive.load(Ordering::SeqCst) {
            return false;
        }
        let Ok(mut out) = self.out.lock() else {
            return false;
        };
        let ok = out.write_all(&wire::encode(v)).is_ok() && out.flush().is_ok();
        if !ok {
            self.alive.store(false, Ordering::SeqCst);
            out.shutdown();
        }
        ok
    }
}

/// The connected clients, shared by the connection threads and the
/// machine's thread.
#[derive(Clone, Default)]
pub struct Clients(Arc<Mutex<BTreeMap<u64, Arc<Client>>>>);

impl Clients {
    fn get(&self, id: u64) -> Option<Arc<Client>> {
        self.0.lock().ok()?.get(&id).cloned()
    }
    /// Answer a command of client `id` (false: the client is gone).
    pub fn reply(&self, id: u64, v: &Value) -> bool {
        let Some(c) = self.get(id) else {
            return false;
        };
        let ok = c.send(v);
        if let Ok(mut p) = c.pending.lock() {
            *p = p.saturating_sub(1);
        }
        c.answered.notify_all();
        ok
    }
    /// Send an event to every negotiated client.
    pub fn broadcast(&self, v: &Value) {
        let all: Vec<Arc<Client>> = match self.0.lock() {
            Ok(m) => m.values().cloned().collect(),
            Err(_) => return,
        };
        for c in all {
            if c.negotiated.load(Ordering::SeqCst) {
                c.send(v);
            }
        }
    }
    /// Number of connected clients.
    pub fn len(&self) -> usize {
        self.0.lock().map_or(0, |m| m.len())
    }
    /// No client connected?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Listening sockets and the channel their connections feed.
pub struct Server {
    rx: Receiver<Incoming>,
    /// The connected clients.
    pub clients: Clients,
    /// Where the server listens, as `unix:PATH` or `tcp:ADDR` (with the
    /// port the system picked for port 0).
    pub addrs: Vec<String>,
    /// Wait for a first client before starting the machine?
    pub wait: bool,
    sockets: Vec<PathBuf>,
}

impl Server {
    /// Bind every endpoint and start accepting.
    pub fn listen(specs: &[ListenSpec]) -> Result<Server, String> {
        let (tx, rx) = channel();
        let clients = Clients::default();
        let next_id = Arc::new(AtomicU64::new(0));
        let mut addrs = Vec::new();
        let mut sockets = Vec::new();
        for spec in specs {
            match &spec.endpoint {
                Endpoint::Unix(path) => {
                    // A socket left by an earlier run is replaced (as QEMU
                    // does); any other file is not.
                    if std::fs::symlink_metadata(path)
                        .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
                    {
                        let _ = std::fs::remove_file(path);
                    }
                    let l = UnixListener::bind(path)
                        .map_err(|e| format!("-qmp unix:{}: {e}", path.display()))?;
                    addrs.push(format!("unix:{}", path.display()));
                    sockets.push(path.clone());
                    let (tx, clients, next_id) = (tx.clone(), clients.clone(), next_id.clone());
                    std::thread::spawn(move || {
                        for s in l.incoming() {
                            match s {
                                Ok(s) => start(Conn::Unix(s), &next_id, &clients, &tx),
                                Err(_) => std::thread::sleep(Duration::from_millis(10)),
                            }
                        }
                    });
                }
                Endpoint::Tcp(addr) => {
                    let sa = addr
                        .to_socket_addrs()
                        .map_err(|e| format!("-qmp tcp:{addr}: {e}"))?
                        .next()
                        .ok_or_else(|| format!("-qmp tcp:{addr}: no such address"))?;
                    let l = TcpListener::bind(sa).map_err(|e| format!("-qmp tcp:{addr}: {e}"))?;
                    let local = l
                        .local_addr()
                        .map_err(|e| format!("-qmp tcp:{addr}: {e}"))?;
                    addrs.push(format!("tcp:{local}"));
                    let (tx, clients, next_id) = (tx.clone(), clients.clone(), next_id.clone());
                    std::thread::spawn(move || {
                        for s in l.incoming() {
                            match s {
                                Ok(s) => {
                                    let _ = s.set_nodelay(true);
                                    start(Conn::Tcp(s), &next_id, &clients, &tx)
                                }
                                Err(_) => std::thread::sleep(Duration::from_millis(10)),
                            }
                        }
                    });
                }
            }
        }
        Ok(Server {
            rx,
            clients,
            addrs,
            wait: specs.iter().any(|s| s.wait),
            sockets,
        })
    }

    /// The next message, waiting for it.
    pub fn recv(&self) -> Option<Incoming> {
        self.rx.recv().ok()
    }

    /// The next message, waiting at most `d`.
    pub fn recv_timeout(&self, d: Duration) -> Option<Incoming> {
        self.rx.recv_timeout(d).ok()
    }

    /// The next message, if one is waiting.
    pub fn try_recv(&self) -> Option<Incoming> {
        self.rx.try_recv().ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        for p in &self.sockets {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn start(conn: Conn, next_id: &AtomicU64, clients: &Clients, tx: &Sender<Incoming>) {
    let id = next_id.fetch_add(1, Ordering::SeqCst);
    let Ok(out) = conn.try_clone() else {
        return;
    };
    let _ = out.set_write_timeout(WRITE_TIMEOUT);
    let client = Arc::new(Client {
        out: Mutex::new(out),
        negotiated: AtomicBool::new(false),
        oob: AtomicBool::new(false),
        alive: AtomicBool::new(true),
        pending: Mutex::new(0),
        answered: Condvar::new(),
    });
    if let Ok(mut m) = clients.0.lock() {
        m.insert(id, client.clone());
    }
    let (clients, tx) = (clients.clone(), tx.clone());
    std::thread::spawn(move || {
        serve(id, conn, &client, &tx);
        client.alive.store(false, Ordering::SeqCst);
        if let Ok(mut m) = clients.0.lock() {
            m.remove(&id);
        }
        if let Ok(out) = client.out.lock() {
            out.shutdown();
        }
    });
}

/// A connection's life: greet, then read, frame and route messages until
/// the client leaves or the connection fails.
fn serve(id: u64, mut conn: Conn, client: &Client, tx: &Sender<Incoming>) {
    if !client.send(&wire::greeting()) || tx.send(Incoming::Connected(id)).is_err() {
        return;
    }
    let mut split = Splitter::default();
    let mut frames = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        split.feed(&buf[..n], &mut frames);
        for f in frames.drain(..) {
            let req = match f {
                Frame::TooLarge(what) => Err((
                    QmpError::generic(format!(
                        "JSON message exceeds the {what} limit ({} bytes, depth {})",
                        wire::MAX_MESSAGE,
                        wire::MAX_DEPTH
                    )),
                    None,
                )),
                Frame::Message(bytes) => wire::parse_request(&bytes).map_err(|b| (b.error, b.id)),
            };
            let req = match req.and_then(|r| check(client, r)) {
                Ok(Some(r)) => r,
                Ok(None) => continue,
                Err((e, rid)) => {
                    client.send(&wire::reply_err(&e, rid.as_ref()));
                    continue;
                }
            };
            // Wait for room in this client's queue.
            let Ok(mut p) = client.pending.lock() else {
                return;
            };
            while *p >= MAX_PENDING {
                if !client.alive.load(Ordering::SeqCst) {
                    return;
                }
                p = match client.answered.wait_timeout(p, Duration::from_millis(100)) {
                    Ok((g, _)) => g,
                    Err(_) => return,
                };
            }
            *p += 1;
            drop(p);
            if tx.send(Incoming::Command(id, req)).is_err() {
                return;
            }
        }
        if !client.alive.load(Ordering::SeqCst) {
            return;
        }
    }
}

type Refusal = (QmpError, Option<Value>);

/// What the connection answers itself: capabilities negotiation, and
/// commands sent before it. Ok(None): answered here.
fn check(client: &Client, r: Request) -> Result<Option<Request>, Refusal> {
    let negotiated = client.negotiated.load(Ordering::SeqCst);
    if r.name == "qmp_capabilities" {
        if negotiated {
            return Err((
                QmpError::not_found(
                    "Capabilities negotiation is already complete, command ignored",
                ),
                r.id,
            ));
        }
        let mut oob = false;
        for (k, v) in &r.args {
            if k != "enable" {
                return Err((
                    QmpError::generic(format!("Parameter '{k}' is unexpected")),
                    r.id,
                ));
            }
            let Some(list) = v.as_array() else {
                return Err((
                    QmpError::generic("Invalid parameter type for 'enable', expected: array"),
                    r.id,
                ));
            };
            for c in list {
                match c.as_str() {
                    Some("oob") => oob = true,
                    Some(other) => {
                        return Err((
                            QmpError::generic(format!(
                                "Parameter 'enable' does not accept value '{other}'"
                            )),
                            r.id,
                        ))
                    }
                    None => {
                        return Err((
                            QmpError::generic(
                                "Invalid parameter type for 'enable[]', expected: string",
                            ),
                            r.id,
                        ))
                    }
                }
            }
        }
        client.oob.store(oob, Ordering::SeqCst);
        // Negotiated before the answer goes out, under the write lock, so
        // no event can be sent to the client before it.
        let ok = wire::reply_ok(serde_json::json!({}), r.id.as_ref());
        if let Ok(mut out) = client.out.lock() {
            client.negotiated.store(true, Ordering::SeqCst);
            if out.write_all(&wire::encode(&ok)).is_err() {
                client.alive.store(false, Ordering::SeqCst);
            }
        }
        return Ok(None);
    }
    if !negotiated {
        return Err((
            QmpError::not_found("Expecting capabilities negotiation with 'qmp_capabilities'"),
            r.id,
        ));
    }
    if r.oob {
        let e = if client.oob.load(Ordering::SeqCst) {
            format!("The command {} does not support OOB", r.name)
        } else {
            "QMP input member 'exec-oob' is unexpected (enable the 'oob' capability first)"
                .to_string()
        };
        return Err((QmpError::generic(e), r.id));
    }
    Ok(Some(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_as_qemu_spells_them() {
        let s = ListenSpec::parse("unix:/tmp/q.sock,server,wait=off").unwrap();
        assert_eq!(s.endpoint, Endpoint::Unix("/tmp/q.sock".into()));
        assert!(!s.wait);
        let s = ListenSpec::parse("tcp:127.0.0.1:4444,server=on").unwrap();
        assert_eq!(s.endpoint, Endpoint::Tcp("127.0.0.1:4444".into()));
        assert!(s.wait);
        let s = ListenSpec::parse("tcp::0,server,nowait").unwrap();
        assert_eq!(s.endpoint, Endpoint::Tcp("0.0.0.0:0".into()));
        assert!(!s.wait);
        assert!(ListenSpec::parse("unix:/tmp/q.sock").is_err());
        assert!(ListenSpec::parse("tcp:host,server").is_err());
        assert!(ListenSpec::parse("stdio").is_err());
        assert!(ListenSpec::parse("unix:x,server,bogus").is_err());
    }
}
