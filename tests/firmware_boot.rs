//! Real firmware on `-M virt`: Debian's OpenSBI (`opensbi` package) and
//! U-Boot (`u-boot-qemu`) boot to U-Boot's prompt and answer commands typed
//! on stdin — as `qemu-system-riscv64 -M virt` does. Skipped, saying so,
//! when the packages are not installed (CI installs them).

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

const FW_JUMP: &str = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
const UBOOT_S: &str = "/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf";
const UBOOT_M: &str = "/usr/lib/u-boot/qemu-riscv64/u-boot.bin";

/// Generous: the interpreter boots to the prompt in a few seconds.
const TIMEOUT: Duration = Duration::from_secs(120);

struct Console {
    child: Child,
    rx: Receiver<u8>,
    seen: String,
}

impl Console {
    fn start(args: &[&str]) -> Console {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hemu"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("hemu starts");
        let mut out = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut b = [0u8; 1];
            while let Ok(1) = out.read(&mut b) {
                if tx.send(b[0]).is_err() {
                    break;
                }
            }
        });
        Console {
            child,
            rx,
            seen: String::new(),
        }
    }

    /// Read until `text` appears (after what was already consumed).
    fn expect(&mut self, text: &str) {
        let deadline = Instant::now() + TIMEOUT;
        let start = self.seen.len();
        loop {
            if self.seen[start..].contains(text) {
                // Consume up to the end of the match.
                let at = start + self.seen[start..].find(text).unwrap() + text.len();
                self.seen = self.seen[at..].to_string();
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(b) => self.seen.push(b as char),
                Err(_) => {
                    let _ = self.child.kill();
                    panic!(
                        "timed out waiting for {text:?}; console so far:\n{}",
                        self.seen
                    );
                }
            }
        }
    }

    fn send(&mut self, text: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin.write_all(text.as_bytes()).expect("write to hemu");
        stdin.flush().expect("flush");
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn have(files: &[&str]) -> bool {
    let missing: Vec<&&str> = files.iter().filter(|f| !Path::new(f).exists()).collect();
    if !missing.is_empty() {
        eprintln!("SKIPPED: {missing:?} missing (apt-get install opensbi u-boot-qemu)");
        return false;
    }
    true
}

/// Stop autoboot, then run `version`, `bdinfo` and `md` at the prompt.
fn talk_to_uboot(c: &mut Console) {
    c.expect("Hit any key to stop autoboot");
    c.send("\n");
    c.expect("=> ");
    c.send("version\n");
    c.expect("U-Boot 2023.01");
    c.expect("=> ");
    c.send("bdinfo\n");
    c.expect("DRAM bank");
    c.expect("-> size     = 0x0000000008000000");
    c.expect("=> ");
    c.send("md 0x80200000 4\n");
    c.expect("80200000: ");
    c.expect("=> ");
}

#[test]
fn opensbi_and_uboot_smode_reach_the_prompt() {
    if !have(&[FW_JUMP, UBOOT_S]) {
        return;
    }
    let mut c = Console::start(&[
        "-M",
        "virt",
        "-nographic",
        "-bios",
        FW_JUMP,
        "-kernel",
        UBOOT_S,
    ]);
    c.expect("OpenSBI v1.1");
    c.expect("Platform IPI Device       : aclint-mswi");
    c.expect("Platform Timer Device     : aclint-mtimer @ 10000000Hz");
    c.expect("Platform Console Device   : uart8250");
    c.expect("Platform Shutdown Device  : sifive_test");
    c.expect("Domain0 Next Mode         : S-mode");
    c.expect("U-Boot 2023.01");
    talk_to_uboot(&mut c);
}

#[test]
fn opensbi_and_uboot_boot_four_harts() {
    if !have(&[FW_JUMP, UBOOT_S]) {
        return;
    }
    let mut c = Console::start(&[
        "-M",
        "virt",
        "-nographic",
        "-smp",
        "4",
        "-bios",
        FW_JUMP,
        "-kernel",
        UBOOT_S,
    ]);
    c.expect("Platform HART Count       : 4");
    c.expect("Domain0 HARTs             : 0*,1*,2*,3*");
    talk_to_uboot(&mut c);
}

#[test]
fn uboot_mmode_as_bios_reaches_the_prompt() {
    if !have(&[UBOOT_M]) {
        return;
    }
    let mut c = Console::start(&["-M", "virt", "-nographic", "-bios", UBOOT_M]);
    c.expect("U-Boot 2023.01");
    talk_to_uboot(&mut c);
}

/// OpenSBI's fw_dynamic reads the next stage from the `fw_dynamic_info`
/// block hemu passes in a2, as QEMU's virt board does.
#[test]
fn opensbi_fw_dynamic_finds_the_next_stage() {
    const FW_DYNAMIC: &str = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.elf";
    if !have(&[FW_DYNAMIC, UBOOT_S]) {
        return;
    }
    let mut c = Console::start(&[
        "-M",
        "virt",
        "-nographic",
        "-bios",
        FW_DYNAMIC,
        "-kernel",
        UBOOT_S,
    ]);
    c.expect("Domain0 Next Address      : 0x0000000080200000");
    talk_to_uboot(&mut c);
}
