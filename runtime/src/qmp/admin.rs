//! QMP commands over types and objects: `qom-list-types`,
//! `device-list-properties`, `qom-list-properties`, `qom-set`,
//! `object-add`/`object-del`, `memsave`/`pmemsave`, and
//! `query-qmp-schema` (generated from the command table and the property
//! declarations of device and object types).

use super::qom::{self, Obj, Tree};
use super::{ArgTy, QmpError, Setup, COMMANDS};
use crate::device::{DeviceConfig, PropDesc, PropType, PropValue};
use crate::machine::object::Phase;
use crate::machine::user::{self, UserObjects};
use crate::machine::{file::parse_u64_str, suggest, Machine, Registry};
use crate::memory::Target;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Abstract types of hemu's small QOM hierarchy: (name, parent).
const ABSTRACT: &[(&str, Option<&str>)] = &[
    ("object", None),
    ("device", Some("object")),
    ("sys-bus-device", Some("device")),
    ("cpu", Some("device")),
];

/// A type of the hierarchy.
struct TypeInfo {
    name: String,
    parent: Option<String>,
    abstract_: bool,
    /// Interfaces it declares (its ancestors' come with them).
    interfaces: &'static [&'static str],
}

/// Every type: the abstract ones, interfaces, device types, user-creatable
/// object types and the vCPU types of every ISA.
fn types(reg: &Registry) -> Vec<TypeInfo> {
    let mut out: Vec<TypeInfo> = ABSTRACT
        .iter()
        .map(|(n, p)| TypeInfo {
            name: n.to_string(),
            parent: p.map(str::to_string),
            abstract_: true,
            interfaces: &[],
        })
        .collect();
    for (n, p, ifs, _) in user::ABSTRACT_TYPES {
        out.push(TypeInfo {
            name: n.to_string(),
            parent: p.map(str::to_string),
            abstract_: true,
            interfaces: ifs,
        });
    }
    for t in user::OBJECT_TYPES {
        out.push(TypeInfo {
            name: t.name.to_string(),
            parent: Some(t.parent.to_string()),
            abstract_: false,
            interfaces: &[],
        });
    }
    for d in reg.device_types() {
        out.push(TypeInfo {
            name: d.name.to_string(),
            parent: Some("sys-bus-device".into()),
            abstract_: false,
            interfaces: &[],
        });
    }
    for f in reg.frontends {
        let isa = format!("{}-cpu", f.name());
        out.push(TypeInfo {
            name: isa.clone(),
            parent: Some("cpu".into()),
            abstract_: false,
            interfaces: &[],
        });
        // The type of a configured vCPU (`riscv64-cpu`, what `qom-list`
        // shows), as a subtype of the ISA's, when it differs.
        if let Ok(model) = f.configure(&[]) {
            let t = format!("{}-cpu", model.target());
            if t != isa && !out.iter().any(|x| x.name == t) {
                out.push(TypeInfo {
                    name: t,
                    parent: Some(isa),
                    abstract_: false,
                    interfaces: &[],
                });
            }
        }
    }
    out
}

/// The ancestry of `name` (itself first) and every interface it
/// implements, through its ancestors and the interfaces' parents.
fn lineage(all: &[TypeInfo], name: &str) -> (Vec<String>, Vec<String>) {
    let find = |n: &str| all.iter().find(|t| t.name == n);
    let mut chain = Vec::new();
    let mut ifs: Vec<String> = Vec::new();
    let mut cur = Some(name.to_string());
    while let Some(c) = cur {
        if chain.contains(&c) {
            break;
        }
        let t = find(&c);
        for i in t.map_or(&[][..], |t| t.interfaces) {
            // An interface implies its parents (except the root).
            let mut j = Some(i.to_string());
            while let Some(x) = j {
                if x == "interface" || ifs.contains(&x) {
                    break;
                }
                j = find(&x).and_then(|t| t.parent.clone());
                ifs.push(x);
            }
        }
        cur = t.and_then(|t| t.parent.clone());
        chain.push(c);
    }
    (chain, ifs)
}

