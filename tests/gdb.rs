//! The GDB stub on a machine of three clusters of three ISAs: raw remote
//! protocol sessions (threads of every process, registers in each
//! cluster's byte order, memory through each cluster's view, breakpoints
//! kept out of guest memory, stepping, Ctrl-C, hostile packets), and
//! `gdb-multiarch` itself driving hemu in batch mode. Both engines.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What the gdb-multiarch test drives. Point it at another machine
/// here: its file, and per cluster (in machine-file order) the ELF it
/// boots (also the symbols GDB loads for that inferior), the function the
/// test breaks in ("" for none) and the architecture GDB should report.
/// With `E2E_LOAD`, the images are passed as `-device loader,cpu-num=N`
/// (N the cluster's index: one vCPU per cluster); a machine file that
/// loads its own images sets it false. At the end every cluster runs
/// until the machine's run ends.
///
/// The machine is the heterogeneous SoC (`machines/hetero.yaml`): its
/// Cortex-M and MIPS clusters start held in reset and wait for RISC-V's
/// work items, so every inferior runs at once (`schedule-multiple on`)
/// and the breakpoints are temporary: each `continue` stops at the next
/// function not yet hit, whichever cluster reaches it.
const E2E_MACHINE: &str = "machines/hetero.yaml";
const E2E_LOAD: bool = false;
const E2E_INFERIORS: &[(&str, &str, &str)] = &[
    (
        "tests/guests/hetero/bin/riscv.elf",
        "send_work",
        "riscv:rv64",
    ),
    (
        "tests/guests/hetero/bin/cortex-m.elf",
        "checksum_item",
        "armv7e-m",
    ),
    (
        "tests/guests/hetero/bin/mips.elf",
        "answer_item",
        "mips:isa32r2",
    ),
];

