//! The QMP test client shared by `tests/qmp*.rs`: a hemu process killed
//! when the test ends, and a minimal QMP client that checks the wire
//! format as it goes. Included with `#[path = "qmp/client.rs"] mod client;`.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hemu-qmp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A hemu process, killed if the test fails before it exits.
pub struct Hemu(pub Child);

impl Hemu {
    pub fn spawn(args: &[&str]) -> Hemu {
        let child = Command::new(env!("CARGO_BIN_EXE_hemu"))
            .args(args)
            .current_dir(root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hemu starts");
        Hemu(child)
    }

    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let t = Instant::now();
        loop {
            if let Some(s) = self.0.try_wait().unwrap() {
                return s;
            }
            assert!(t.elapsed() < limit, "hemu did not exit in {limit:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn stderr(&mut self) -> String {
        let mut s = String::new();
        if let Some(e) = self.0.stderr.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    }
}

impl Drop for Hemu {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// A minimal QMP client.
pub struct Qmp {
    r: BufReader<Box<dyn Read + Send>>,
    w: Box<dyn Write + Send>,
    pub events: Vec<Value>,
    next: u64,
}

impl Qmp {
    pub fn unix(path: &Path) -> Qmp {
        let t = Instant::now();
        let s = loop {
            match UnixStream::connect(path) {
                Ok(s) => break s,
                Err(_) if t.elapsed() < Duration::from_secs(20) => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => panic!("connect {}: {e}", path.display()),
            }
        };
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let w = s.try_clone().unwrap();
        Qmp::new(Box::new(s), Box::new(w))
    }

    pub fn tcp(addr: &str) -> Qmp {
        let s = TcpStream::connect(addr).expect("tcp connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let w = s.try_clone().unwrap();
        Qmp::new(Box::new(s), Box::new(w))
    }

    pub fn new(r: Box<dyn Read + Send>, w: Box<dyn Write + Send>) -> Qmp {
        Qmp {
            r: BufReader::new(r),
            w,
            events: Vec::new(),
            next: 0,
        }
    }

    pub fn read(&mut self) -> Value {
        let mut line = String::new();
        let n = self.r.read_line(&mut line).expect("read from hemu");
        assert!(n > 0, "hemu closed the connection");
        assert!(
            line.ends_with("\r\n"),
            "QEMU ends messages with CRLF: {line:?}"
        );
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad JSON from hemu: {e}: {line}"))
    }

    pub fn greet(&mut self) {
        let g = self.read();
        assert_eq!(
            g["QMP"]["version"]["qemu"],
            json!({"major": 7, "minor": 2, "micro": 0})
        );
        assert_eq!(g["QMP"]["capabilities"], json!(["oob"]));
        assert_eq!(
            self.cmd("qmp_capabilities", json!({"enable": ["oob"]})),
            json!({"return": {}})
        );
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).unwrap();
        self.w.flush().unwrap();
    }

    /// Send a command (no trailing newline, as `qemu.qmp` does) and return
    /// the whole reply, keeping events that arrive meanwhile.
    pub fn cmd(&mut self, name: &str, args: Value) -> Value {
        self.next += 1;
        let id = json!(format!("t{}", self.next));
        let mut msg = json!({"execute": name, "id": id});
        if args != json!({}) {
            msg["arguments"] = args;
        }
        self.send_raw(msg.to_string().as_bytes());
        loop {
            let mut r = self.read();
            if r.get("event").is_some() {
                self.events.push(r);
                continue;
            }
            assert_eq!(r["id"], id, "reply to the wrong command: {r}");
            r.as_object_mut().unwrap().remove("id");
            return r;
        }
    }

    pub fn ok(&mut self, name: &str, args: Value) -> Value {
        let r = self.cmd(name, args.clone());
        match r.get("return") {
            Some(v) => v.clone(),
            None => panic!("{name} {args}: {r}"),
        }
    }

    pub fn err(&mut self, name: &str, args: Value) -> (String, String) {
        let r = self.cmd(name, args);
        let e = &r["error"];
        assert!(e.is_object(), "{name}: expected an error, got {r}");
        (
            e["class"].as_str().unwrap().to_string(),
            e["desc"].as_str().unwrap().to_string(),
        )
    }

    pub fn hmp(&mut self, line: &str) -> String {
        self.ok("human-monitor-command", json!({"command-line": line}))
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Wait for an event (already seen, or the next ones).
    pub fn event(&mut self, name: &str) -> Value {
        loop {
            if let Some(i) = self.events.iter().position(|e| e["event"] == name) {
                let e = self.events.remove(i);
                assert!(e["timestamp"]["seconds"].as_u64().unwrap() > 0, "{e}");
                assert!(e["timestamp"]["microseconds"].as_u64().is_some(), "{e}");
                return e;
            }
            let r = self.read();
            assert!(r.get("event").is_some(), "expected event {name}, got {r}");
            self.events.push(r);
        }
    }

    pub fn status(&mut self) -> (String, bool) {
        let s = self.ok("query-status", json!({}));
        assert_eq!(s["singlestep"], json!(false));
        (
            s["status"].as_str().unwrap().to_string(),
            s["running"].as_bool().unwrap(),
        )
    }

    pub fn names(&mut self, path: &str) -> Vec<(String, String)> {
        let l = self.ok("qom-list", json!({"path": path}));
        l.as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().unwrap().to_string(),
                    e["type"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}