/// `qom-list-types`: concrete types (and abstract ones with `abstract`),
/// narrowed to those that are, derive from, or implement `implements`.
/// Every entry says it is compiled in and which interfaces it implements.
pub fn list_types(reg: &Registry, implements: Option<&str>, abstract_: bool) -> Value {
    let all = types(reg);
    Value::Array(
        all.iter()
            .filter(|t| abstract_ || !t.abstract_)
            .filter_map(|t| {
                let (chain, ifs) = lineage(&all, &t.name);
                if let Some(want) = implements {
                    if !chain.iter().chain(&ifs).any(|n| n == want) {
                        return None;
                    }
                }
                let mut e = json!({"name": t.name, "x-compiled-in": true});
                if let Some(p) = &t.parent {
                    e["parent"] = json!(p);
                }
                if t.abstract_ {
                    e["abstract"] = json!(true);
                }
                if !ifs.is_empty() {
                    e["x-interfaces"] = json!(ifs);
                }
                Some(e)
            })
            .collect(),
    )
}

/// The QOM type name of a property type.
fn qom_type(t: PropType) -> &'static str {
    match t {
        PropType::U64 => "uint64",
        PropType::Bool => "bool",
        PropType::Str => "str",
        PropType::Chardev => "str",
    }
}

/// A default as JSON, typed as the property is.
fn default_value(t: PropType, text: &str) -> Value {
    match t {
        PropType::U64 => parse_u64_str(text).map_or_else(|| json!(text), |n| json!(n)),
        PropType::Bool => json!(matches!(text, "true" | "on")),
        PropType::Str | PropType::Chardev => json!(text),
    }
}

/// One `ObjectPropertyInfo`: name, type, description, default, and the
/// allowed range (`x-min`, `x-max`; also at the end of the description).
fn prop_info(p: &PropDesc) -> Value {
    let desc = match p.range_text() {
        Some(r) => format!("{} ({r})", p.doc),
        None => p.doc.to_string(),
    };
    let mut e = json!({"name": p.name, "type": qom_type(p.ty), "description": desc});
    if let Some(d) = p.default {
        e["default-value"] = default_value(p.ty, d);
    }
    if p.has_range() {
        e["x-min"] = json!(p.min);
        e["x-max"] = json!(p.max);
    }
    e
}

/// `device-list-properties`.
pub fn device_properties(reg: &Registry, typename: &str) -> Result<Value, QmpError> {
    let Some(ty) = reg.device(typename) else {
        if let Some(t) = types(reg).into_iter().find(|t| t.name == typename) {
            if t.abstract_ || user::object_type(typename).is_some() {
                return Err(QmpError::generic(
                    "Parameter 'typename' expects a non-abstract device type",
                ));
            }
            // A vCPU type: configured by its cluster, no device properties.
            return Ok(json!([]));
        }
        // QEMU 7.2 (qom/qom-qmp-cmds.c) answers DeviceNotFound here.
        return Err(QmpError::no_device(format!(
            "Device '{typename}' not found"
        )));
    };
    Ok(Value::Array(ty.props.iter().map(prop_info).collect()))
}

/// `qom-list-properties`: the properties of any concrete type (devices,
/// user-creatable objects; vCPUs have none of their own).
pub fn type_properties(reg: &Registry, typename: &str) -> Result<Value, QmpError> {
    if let Some(t) = user::object_type(typename) {
        return Ok(Value::Array(t.props.iter().map(prop_info).collect()));
    }
    if reg.device(typename).is_some() {
        return device_properties(reg, typename);
    }
    match types(reg).into_iter().find(|t| t.name == typename) {
        Some(_) => Ok(json!([])),
        None => Err(QmpError::generic(format!("Class '{typename}' not found"))),
    }
}

