//! Machine-file validation: every file in `tests/machines/` holds one
//! mistake and says on its first line what hemu must report:
//!
//! ```yaml
//! # expect: overlap.yaml:11:7: address space sys: region uart0 ...
//! # profile: NAME        (optional: build with this profile)
//! ```
//!
//! The error (with `tests/machines/` removed from file names) must start
//! with the expected text; `# expect: ok` means the file builds. Adding a
//! case is adding a file. Fragments for `include:` live in
//! `tests/machines/include/`. `HEMU_BLESS=1` rewrites the expectations.

use hemu_runtime::device::CharBackend;
use hemu_runtime::machine::{BuildOptions, Registry};
use hemu_runtime::Machine;
use std::path::Path;

fn reg() -> Registry {
    Registry {
        frontends: hemu_frontends::FRONTENDS,
        devices: hemu_hw::DEVICE_TYPES,
    }
}

/// Build `tests/machines/<file>`: "ok" or the error, relative names.
fn outcome(file: &str, profile: Option<&str>) -> String {
    let dir = "tests/machines/";
    let path = format!("{dir}{file}");
    let src = match hemu_runtime::machine::boot::machine_source(&path, &[]) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let opts = BuildOptions {
        params: Vec::new(),
        serials: vec![CharBackend::null()],
        engine: None,
    };
    match Machine::build_profile(&src, &reg(), opts, profile) {
        Ok(_) => "ok".to_string(),
        Err(e) => e.to_string().replace(dir, ""),
    }
}

#[test]
fn every_fixture_reports_its_error() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::env::set_current_dir(root).unwrap();
    let mut files: Vec<String> = std::fs::read_dir("tests/machines")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "{files:?}");
    let bless = std::env::var_os("HEMU_BLESS").is_some();
    let mut failures = Vec::new();
    for f in &files {
        let path = format!("tests/machines/{f}");
        let text = std::fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap_or("");
        let Some(want) = first.strip_prefix("# expect: ") else {
            failures.push(format!("{f}: first line must be `# expect: ...`"));
            continue;
        };
        let profile = text
            .lines()
            .nth(1)
            .and_then(|l| l.strip_prefix("# profile: "));
        let got = outcome(f, profile);
        assert!(!got.contains('\n'), "{f}: one line: {got}");
        if bless {
            let rest = text.split_once('\n').map_or("", |(_, r)| r);
            std::fs::write(&path, format!("# expect: {got}\n{rest}")).unwrap();
        } else if !got.starts_with(want) || want.is_empty() {
            failures.push(format!("{f}:\n  want: {want}\n  got:  {got}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// No built-in device type has a required property: check the error with
/// a made-up one.
#[test]
fn missing_required_property() {
    use hemu_runtime::device::{DeviceType, PropDesc, PropType};
    use hemu_runtime::machine::file::Source;
    static PROPS: [PropDesc; 1] = [PropDesc {
        name: "size",
        ty: PropType::U64,
        default: None,
        doc: "window size",
        min: 0,
        max: u64::MAX,
    }];
    static NEEDY: DeviceType = DeviceType {
        name: "needy",
        description: "a device with a required property",
        props: &PROPS,
        create: |_| Err("not built in this test".into()),
    };
    static DEVICES: [&DeviceType; 1] = [&NEEDY];
    let reg = Registry {
        frontends: hemu_frontends::FRONTENDS,
        devices: &DEVICES,
    };
    let src = Source {
        file: "needy.yaml".into(),
        text: "name: t\n\
               memory:\n  - { id: ram, size: 1M }\n\
               devices:\n  - { id: n0, type: needy, props: {} }\n\
               address_spaces:\n  sys:\n    - { map: ram, base: 0 }\n\
               clusters:\n  - { id: cpus, arch: riscv, address_space: sys }\n"
            .into(),
    };
    let e = Machine::build(&src, &reg, BuildOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert_eq!(e, "needy.yaml:5:35: device n0: property 'size' is required");
}

/// `include:` merges the fragment's devices, mappings and wires first.
#[test]
fn include_merges_a_fragment() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("tests/machines/include_ok.yaml");
    let opts = BuildOptions {
        params: Vec::new(),
        serials: vec![CharBackend::null()],
        engine: None,
    };
    let m = Machine::from_file(&path, &reg(), opts).unwrap();
    let ids: Vec<&str> = m.memory.devices.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(ids, ["/machine/uart0", "/machine/plic"]);
    let mapped: Vec<&str> = m.spaces[0]
        .regions()
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(mapped, ["plic", "uart0", "ram"]);
    // The fragment's wire and the including file's.
    assert_eq!(m.irq_routes.len(), 3);
}
