//! The composition tree QMP's `qom-list` and `qom-get` show, read from a
//! built machine: `/machine`, its clusters and their vCPUs
//! (`/machine/<cluster>/cpu<N>`, the paths run reports use), its devices
//! and its memory blocks (`/machine/<id>`). Paths come from the ids of
//! the machine file; nothing is numbered behind the user's back.

use crate::device::PropValue;
use crate::machine::Machine;
use crate::memory::Target;
use serde_json::{json, Value};

/// An object of the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Obj {
    /// `/`.
    Root,
    /// `/machine`.
    Machine,
    /// A cluster, by index.
    Cluster(usize),
    /// A vCPU: (cluster, index in the cluster).
    Cpu(usize, usize),
    /// A device, by index in `memory.devices`.
    Device(usize),
    /// A RAM/ROM block, by index in `memory.ram`.
    Ram(usize),
}

/// Why a path names nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LookupError {
    /// No object there.
    NotFound,
    /// A partial path matches several objects.
    Ambiguous,
}

/// The QOM type name of the machine.
fn machine_type(m: &Machine) -> String {
    format!("{}-machine", m.name)
}

/// The id (last path component) of a child of `/machine`.
fn id_of(m: &Machine, o: Obj) -> String {
    match o {
        Obj::Root => String::new(),
        Obj::Machine => "machine".into(),
        Obj::Cluster(c) => m.clusters[c].id.clone(),
        Obj::Cpu(c, k) => format!("cpu{}", m.clusters[c].cpus[k].index),
        Obj::Device(d) => last(&m.memory.devices[d].path),
        Obj::Ram(b) => last(&m.memory.ram[b].path),
    }
}

fn last(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// Indices of the devices in the tree (not removed by `device_del`).
pub fn devices(m: &Machine) -> impl Iterator<Item = usize> + '_ {
    (0..m.memory.devices.len()).filter(|d| !m.memory.devices[*d].path.is_empty())
}

/// Every object, in tree order.
pub fn all(m: Option<&Machine>) -> Vec<Obj> {
    let mut out = vec![Obj::Root];
    if let Some(m) = m {
        out.push(Obj::Machine);
        for c in 0..m.clusters.len() {
            out.push(Obj::Cluster(c));
            for k in 0..m.clusters[c].cpus.len() {
                out.push(Obj::Cpu(c, k));
            }
        }
        out.extend(devices(m).map(Obj::Device));
        out.extend((0..m.memory.ram.len()).map(Obj::Ram));
    }
    out
}

/// The absolute path of an object.
pub fn path_of(m: Option<&Machine>, o: Obj) -> String {
    match (m, o) {
        (_, Obj::Root) => "/".into(),
        (Some(m), Obj::Cpu(c, _)) => format!("/machine/{}/{}", m.clusters[c].id, id_of(m, o)),
        (Some(m), _) if o != Obj::Machine => format!("/machine/{}", id_of(m, o)),
        _ => "/machine".into(),
    }
}

/// The children of an object: (name, object).
pub fn children(m: Option<&Machine>, o: Obj) -> Vec<(String, Obj)> {
    let Some(m) = m else {
        return Vec::new();
    };
    match o {
        Obj::Root => vec![("machine".into(), Obj::Machine)],
        Obj::Machine => {
            let mut v: Vec<(String, Obj)> = Vec::new();
            v.extend((0..m.clusters.len()).map(|c| (id_of(m, Obj::Cluster(c)), Obj::Cluster(c))));
            v.extend(devices(m).map(|d| (id_of(m, Obj::Device(d)), Obj::Device(d))));
            v.extend((0..m.memory.ram.len()).map(|b| (id_of(m, Obj::Ram(b)), Obj::Ram(b))));
            v
        }
        Obj::Cluster(c) => (0..m.clusters[c].cpus.len())
            .map(|k| (id_of(m, Obj::Cpu(c, k)), Obj::Cpu(c, k)))
            .collect(),
        _ => Vec::new(),
    }
}

/// Resolve a path: absolute (`/machine/uart0`), or partial (`uart0`,
/// `cpus/cpu0`) when exactly one object's path ends with it.
pub fn resolve(m: Option<&Machine>, path: &str) -> Result<Obj, LookupError> {
    let objs = all(m);
    if path.starts_with('/') {
        let want = if path.len() > 1 {
            path.trim_end_matches('/')
        } else {
            path
        };
        return objs
            .into_iter()
            .find(|o| path_of(m, *o) == want)
            .ok_or(LookupError::NotFound);
    }
    let suffix = format!("/{}", path.trim_end_matches('/'));
    let mut hits = objs
        .into_iter()
        .filter(|o| *o != Obj::Root && path_of(m, *o).ends_with(&suffix));
    match (hits.next(), hits.next()) {
        (Some(o), None) if !path.is_empty() => Ok(o),
        (Some(_), Some(_)) => Err(LookupError::Ambiguous),
        _ => Err(LookupError::NotFound),
    }
}

/// The QOM type of an object.
pub fn type_of(m: Option<&Machine>, o: Obj) -> String {
    match (m, o) {
        (_, Obj::Root) => "container".into(),
        (Some(m), Obj::Machine) => machine_type(m),
        (Some(_), Obj::Cluster(_)) => "cpu-cluster".into(),
        (Some(m), Obj::Cpu(c, _)) => format!("{}-cpu", m.clusters[c].model.target()),
        (Some(m), Obj::Device(d)) => m.memory.devices[d].type_name.to_string(),
        (Some(_), Obj::Ram(_)) => "memory-region".into(),
        (None, _) => "container".into(),
    }
}

