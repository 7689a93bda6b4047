//! The GDB stub: GDB's remote serial protocol with the multiprocess
//! extension, for machines of several clusters of different ISAs.
//!
//! Every cluster is a process (an inferior in GDB; its pid is the
//! cluster's index plus one) with its own target description, generated from its CPU model's
//! register files ([`crate::cpu::CpuModel::gdb_target`]); its vCPUs are
//! the process's threads (tid: the vCPU's index plus one). As with QEMU's stub, GDB
//! starts attached to the first cluster and attaches to the others with
//! `add-inferior` / `inferior N` / `attach N` (`vAttach`). Register and
//! memory accesses go to the general thread's cluster: its address space,
//! its MMU, its byte order. Breakpoints belong to a cluster (the general
//! thread's, which GDB selects before inserting one) and never touch guest
//! memory ([`debug`]).
//!
//! The stub is hand-written rather than built on the `gdbstub` crate:
//! that crate fixes one architecture per target at compile time (its
//! `Arch` type) and reports one fake process, so it serves neither a
//! machine of several ISAs nor the multiprocess extension.
//!
//! It runs on the machine's thread: [`GdbServer::poll`] is the run loop's
//! poll hook ([`crate::Machine::run_with`]). While the target runs it only
//! peeks at the socket (Ctrl-C) between quanta; while the machine is held
//! it serves packets until GDB resumes it.

pub mod debug;
pub mod packet;
mod target;

pub use debug::{DebugState, StopEvent, StopKind};

use crate::machine::{Machine, RunResult};
use packet::{BreakKind, Command, Decoder, Frame, Id, PacketError, Resume, ThreadId};
use std::collections::BTreeSet;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};