/// The machine of the raw-protocol tests (their addresses and symbols
/// are this machine's and these guests').
const MACHINE: &str = "tests/machines/gdb-multi.yaml";
const INFERIORS: &[(&str, &str, &str)] = &[
    ("tests/guests/riscv/bin/csum.elf", "putc", "riscv:rv64"),
    (
        "tests/guests/armv7m/bin/firmware-mps2.elf",
        "puts_",
        "armv7e-m",
    ),
    ("tests/guests/mips/bin/hello.elf", "", "mips:isa32r2"),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A hemu held at its first instruction with a GDB server on a free port.
struct Hemu {
    child: Child,
    port: u16,
    serial0: std::path::PathBuf,
}

impl Hemu {
    fn start(accel: &str, tag: &str) -> Hemu {
        Hemu::start_on(MACHINE, true, INFERIORS, accel, tag)
    }

    fn start_on(
        machine: &str,
        load: bool,
        inferiors: &[(&str, &str, &str)],
        accel: &str,
        tag: &str,
    ) -> Hemu {
        let dir =
            std::env::temp_dir().join(format!("hemu-gdb-{}-{tag}-{accel}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let serial0 = dir.join("serial0");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hemu"));
        cmd.current_dir(root())
            .args(["-M", machine, "-accel", accel, "-gdb", "tcp::0", "-S"]);
        for i in 0..3 {
            cmd.arg("-serial")
                .arg(format!("file:{}", dir.join(format!("serial{i}")).display()));
        }
        if load {
            for (i, (elf, _, _)) in inferiors.iter().enumerate() {
                cmd.args(["-device", &format!("loader,file={elf},cpu-num={i}")]);
            }
        }
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hemu starts");
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        err.read_line(&mut line).unwrap();
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        // Keep draining stderr so hemu never blocks on it.
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = err.read_to_string(&mut rest);
            if !rest.is_empty() {
                eprint!("{rest}");
            }
        });
        Hemu {
            child,
            port,
            serial0,
        }
    }

    /// Wait for hemu to exit (at most a minute); its status.
    fn wait(mut self) -> i32 {
        let t0 = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            if t0.elapsed() > Duration::from_secs(60) {
                let _ = self.child.kill();
                panic!("hemu did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Hemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw remote-protocol client.
struct Client {
    s: TcpStream,
}

impl Client {
    fn connect(port: u16) -> Client {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        Client { s }
    }

    fn frame(data: &[u8]) -> Vec<u8> {
        let sum = data.iter().fold(0u8, |s, b| s.wrapping_add(*b));
        let mut out = vec![b'$'];
        out.extend_from_slice(data);
        out.extend_from_slice(format!("#{sum:02x}").as_bytes());
        out
    }

    /// The next packet's data (acks skipped, checksum verified).
    fn recv(&mut self) -> String {
        let mut b = [0u8];
        loop {
            self.s.read_exact(&mut b).expect("a reply");
            if b[0] == b'$' {
                break;
            }
        }
        let mut data = Vec::new();
        loop {
            self.s.read_exact(&mut b).unwrap();
            if b[0] == b'#' {
                break;
            }
            data.push(b[0]);
        }
        let mut sum = [0u8; 2];
        self.s.read_exact(&mut sum).unwrap();
        let want = u8::from_str_radix(std::str::from_utf8(&sum).unwrap(), 16).unwrap();
        assert_eq!(
            data.iter().fold(0u8, |s, x| s.wrapping_add(*x)),
            want,
            "checksum"
        );
        self.s.write_all(b"+").unwrap();
        String::from_utf8(data).unwrap()
    }

    fn send_raw(&mut self, data: &[u8]) {
        self.s.write_all(&Client::frame(data)).unwrap();
    }

    fn ask(&mut self, p: &str) -> String {
        self.send_raw(p.as_bytes());
        self.recv()
    }
}

fn elf_symbol(elf: &str, name: &str) -> u64 {
    let data = std::fs::read(root().join(elf)).expect("guest ELF");
    let e = goblin::elf::Elf::parse(&data).expect("an ELF");
    e.syms
        .iter()
        .find(|s| e.strtab.get_at(s.st_name) == Some(name))
        // Thumb function symbols have bit 0 set.
        .map(|s| s.st_value & !1)
        .unwrap_or_else(|| panic!("{name} not in {elf}"))
}

/// The little-endian value of a register reply.
fn le(hex: &str) -> u64 {
    (0..hex.len() / 2).rev().fold(0, |v, i| {
        v << 8 | u64::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()
    })
}

fn text_of(hex: &str) -> String {
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap() as char)
        .collect()
}

fn protocol_session(accel: &str) {
    let hemu = Hemu::start(accel, "raw");
    let mut c = Client::connect(hemu.port);
    let sup = c.ask("qSupported:multiprocess+;swbreak+");
    assert!(
        sup.contains("multiprocess+") && sup.contains("qXfer:features:read+"),
        "{sup}"
    );
    assert_eq!(c.ask("QStartNoAckMode"), "OK");
    assert_eq!(c.ask("?"), "T05thread:p1.1;");
    // GDB starts attached to the first cluster; the others attach.
    assert_eq!(c.ask("qfThreadInfo"), "mp1.1");
    assert_eq!(c.ask("qsThreadInfo"), "l");
    assert_eq!(c.ask("vAttach;2"), "T05thread:p2.1;");
    assert_eq!(c.ask("vAttach;3"), "T05thread:p3.1;");
    assert_eq!(c.ask("vAttach;9"), "E01");
    assert_eq!(c.ask("qfThreadInfo"), "mp1.1,p2.1,p3.1");
    assert_eq!(text_of(&c.ask("qThreadExtraInfo,p3.1")), "dsp cpu0 (mips)");

    // Each process has its own target description.
    for (pid, feature, arch) in [
        (1, "org.gnu.gdb.riscv.cpu", "riscv:rv64"),
        (2, "org.gnu.gdb.arm.m-profile", "armv7e-m"),
        (3, "org.gnu.gdb.mips.cp0", "mips"),
    ] {
        assert_eq!(c.ask(&format!("Hgp{pid}.1")), "OK");
        let mut xml = String::new();
        loop {
            let r = c.ask(&format!(
                "qXfer:features:read:target.xml:{:x},200",
                xml.len()
            ));
            xml.push_str(&r[1..]);
            if r.starts_with('l') {
                break;
            }
        }
        assert!(
            xml.contains(feature) && xml.contains(&format!("<architecture>{arch}<")),
            "{xml}"
        );
    }

    // Registers in each cluster's byte order: the MIPS pc (register 34:
    // r0-r31, lo, hi, pc) is big endian.
    let (mips_elf, _, _) = INFERIORS[2];
    let start = elf_symbol(mips_elf, "_start");
    assert_eq!(c.ask("Hgp3.1"), "OK");
    assert_eq!(c.ask("p22"), format!("{start:08x}"));
    // Its memory through its own view (kseg0), first word as the file has it.
    let word = c.ask(&format!("m{start:x},4"));
    assert_eq!(word.len(), 8, "{word}");
    // The shared SRAM: written through the riscv64 view, read through
    // the MIPS (kseg1) and Cortex-M ones.
    assert_eq!(c.ask("Hgp1.1"), "OK");
    assert_eq!(c.ask("M90000010,4:11223344"), "OK");
    assert_eq!(c.ask("Hgp3.1"), "OK");
    assert_eq!(c.ask("ma1000010,4"), "11223344");
    assert_eq!(c.ask("Hgp2.1"), "OK");
    assert_eq!(c.ask("m60000010,4"), "11223344");
    // Device registers are not read (side effects); unmapped is an error.
    assert_eq!(c.ask("m40004000,4"), "E14");
    assert_eq!(c.ask("m70000000,4"), "E14");

    // Malformed and hostile packets: errors, and the server stays up.
    for bad in [
        "m",
        "mzz,4",
        "M0,4:zz",
        "X0,2:}",
        "Z9,0,4",
        "Hgp99.1",
        "p",
        "P1",
        "P999=00",
        "G00",
        "vCont;x",
        "vCont;s:",
        "qXfer:features:read:other.xml:0,10",
        "Tp9.9",
    ] {
        let r = c.ask(bad);
        assert!(r.starts_with('E') || r.is_empty(), "{bad}: {r}");
    }
    c.s.write_all(b"$m0,4#00").unwrap(); // bad checksum: a NAK, no reply
    assert_eq!(c.ask("Hgp1.1"), "OK");

    // A software breakpoint in riscv64's putc, hit with the JIT's blocks
    // in place: the characters arrive in order (the first line printed).
    let (rv_elf, _, _) = INFERIORS[0];
    let putc = elf_symbol(rv_elf, "putc");
    assert_eq!(c.ask(&format!("Z0,{putc:x},4")), "OK");
    let mut text = String::new();
    for i in 0..9 {
        if i > 0 {
            // Over the breakpoint as GDB does: out, one step, back in.
            assert_eq!(c.ask(&format!("z0,{putc:x},4")), "OK");
            assert_eq!(c.ask("vCont;s:p1.1"), "T05thread:p1.1;");
            assert_eq!(c.ask(&format!("Z0,{putc:x},4")), "OK");
        }
        assert_eq!(c.ask("vCont;c:p1.-1"), "T05thread:p1.1;swbreak:;");
        assert_eq!(le(&c.ask("p20")), putc, "pc at the breakpoint");
        text.push(le(&c.ask("pa")) as u8 as char); // a0
    }
    assert_eq!(text, "xorshift=");
    // Guest memory holds no trace of the breakpoint.
    let mut image = c.ask(&format!("m{putc:x},4"));
    assert_eq!(c.ask(&format!("z0,{putc:x},4")), "OK");
    assert_eq!(c.ask(&format!("m{putc:x},4")), image);
    // A single step moves one instruction (putc's first is 4 bytes).
    assert_eq!(c.ask("vCont;s:p1.1"), "T05thread:p1.1;");
    assert_eq!(le(&c.ask("p20")), putc + 4);
    // Breakpoints inside blocks: one in a block never run before...
    assert_eq!(c.ask(&format!("Z0,{:x},4", putc + 8)), "OK");
    assert_eq!(c.ask("vCont;c:p1.-1"), "T05thread:p1.1;swbreak:;");
    assert_eq!(le(&c.ask("p20")), putc + 8);
    assert_eq!(c.ask(&format!("z0,{:x},4", putc + 8)), "OK");
    // ...and one inside putc's block, translated (and compiled by the
    // JIT) nine calls ago: the next call stops there, with the next
    // character.
    assert_eq!(c.ask(&format!("Z0,{:x},4", putc + 4)), "OK");
    assert_eq!(c.ask("vCont;c:p1.-1"), "T05thread:p1.1;swbreak:;");
    assert_eq!(le(&c.ask("p20")), putc + 4);
    assert_eq!(le(&c.ask("pa")) as u8, b'0');
    assert_eq!(c.ask(&format!("z0,{:x},4", putc + 4)), "OK");
    // A hardware breakpoint in the Cortex-M firmware.
    let (arm_elf, _, _) = INFERIORS[1];
    let puts = elf_symbol(arm_elf, "puts_");
    assert_eq!(c.ask("Hgp2.1"), "OK");
    assert_eq!(c.ask(&format!("Z1,{puts:x},2")), "OK");
    assert_eq!(c.ask("vCont;c:p2.-1"), "T05thread:p2.1;hwbreak:;");
    assert_eq!(le(&c.ask("pf")), puts);
    assert_eq!(c.ask(&format!("z1,{puts:x},2")), "OK");
    // And one in the big-endian MIPS: registers read big endian.
    let mips_puts = elf_symbol(mips_elf, "puts");
    assert_eq!(c.ask("Hgp3.1"), "OK");
    assert_eq!(c.ask(&format!("Z0,{mips_puts:x},4")), "OK");
    assert_eq!(c.ask("vCont;c:p3.-1"), "T05thread:p3.1;swbreak:;");
    assert_eq!(c.ask("p22"), format!("{mips_puts:08x}"));
    assert_eq!(c.ask(&format!("z0,{mips_puts:x},4")), "OK");
    assert_eq!(c.ask("vCont;s:p3.1"), "T05thread:p3.1;");
    assert_eq!(c.ask("p22"), format!("{:08x}", mips_puts + 4));

    // A breakpoint inserted inside a block that already ran (and was
    // found free of breakpoints) many times: putc's store, after the
    // hart stops at the next print_hex ("adler32=...").
    let print_hex = elf_symbol(rv_elf, "print_hex");
    assert_eq!(c.ask("Hgp1.1"), "OK");
    assert_eq!(c.ask(&format!("Z0,{print_hex:x},4")), "OK");
    assert_eq!(c.ask("vCont;c:p1.-1"), "T05thread:p1.1;swbreak:;");
    assert_eq!(le(&c.ask("p20")), print_hex);
    assert_eq!(c.ask(&format!("z0,{print_hex:x},4")), "OK");
    assert_eq!(c.ask(&format!("Z0,{:x},4", putc + 0x10)), "OK");
    assert_eq!(c.ask("vCont;c:p1.-1"), "T05thread:p1.1;swbreak:;");
    assert_eq!(le(&c.ask("p20")), putc + 0x10);
    assert_eq!(le(&c.ask("pa")) as u8, b'a');
    assert_eq!(c.ask(&format!("z0,{:x},4", putc + 0x10)), "OK");

    // Ctrl-C: the riscv64 hart spins on `j .` written into RAM.
    assert_eq!(c.ask("Hgp1.1"), "OK");
    image = c.ask("m80800000,4");
    assert_eq!(image.len(), 8);
    assert_eq!(c.ask("M80800000,4:6f000000"), "OK");
    assert_eq!(c.ask("P20=0000808000000000"), "OK");
    c.send_raw(b"vCont;c:p1.-1");
    std::thread::sleep(Duration::from_millis(200));
    c.s.write_all(&[3]).unwrap();
    assert_eq!(c.recv(), "T02thread:p1.1;");
    assert_eq!(le(&c.ask("p20")), 0x8080_0000);

    // Kill every process: the machine ends.
    assert_eq!(c.ask("vKill;2"), "OK");
    assert_eq!(c.ask("vKill;3"), "OK");
    assert_eq!(c.ask("vKill;1"), "OK");
    let serial0 = hemu.serial0.clone();
    assert_eq!(hemu.wait(), 0);
    // What the riscv64 guest printed between the stops, in order (the
    // last stop was on the store of adler32's 'a').
    let out = std::fs::read_to_string(serial0).unwrap();
    assert_eq!(out, "xorshift=0x6ecc41a6a68bae2b\n");
}

#[test]
fn remote_protocol_session_jit() {
    protocol_session("jit");
}

#[test]
fn remote_protocol_session_interp() {
    protocol_session("interp");
}

fn have_gdb() -> bool {
    Command::new("gdb-multiarch")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn gdb_multiarch(accel: &str) {
    if !have_gdb() {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: gdb-multiarch test: gdb-multiarch missing (apt-get install gdb-multiarch)"
        );
        return;
    }
    let hemu = Hemu::start_on(E2E_MACHINE, E2E_LOAD, E2E_INFERIORS, accel, "gdb");
    let mut script = String::from("set pagination off\nset confirm off\n");
    for (i, (elf, _, _)) in E2E_INFERIORS.iter().enumerate() {
        let n = i + 1;
        if n == 1 {
            script.push_str(&format!(
                "file {elf}\ntarget extended-remote 127.0.0.1:{}\n",
                hemu.port
            ));
        } else {
            script.push_str(&format!(
                "add-inferior\ninferior {n}\nfile {elf}\nattach {n}\n"
            ));
        }
    }
    script.push_str("info inferiors\ninfo threads\n");
    for (i, _) in E2E_INFERIORS.iter().enumerate() {
        script.push_str(&format!(
            "inferior {}\nshow architecture\ninfo registers pc\n",
            i + 1
        ));
    }
    for (i, (_, sym, _)) in E2E_INFERIORS.iter().enumerate() {
        if !sym.is_empty() {
            script.push_str(&format!("inferior {}\ntbreak {sym}\n", i + 1));
        }
    }
    // Every inferior runs; each stop is at a breakpoint not hit before,
    // in whichever cluster reaches it: the registers of the stopped
    // thread, a step, the next instruction.
    // (Resumed from inferior 1: resuming from another inferior than the
    // one that stops first leaves GDB 13 waiting for a reply it got —
    // not understood yet, see the closing note of session 3.)
    script.push_str("inferior 1\nset schedule-multiple on\n");
    for _ in E2E_INFERIORS.iter().filter(|(_, sym, _)| !sym.is_empty()) {
        script.push_str("continue\ninfo registers\nstepi\nx/i $pc\n");
    }
    // To the end, every cluster running (clusters of a machine may need
    // each other to finish).
    script.push_str("delete\ninferior 1\nset schedule-multiple on\ncontinue\n");
    let path = std::env::temp_dir().join(format!("hemu-gdb-{}-{accel}.gdb", std::process::id()));
    std::fs::write(&path, &script).unwrap();
    let mut gdb = Command::new("gdb-multiarch")
        .current_dir(root())
        .args(["-nx", "-batch", "-x"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while gdb.try_wait().unwrap().is_none() {
        if t0.elapsed() > Duration::from_secs(120) {
            let _ = gdb.kill();
            panic!("gdb-multiarch did not finish");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = gdb.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(hemu.wait(), 0, "{text}");
    for (i, (elf, sym, arch)) in E2E_INFERIORS.iter().enumerate() {
        let n = i + 1;
        let name = Path::new(elf).file_name().unwrap().to_string_lossy();
        assert!(
            text.contains(&format!("process {n}")) && text.contains(&*name),
            "inferior {n}: {text}"
        );
        assert!(
            text.contains(&format!("(currently \"{arch}\")")),
            "{arch}: {text}"
        );
        if !sym.is_empty() {
            assert!(
                text.contains(&format!("Thread {n}.1 hit Temporary breakpoint"))
                    && text.contains(&format!(", {sym} (")),
                "breakpoint in {sym}: {text}"
            );
        }
    }
    assert!(text.contains("exited normally"), "{text}");
    assert!(!text.contains("Error"), "{text}");
}

#[test]
fn gdb_multiarch_debugs_the_hetero_machine_jit() {
    gdb_multiarch("jit");
}

#[test]
fn gdb_multiarch_debugs_the_hetero_machine_interp() {
    gdb_multiarch("interp");
}

/// Bad `-gdb`, `-S` and `-device loader` flags: one clear line, status 2.
#[test]
fn bad_flags_are_one_line_errors() {
    let (elf, _, _) = INFERIORS[0];
    let loader = format!("loader,file={elf},cpu-num=0");
    let far = format!("loader,file={elf},cpu-num=99");
    for (args, want) in [
        (
            vec!["-M", MACHINE, "-device", &loader, "-gdb", "udp::1"],
            "expected tcp::PORT",
        ),
        (
            vec!["-M", MACHINE, "-device", &loader, "-gdb", "tcp::99999"],
            "bad port",
        ),
        (
            vec!["-M", MACHINE, "-device", &loader, "-S"],
            "-S needs -qmp or -gdb",
        ),
        (
            vec!["-M", MACHINE, "-device", "e1000,netdev=n"],
            "only the generic loader",
        ),
        (
            vec!["-M", MACHINE, "-device", "loader,cpu-num=1"],
            "give file=",
        ),
        (
            vec!["-M", MACHINE, "-device", "loader,file=x,colour=red"],
            "unknown loader property",
        ),
        (vec!["-M", MACHINE, "-device", &far], "no vCPU 99"),
        (
            vec!["-M", MACHINE, "-device", "loader,file=/nonexistent.elf"],
            "/nonexistent.elf",
        ),
        (
            vec![
                "-M",
                MACHINE,
                "-device",
                &loader,
                "-gdb",
                "tcp::0",
                "-qmp",
                "tcp:127.0.0.1:0,server",
            ],
            "cannot be used together",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_hemu"))
            .args(&args)
            .current_dir(root())
            .output()
            .expect("hemu runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(want) && err.trim_end().lines().count() == 1,
            "{args:?}: {err}"
        );
    }
}

/// A debugger connecting to a running machine stops it (as with QEMU);
/// detaching lets it run on.
#[test]
fn connecting_stops_a_running_machine_and_detaching_resumes_it() {
    // `1: addi t0, t0, 1; j 1b`, raw at virt's reset address.
    let dir = std::env::temp_dir().join(format!("hemu-gdb-{}-count", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let image = dir.join("count.bin");
    std::fs::write(&image, [0x93, 0x82, 0x12, 0x00, 0x6f, 0xf0, 0xdf, 0xff]).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hemu"))
        .current_dir(root())
        .args(["-M", "virt", "-smp", "2", "-gdb", "tcp::0", "-kernel"])
        .arg(&image)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let port: u16 = line.trim().rsplit(':').next().unwrap().parse().unwrap();
    let count = |c: &mut Client| {
        assert!(c.ask("?").starts_with("T05thread:p1.1;"));
        le(&c.ask("p5"))
    };
    let mut c = Client::connect(port);
    // Two harts: two threads of process 1, each with its own registers.
    assert_eq!(c.ask("qfThreadInfo"), "mp1.1,p1.2");
    assert_eq!(c.ask("Hgp1.2"), "OK");
    assert_eq!(c.ask("qC"), "QCp1.2");
    assert!(le(&c.ask("p5")) > 0, "hart 1 counted too");
    assert_eq!(c.ask("Hgp1.3"), "E02");
    assert_eq!(c.ask("Hgp1.1"), "OK");
    let a = count(&mut c);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(count(&mut c), a, "held while the debugger is there");
    assert_eq!(c.ask("D;1"), "OK");
    drop(c);
    std::thread::sleep(Duration::from_millis(100));
    let mut c = Client::connect(port);
    let b = count(&mut c);
    assert!(b > a, "ran on after the detach: {a} then {b}");
    // Killing the last process ends hemu.
    assert_eq!(c.ask("vKill;1"), "OK");
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("hemu did not end");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