/// First mapping of a device or RAM block in any address space:
/// (space name, base, size).
pub fn mapping(m: &Machine, o: Obj) -> Option<(String, u64, u64)> {
    m.spaces.iter().find_map(|s| {
        s.regions()
            .iter()
            .find(|r| match (o, r.target) {
                (Obj::Device(d), Target::Mmio { device }) => device == d,
                (Obj::Ram(b), Target::Ram { block, .. }) => block == b,
                _ => false,
            })
            .map(|r| (s.name.clone(), r.base, r.size))
    })
}

/// Properties of an object: (name, QOM type, value).
pub fn props(m: Option<&Machine>, o: Obj) -> Vec<(String, &'static str, Value)> {
    let mut v = vec![("type".to_string(), "string", json!(type_of(m, o)))];
    let Some(m) = m else {
        return v;
    };
    match o {
        Obj::Root => {}
        Obj::Machine => {
            v.push(("name".into(), "string", json!(m.name)));
            v.push(("quantum".into(), "uint64", json!(m.quantum)));
            v.push(("insn-ns".into(), "uint64", json!(m.insn_ns)));
            v.push(("time-ns".into(), "uint64", json!(m.time_ns)));
            v.push((
                "boot-cluster".into(),
                "string",
                json!(m.clusters[m.boot_cluster()].id),
            ));
        }
        Obj::Cluster(c) => {
            let cl = &m.clusters[c];
            v.push(("cluster-id".into(), "uint32", json!(c)));
            v.push(("target".into(), "string", json!(cl.model.target())));
            v.push(("num-cpus".into(), "uint32", json!(cl.cpus.len())));
            v.push(("word-bits".into(), "uint32", json!(cl.model.word_bits())));
            v.push((
                "address-space".into(),
                "string",
                json!(m.spaces.get(cl.space).map(|s| s.name.clone())),
            ));
            v.push(("start-address".into(), "uint64", json!(cl.boot.entry)));
        }
        Obj::Cpu(c, k) => {
            let st = &m.clusters[c].cpus[k];
            v.push(("cpu-index".into(), "int", json!(cpu_index(m, c, k))));
            v.push(("core-id".into(), "uint32", json!(st.index)));
            v.push(("pc".into(), "uint64", json!(st.pc)));
            v.push(("insns".into(), "uint64", json!(st.insns)));
            v.push(("halted".into(), "bool", json!(st.waiting)));
            v.push(("stopped".into(), "bool", json!(st.stopped.is_some())));
        }
        Obj::Device(d) => {
            if let Some((space, base, size)) = mapping(m, o) {
                v.push(("address-space".into(), "string", json!(space)));
                v.push(("base".into(), "uint64", json!(base)));
                v.push(("size".into(), "uint64", json!(size)));
            }
            if let Some(ps) = m.device_props.get(d) {
                for (k, p) in ps {
                    let (ty, val) = match p {
                        PropValue::U64(n) => ("uint64", json!(n)),
                        PropValue::Bool(b) => ("bool", json!(b)),
                        PropValue::Str(s) => ("string", json!(s)),
                    };
                    if !v.iter().any(|(n, _, _)| n == k) {
                        v.push((k.clone(), ty, val));
                    }
                }
            }
        }
        Obj::Ram(b) => {
            v.push(("size".into(), "uint64", json!(m.memory.ram[b].size())));
            if let Some((space, base, _)) = mapping(m, o) {
                v.push(("address-space".into(), "string", json!(space)));
                v.push(("base".into(), "uint64", json!(base)));
            }
        }
    }
    v
}

/// The machine-wide index of vCPU `k` of cluster `c` (QMP's `cpu-index`).
pub fn cpu_index(m: &Machine, c: usize, k: usize) -> usize {
    m.clusters[..c]
        .iter()
        .map(|cl| cl.cpus.len())
        .sum::<usize>()
        + k
}

/// The vCPU with machine-wide index `i`.
pub fn cpu_by_index(m: &Machine, i: usize) -> Option<(usize, usize)> {
    let mut i = i;
    for (c, cl) in m.clusters.iter().enumerate() {
        if i < cl.cpus.len() {
            return Some((c, i));
        }
        i -= cl.cpus.len();
    }
    None
}

/// `qom-list`: children as `child<type>`, then properties.
pub fn list(m: Option<&Machine>, o: Obj) -> Value {
    let mut out: Vec<Value> = Vec::new();
    for (name, ty, _) in props(m, o) {
        out.push(json!({"name": name, "type": ty}));
    }
    for (name, child) in children(m, o) {
        out.push(json!({"name": name, "type": format!("child<{}>", type_of(m, child))}));
    }
    Value::Array(out)
}

/// `qom-get`.
pub fn get(m: Option<&Machine>, o: Obj, prop: &str) -> Option<Value> {
    if let Some((_, _, v)) = props(m, o).into_iter().find(|(n, _, _)| n == prop) {
        return Some(v);
    }
    // A child property reads as the child's path, as in QEMU.
    children(m, o)
        .into_iter()
        .find(|(n, _)| n == prop)
        .map(|(_, c)| json!(path_of(m, c)))
}

/// `info qom-tree`: the tree as indented lines.
pub fn tree(m: Option<&Machine>) -> String {
    fn walk(m: Option<&Machine>, o: Obj, name: &str, depth: usize, out: &mut String) {
        out.push_str(&format!(
            "{}{} ({})\n",
            "  ".repeat(depth),
            name,
            type_of(m, o)
        ));
        for (n, c) in children(m, o) {
            walk(m, c, &n, depth + 1, out);
        }
    }
    let mut out = String::new();
    if m.is_some() {
        walk(m, Obj::Machine, "/machine", 0, &mut out);
    } else {
        out.push_str("/ (container)\n");
    }
    out
}