/// Where the stub listens: QEMU's `-gdb tcp::PORT` / `tcp:HOST:PORT`.
pub fn parse_listen(spec: &str) -> Result<String, String> {
    let rest = spec
        .strip_prefix("tcp:")
        .ok_or_else(|| format!("-gdb {spec}: expected tcp::PORT or tcp:HOST:PORT"))?;
    let (host, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| format!("-gdb {spec}: expected tcp::PORT or tcp:HOST:PORT"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| format!("-gdb {spec}: bad port '{port}'"))?;
    let host = if host.is_empty() { "127.0.0.1" } else { host };
    Ok(format!("{host}:{port}"))
}

/// A GDB server for one machine: the listening socket and at most one
/// connected debugger.
pub struct GdbServer {
    listener: TcpListener,
    /// The address it listens on (the port is the real one for port 0).
    pub addr: String,
    conn: Option<Conn>,
}

/// Per-connection protocol state.
struct Conn {
    stream: TcpStream,
    decoder: Decoder,
    no_ack: bool,
    last: Vec<u8>,
    /// Clusters GDB is attached to.
    attached: BTreeSet<usize>,
    /// The general (`Hg`) and continue (`Hc`) threads: (cluster, vCPU).
    g: (usize, usize),
    c: (usize, usize),
    /// GDB waits for a stop reply (the target is running for it).
    running: bool,
    /// The run is over, with this exit reply (`W00`): resuming a process
    /// now reports its exit.
    ended: Option<String>,
}

/// What serving one packet asks of the run.
enum Flow {
    /// Keep serving.
    Stay,
    /// Let the machine run.
    Resume,
    /// End the run (`k`, or every process killed).
    End,
}

impl GdbServer {
    /// Listen on `addr` (`host:port`).
    pub fn listen(addr: &str) -> Result<GdbServer, String> {
        let listener =
            TcpListener::bind(addr).map_err(|e| format!("gdb: cannot listen on {addr}: {e}"))?;
        let addr = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| addr.to_string());
        Ok(GdbServer {
            listener,
            addr,
            conn: None,
        })
    }

    /// Take hold of `m`: install the debugger state; with `wait`, every
    /// vCPU stays stopped until GDB connects and continues (`-S`).
    pub fn attach(&self, m: &mut Machine, wait: bool) {
        m.debug = Some(Box::new(DebugState::new(m.clusters.len(), wait)));
    }

    /// The run loop's poll hook: accept a debugger, report stops, serve
    /// packets while the machine is held.
    pub fn poll(&mut self, m: &mut Machine) -> Option<RunResult> {
        loop {
            let halted = m.debug.as_ref().is_some_and(|d| d.halted.is_some());
            if self.conn.is_none() {
                let _ = self.listener.set_nonblocking(!halted);
                match self.listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nodelay(true);
                        self.conn = Some(Conn::new(stream));
                        // As QEMU does: a debugger connecting stops the
                        // machine.
                        if let Some(d) = m.debug.as_mut() {
                            d.halted.get_or_insert(StopEvent {
                                cluster: 0,
                                cpu: 0,
                                kind: StopKind::Initial,
                            });
                        }
                        continue;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return None,
                    Err(e) => {
                        eprintln!("hemu: gdb: accept failed: {e}");
                        return None;
                    }
                }
            }
            let conn = self.conn.as_mut()?;
            if halted && conn.running {
                conn.running = false;
                let reply = conn.stop_reply(m);
                if conn.send(&reply).is_err() {
                    self.drop_conn(m);
                    continue;
                }
            }
            match conn.serve(m, halted) {
                Ok(Flow::Stay) if halted => continue,
                Ok(Flow::Stay) | Ok(Flow::Resume) => return None,
                Ok(Flow::End) => {
                    self.conn = None;
                    return Some(RunResult::Shutdown(0));
                }
                Err(()) => {
                    self.drop_conn(m);
                    // Without a debugger the machine runs on.
                    if let Some(d) = m.debug.as_mut() {
                        d.halted = None;
                    }
                    return None;
                }
            }
        }
    }

    /// The run ended: tell a waiting debugger (`W`: exited with a status,
    /// `X`: killed by a signal for a crash), then answer its last
    /// questions about the machine as it was left (the other processes,
    /// registers, memory) until it goes away — or is silent for a few
    /// seconds.
    pub fn finish(&mut self, m: &mut Machine, result: &RunResult) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let code = match result {
            RunResult::Shutdown(code) => format!("W{:02x}", *code as u8),
            // SIGSEGV for a vCPU stopped on a trap nobody handles.
            RunResult::Crashed { .. } => "X0b".into(),
            RunResult::Limit | RunResult::Idle => "W00".into(),
        };
        // The process whose vCPU ended the run (a finisher store), when
        // GDB knows it; else the first one it is attached to.
        let last = m.debug.as_ref().and_then(|d| d.last).map(|(c, _)| c);
        let pid = last
            .filter(|c| conn.attached.contains(c))
            .or_else(|| conn.attached.first().copied());
        conn.ended = Some(code.clone());
        if conn.running {
            conn.running = false;
            if let Some(c) = pid {
                conn.attached.remove(&c);
                if conn.send(&format!("{code};process:{:x}", c + 1)).is_err() {
                    self.conn = None;
                    return;
                }
            }
        }
        if let Some(d) = m.debug.as_mut() {
            d.halted.get_or_insert(StopEvent {
                cluster: 0,
                cpu: 0,
                kind: StopKind::Initial,
            });
        }
        let _ = conn
            .stream
            .set_read_timeout(Some(std::time::Duration::from_secs(5)));
        while let Some(conn) = self.conn.as_mut() {
            match conn.serve(m, true) {
                Ok(Flow::Stay) | Ok(Flow::Resume) if !conn.attached.is_empty() => {}
                _ => self.conn = None,
            }
        }
    }

    fn drop_conn(&mut self, m: &mut Machine) {
        self.conn = None;
        // A debugger that went away leaves no breakpoints behind.
        if let Some(d) = m.debug.as_mut() {
            d.clear_breakpoints(None);
            d.step = None;
            d.held.clear();
        }
    }
}

