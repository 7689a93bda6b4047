//! QMP end to end: the `hemu` binary driven over its sockets as QEMU's
//! clients drive QEMU — a machine built entirely by commands runs like
//! `-M virt -kernel`, run control and introspection work on a running
//! machine, and hostile input never takes the server down.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "qmp/client.rs"]
mod client;

use client::{root, tmpdir, Hemu, Qmp};

fn elf_entry(path: &Path) -> u64 {
    let d = std::fs::read(path).unwrap();
    u64::from_le_bytes(d[24..32].try_into().unwrap())
}

#[test]
fn a_machine_built_over_qmp_runs_like_the_command_line() {
    let dir = tmpdir("build");
    let guest = root().join("tests/guests/riscv/bin/hello64.elf");
    // The reference: the same guest from the command line.
    let ref_out = dir.join("ref.txt");
    let reference = Command::new(env!("CARGO_BIN_EXE_hemu"))
        .args(["-M", "virt", "-kernel"])
        .arg(&guest)
        .arg("-serial")
        .arg(format!("file:{}", ref_out.display()))
        .current_dir(root())
        .status()
        .expect("hemu runs");

    let sock = dir.join("qmp.sock");
    let out = dir.join("out.txt");
    let mut hemu = Hemu::spawn(&[
        "-qmp",
        &format!("unix:{},server,wait=off", sock.display()),
        "-S",
        "-serial",
        &format!("file:{}", out.display()),
    ]);
    let mut q = Qmp::unix(&sock);
    // Before negotiation only qmp_capabilities is answered.
    let g = q.read();
    assert_eq!(g["QMP"]["version"]["package"], json!("hemu"));
    assert_eq!(
        q.err("query-status", json!({})).0,
        "CommandNotFound",
        "commands wait for capabilities negotiation"
    );
    assert_eq!(
        q.cmd("qmp_capabilities", json!({"enable": ["oob"]})),
        json!({"return": {}})
    );
    assert_eq!(q.err("qmp_capabilities", json!({})).0, "CommandNotFound");

    // Preconfig: no machine.
    assert_eq!(q.status(), ("prelaunch".into(), false));
    assert_eq!(q.ok("query-cpus-fast", json!({})), json!([]));
    // The root holds /objects even before a machine exists.
    assert_eq!(
        q.names("/"),
        vec![
            ("type".to_string(), "string".to_string()),
            ("objects".to_string(), "child<container>".to_string())
        ]
    );
    assert_eq!(
        q.err("qom-list", json!({"path": "/machine"})).0,
        "DeviceNotFound"
    );
    assert!(q.err("cont", json!({})).1.contains("machine-create"));
    assert!(q
        .err("load-image", json!({"kernel": "x"}))
        .1
        .contains("machine-create"));
    let cmds = q.ok("query-commands", json!({}));
    let phases = |name: &str| -> Value {
        cmds.as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing from query-commands"))["x-phases"]
            .clone()
    };
    assert_eq!(phases("machine-create"), json!(["preconfig"]));
    assert_eq!(phases("load-image"), json!(["prelaunch"]));
    let machines = q.ok("query-machines", json!({}));
    assert!(
        machines
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "virt"),
        "{machines}"
    );
    assert_eq!(
        q.err("machine-create", json!({"file": 3})).1,
        "Invalid parameter type for 'file', expected: string"
    );
    assert!(q
        .err("machine-create", json!({"file": "nosuch"}))
        .1
        .contains("unknown machine"));
    assert!(q
        .err(
            "machine-create",
            json!({"file": "virt", "params": {"xlen": 33}})
        )
        .1
        .contains("xlen"));

    // Build and load.
    assert_eq!(
        q.ok("machine-create", json!({"file": "virt"}))["name"],
        json!("virt")
    );
    assert!(q
        .err("machine-create", json!({"file": "virt"}))
        .1
        .contains("before a machine exists"));
    assert_eq!(q.status(), ("prelaunch".into(), false));
    assert!(q
        .err("x-exit-preconfig", json!({}))
        .1
        .contains("nothing to run"));
    q.ok("load-image", json!({"kernel": guest.display().to_string()}));

    let cpus = q.ok("query-cpus-fast", json!({}));
    let cpus = cpus.as_array().unwrap();
    assert_eq!(cpus.len(), 1);
    assert_eq!(cpus[0]["cpu-index"], json!(0));
    assert_eq!(cpus[0]["qom-path"], json!("/machine/cpus/cpu0"));
    assert!(cpus[0]["thread-id"].as_u64().unwrap() > 0);
    assert_eq!(
        cpus[0]["target"].as_str(),
        Some("riscv64"),
        "QEMU's target name"
    );
    assert_eq!(cpus[0]["props"]["core-id"], json!(0));

    let top = q.names("/machine");
    for (name, ty) in [
        ("cpus", "child<cpu-cluster>"),
        ("uart0", "child<ns16550a>"),
        ("plic", "child<plic>"),
        ("ram", "child<memory-region>"),
        ("type", "string"),
    ] {
        assert!(
            top.contains(&(name.to_string(), ty.to_string())),
            "{name}: {top:?}"
        );
    }
    assert!(q.names("/machine/cpus").iter().any(|(n, _)| n == "cpu0"));
    assert_eq!(
        q.ok(
            "qom-get",
            json!({"path": "/machine/uart0", "property": "type"})
        ),
        json!("ns16550a")
    );
    assert_eq!(
        q.ok("qom-get", json!({"path": "uart0", "property": "base"})),
        json!(0x1000_0000u64)
    );
    assert_eq!(
        q.ok(
            "qom-get",
            json!({"path": "/machine/ram", "property": "size"})
        ),
        json!(128u64 << 20)
    );
    assert_eq!(
        q.ok(
            "qom-get",
            json!({"path": "/machine/uart0", "property": "chardev"})
        ),
        json!("serial0")
    );
    assert_eq!(
        q.err(
            "qom-get",
            json!({"path": "/machine/nope", "property": "type"})
        )
        .0,
        "DeviceNotFound"
    );
    assert!(q
        .err(
            "qom-get",
            json!({"path": "/machine/uart0", "property": "nope"})
        )
        .1
        .contains("nope"));

    // stop before start changes nothing; x-exit-preconfig with -S stays
    // in prelaunch, at the entry point.
    q.ok("stop", json!({}));
    assert_eq!(q.status(), ("prelaunch".into(), false));
    q.ok("x-exit-preconfig", json!({}));
    assert_eq!(q.status(), ("prelaunch".into(), false));
    assert!(q
        .err("load-image", json!({"kernel": "x"}))
        .1
        .contains("before the machine starts"));
    assert!(q
        .err("x-exit-preconfig", json!({}))
        .1
        .contains("only before"));
    assert_eq!(
        q.ok(
            "qom-get",
            json!({"path": "/machine/cpus/cpu0", "property": "pc"})
        ),
        json!(elf_entry(&guest))
    );
    let regs = q.hmp("info registers");
    assert!(
        regs.contains(&format!(" pc       {:016x}\r\n", elf_entry(&guest))),
        "{regs}"
    );
    assert!(regs.contains("x2/sp"), "{regs}");
    let mtree = q.hmp("info mtree");
    assert!(
        mtree.contains("0000000010000000-00000000100000ff (prio 0, i/o): uart0"),
        "{mtree}"
    );
    assert!(mtree.contains("(prio 0, ram): ram"), "{mtree}");
    let qtree = q.hmp("info qtree");
    assert!(qtree.contains("dev: ns16550a, id \"uart0\""), "{qtree}");
    let bytes = std::fs::read(&guest).unwrap();
    let _ = bytes;
    let xp = q.hmp(&format!("xp /2xw {:#x}", elf_entry(&guest)));
    assert!(
        xp.starts_with(&format!("{:016x}: 0x", elf_entry(&guest))),
        "{xp}"
    );
    let dis = q.hmp("x /2i $pc");
    assert_eq!(dis.matches("\r\n").count(), 2, "{dis}");
    assert!(q.hmp("xp /x 0x0").contains("Cannot access memory"));
    assert!(q.hmp("bogus").contains("unknown command"));

    q.ok("cont", json!({}));
    q.event("RESUME");
    let shutdown = q.event("SHUTDOWN");
    assert_eq!(
        shutdown["data"],
        json!({"guest": true, "reason": "guest-shutdown"})
    );
    let status = hemu.wait(Duration::from_secs(30));
    assert_eq!(status.code(), reference.code(), "{}", hemu.stderr());
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        std::fs::read_to_string(&ref_out).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "Hello from hemu (rv64)\n"
    );
    assert!(!sock.exists(), "the socket is removed at exit");
}