/// A property value from JSON (numbers, booleans, or text as on the
/// command line), checked against its type and declared range.
fn prop_value(ty: &str, p: &PropDesc, v: &Value) -> Result<PropValue, QmpError> {
    let name = p.name;
    let bad = || {
        QmpError::generic(format!(
            "Property '{ty}.{name}' expects {}, not {v}",
            match p.ty {
                PropType::U64 => "an unsigned integer",
                PropType::Bool => "a boolean",
                PropType::Str => "a string",
                PropType::Chardev => "a character backend (serialN or none)",
            }
        ))
    };
    let value = match (p.ty, v) {
        (PropType::U64, Value::Number(n)) => PropValue::U64(n.as_u64().ok_or_else(bad)?),
        (PropType::U64, Value::String(s)) => PropValue::U64(parse_u64_str(s).ok_or_else(bad)?),
        (PropType::Bool, Value::Bool(b)) => PropValue::Bool(*b),
        (PropType::Bool, Value::String(s)) => PropValue::Bool(match s.as_str() {
            "true" | "on" | "yes" => true,
            "false" | "off" | "no" => false,
            _ => return Err(bad()),
        }),
        (PropType::Str, Value::String(s)) => PropValue::Str(s.clone()),
        (PropType::Chardev, Value::String(s)) => {
            let ok = s.is_empty()
                || s == "none"
                || s.strip_prefix("serial")
                    .is_some_and(|n| n.parse::<usize>().is_ok());
            if !ok {
                return Err(bad());
            }
            PropValue::Str(s.clone())
        }
        _ => return Err(bad()),
    };
    if let (PropValue::U64(n), true) = (&value, p.has_range()) {
        if !(p.min..=p.max).contains(n) {
            return Err(QmpError::generic(format!(
                "Property '{ty}.{name}' doesn't take value {n} (out of range {}..={})",
                p.min, p.max
            )));
        }
    }
    Ok(value)
}

/// A configuration of type `ty` with properties `props`: `given` over
/// `base` over the declared defaults, every value checked against its
/// declared type and range.
pub(super) fn config(
    ty: &str,
    props: &[PropDesc],
    given: &[(String, Value)],
    base: &[(String, PropValue)],
    setup: &Setup,
) -> Result<DeviceConfig, QmpError> {
    let mut cfg = DeviceConfig::default();
    for (k, _) in given {
        if !props.iter().any(|p| p.name == k) {
            let names: Vec<&str> = props.iter().map(|p| p.name).collect();
            return Err(QmpError::generic(format!(
                "Property '{ty}.{k}' not found{}",
                suggest(k, &names)
            )));
        }
    }
    for p in props {
        let v = match given.iter().find(|(k, _)| k == p.name) {
            Some((_, v)) => prop_value(ty, p, v)?,
            None => match base.iter().find(|(k, _)| k == p.name) {
                Some((_, v)) => v.clone(),
                None => match p.default {
                    Some(d) => prop_value(ty, p, &json!(d))?,
                    None => {
                        return Err(QmpError::generic(format!(
                            "Property '{ty}.{}' is required",
                            p.name
                        )))
                    }
                },
            },
        };
        if p.ty == PropType::Chardev {
            if let PropValue::Str(s) = &v {
                let n = s
                    .strip_prefix("serial")
                    .and_then(|n| n.parse::<usize>().ok());
                if let Some(b) = n.and_then(|n| setup.serials.get(n)) {
                    cfg.chardevs.insert(p.name.to_string(), b.clone());
                }
            }
        }
        cfg.props.insert(p.name.to_string(), v);
    }
    Ok(cfg)
}

pub(super) fn flush_tlbs(m: &mut Machine) {
    for c in &mut m.clusters {
        for st in &mut c.cpus {
            st.flush_tlb = true;
        }
    }
}

/// The error for setting a configuration property of a realized object.
fn realized_error(prop: &str, path: &str, type_name: &str, what: &str) -> QmpError {
    QmpError::generic(format!(
        "Property '{prop}' of '{path}' can only be set before the {what} is realized \
         (attempt to set property '{prop}' on {path} (type '{type_name}') after it was \
         realized)"
    ))
}

