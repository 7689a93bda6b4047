//! Putting a machine together the way the command line and QMP both do:
//! finding and reading its file, mapping `-m`/`-smp` onto its parameters,
//! and loading firmware and kernel images with QEMU's rules.

use super::file::{self, MachineFile, Source};
use super::{find_machine, Machine};
use std::path::{Path, PathBuf};

/// Find machine `name` (a name looked up in `dirs`, or a path) and read it.
pub fn machine_source(name: &str, dirs: &[PathBuf]) -> Result<Source, String> {
    let path = find_machine(name, dirs).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Source {
        file: path.display().to_string(),
        text,
    })
}

/// Parameter settings for QEMU flags (`-m`, `-smp`) that a machine file
/// ties to parameters with `flag:`; a flag it does not know is an error.
pub fn flag_params(
    mf: &MachineFile,
    flags: &[(&str, Option<&str>)],
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (flag, val) in flags {
        if let Some(v) = val {
            let p = mf
                .params
                .iter()
                .find(|(_, d)| d.flag.as_deref() == Some(*flag))
                .map(|(n, _)| n.clone())
                .ok_or_else(|| format!("machine {} has no parameter for {flag}", mf.name))?;
            out.push((p, v.to_string()));
        }
    }
    Ok(out)
}

/// Parse a machine file's text (for [`flag_params`]).
pub fn parse(src: &Source) -> Result<MachineFile, String> {
    file::parse(src).map_err(|e| e.to_string())
}

/// Load a `-bios` or `-kernel` image as QEMU does: an ELF where it says;
/// a raw image at the boot cluster's start address when it is the first
/// image (`entry`), else at the cluster's kernel address. With `entry`,
/// the image's start becomes the boot cluster's start address.
pub fn load_image(m: &mut Machine, path: &Path, entry: bool) -> Result<(), String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let what = |e: crate::loader::LoadError| format!("{}: {e}", path.display());
    let c = m.boot_cluster();
    if data.starts_with(b"\x7fELF") {
        let boot = m.clusters[c].boot;
        let info = m
            .load_elf_named(&data, &path.display().to_string())
            .map_err(what)?;
        if !entry {
            m.set_boot(boot);
            m.set_next_stage(info.entry);
        }
    } else {
        let cl = &m.clusters[c];
        let addr = if entry { cl.boot.entry } else { cl.kernel_addr };
        m.load_raw_named(addr, &data, entry, &path.display().to_string())
            .map_err(what)?;
        if !entry {
            m.set_next_stage(addr);
        }
    }
    Ok(())
}

/// Load any file (QEMU's generic loader): raw at `addr` when given, else
/// an ELF where it says. With `entry`, the boot cluster starts there.
pub fn load_file(
    m: &mut Machine,
    path: &Path,
    addr: Option<u64>,
    entry: bool,
) -> Result<(), String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let what = |e: crate::loader::LoadError| format!("{}: {e}", path.display());
    let name = path.display().to_string();
    match addr {
        Some(a) => m.load_raw_named(a, &data, entry, &name).map_err(what),
        None if data.starts_with(b"\x7fELF") => {
            let boot = m.clusters[m.boot_cluster()].boot;
            m.load_elf_named(&data, &name).map_err(what)?;
            if !entry {
                m.set_boot(boot);
            }
            Ok(())
        }
        None => Err(format!(
            "{name}: not an ELF file; give the address to load it at"
        )),
    }
}
