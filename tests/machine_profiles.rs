//! Machine-file profiles (`profiles:`, `--profile`), `hemu machine show`
//! and `hemu machine check`.

use hemu_runtime::device::CharBackend;
use hemu_runtime::machine::file::Source;
use hemu_runtime::machine::{BuildOptions, Registry};
use hemu_runtime::{Machine, RunResult};
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn reg() -> Registry {
    Registry {
        frontends: hemu_frontends::FRONTENDS,
        devices: hemu_hw::DEVICE_TYPES,
    }
}

fn virt() -> Source {
    let file = root().join("machines/virt.yaml");
    Source {
        file: file.display().to_string(),
        text: std::fs::read_to_string(file).unwrap(),
    }
}

fn build(src: &Source, profile: Option<&str>) -> Result<(Machine, CharBackendOut), String> {
    let (serial, out) = CharBackend::buffer();
    let opts = BuildOptions {
        params: Vec::new(),
        serials: vec![serial],
        engine: None,
    };
    Machine::build_profile(src, &reg(), opts, profile)
        .map(|m| (m, out))
        .map_err(|e| e.to_string())
}

type CharBackendOut = std::sync::Arc<std::sync::Mutex<Vec<u8>>>;

fn device_ids(m: &Machine) -> Vec<String> {
    m.memory
        .devices
        .iter()
        .map(|d| d.path.rsplit('/').next().unwrap().to_string())
        .collect()
}

#[test]
fn virt_profiles_select_devices_and_all_run_a_guest() {
    let src = virt();
    let elf = std::fs::read(root().join("tests/guests/riscv/bin/hello64.elf")).unwrap();
    let mut seen = Vec::new();
    for (profile, devices) in [
        (Some("minimal"), vec!["test", "uart0"]),
        (Some("simple"), vec!["test", "clint", "uart0"]),
        (
            Some("recommended"),
            vec!["test", "rtc", "clint", "plic", "uart0"],
        ),
        (None, vec!["test", "rtc", "clint", "plic", "uart0"]),
    ] {
        let (mut m, out) = build(&src, profile).unwrap();
        assert_eq!(device_ids(&m), devices, "{profile:?}");
        // Dropped devices take their mappings and wires with them.
        let mapped: Vec<&str> = m.spaces[0]
            .regions()
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        for d in ["rtc", "plic", "clint"] {
            assert_eq!(
                mapped.contains(&d),
                devices.contains(&d),
                "{profile:?}: {d}"
            );
        }
        m.load_elf(&elf).unwrap();
        m.place_fdt(None, None).unwrap();
        m.reset();
        assert_eq!(
            m.run(Some(10_000_000)),
            RunResult::Shutdown(0),
            "{profile:?}"
        );
        seen.push(String::from_utf8(out.lock().unwrap().clone()).unwrap());
    }
    assert!(
        seen.iter().all(|s| s == "Hello from hemu (rv64)\n"),
        "{seen:?}"
    );
}

#[test]
fn bad_profiles_are_reported_with_file_and_line() {
    let src = virt();
    let e = build(&src, Some("minimall")).err().unwrap();
    assert!(
        e.contains("virt.yaml:") && e.contains("did you mean 'minimal'"),
        "{e}"
    );

    let mut bad = virt();
    bad.text = bad
        .text
        .replace("devices: [test, uart0]", "devices: [test, uart9]");
    let e = build(&bad, Some("minimal")).err().unwrap();
    // The position of the offending id itself: line and column.
    let (line, col) = bad
        .text
        .lines()
        .enumerate()
        .find_map(|(i, l)| l.find("uart9").map(|c| (i + 1, c + 1)))
        .unwrap();
    assert!(
        e.contains(&format!(
            "virt.yaml:{line}:{col}: profile minimal: no device 'uart9'"
        )),
        "{e}"
    );

    let mut bad = virt();
    bad.text = bad
        .text
        .replace("params: { smp: 1 }", "params: { smpp: 1 }");
    let e = build(&bad, Some("simple")).err().unwrap();
    assert!(e.contains("no parameter 'smpp'"), "{e}");

    let mut bad = virt();
    bad.text = bad
        .text
        .replace("devices: [test, uart0]", "devcies: [test]");
    let e = build(&bad, Some("minimal")).err().unwrap();
    assert!(
        e.contains("profile minimal") && e.contains("devcies"),
        "{e}"
    );
}

fn hemu(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hemu"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("hemu runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn machine_show_and_check() {
    let (code, out, err) = hemu(&["machine", "show", "virt,xlen=32", "--profile", "simple"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("machine virt: "), "{out}");
    assert!(out.contains("profile: simple — "), "{out}");
    assert!(out.contains("xlen         = 32"), "{out}");
    assert!(
        out.contains("0000000002000000-000000000200ffff clint    aclint"),
        "{out}"
    );
    assert!(!out.contains("plic"), "{out}");
    assert!(out.contains("clint.1 -> cpus/cpu0 mtip"), "{out}");
    assert!(
        out.contains("profiles (--profile NAME):\n  minimal "),
        "{out}"
    );

    let (code, out, err) = hemu(&["machine", "check", "machines/virt.yaml"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("machines/virt.yaml: ok: machine virt"),
        "{out}"
    );
    assert!(
        out.contains("profiles minimal, recommended, simple"),
        "{out}"
    );

    let (code, _, err) = hemu(&[
        "machine",
        "check",
        "machines/virt.yaml",
        "tests/machines/overlap.yaml",
    ]);
    assert_eq!(code, Some(2));
    assert!(
        err.starts_with("hemu: tests/machines/overlap.yaml:"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    let (code, out, err) = hemu(&[
        "-M",
        "virt",
        "--profile",
        "minimal",
        "-kernel",
        "tests/guests/riscv/bin/hello64.elf",
    ]);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "Hello from hemu (rv64)\n"),
        "{err}"
    );
}
