//! Machine-file profiles, and the human description of a machine that
//! `hemu machine show` prints.
//!
//! A profile is a named selection inside a machine file:
//!
//! ```yaml
//! profiles:
//!   minimal: { doc: "...", devices: [uart0, test], params: { ram_size: 64M } }
//!   simple:  { doc: "...", omit: [rtc, plic] }
//! ```
//!
//! `devices` keeps only the listed devices, `omit` drops the listed ones;
//! mappings and interrupt wires of dropped devices go with them. `params`
//! changes parameter defaults (the command line still overrides them).

use super::file::{self, scalar_text, FileError, MachineFile, Source};
use super::{IrqTarget, Machine};
use crate::memory::Target;
use serde::Deserialize;
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// One profile as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    /// What the profile is for.
    #[serde(default)]
    pub doc: String,
    /// Keep only these devices.
    #[serde(default)]
    pub devices: Option<Vec<String>>,
    /// Drop these devices.
    #[serde(default)]
    pub omit: Vec<String>,
    /// New parameter defaults.
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
}

/// The profiles of a machine file: (name, doc), by name.
pub fn list(_src: &Source, mf: &MachineFile) -> Result<Vec<(String, String)>, FileError> {
    mf.profiles
        .iter()
        .map(|(n, v)| {
            let o = mf.at.top(&format!("profiles.{n}"));
            let p: ProfileSpec = file::typed(&mf.at, &o, v.clone(), &format!("profile {n}"))?;
            Ok((n.clone(), p.doc))
        })
        .collect()
}

/// Narrow `mf` to profile `name`.
pub fn apply(src: &Source, mf: &mut MachineFile, name: &str) -> Result<(), FileError> {
    let Some(raw) = mf.profiles.get(name).cloned() else {
        let names: Vec<&str> = mf.profiles.keys().map(String::as_str).collect();
        let msg = if names.is_empty() {
            format!("machine {} has no profiles", mf.name)
        } else {
            format!(
                "machine {} has no profile '{name}'{}",
                mf.name,
                super::suggest(name, &names)
            )
        };
        let o = mf.at.top("profiles");
        return Err(
            if mf.profiles.is_empty() && !mf.at.keys.contains_key("profiles") {
                FileError {
                    file: src.file.clone(),
                    line: 0,
                    col: 0,
                    msg,
                }
            } else {
                mf.at.key(&o, msg)
            },
        );
    };
    let p = validate(mf, name, raw)?;
    let ids: Vec<String> = mf.devices.iter().map(file::entry_id).collect();
    let dropped: BTreeSet<String> = ids
        .iter()
        .filter(|id| {
            p.omit.contains(id) || p.devices.as_ref().is_some_and(|keep| !keep.contains(id))
        })
        .cloned()
        .collect();
    let gone = |v: &Value, key: &str| {
        v.get(key)
            .and_then(scalar_text)
            .is_some_and(|id| dropped.contains(&id))
    };
    let keep: Vec<bool> = mf
        .devices
        .iter()
        .map(|d| !dropped.contains(&file::entry_id(d)))
        .collect();
    file::Origins::retain(&mut mf.at.devices, &keep);
    mf.devices.retain(|d| !dropped.contains(&file::entry_id(d)));
    for (space, maps) in mf.address_spaces.iter_mut() {
        let keep: Vec<bool> = maps.iter().map(|m| !gone(m, "map")).collect();
        if let Some(l) = mf.at.maps.get_mut(space) {
            file::Origins::retain(l, &keep);
        }
        maps.retain(|m| !gone(m, "map"));
    }
    let keep: Vec<bool> = mf
        .irqs
        .iter()
        .map(|w| !gone(w, "from") && !gone(w, "to"))
        .collect();
    file::Origins::retain(&mut mf.at.irqs, &keep);
    mf.irqs.retain(|w| !gone(w, "from") && !gone(w, "to"));
    if let Some(Value::Mapping(f)) = &mut mf.fdt {
        let stdout = Value::String("stdout".into());
        if f.get(&stdout)
            .and_then(scalar_text)
            .is_some_and(|s| dropped.contains(&s))
        {
            f.remove(&stdout);
        }
    }
    for (k, v) in p.params {
        if let Some(decl) = mf.params.get_mut(&k) {
            decl.default = v;
        }
    }
    Ok(())
}

/// Check every profile of `mf`: its keys, device ids and parameters.
pub fn check(mf: &MachineFile) -> Result<(), FileError> {
    for (name, raw) in &mf.profiles {
        validate(mf, name, raw.clone())?;
    }
    Ok(())
}