/// `qom-set` on a user-created object: its properties were set by
/// `object-add`, which realizes it, so they are read-only.
pub fn qom_set_object(objects: &UserObjects, i: usize, prop: &str) -> Result<(), QmpError> {
    let Some(u) = objects.all().get(i) else {
        return Err(QmpError::generic(format!("Property '{prop}' not found")));
    };
    let path = format!("/objects/{}", u.id);
    if u.props.iter().any(|(k, _)| k == prop) {
        return Err(realized_error(prop, &path, u.ty.name, "object"));
    }
    if qom::get(Tree::new(None, objects), Obj::User(i), prop).is_some() {
        return Err(QmpError::generic(format!(
            "Property '{}.{prop}' is not writable: it reports state",
            u.ty.name
        )));
    }
    Err(QmpError::generic(format!(
        "Property '{}.{prop}' not found",
        u.ty.name
    )))
}

/// `qom-set`: configuration properties of a device before it is realized
/// (with its machine, when the machine starts: `x-exit-preconfig` or
/// `cont`; at once when hot-plugged into a started machine); the device
/// is re-created from its type with the new value.
pub fn qom_set(
    m: &mut Machine,
    o: Obj,
    prop: &str,
    value: &Value,
    setup: &Setup,
) -> Result<(), QmpError> {
    let t = Tree::of(m);
    let path = qom::path_of(t, o);
    let type_name = qom::type_of(t, o);
    let configurable = match o {
        Obj::Device(d) => m
            .device_props
            .get(d)
            .is_some_and(|ps| ps.iter().any(|(k, _)| k == prop)),
        _ => false,
    };
    let Obj::Device(d) = o else {
        return Err(not_settable(t, o, prop, &type_name));
    };
    if !configurable {
        return Err(not_settable(t, o, prop, &type_name));
    }
    if m.phase(o) == Some(Phase::Realized) {
        return Err(realized_error(prop, &path, &type_name, "machine"));
    }
    let Some(ty) = setup.registry.device(&type_name) else {
        return Err(QmpError::generic(format!(
            "Property '{prop}' of '{path}' cannot be set: no model of type '{type_name}' \
             to re-create it with"
        )));
    };
    let cfg = config(
        ty.name,
        ty.props,
        &[(prop.to_string(), value.clone())],
        &m.device_props[d],
        setup,
    )?;
    let dev = (ty.create)(&cfg)
        .map_err(|e| QmpError::generic(format!("Property '{prop}' of '{path}': {e}")))?;
    if let Some((_, _, size)) = qom::mapping(m, o) {
        if dev.mmio_size() != size {
            return Err(QmpError::generic(format!(
                "Property '{prop}' of '{path}': the new value would change the size of its \
                 mapped window ({size:#x} to {:#x})",
                dev.mmio_size()
            )));
        }
    }
    // The wiring was checked against the old model's inputs: the new one
    // must still have them.
    if let Some(inputs) = dev.irq_inputs() {
        for (&(from, out), targets) in &m.irq_routes {
            for t in targets {
                if let crate::machine::IrqTarget::Device(x, input) = *t {
                    if x == d && !inputs.contains(&input) {
                        return Err(QmpError::generic(format!(
                            "Property '{prop}' of '{path}': input {input}, which {} output \
                             {out} drives, would be out of range {}..={}",
                            m.memory.devices[from].path,
                            inputs.start(),
                            inputs.end()
                        )));
                    }
                }
            }
        }
    }
    m.memory.devices[d].dev = dev;
    m.device_props[d] = cfg.props.into_iter().collect();
    flush_tlbs(m);
    Ok(())
}

fn not_settable(t: Tree<'_>, o: Obj, prop: &str, type_name: &str) -> QmpError {
    if qom::get(t, o, prop).is_some() {
        return QmpError::generic(format!(
            "Property '{type_name}.{prop}' is not writable: it reports state"
        ));
    }
    QmpError::generic(format!("Property '{type_name}.{prop}' not found"))
}