/// A raw image that loops forever (`j .`), for a machine that keeps running.
fn spin_image(dir: &Path) -> PathBuf {
    let p = dir.join("spin.bin");
    std::fs::write(&p, 0x0000_006fu32.to_le_bytes()).unwrap();
    p
}

#[test]
fn run_control_and_introspection_of_a_running_machine() {
    let dir = tmpdir("run");
    let sock = dir.join("qmp.sock");
    let spin = spin_image(&dir);
    let mut hemu = Hemu::spawn(&[
        "-M",
        "virt",
        "-smp",
        "2",
        "-kernel",
        spin.to_str().unwrap(),
        "-serial",
        "null",
        "-qmp",
        &format!("unix:{},server,wait=off", sock.display()),
    ]);
    let mut q = Qmp::unix(&sock);
    q.greet();
    let mut other = Qmp::unix(&sock);
    other.greet();
    assert_eq!(q.status(), ("running".into(), true));
    assert!(q
        .err("machine-create", json!({"file": "virt"}))
        .1
        .contains("before a machine exists"));

    let cpus = q.ok("query-cpus-fast", json!({}));
    let idx: Vec<&Value> = cpus
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["cpu-index"])
        .collect();
    assert_eq!(idx, vec![&json!(0), &json!(1)]);
    assert_eq!(cpus[1]["qom-path"], json!("/machine/cpus/cpu1"));

    q.ok("stop", json!({}));
    q.event("STOP");
    other.event("STOP");
    assert_eq!(q.status(), ("paused".into(), false));
    assert_eq!(other.status(), ("paused".into(), false));
    let insns = |q: &mut Qmp| {
        q.ok(
            "qom-get",
            json!({"path": "/machine/cpus/cpu0", "property": "insns"}),
        )
    };
    let a = insns(&mut q);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(insns(&mut q), a, "a paused vCPU retires nothing");
    assert_eq!(
        q.ok("qom-get", json!({"path": "cpus/cpu0", "property": "pc"})),
        json!(0x8000_0000u64)
    );
    assert_eq!(q.hmp("info status"), "VM status: paused\r\n");
    q.ok("stop", json!({}));

    q.ok("cont", json!({}));
    q.event("RESUME");
    other.event("RESUME");
    assert_eq!(q.status(), ("running".into(), true));
    std::thread::sleep(Duration::from_millis(50));
    assert_ne!(insns(&mut q), a, "a running vCPU retires instructions");

    // HMP's run-control words go through the same commands.
    assert_eq!(q.hmp("stop"), "");
    q.event("STOP");
    assert_eq!(q.hmp("c"), "");
    q.event("RESUME");

    q.ok("system_reset", json!({}));
    let r = q.event("RESET");
    assert_eq!(
        r["data"],
        json!({"guest": false, "reason": "host-qmp-system-reset"})
    );
    assert_eq!(q.status(), ("running".into(), true));

    q.ok("system_powerdown", json!({}));
    q.event("POWERDOWN");

    assert_eq!(
        q.err("device_del", json!({"id": "nope"})).0,
        "DeviceNotFound"
    );
    q.ok("device_del", json!({"id": "rtc"}));
    let d = q.event("DEVICE_DELETED");
    assert_eq!(d["data"], json!({"device": "rtc", "path": "/machine/rtc"}));
    assert!(!q.names("/machine").iter().any(|(n, _)| n == "rtc"));
    assert!(!q.hmp("info mtree").contains(": rtc"));

    let cpus = q.hmp("info cpus");
    assert!(cpus.starts_with("* CPU #0: thread_id="), "{cpus}");
    assert!(q.hmp("info registers -a").contains("CPU#1"));
    assert_eq!(
        q.err(
            "human-monitor-command",
            json!({"command-line": "info version", "cpu-index": 5})
        )
        .1,
        "Parameter 'cpu-index' expects a CPU number"
    );

    drop(other);
    assert_eq!(q.ok("quit", json!({})), json!({}));
    let s = q.event("SHUTDOWN");
    assert_eq!(
        s["data"],
        json!({"guest": false, "reason": "host-qmp-quit"})
    );
    let status = hemu.wait(Duration::from_secs(20));
    assert_eq!(status.code(), Some(0));
}