/// Type profile `name` and check the ids and parameters it names.
fn validate(mf: &MachineFile, name: &str, raw: Value) -> Result<ProfileSpec, FileError> {
    let o = mf.at.top(&format!("profiles.{name}"));
    let p: ProfileSpec = file::typed(&mf.at, &o, raw, &format!("profile {name}"))?;
    let ids: Vec<String> = mf.devices.iter().map(file::entry_id).collect();
    let listed = p
        .devices
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, id)| (format!(".devices[{i}]"), id))
        .chain(
            p.omit
                .iter()
                .enumerate()
                .map(|(i, id)| (format!(".omit[{i}]"), id)),
        );
    for (path, id) in listed {
        if !ids.contains(id) {
            let known: Vec<&str> = ids.iter().map(String::as_str).collect();
            return Err(mf.at.val(
                &o.sub(&path),
                format!(
                    "profile {name}: no device '{id}'{}",
                    super::suggest(id, &known)
                ),
            ));
        }
    }
    for k in p.params.keys() {
        if !mf.params.contains_key(k) {
            return Err(mf.at.key(
                &o.sub(&format!(".params.{k}")),
                format!("profile {name}: machine {} has no parameter '{k}'", mf.name),
            ));
        }
    }
    Ok(p)
}

/// What `hemu machine show` prints: parameters, clusters, the memory map
/// of each address space, interrupt wiring and profiles.
pub fn describe(
    src: &Source,
    mf: &MachineFile,
    m: &Machine,
    profile: Option<&str>,
    params: &[(String, String)],
) -> Result<String, FileError> {
    let mut out = String::new();
    let _ = writeln!(out, "machine {}: {}", mf.name, mf.description);
    let _ = writeln!(out, "file: {}", src.file);
    if let Some(p) = profile {
        let doc = list(src, mf)?
            .into_iter()
            .find(|(n, _)| n == p)
            .map(|(_, d)| d)
            .unwrap_or_default();
        let _ = writeln!(out, "profile: {p} — {doc}");
    }
    let resolved = file::resolve_params(src, mf, params)?;
    let _ = writeln!(out, "\nparameters:");
    for (n, d) in &mf.params {
        let v = resolved.get(n).and_then(scalar_text).unwrap_or_default();
        let allowed: Vec<String> = d.values.iter().filter_map(scalar_text).collect();
        let mut extra = String::new();
        if !allowed.is_empty() {
            extra = format!(" [{}]", allowed.join("|"));
        }
        if let Some(f) = &d.flag {
            extra.push_str(&format!(" ({f})"));
        }
        let _ = writeln!(out, "  {n:<12} = {v:<10} {}{extra}: {}", d.ty, d.doc);
    }
    let _ = writeln!(out, "\nclusters:");
    for (i, c) in m.clusters.iter().enumerate() {
        let boot = if i == m.boot_cluster() { ", boot" } else { "" };
        let held = if c.start_held { ", held in reset" } else { "" };
        let image = c
            .image
            .as_ref()
            .map(|p| format!(", image {}", p.display()))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<12} {} x{}, address space {}, start {:#x}{boot}{held}{image}",
            c.id,
            c.model.target(),
            c.cpus.len(),
            m.spaces[c.space].name,
            c.boot.entry
        );
    }
    for s in &m.spaces {
        let _ = writeln!(out, "\naddress space {}:", s.name);
        for r in s.regions() {
            let what = match r.target {
                Target::Ram { offset, .. } if offset != 0 => format!("ram @{offset:#x}"),
                Target::Ram { .. } => "ram".to_string(),
                Target::Mmio { device } => m.memory.devices[device].type_name.to_string(),
            };
            let _ = writeln!(
                out,
                "  {:016x}-{:016x} {:<8} {what}",
                r.base,
                r.last(),
                r.name
            );
        }
    }
    let _ = writeln!(out, "\ndevices:");
    for (d, slot) in m.memory.devices.iter().enumerate() {
        let id = slot.path.rsplit('/').next().unwrap_or("");
        let props: Vec<String> = m
            .device_props
            .get(d)
            .into_iter()
            .flatten()
            .map(|(k, v)| match v {
                crate::device::PropValue::U64(n) => format!("{k}={n}"),
                crate::device::PropValue::Bool(b) => format!("{k}={b}"),
                crate::device::PropValue::Str(s) => format!("{k}={s}"),
            })
            .collect();
        let _ = writeln!(out, "  {id:<12} {:<14} {}", slot.type_name, props.join(" "));
    }
    let _ = writeln!(out, "\ninterrupts:");
    if m.irq_routes.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    let dev_id = |d: usize| {
        m.memory.devices[d]
            .path
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string()
    };
    for ((from, o), targets) in &m.irq_routes {
        for t in targets {
            let to = match *t {
                IrqTarget::Device(d, input) => format!("{} input {input}", dev_id(d)),
                IrqTarget::Cpu(c, k, line) => {
                    let cl = &m.clusters[c];
                    let name = cl
                        .model
                        .irq_lines()
                        .iter()
                        .find(|(_, n)| *n == line)
                        .map_or(line.to_string(), |(n, _)| n.to_string());
                    format!("{}/cpu{} {name}", cl.id, cl.cpus[k].index)
                }
                IrqTarget::Reset(c) => format!("{} reset", m.clusters[c].id),
            };
            let _ = writeln!(out, "  {}.{o} -> {to}", dev_id(*from));
        }
    }
    let profiles = list(src, mf)?;
    if !profiles.is_empty() {
        let _ = writeln!(out, "\nprofiles (--profile NAME):");
        for (n, d) in profiles {
            let _ = writeln!(out, "  {n:<12} {d}");
        }
    }
    Ok(out)
}