/// `object-add`: create a user-creatable object under `/objects/ID`
/// (`qom-type`, `id`, and the type's properties).
pub fn object_add(
    objects: &mut UserObjects,
    args: &Map<String, Value>,
    setup: &Setup,
) -> Result<(), QmpError> {
    let tyname = args
        .get("qom-type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let id = args.get("id").and_then(Value::as_str).unwrap_or_default();
    let Some(ty) = user::object_type(tyname) else {
        let known = types(&setup.registry).into_iter().any(|t| t.name == tyname);
        return Err(QmpError::generic(if known {
            format!("object type '{tyname}' isn't supported by object-add")
        } else {
            let names: Vec<&str> = user::OBJECT_TYPES.iter().map(|t| t.name).collect();
            format!("invalid object type: {tyname}{}", suggest(tyname, &names))
        }));
    };
    if !id_ok(id) {
        return Err(QmpError::generic(
            "Parameter 'id' expects an identifier (a letter, then letters, digits, '-', '.' \
             or '_')",
        ));
    }
    let given: Vec<(String, Value)> = args
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "qom-type" | "id"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let cfg = config(ty.name, ty.props, &given, &[], setup)?;
    objects
        .add(ty, id, cfg.props.into_iter().collect())
        .map_err(|e| QmpError::generic(e.to_string()))
}

/// Is `id` an identifier, as QEMU's `id_wellformed`?
pub(super) fn id_ok(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
}

/// Copy RAM at physical `pa` of cluster `c`'s space into `out`, up to
/// `len` bytes; Err(address) at the first byte that is not RAM.
fn read_phys(m: &Machine, c: usize, pa: u64, len: u64, out: &mut Vec<u8>) -> Result<(), u64> {
    let space = &m.spaces[m.clusters[c].space];
    let mut a = pa;
    let end = pa + len;
    while a < end {
        let r = space.find(a).ok_or(a)?;
        let Target::Ram { block, offset } = r.target else {
            return Err(a);
        };
        let n = (end - a).min(r.last() - a + 1);
        let off = (a - r.base + offset) as usize;
        let bytes = m.memory.ram[block].bytes();
        let chunk = bytes.get(off..off + n as usize).ok_or(a)?;
        out.extend_from_slice(chunk);
        a += n;
    }
    Ok(())
}

/// `memsave` (cpu: Some, virtual addresses as that vCPU translates them)
/// and `pmemsave` (None: physical addresses of the boot cluster).
pub fn memsave(
    m: &mut Machine,
    addr: u64,
    size: u64,
    filename: &str,
    cpu: Option<usize>,
) -> Result<(), QmpError> {
    let invalid = |at: u64| {
        QmpError::generic(format!(
            "Invalid addr 0x{addr:016x}/size {size} specified: 0x{at:x} is not guest RAM{}",
            if cpu.is_some() {
                " (or not mapped by the vCPU)"
            } else {
                ""
            }
        ))
    };
    if addr.checked_add(size).is_none() {
        return Err(invalid(addr));
    }
    let mut out = Vec::new();
    match cpu {
        None => read_phys(m, m.boot_cluster(), addr, size, &mut out).map_err(invalid)?,
        Some(i) => {
            let (c, k) = qom::cpu_by_index(m, i)
                .ok_or_else(|| QmpError::generic("Parameter 'cpu-index' expects a CPU number"))?;
            const PAGE: u64 = 0x1000;
            let mut va = addr;
            let end = addr + size;
            while va < end {
                let n = (end - va).min(PAGE - (va & (PAGE - 1)));
                let pa = {
                    let cl = &mut m.clusters[c];
                    let mut bus = crate::memory::Bus {
                        space: &m.spaces[cl.space],
                        mem: &mut m.memory,
                    };
                    crate::engine::debug_translate(
                        &*cl.model,
                        &mut cl.cpus[k],
                        &mut bus,
                        va,
                        crate::cpu::AccessKind::Load,
                    )
                    .map_err(|_| invalid(va))?
                };
                read_phys(m, c, pa, n, &mut out).map_err(|_| invalid(va))?;
                va += n;
            }
        }
    }
    std::fs::write(filename, &out)
        .map_err(|e| QmpError::generic(format!("Could not open '{filename}': {e}")))
}

/// A data member of an event: (name, type, optional).
type EventMember = (&'static str, &'static str, bool);

/// The events hemu emits, with their data members.
const EVENTS: &[(&str, &[EventMember])] = &[
    (
        "SHUTDOWN",
        &[("guest", "bool", false), ("reason", "str", false)],
    ),
    (
        "RESET",
        &[("guest", "bool", false), ("reason", "str", false)],
    ),
    ("STOP", &[]),
    ("RESUME", &[]),
    ("POWERDOWN", &[]),
    (
        "DEVICE_DELETED",
        &[("device", "str", true), ("path", "str", false)],
    ),
    (
        "GUEST_PANICKED",
        &[("action", "str", false), ("info", "any", true)],
    ),
];

fn member(name: &str, ty: &str, optional: bool) -> Value {
    let mut m = json!({"name": name, "type": ty});
    if optional {
        m["default"] = Value::Null;
    }
    m
}

fn arg_type(t: ArgTy) -> &'static str {
    match t {
        ArgTy::Str => "str",
        ArgTy::Int => "int",
        ArgTy::Bool => "bool",
        ArgTy::Object | ArgTy::Any => "any",
    }
}