/// A deterministic xorshift generator: the fuzz run is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Random JSON-ish text: valid values, near misses and garbage.
fn junk(rng: &mut Rng, depth: u32) -> String {
    const NAMES: &[&str] = &[
        "query-status",
        "qom-list",
        "qom-get",
        "human-monitor-command",
        "query-cpus-fast",
        "stop",
        "cont",
        "load-image",
        "device_del",
        "nosuch",
        "",
    ];
    const KEYS: &[&str] = &[
        "execute",
        "arguments",
        "id",
        "path",
        "property",
        "command-line",
        "exec-oob",
        "cpu-index",
        "x",
    ];
    match rng.below(if depth > 4 { 5 } else { 9 }) {
        0 => format!("{}", rng.next() as i64),
        1 => format!("\"{}\"", NAMES[rng.below(NAMES.len())]),
        2 => [
            "true",
            "false",
            "null",
            "1e999",
            "-0",
            "\"\\u12\"",
            "\"\\ud800\"",
        ][rng.below(7)]
        .to_string(),
        3 => {
            let n = rng.below(40);
            (0..n).map(|_| (rng.below(96) as u8 + 32) as char).collect()
        }
        4 => "\"x\"".into(),
        5 | 6 => {
            let n = rng.below(4);
            let items: Vec<String> = (0..n)
                .map(|_| {
                    format!(
                        "\"{}\": {}",
                        KEYS[rng.below(KEYS.len())],
                        junk(rng, depth + 1)
                    )
                })
                .collect();
            format!("{{{}}}", items.join(","))
        }
        7 => {
            let n = rng.below(4);
            let items: Vec<String> = (0..n).map(|_| junk(rng, depth + 1)).collect();
            format!("[{}]", items.join(","))
        }
        _ => {
            // A well-formed command with random arguments.
            format!(
                "{{\"execute\": \"{}\", \"arguments\": {{\"{}\": {}}}, \"id\": {}}}",
                NAMES[rng.below(NAMES.len())],
                KEYS[rng.below(KEYS.len())],
                junk(rng, depth + 1),
                rng.below(100)
            )
        }
    }
}

