//! The composition tree QMP's `qom-list` and `qom-get` show, read from a
//! built machine and the user-created objects: `/machine`, its clusters
//! and their vCPUs (`/machine/<cluster>/cpu<N>`, the paths run reports
//! use), its devices and its memory blocks (`/machine/<id>`), and
//! `/objects/<id>` (`object-add`). Paths come from the ids of the machine
//! file and of commands; nothing is numbered behind the user's back, and
//! every object has a parent. Objects with a life cycle show it
//! (`realized`, as QEMU, and `phase`).

use crate::device::PropValue;
use crate::machine::object::Phase;
use crate::machine::user::UserObjects;
use crate::machine::Machine;
use crate::memory::Target;
use serde_json::{json, Value};

pub use crate::machine::object::Obj;

/// What the tree is read from: the machine (if one exists) and the
/// user-created objects.
#[derive(Clone, Copy)]
pub struct Tree<'a> {
    /// The machine.
    pub machine: Option<&'a Machine>,
    /// `/objects`.
    pub objects: &'a UserObjects,
}

/// No user-created objects, for views of a machine alone.
static NO_OBJECTS: UserObjects = UserObjects::new();

impl<'a> Tree<'a> {
    /// A tree of a machine and objects.
    pub fn new(machine: Option<&'a Machine>, objects: &'a UserObjects) -> Tree<'a> {
        Tree { machine, objects }
    }
    /// The tree of a machine alone.
    pub fn of(machine: &'a Machine) -> Tree<'a> {
        Tree {
            machine: Some(machine),
            objects: &NO_OBJECTS,
        }
    }
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
        Obj::Machine => "machine".into(),
        Obj::Cluster(c) => m.clusters[c].id.clone(),
        Obj::Cpu(c, k) => format!("cpu{}", m.clusters[c].cpus[k].index),
        Obj::Device(d) => last(&m.memory.devices[d].path),
        Obj::Ram(b) => last(&m.memory.ram[b].path),
        Obj::Root | Obj::Objects | Obj::User(_) => String::new(),
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
pub fn all(t: Tree<'_>) -> Vec<Obj> {
    let mut out = vec![Obj::Root];
    if let Some(m) = t.machine {
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
    out.push(Obj::Objects);
    out.extend((0..t.objects.all().len()).map(Obj::User));
    out
}

/// The absolute path of an object.
pub fn path_of(t: Tree<'_>, o: Obj) -> String {
    match (t.machine, o) {
        (_, Obj::Root) => "/".into(),
        (_, Obj::Objects) => "/objects".into(),
        (_, Obj::User(i)) => format!(
            "/objects/{}",
            t.objects.all().get(i).map_or("", |u| u.id.as_str())
        ),
        (Some(m), Obj::Cpu(c, _)) => format!("/machine/{}/{}", m.clusters[c].id, id_of(m, o)),
        (Some(m), _) if o != Obj::Machine => format!("/machine/{}", id_of(m, o)),
        _ => "/machine".into(),
    }
}

/// The children of an object: (name, object).
pub fn children(t: Tree<'_>, o: Obj) -> Vec<(String, Obj)> {
    match o {
        Obj::Root => {
            let mut v = Vec::new();
            if t.machine.is_some() {
                v.push(("machine".to_string(), Obj::Machine));
            }
            v.push(("objects".to_string(), Obj::Objects));
            return v;
        }
        Obj::Objects => {
            return t
                .objects
                .all()
                .iter()
                .enumerate()
                .map(|(i, u)| (u.id.clone(), Obj::User(i)))
                .collect()
        }
        _ => {}
    }
    let Some(m) = t.machine else {
        return Vec::new();
    };
    match o {
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
pub fn resolve(t: Tree<'_>, path: &str) -> Result<Obj, LookupError> {
    let objs = all(t);
    if path.starts_with('/') {
        let want = if path.len() > 1 {
            path.trim_end_matches('/')
        } else {
            path
        };
        return objs
            .into_iter()
            .find(|o| path_of(t, *o) == want)
            .ok_or(LookupError::NotFound);
    }
    let suffix = format!("/{}", path.trim_end_matches('/'));
    let mut hits = objs
        .into_iter()
        .filter(|o| *o != Obj::Root && path_of(t, *o).ends_with(&suffix));
    match (hits.next(), hits.next()) {
        (Some(o), None) if !path.is_empty() => Ok(o),
        (Some(_), Some(_)) => Err(LookupError::Ambiguous),
        _ => Err(LookupError::NotFound),
    }
}

/// The QOM type of an object.
pub fn type_of(t: Tree<'_>, o: Obj) -> String {
    match (t.machine, o) {
        (_, Obj::Root | Obj::Objects) => "container".into(),
        (_, Obj::User(i)) => t
            .objects
            .all()
            .get(i)
            .map_or("container", |u| u.ty.name)
            .into(),
        (Some(m), Obj::Machine) => machine_type(m),
        (Some(_), Obj::Cluster(_)) => "cpu-cluster".into(),
        (Some(m), Obj::Cpu(c, _)) => format!("{}-cpu", m.clusters[c].model.target()),
        (Some(m), Obj::Device(d)) => m.memory.devices[d].type_name.to_string(),
        (Some(_), Obj::Ram(_)) => "memory-region".into(),
        (None, _) => "container".into(),
    }
}

/// The life-cycle phase of an object (None: a container).
pub fn phase_of(t: Tree<'_>, o: Obj) -> Option<Phase> {
    match o {
        Obj::User(i) => t.objects.all().get(i).map(|u| u.phase),
        _ => t.machine.and_then(|m| m.phase(o)),
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

fn prop_json(p: &PropValue) -> (&'static str, Value) {
    match p {
        PropValue::U64(n) => ("uint64", json!(n)),
        PropValue::Bool(b) => ("bool", json!(b)),
        PropValue::Str(s) => ("string", json!(s)),
    }
}

/// Properties of an object: (name, QOM type, value).
pub fn props(t: Tree<'_>, o: Obj) -> Vec<(String, String, Value)> {
    let mut v: Vec<(String, String, Value)> =
        vec![("type".into(), "string".into(), json!(type_of(t, o)))];
    if let Some(p) = phase_of(t, o) {
        v.push((
            "realized".into(),
            "bool".into(),
            json!(p == Phase::Realized),
        ));
        v.push(("phase".into(), "string".into(), json!(p.name())));
    }
    if let Obj::User(i) = o {
        if let Some(u) = t.objects.all().get(i) {
            for (k, p) in &u.props {
                let (ty, val) = prop_json(p);
                v.push((k.clone(), ty.into(), val));
            }
            v.push((
                "used-by".into(),
                "string".into(),
                json!(u.used_by.clone().unwrap_or_default()),
            ));
        }
        return v;
    }
    let Some(m) = t.machine else {
        return v;
    };
    let add = |v: &mut Vec<(String, String, Value)>, k: &str, ty: &str, val: Value| {
        v.push((k.to_string(), ty.to_string(), val));
    };
    match o {
        Obj::Root | Obj::Objects | Obj::User(_) => {}
        Obj::Machine => {
            add(&mut v, "name", "string", json!(m.name));
            add(&mut v, "quantum", "uint64", json!(m.quantum));
            add(&mut v, "insn-ns", "uint64", json!(m.insn_ns));
            add(&mut v, "time-ns", "uint64", json!(m.time_ns));
            add(
                &mut v,
                "boot-cluster",
                "string",
                json!(m.clusters[m.boot_cluster()].id),
            );
        }
        Obj::Cluster(c) => {
            let cl = &m.clusters[c];
            add(&mut v, "cluster-id", "uint32", json!(c));
            add(&mut v, "target", "string", json!(cl.model.target()));
            add(&mut v, "num-cpus", "uint32", json!(cl.cpus.len()));
            add(&mut v, "word-bits", "uint32", json!(cl.model.word_bits()));
            add(
                &mut v,
                "address-space",
                "string",
                json!(m.spaces.get(cl.space).map(|s| s.name.clone())),
            );
            add(&mut v, "start-address", "uint64", json!(cl.boot.entry));
        }
        Obj::Cpu(c, k) => {
            let st = &m.clusters[c].cpus[k];
            add(&mut v, "cpu-index", "int", json!(cpu_index(m, c, k)));
            add(&mut v, "core-id", "uint32", json!(st.index));
            add(&mut v, "pc", "uint64", json!(st.pc));
            add(&mut v, "insns", "uint64", json!(st.insns));
            add(&mut v, "halted", "bool", json!(st.waiting));
            add(&mut v, "stopped", "bool", json!(st.stopped.is_some()));
        }
        Obj::Device(d) => {
            if let Some((space, base, size)) = mapping(m, o) {
                add(&mut v, "address-space", "string", json!(space));
                add(&mut v, "base", "uint64", json!(base));
                add(&mut v, "size", "uint64", json!(size));
            }
            // The IRQ wiring, as QEMU's sysbus links: output N → the
            // inputs it drives.
            let mut outs: Vec<(u32, Vec<String>)> = Vec::new();
            for (out, target) in m.irq_outputs(d) {
                let path = m.irq_target_path(target);
                match outs.last_mut() {
                    Some((o, l)) if *o == out => l.push(path),
                    _ => outs.push((out, vec![path])),
                }
            }
            for (out, targets) in outs {
                let (ty, val) = match targets.as_slice() {
                    [one] => ("link<irq>", json!(one)),
                    _ => ("list<link<irq>>", json!(targets)),
                };
                add(&mut v, &format!("sysbus-irq[{out}]"), ty, val);
            }
            if let Some(ps) = m.device_props.get(d) {
                for (k, p) in ps {
                    let (ty, val) = prop_json(p);
                    if !v.iter().any(|(n, _, _)| n == k) {
                        add(&mut v, k, ty, val);
                    }
                }
            }
        }
        Obj::Ram(b) => {
            add(&mut v, "size", "uint64", json!(m.memory.ram[b].size()));
            if let Some((space, base, _)) = mapping(m, o) {
                add(&mut v, "address-space", "string", json!(space));
                add(&mut v, "base", "uint64", json!(base));
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

/// `qom-list`: properties, then children as `child<type>`.
pub fn list(t: Tree<'_>, o: Obj) -> Value {
    let mut out: Vec<Value> = Vec::new();
    for (name, ty, _) in props(t, o) {
        out.push(json!({"name": name, "type": ty}));
    }
    for (name, child) in children(t, o) {
        out.push(json!({"name": name, "type": format!("child<{}>", type_of(t, child))}));
    }
    Value::Array(out)
}

/// `qom-get`.
pub fn get(t: Tree<'_>, o: Obj, prop: &str) -> Option<Value> {
    if let Some((_, _, v)) = props(t, o).into_iter().find(|(n, _, _)| n == prop) {
        return Some(v);
    }
    // A child property reads as the child's path, as in QEMU.
    children(t, o)
        .into_iter()
        .find(|(n, _)| n == prop)
        .map(|(_, c)| json!(path_of(t, c)))
}

/// `info qom-tree`: the tree as indented lines (`/machine`, then
/// `/objects` when it holds anything).
pub fn tree(t: Tree<'_>) -> String {
    fn walk(t: Tree<'_>, o: Obj, name: &str, depth: usize, out: &mut String) {
        out.push_str(&format!(
            "{}{} ({})\n",
            "  ".repeat(depth),
            name,
            type_of(t, o)
        ));
        for (n, c) in children(t, o) {
            walk(t, c, &n, depth + 1, out);
        }
    }
    let mut out = String::new();
    if t.machine.is_some() {
        walk(t, Obj::Machine, "/machine", 0, &mut out);
    }
    if !t.objects.all().is_empty() {
        walk(t, Obj::Objects, "/objects", 0, &mut out);
    }
    if out.is_empty() {
        out.push_str("/ (container)\n");
    }
    out
}