impl Conn {
    fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            decoder: Decoder::new(),
            no_ack: false,
            last: Vec::new(),
            attached: BTreeSet::from([0]),
            g: (0, 0),
            c: (0, 0),
            running: false,
            ended: None,
        }
    }

    fn send(&mut self, data: &str) -> Result<(), ()> {
        self.send_bytes(data.as_bytes())
    }

    fn send_bytes(&mut self, data: &[u8]) -> Result<(), ()> {
        let _ = self.stream.set_nonblocking(false);
        let framed = packet::encode(data);
        self.stream.write_all(&framed).map_err(|_| ())?;
        self.last = framed;
        Ok(())
    }

    /// Read what is there (all of it when `block`, else whatever has
    /// arrived) and serve the packets. Err: the connection is gone.
    fn serve(&mut self, m: &mut Machine, block: bool) -> Result<Flow, ()> {
        let _ = self.stream.set_nonblocking(!block);
        let mut buf = [0u8; 4096];
        let n = match self.stream.read(&mut buf) {
            Ok(0) => return Err(()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock && !block => return Ok(Flow::Stay),
            Err(e) if e.kind() == ErrorKind::Interrupted => return Ok(Flow::Stay),
            Err(_) => return Err(()),
        };
        let mut flow = Flow::Stay;
        for &b in &buf[..n] {
            let Some(frame) = self.decoder.push(b) else {
                continue;
            };
            match frame {
                Frame::Ack => {}
                Frame::Nak => {
                    let last = std::mem::take(&mut self.last);
                    self.stream.write_all(&last).map_err(|_| ())?;
                    self.last = last;
                }
                Frame::Bad => {
                    if !self.no_ack {
                        self.stream.write_all(b"-").map_err(|_| ())?;
                    }
                }
                Frame::Interrupt => {
                    if let Some(d) = m.debug.as_mut() {
                        if d.halted.is_none() {
                            // Reported on the vCPU that ran last (one GDB
                            // resumed).
                            let (cluster, cpu) = d.last.unwrap_or(self.c);
                            d.halted = Some(StopEvent {
                                cluster,
                                cpu,
                                kind: StopKind::Interrupt,
                            });
                            // Report it from the poll loop.
                            self.running = true;
                            flow = Flow::Stay;
                        }
                    }
                }
                Frame::Packet(p) => {
                    if !self.no_ack {
                        self.stream.write_all(b"+").map_err(|_| ())?;
                    }
                    match self.handle(m, &p)? {
                        Flow::Stay => {}
                        Flow::Resume => flow = Flow::Resume,
                        Flow::End => return Ok(Flow::End),
                    }
                }
            }
        }
        Ok(flow)
    }

    /// The stop reply for the machine's hold.
    fn stop_reply(&mut self, m: &Machine) -> String {
        let ev = m
            .debug
            .as_ref()
            .and_then(|d| d.halted)
            .unwrap_or(StopEvent {
                cluster: self.g.0,
                cpu: self.g.1,
                kind: StopKind::Initial,
            });
        // A stop in a cluster GDB is not attached to is reported on an
        // attached one (GDB knows no other threads).
        let (cluster, cpu) = if self.attached.contains(&ev.cluster) {
            (ev.cluster, ev.cpu)
        } else {
            (self.attached.first().copied().unwrap_or(0), 0)
        };
        self.g = (cluster, cpu);
        self.c = (cluster, cpu);
        let (sig, why) = match ev.kind {
            StopKind::SwBreak => (5, "swbreak:;"),
            StopKind::HwBreak => (5, "hwbreak:;"),
            StopKind::Interrupt => (2, ""),
            StopKind::Step | StopKind::Initial => (5, ""),
        };
        format!("T{sig:02x}thread:p{:x}.{:x};{why}", cluster + 1, cpu + 1)
    }

    /// Does thread id `t` (of a `vCont` action) name vCPU `cpu` of
    /// cluster `c`? A bare thread id is one of the current process.
    fn names(&self, t: &ThreadId, c: usize, cpu: usize) -> bool {
        let pid_ok = match t.pid {
            Id::Is(p) => p.wrapping_sub(1) == c as u64,
            Id::Any | Id::All => !matches!(t.tid, Id::Is(_)) || c == self.g.0,
        };
        let tid_ok = match t.tid {
            Id::Is(n) => n.wrapping_sub(1) == cpu as u64,
            Id::Any | Id::All => true,
        };
        pid_ok && tid_ok
    }

    /// A thread id to a (cluster, vCPU) of `m` GDB may use.
    fn resolve(&self, m: &Machine, t: ThreadId) -> Option<(usize, usize)> {
        let cluster = match t.pid {
            Id::Is(p) => {
                let c = usize::try_from(p - 1).ok()?;
                self.attached.contains(&c).then_some(c)?
            }
            Id::Any | Id::All => match t.tid {
                // A bare thread id: a vCPU of the current process.
                Id::Is(_) => self.g.0,
                _ => *self.attached.first()?,
            },
        };
        let cpu = match t.tid {
            Id::Is(n) => usize::try_from(n - 1).ok()?,
            Id::Any | Id::All => 0,
        };
        (cpu < m.clusters.get(cluster)?.cpus.len()).then_some((cluster, cpu))
    }

    fn handle(&mut self, m: &mut Machine, p: &[u8]) -> Result<Flow, ()> {
        let cmd = match packet::parse(p) {
            Ok(c) => c,
            Err(PacketError(_)) => {
                self.send("E01")?;
                return Ok(Flow::Stay);
            }
        };
        let reply: String = match cmd {
            Command::Supported => format!(
                "PacketSize={:x};qXfer:features:read+;multiprocess+;vContSupported+;\
                 QStartNoAckMode+;swbreak+;hwbreak+",
                packet::MAX_PACKET
            ),
            Command::StartNoAck => {
                self.send("OK")?;
                self.no_ack = true;
                return Ok(Flow::Stay);
            }
            Command::Extended | Command::Ok => "OK".into(),
            Command::StopReason => self.stop_reply(m),
            Command::SetThread(op, t) => match self.resolve(m, t) {
                Some(sel) => {
                    if op == b'g' {
                        self.g = sel;
                    } else {
                        self.c = sel;
                    }
                    "OK".into()
                }
                None => "E02".into(),
            },
            Command::ThreadAlive(t) => match t.tid {
                Id::Is(_) if self.resolve(m, t).is_some() => "OK".into(),
                _ => "E02".into(),
            },
            Command::ThreadsFirst => {
                let ids: Vec<String> = self
                    .attached
                    .iter()
                    .flat_map(|&c| {
                        (0..m.clusters.get(c).map_or(0, |cl| cl.cpus.len()))
                            .map(move |i| format!("p{:x}.{:x}", c + 1, i + 1))
                    })
                    .collect();
                format!("m{}", ids.join(","))
            }
            Command::ThreadsNext => "l".into(),
            Command::CurrentThread => format!("QCp{:x}.{:x}", self.g.0 + 1, self.g.1 + 1),
            Command::Attached => "1".into(),
            Command::ThreadExtra(t) => match self.resolve(m, t) {
                Some((c, i)) => {
                    let cl = &m.clusters[c];
                    let text = format!("{} cpu{i} ({})", cl.id, cl.model.target());
                    packet::to_hex(text.as_bytes())
                }
                None => "E02".into(),
            },
            Command::Features(annex, off, len) => {
                if annex != "target.xml" {
                    "E00".into()
                } else {
                    match target::xml(&*m.clusters[self.g.0].model) {
                        Some(xml) => {
                            let b = xml.as_bytes();
                            let start = usize::try_from(off).unwrap_or(usize::MAX).min(b.len());
                            let n = usize::try_from(len)
                                .unwrap_or(usize::MAX)
                                .min(packet::MAX_PACKET / 2);
                            let end = start.saturating_add(n).min(b.len());
                            let mut out = vec![if end == b.len() { b'l' } else { b'm' }];
                            out.extend_from_slice(&b[start..end]);
                            self.send_bytes(&out)?;
                            return Ok(Flow::Stay);
                        }
                        None => "E00".into(),
                    }
                }
            }
            Command::ReadRegs => target::read_regs(m, self.g)
                .map(|b| packet::to_hex(&b))
                .unwrap_or_else(|| "E03".into()),
            Command::WriteRegs(bytes) => ok_or(target::write_regs(m, self.g, &bytes), "E03"),
            Command::ReadReg(n) => target::read_reg(m, self.g, n)
                .map(|b| packet::to_hex(&b))
                .unwrap_or_else(|| "E03".into()),
            Command::WriteReg(n, bytes) => ok_or(target::write_reg(m, self.g, n, &bytes), "E03"),
            Command::ReadMem(addr, len) => {
                let len = len.min(packet::MAX_PACKET as u64 / 2);
                match target::read_mem(m, self.g, addr, len) {
                    Some(b) if !b.is_empty() || len == 0 => packet::to_hex(&b),
                    _ => "E14".into(),
                }
            }
            Command::WriteMem(addr, bytes) => {
                ok_or(target::write_mem(m, self.g, addr, &bytes), "E14")
            }
            Command::Break(insert, kind, addr) => {
                let c = self.g.0;
                match (kind, m.debug.as_mut()) {
                    (BreakKind::Watch, _) | (_, None) => String::new(),
                    (k, Some(d)) => {
                        d.set_breakpoint(c, k == BreakKind::Hardware, addr, insert);
                        "OK".into()
                    }
                }
            }
            Command::Continue(addr) => {
                if let Some(a) = addr {
                    target::set_pc(m, self.c, a);
                }
                if let Some(d) = m.debug.as_mut() {
                    d.held.clear();
                }
                return Ok(self.resume(m, None));
            }
            Command::Step(addr) => {
                if let Some(a) = addr {
                    target::set_pc(m, self.c, a);
                }
                let c = self.c;
                return Ok(self.resume(m, Some(c)));
            }
            Command::ContQuery => "vCont;c;C;s;S;t".into(),
            Command::Cont(actions) => {
                // Each vCPU takes the first action naming it: continue,
                // step (one vCPU steps alone: the others stay put), or
                // none (held while the others run).
                let mut step = None;
                let mut held = BTreeSet::new();
                let mut any = false;
                for (c, cl) in m.clusters.iter().enumerate() {
                    for i in 0..cl.cpus.len() {
                        let act = actions
                            .iter()
                            .find(|(_, t)| t.as_ref().is_none_or(|t| self.names(t, c, i)))
                            .map(|(r, _)| *r);
                        match act {
                            Some(Resume::Continue) => any = true,
                            Some(Resume::Step) if step.is_none() => step = Some((c, i)),
                            _ => {
                                held.insert((c, i));
                            }
                        }
                    }
                }
                if step.is_none() && !any {
                    "OK".into()
                } else {
                    if let Some(d) = m.debug.as_mut() {
                        d.held = held;
                    }
                    return Ok(self.resume(m, step));
                }
            }
            Command::Attach(pid) => {
                let c = usize::try_from(pid.wrapping_sub(1)).unwrap_or(usize::MAX);
                match m.clusters.get(c) {
                    Some(cl) if cl.model.gdb_target().is_some() => {
                        self.attached.insert(c);
                        // As QEMU does: the attached process's first
                        // thread becomes current, so the target
                        // description GDB reads next is its own.
                        self.g = (c, 0);
                        self.c = (c, 0);
                        format!("T05thread:p{:x}.1;", c + 1)
                    }
                    _ => "E01".into(),
                }
            }
            Command::KillProcess(pid) | Command::Detach(Some(pid)) => {
                let c = usize::try_from(pid.wrapping_sub(1)).unwrap_or(usize::MAX);
                let kill = matches!(cmd, Command::KillProcess(_));
                if !self.attached.remove(&c) {
                    "E01".into()
                } else {
                    if let Some(d) = m.debug.as_mut() {
                        d.clear_breakpoints(Some(c));
                    }
                    if let Some(&first) = self.attached.first() {
                        if self.g.0 == c {
                            self.g = (first, 0);
                        }
                        if self.c.0 == c {
                            self.c = (first, 0);
                        }
                        "OK".into()
                    } else if kill {
                        // The last process killed: as QEMU does, the
                        // machine ends.
                        self.send("OK")?;
                        return Ok(Flow::End);
                    } else {
                        self.send("OK")?;
                        self.detach_all(m);
                        return Ok(Flow::Resume);
                    }
                }
            }
            Command::Detach(None) => {
                self.send("OK")?;
                self.detach_all(m);
                return Ok(Flow::Resume);
            }
            Command::Kill => return Ok(Flow::End),
            Command::Unsupported => String::new(),
        };
        self.send(&reply)?;
        Ok(Flow::Stay)
    }

    /// Let the machine run (or step `step`); the stop reply follows
    /// when it halts again.
    fn resume(&mut self, m: &mut Machine, step: Option<(usize, usize)>) -> Flow {
        if let Some(code) = self.ended.clone() {
            // Nothing runs any more: the resumed process exits.
            let c = step.map(|s| s.0).unwrap_or(self.c.0);
            self.attached.remove(&c);
            let reply = format!("{code};process:{:x}", c + 1);
            return match self.send(&reply) {
                Ok(()) => Flow::Stay,
                Err(()) => Flow::End,
            };
        }
        if let Some(d) = m.debug.as_mut() {
            d.halted = None;
            d.step = step;
        }
        self.running = true;
        Flow::Resume
    }

    /// GDB detached from everything: breakpoints go, the machine runs.
    fn detach_all(&mut self, m: &mut Machine) {
        self.attached.clear();
        if let Some(d) = m.debug.as_mut() {
            d.clear_breakpoints(None);
            d.step = None;
            d.held.clear();
            d.halted = None;
        }
        self.running = false;
    }
}

fn ok_or(ok: bool, err: &str) -> String {
    if ok {
        "OK".into()
    } else {
        err.into()
    }
}