#[test]
fn hostile_input_never_takes_the_server_down() {
    let dir = tmpdir("fuzz");
    let spin = spin_image(&dir);
    let mut hemu = Hemu::spawn(&[
        "-M",
        "virt",
        "-kernel",
        spin.to_str().unwrap(),
        "-serial",
        "null",
        "-qmp",
        "tcp:127.0.0.1:0,server,wait=off",
    ]);
    // hemu says which port it got.
    let mut err = BufReader::new(hemu.0.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("hemu: QMP listening on tcp:")
        .unwrap_or_else(|| panic!("unexpected: {line}"))
        .to_string();
    let rest = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });

    // Targeted cases first: each answered with the right error, on one
    // connection that stays usable.
    let mut q = Qmp::tcp(&addr);
    q.greet();
    let expect_err = |q: &mut Qmp, raw: &[u8], class: &str, desc: &str| {
        q.send_raw(raw);
        let r = q.read();
        assert_eq!(
            r["error"]["class"],
            json!(class),
            "{}: {r}",
            String::from_utf8_lossy(raw)
        );
        let d = r["error"]["desc"].as_str().unwrap();
        assert!(d.contains(desc), "{}: {d}", String::from_utf8_lossy(raw));
    };
    expect_err(
        &mut q,
        b"{\"execute\": }",
        "GenericError",
        "JSON parse error",
    );
    expect_err(&mut q, b"[]", "GenericError", "must be a JSON object");
    expect_err(
        &mut q,
        b"{\"execute\": \"nosuch\"}",
        "CommandNotFound",
        "nosuch",
    );
    expect_err(
        &mut q,
        b"{\"execute\": 5}",
        "GenericError",
        "must be a string",
    );
    expect_err(
        &mut q,
        b"{\"execute\": \"qom-list\", \"arguments\": {\"path\": 1}}",
        "GenericError",
        "Invalid parameter type for 'path'",
    );
    expect_err(
        &mut q,
        b"{\"execute\": \"qom-list\"}",
        "GenericError",
        "'path' is missing",
    );
    expect_err(
        &mut q,
        b"{\"execute\": \"stop\", \"arguments\": {\"now\": true}}",
        "GenericError",
        "'now' is unexpected",
    );
    expect_err(
        &mut q,
        b"{\"exec-oob\": \"stop\"}",
        "GenericError",
        "does not support OOB",
    );
    let mut huge = b"{\"execute\": \"qom-list\", \"arguments\": {\"path\": \"".to_vec();
    huge.extend(vec![b'a'; 3 << 20]);
    huge.extend_from_slice(b"\"}}");
    expect_err(&mut q, &huge, "GenericError", "exceeds");
    let mut deep = vec![b'['; 5000];
    deep.extend(vec![b']'; 5000]);
    expect_err(&mut q, &deep, "GenericError", "exceeds");
    // The id comes back even on errors.
    q.send_raw(b"{\"execute\": \"nosuch\", \"id\": {\"a\": [1]}}");
    assert_eq!(q.read()["id"], json!({"a": [1]}));
    assert_eq!(q.status(), ("running".into(), true));

    // Then random and truncated input on many connections, some dropped
    // mid-command, bounded in count and time.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let t = Instant::now();
    let mut rounds = 0;
    let max: usize = std::env::var("HEMU_QMP_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    while rounds < max && t.elapsed() < Duration::from_secs(20 + max as u64 / 100) {
        rounds += 1;
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let negotiate = rng.below(3) > 0;
        let mut msg = Vec::new();
        if negotiate {
            msg.extend_from_slice(b"{\"execute\": \"qmp_capabilities\"}");
        }
        for _ in 0..1 + rng.below(6) {
            let j = junk(&mut rng, 0);
            let bytes = j.as_bytes();
            // Sometimes truncated, sometimes with stray bytes.
            match rng.below(5) {
                0 => msg.extend_from_slice(&bytes[..rng.below(bytes.len() + 1)]),
                1 => {
                    msg.extend_from_slice(bytes);
                    msg.push([0xff, 0x00, b'\n', 0xc3, b'}'][rng.below(5)]);
                }
                _ => msg.extend_from_slice(bytes),
            }
        }
        let _ = s.write_all(&msg);
        if rng.below(2) == 0 {
            // Read a little, then hang up (maybe mid-command).
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
        }
        drop(s);
        assert!(
            hemu.0.try_wait().unwrap().is_none(),
            "hemu died in round {rounds}"
        );
    }
    assert!(rounds >= 50.min(max), "only {rounds} rounds");

    // A flood: far more commands than the queue holds, none read; then
    // the client vanishes.
    let mut s = TcpStream::connect(&addr).unwrap();
    let mut flood = b"{\"execute\": \"qmp_capabilities\"}".to_vec();
    for i in 0..2000 {
        flood.extend_from_slice(
            format!("{{\"execute\": \"query-status\", \"id\": {i}}}").as_bytes(),
        );
    }
    let _ = s.write_all(&flood);
    drop(s);

    // Still serving, still running (a random `stop` may have paused it).
    let mut q2 = Qmp::tcp(&addr);
    q2.greet();
    q2.ok("cont", json!({}));
    assert_eq!(q2.status(), ("running".into(), true));
    assert_eq!(q.status(), ("running".into(), true));
    q2.ok("quit", json!({}));
    assert_eq!(hemu.wait(Duration::from_secs(20)).code(), Some(0));
    let stderr = rest.join().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn machine_create_takes_an_inline_machine_and_profiles() {
    let dir = tmpdir("inline");
    let sock = dir.join("qmp.sock");
    let out = dir.join("out.txt");
    let guest = root().join("tests/guests/riscv/bin/hello64.elf");
    let mut hemu = Hemu::spawn(&[
        "-qmp",
        &format!("unix:{},server,wait=off", sock.display()),
        "-serial",
        &format!("file:{}", out.display()),
    ]);
    let mut q = Qmp::unix(&sock);
    q.greet();
    // Errors point into the inline text.
    let e = q
        .err(
            "machine-create",
            json!({"inline": {"name": "x", "clusters": []}}),
        )
        .1;
    assert!(e.contains("address_spaces"), "{e}");
    assert!(q
        .err("machine-create", json!({"file": "virt", "profile": "nope"}))
        .1
        .contains("no profile 'nope'"));
    assert!(q
        .err("machine-create", json!({}))
        .1
        .contains("exactly one of"));
    // The smallest machine that runs the guest, as JSON.
    let inline = json!({
        "name": "tiny",
        "params": {"ram": {"type": "size", "default": "16M"}},
        "memory": [{"id": "ram", "size": "${ram}"}],
        "devices": [
            {"id": "test", "type": "sifive_test"},
            {"id": "uart0", "type": "ns16550a", "props": {"chardev": "serial0"}}
        ],
        "address_spaces": {"sysmem": [
            {"map": "test", "base": 0x100000},
            {"map": "uart0", "base": 0x1000_0000u64},
            {"map": "ram", "base": 0x8000_0000u64}
        ]},
        "clusters": [{"id": "hart", "arch": "riscv", "address_space": "sysmem", "reset_pc": 0x8000_0000u64}]
    });
    let r = q.ok(
        "machine-create",
        json!({"inline": inline, "params": {"ram": "32M"}}),
    );
    assert_eq!(r["name"], json!("tiny"));
    assert_eq!(
        q.ok(
            "qom-get",
            json!({"path": "/machine/ram", "property": "size"})
        ),
        json!(32u64 << 20)
    );
    assert_eq!(
        q.names("/machine")
            .iter()
            .filter(|(_, t)| t.starts_with("child<"))
            .count(),
        4,
        "hart, test, uart0, ram"
    );
    assert_eq!(
        q.ok("query-cpus-fast", json!({}))[0]["qom-path"],
        json!("/machine/hart/cpu0")
    );
    assert!(q
        .err("load-image", json!({"addr": 5}))
        .1
        .contains("go with 'file'"));
    let r = q.ok(
        "load-image",
        json!({"file": guest.display().to_string(), "entry": true}),
    );
    assert_eq!(r["start-address"], json!(elf_entry(&guest)));
    assert_eq!(
        q.ok(
            "qom-get",
            json!({"path": "/machine/hart", "property": "start-address"})
        ),
        json!(elf_entry(&guest))
    );
    // Images may not overlap.
    let e = q
        .err("load-image", json!({"kernel": guest.display().to_string()}))
        .1;
    assert!(e.contains("overlaps"), "{e}");
    q.ok("cont", json!({}));
    q.event("SHUTDOWN");
    assert_eq!(hemu.wait(Duration::from_secs(30)).code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "Hello from hemu (rv64)\n"
    );
}

