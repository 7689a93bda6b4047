//! Architecture invariants of DESIGN.md, checked on the sources.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Package names of the generated ISA frontends.
fn isa_crates() -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root().join("generated"))
        .unwrap()
        .flatten()
    {
        if e.file_name() == "registry" {
            continue;
        }
        let toml = std::fs::read_to_string(e.path().join("Cargo.toml")).unwrap();
        let name = toml
            .lines()
            .find_map(|l| l.strip_prefix("name = "))
            .expect("package name")
            .trim_matches('"')
            .to_string();
        out.push(name);
    }
    assert!(!out.is_empty());
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn runtime_and_hw_depend_on_no_isa_crate() {
    let isas = isa_crates();
    for c in ["runtime", "hw"] {
        let toml = std::fs::read_to_string(root().join(c).join("Cargo.toml")).unwrap();
        for isa in &isas {
            assert!(
                !toml.contains(isa.as_str()),
                "{c}/Cargo.toml depends on ISA crate {isa}"
            );
        }
        let mut files = Vec::new();
        rust_files(&root().join(c).join("src"), &mut files);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for isa in &isas {
                let module = isa.replace('-', "_");
                assert!(!text.contains(&module), "{} names {module}", f.display());
            }
        }
    }
}

#[test]
fn no_global_mutable_state() {
    let mut dirs: Vec<std::path::PathBuf> = ["runtime/src", "hw/src", "src", "codegen/src"]
        .iter()
        .map(|d| root().join(d))
        .collect();
    for e in std::fs::read_dir(root().join("generated"))
        .unwrap()
        .flatten()
    {
        dirs.push(e.path().join("src"));
    }
    for d in dirs {
        let mut files = Vec::new();
        rust_files(&d, &mut files);
        for f in files {
            // The one exception: a host fault handler. Signal dispositions
            // are process-wide by nature; the file holds the disposition it
            // replaced and, per thread, a pointer to the fault map of the
            // JIT running generated code there: no machine state.
            if f.ends_with("runtime/src/jit/fault.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&f).unwrap();
            for bad in [
                "static mut ",
                "thread_local!",
                "lazy_static!",
                "OnceLock<",
                "Mutex<Vec<Machine",
            ] {
                assert!(
                    !text.contains(bad),
                    "{}: `{bad}`: machine state must not be global",
                    f.display()
                );
            }
        }
    }
}

#[test]
fn the_cli_names_no_isa() {
    let main = std::fs::read_to_string(root().join("src/main.rs")).unwrap();
    for isa in isa_crates() {
        assert!(
            !main.contains(&isa.replace('-', "_")),
            "src/main.rs names {isa}"
        );
    }
    assert!(
        !main.to_lowercase().contains("riscv"),
        "src/main.rs names an ISA"
    );
}