/// `query-qmp-schema`, in QEMU's introspection shape (type names not
/// masked): the commands of the table with their argument objects, the
/// events, every device type's properties as an object type
/// (`x-device-props-<type>`), every user-creatable type's
/// (`x-object-props-<type>`, what `object-add` takes besides `qom-type`
/// and `id`), and the builtin types they use. The order
/// is fixed: commands, events, then types by name.
pub fn schema(reg: &Registry) -> Value {
    let mut out = Vec::new();
    let mut objects: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    objects.insert("q_empty".into(), Vec::new());
    for c in COMMANDS {
        let arg = if c.args.is_empty() {
            "q_empty".to_string()
        } else {
            let t = format!("q_obj_{}-arg", c.name);
            objects.insert(
                t.clone(),
                c.args
                    .iter()
                    .map(|(n, ty, req)| member(n, arg_type(*ty), !req))
                    .collect(),
            );
            t
        };
        out.push(
            json!({"name": c.name, "meta-type": "command", "arg-type": arg,
            "ret-type": "any", "allow-oob": c.name == "qmp_capabilities"}),
        );
    }
    for (name, members) in EVENTS {
        let arg = if members.is_empty() {
            "q_empty".to_string()
        } else {
            let t = format!("q_obj_{name}-arg");
            objects.insert(
                t.clone(),
                members.iter().map(|(n, t, o)| member(n, t, *o)).collect(),
            );
            t
        };
        out.push(json!({"name": name, "meta-type": "event", "arg-type": arg}));
    }
    // Property declarations of device and object types, with their
    // ranges (`x-min`, `x-max`) where they have one.
    let prop_members = |props: &[PropDesc]| -> Vec<Value> {
        props
            .iter()
            .map(|p| {
                let ty = match p.ty {
                    PropType::U64 => "int",
                    PropType::Bool => "bool",
                    PropType::Str | PropType::Chardev => "str",
                };
                let mut m = member(p.name, ty, p.default.is_some());
                if p.has_range() {
                    m["x-min"] = json!(p.min);
                    m["x-max"] = json!(p.max);
                }
                m
            })
            .collect()
    };
    for d in reg.device_types() {
        objects.insert(format!("x-device-props-{}", d.name), prop_members(d.props));
    }
    for t in user::OBJECT_TYPES {
        objects.insert(format!("x-object-props-{}", t.name), prop_members(t.props));
    }
    for (name, members) in objects {
        out.push(json!({"name": name, "meta-type": "object", "members": members}));
    }
    for (name, j) in [
        ("any", "value"),
        ("bool", "boolean"),
        ("int", "int"),
        ("str", "string"),
    ] {
        out.push(json!({"name": name, "meta-type": "builtin", "json-type": j}));
    }
    Value::Array(out)
}