#[test]
fn types_properties_hotplug_memsave_and_schema() {
    let dir = tmpdir("admin");
    let sock = dir.join("qmp.sock");
    let spin = spin_image(&dir);
    let mut hemu = Hemu::spawn(&[
        "-M",
        "virt",
        "-kernel",
        spin.to_str().unwrap(),
        "-serial",
        "null",
        "-qmp",
        &format!("unix:{},server,wait=off", sock.display()),
    ]);
    let mut q = Qmp::unix(&sock);
    q.greet();

    // 1. qom-list-types
    let types = q.ok("qom-list-types", json!({}));
    let types = types.as_array().unwrap();
    let find = |n: &str| types.iter().find(|t| t["name"] == n).cloned();
    assert_eq!(
        find("ns16550a"),
        Some(json!({"name": "ns16550a", "parent": "sys-bus-device", "x-compiled-in": true}))
    );
    assert_eq!(find("riscv-cpu").unwrap()["parent"], json!("cpu"));
    assert!(find("device").is_none(), "abstract types only on request");
    let cpus = q.ok("qom-list-types", json!({"implements": "cpu"}));
    assert!(cpus
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["name"].as_str().unwrap().ends_with("-cpu")));
    // The type qom-list shows for a vCPU is listed, under its ISA's.
    let cpu_ty = q.ok(
        "qom-get",
        json!({"path": "/machine/cpus/cpu0", "property": "type"}),
    );
    assert!(cpus.as_array().unwrap().iter().any(|t| t["name"] == cpu_ty));
    let all = q.ok(
        "qom-list-types",
        json!({"abstract": true, "implements": "device"}),
    );
    assert!(all
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "sys-bus-device"));
    assert!(all
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "goldfish_rtc"));

    // 2. device-list-properties
    let props = q.ok("device-list-properties", json!({"typename": "ns16550a"}));
    let shift = props
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "reg-shift")
        .unwrap();
    assert_eq!(shift["type"], json!("uint64"));
    assert_eq!(shift["default-value"], json!(0));
    assert!(shift["description"].as_str().unwrap().contains("spacing"));
    assert_eq!(
        q.err("device-list-properties", json!({"typename": "nope"})),
        ("DeviceNotFound".into(), "Device 'nope' not found".into())
    );
    assert!(q
        .err("device-list-properties", json!({"typename": "device"}))
        .1
        .contains("non-abstract device type"));

    // 3. qom-set on a realized device is refused, loudly.
    let (class, desc) = q.err(
        "qom-set",
        json!({"path": "/machine/uart0", "property": "reg-shift", "value": 2}),
    );
    assert_eq!(class, "GenericError");
    assert!(
        desc.contains("can only be set before the machine is realized"),
        "{desc}"
    );
    assert!(q
        .err(
            "qom-set",
            json!({"path": "/machine/uart0", "property": "nope", "value": 2})
        )
        .1
        .contains("not found"));
    assert!(q
        .err(
            "qom-set",
            json!({"path": "/machine/cpus/cpu0", "property": "pc", "value": 2})
        )
        .1
        .contains("not writable"));

    // 4. device_add: every failure leaves the machine as it was.
    let before = (q.names("/machine"), q.hmp("info mtree"));
    let failures = [
        json!({"driver": "nope", "id": "x", "addr": 0x200000}),
        json!({"driver": "goldfish_rtc", "id": "x", "addr": 0x200000, "bogus": 1}),
        json!({"driver": "goldfish_rtc", "id": "x", "addr": 0x200000, "start-time": "soon"}),
        json!({"driver": "ns16550a", "id": "x", "addr": 0x200000, "reg-shift": 9}),
        json!({"driver": "goldfish_rtc", "id": "x", "addr": 0x1000_0000}),
        json!({"driver": "goldfish_rtc", "id": "x", "addr": 0x100800}),
        json!({"driver": "goldfish_rtc", "id": "uart0", "addr": 0x200000}),
        json!({"driver": "goldfish_rtc", "id": "x"}),
    ];
    for f in failures {
        let (class, desc) = q.err("device_add", f.clone());
        assert_eq!(class, "GenericError", "{f}: {desc}");
        assert_eq!(
            (q.names("/machine"), q.hmp("info mtree")),
            before,
            "{f} changed the machine"
        );
    }
    q.ok(
        "device_add",
        json!({"driver": "goldfish_rtc", "id": "rtc2", "addr": "0x200000", "start-time": 5}),
    );
    assert!(q
        .names("/machine")
        .contains(&("rtc2".into(), "child<goldfish_rtc>".into())));
    assert!(
        q.hmp("info mtree").contains(": rtc2"),
        "{}",
        q.hmp("info mtree")
    );
    assert_eq!(
        q.ok("qom-get", json!({"path": "rtc2", "property": "base"})),
        json!(0x200000)
    );
    assert_eq!(
        q.ok("qom-get", json!({"path": "rtc2", "property": "start-time"})),
        json!(5)
    );
    assert!(q
        .err(
            "qom-set",
            json!({"path": "rtc2", "property": "start-time", "value": 1})
        )
        .1
        .contains("before the machine is realized"));
    q.ok("device_del", json!({"id": "rtc2"}));
    assert_eq!(
        q.event("DEVICE_DELETED")["data"],
        json!({"device": "rtc2", "path": "/machine/rtc2"})
    );
    assert_eq!(
        q.err("device_del", json!({"id": "rtc2"})).0,
        "DeviceNotFound"
    );

    // 5. memsave / pmemsave
    let phys = dir.join("phys.bin");
    let virt = dir.join("virt.bin");
    q.ok(
        "pmemsave",
        json!({"val": 0x8000_0000u64, "size": 8, "filename": phys.to_str().unwrap()}),
    );
    assert_eq!(
        std::fs::read(&phys).unwrap()[..4],
        0x0000_006fu32.to_le_bytes()
    );
    q.ok(
        "memsave",
        json!({"val": 0x8000_0000u64, "size": 8, "filename": virt.to_str().unwrap(), "cpu-index": 0}),
    );
    assert_eq!(std::fs::read(&virt).unwrap(), std::fs::read(&phys).unwrap());
    let big = dir.join("big.bin");
    q.ok(
        "pmemsave",
        json!({"val": 0x8000_0000u64, "size": 0x20000, "filename": big.to_str().unwrap()}),
    );
    assert_eq!(std::fs::metadata(&big).unwrap().len(), 0x20000);
    let bad = dir.join("bad.bin");
    for (cmd, addr) in [
        ("pmemsave", 0u64),
        ("memsave", 0x7fff_fffc),
        ("pmemsave", 0x10000000),
    ] {
        let (class, desc) = q.err(
            cmd,
            json!({"val": addr, "size": 16, "filename": bad.to_str().unwrap()}),
        );
        assert_eq!(class, "GenericError");
        assert!(desc.starts_with("Invalid addr"), "{desc}");
        assert!(!bad.exists());
    }
    assert!(q
        .err(
            "memsave",
            json!({"val": 0x8000_0000u64, "size": 4, "filename": virt.to_str().unwrap(), "cpu-index": 9})
        )
        .1
        .contains("cpu-index"));

    // 6. query-qmp-schema
    let schema = q.ok("query-qmp-schema", json!({}));
    assert_eq!(schema, q.ok("query-qmp-schema", json!({})), "deterministic");
    let schema = schema.as_array().unwrap();
    let entry = |n: &str| schema.iter().find(|e| e["name"] == n).unwrap().clone();
    for c in q.ok("query-commands", json!({})).as_array().unwrap() {
        let e = entry(c["name"].as_str().unwrap());
        assert_eq!(e["meta-type"], json!("command"));
        let arg = entry(e["arg-type"].as_str().unwrap());
        assert_eq!(arg["meta-type"], json!("object"));
        for m in arg["members"].as_array().unwrap() {
            let t = entry(m["type"].as_str().unwrap());
            assert_eq!(t["meta-type"], json!("builtin"), "{m}");
        }
    }
    let ms = entry(entry("memsave")["arg-type"].as_str().unwrap());
    assert_eq!(
        ms["members"],
        json!([{"name": "val", "type": "int"}, {"name": "size", "type": "int"},
            {"name": "filename", "type": "str"},
            {"name": "cpu-index", "type": "int", "default": null}])
    );
    assert_eq!(entry("DEVICE_DELETED")["meta-type"], json!("event"));
    let uart = entry("x-device-props-ns16550a");
    assert!(uart["members"]
        .as_array()
        .unwrap()
        .contains(&json!({"name": "reg-shift", "type": "int", "default": null,
            "x-min": 0, "x-max": 3})));

    q.ok("quit", json!({}));
    assert_eq!(hemu.wait(Duration::from_secs(20)).code(), Some(0));
}

