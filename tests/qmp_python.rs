//! QEMU's own Python QMP client (`qemu.qmp`: `QMPClient` and `qmp-shell`)
//! drives hemu unchanged: tests/qmp/qemu_qmp_client.py. Skipped, saying
//! so on the terminal, when python3 or the package is missing (CI installs
//! it with `python3 -m pip install qemu.qmp`).

use std::io::Write;
use std::path::Path;
use std::process::Command;

#[test]
fn qemus_python_client_and_qmp_shell_drive_hemu() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let have = Command::new("python3")
        .args(["-c", "import qemu.qmp"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        // Straight to the terminal: the harness captures eprintln!.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: qemu.qmp client test: python3 or qemu.qmp missing \
             (python3 -m pip install qemu.qmp)"
        );
        return;
    }
    let out = Command::new("python3")
        .arg(root.join("tests/qmp/qemu_qmp_client.py"))
        .arg(env!("CARGO_BIN_EXE_hemu"))
        .current_dir(root)
        .output()
        .expect("python3 runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "qemu.qmp client test failed:\n{text}");
    assert!(text.contains("checks passed"), "{text}");
}