#[test]
fn qom_set_configures_devices_before_the_machine_is_realized() {
    let dir = tmpdir("qomset");
    let sock = dir.join("qmp.sock");
    let mut hemu = Hemu::spawn(&[
        "-qmp",
        &format!("unix:{},server,wait=off", sock.display()),
        "-serial",
        "null",
    ]);
    let mut q = Qmp::unix(&sock);
    q.greet();
    assert_eq!(
        q.err(
            "qom-set",
            json!({"path": "/machine/uart0", "property": "reg-shift", "value": 2})
        )
        .0,
        "DeviceNotFound",
        "no machine yet"
    );
    q.ok("machine-create", json!({"file": "virt"}));
    q.ok(
        "qom-set",
        json!({"path": "/machine/uart0", "property": "reg-shift", "value": 2}),
    );
    assert_eq!(
        q.ok("qom-get", json!({"path": "uart0", "property": "reg-shift"})),
        json!(2)
    );
    // Typed, and checked by the model: the device is unchanged.
    assert!(q
        .err(
            "qom-set",
            json!({"path": "uart0", "property": "reg-shift", "value": "wide"})
        )
        .1
        .contains("expects an unsigned integer"));
    assert!(q
        .err(
            "qom-set",
            json!({"path": "uart0", "property": "reg-shift", "value": 7})
        )
        .1
        .contains("out of range"));
    assert_eq!(
        q.ok("qom-get", json!({"path": "uart0", "property": "reg-shift"})),
        json!(2)
    );
    q.ok(
        "qom-set",
        json!({"path": "rtc", "property": "start-time", "value": "0x10"}),
    );
    assert_eq!(
        q.ok("qom-get", json!({"path": "rtc", "property": "start-time"})),
        json!(16)
    );
    q.ok("quit", json!({}));
    assert_eq!(hemu.wait(Duration::from_secs(20)).code(), Some(0));
}
