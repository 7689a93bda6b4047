//! QMP commands over types and devices: `qom-list-types`,
//! `device-list-properties`, `qom-set`, `device_add` (hot-plug),
//! `memsave`/`pmemsave`, and `query-qmp-schema` (generated from the
//! command table and the device property declarations).

use super::qom::{self, Obj};
use super::{ArgTy, QmpError, Setup, COMMANDS};
use crate::device::{DeviceConfig, DeviceType, PropType, PropValue};
use crate::machine::{file::parse_u64_str, suggest, Machine, Registry};
use crate::memory::{DeviceSlot, Region, Target};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Abstract types of hemu's small QOM hierarchy: (name, parent).
const ABSTRACT: &[(&str, Option<&str>)] = &[
    ("object", None),
    ("device", Some("object")),
    ("sys-bus-device", Some("device")),
    ("cpu", Some("device")),
];

/// Every type: (name, parent, abstract).
fn types(reg: &Registry) -> Vec<(String, Option<String>, bool)> {
    let mut out: Vec<(String, Option<String>, bool)> = ABSTRACT
        .iter()
        .map(|(n, p)| (n.to_string(), p.map(str::to_string), true))
        .collect();
    for d in reg.device_types() {
        out.push((d.name.to_string(), Some("sys-bus-device".into()), false));
    }
    for f in reg.frontends {
        let isa = format!("{}-cpu", f.name());
        out.push((isa.clone(), Some("cpu".into()), false));
        // The type of a configured vCPU (`riscv64-cpu`, what `qom-list`
        // shows), as a subtype of the ISA's, when it differs.
        if let Ok(model) = f.configure(&[]) {
            let t = format!("{}-cpu", model.target());
            if t != isa && !out.iter().any(|(n, _, _)| *n == t) {
                out.push((t, Some(isa), false));
            }
        }
    }
    out
}

/// `qom-list-types`: concrete types (and abstract ones with `abstract`),
/// narrowed to those that are or derive from `implements`.
pub fn list_types(reg: &Registry, implements: Option<&str>, abstract_: bool) -> Value {
    let all = types(reg);
    let parent = |n: &str| {
        all.iter()
            .find(|(t, _, _)| t == n)
            .and_then(|(_, p, _)| p.clone())
    };
    let is_a = |n: &str, want: &str| {
        let mut cur = Some(n.to_string());
        while let Some(c) = cur {
            if c == want {
                return true;
            }
            cur = parent(&c);
        }
        false
    };
    Value::Array(
        all.iter()
            .filter(|(_, _, a)| abstract_ || !a)
            .filter(|(n, _, _)| implements.is_none_or(|i| is_a(n, i)))
            .map(|(n, p, a)| {
                let mut e = json!({"name": n, "x-compiled-in": true});
                if let Some(p) = p {
                    e["parent"] = json!(p);
                }
                if *a {
                    e["abstract"] = json!(true);
                }
                e
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

/// `device-list-properties`.
pub fn device_properties(reg: &Registry, typename: &str) -> Result<Value, QmpError> {
    let Some(ty) = reg.device(typename) else {
        if let Some((_, _, a)) = types(reg).into_iter().find(|(n, _, _)| n == typename) {
            if a {
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
    Ok(Value::Array(
        ty.props
            .iter()
            .map(|p| {
                let mut e = json!({"name": p.name, "type": qom_type(p.ty), "description": p.doc});
                if let Some(d) = p.default {
                    e["default-value"] = default_value(p.ty, d);
                }
                e
            })
            .collect(),
    ))
}

/// A property value from JSON (numbers, booleans, or text as on the
/// command line).
fn prop_value(ty: &DeviceType, name: &str, t: PropType, v: &Value) -> Result<PropValue, QmpError> {
    let bad = || {
        QmpError::generic(format!(
            "Property '{}.{name}' expects {}, not {v}",
            ty.name,
            match t {
                PropType::U64 => "an unsigned integer",
                PropType::Bool => "a boolean",
                PropType::Str => "a string",
                PropType::Chardev => "a character backend (serialN or none)",
            }
        ))
    };
    Ok(match (t, v) {
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
    })
}

/// A device configuration: `given` over `base` over the declared
/// defaults, every value checked against its declared type.
fn config(
    ty: &DeviceType,
    given: &[(String, Value)],
    base: &[(String, PropValue)],
    setup: &Setup,
) -> Result<DeviceConfig, QmpError> {
    let mut cfg = DeviceConfig::default();
    for (k, _) in given {
        if !ty.props.iter().any(|p| p.name == k) {
            let names: Vec<&str> = ty.props.iter().map(|p| p.name).collect();
            return Err(QmpError::generic(format!(
                "Property '{}.{k}' not found{}",
                ty.name,
                suggest(k, &names)
            )));
        }
    }
    for p in ty.props {
        let v = match given.iter().find(|(k, _)| k == p.name) {
            Some((_, v)) => prop_value(ty, p.name, p.ty, v)?,
            None => match base.iter().find(|(k, _)| k == p.name) {
                Some((_, v)) => v.clone(),
                None => match p.default {
                    Some(d) => prop_value(ty, p.name, p.ty, &json!(d))?,
                    None => {
                        return Err(QmpError::generic(format!(
                            "Property '{}.{}' is required",
                            ty.name, p.name
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

fn flush_tlbs(m: &mut Machine) {
    for c in &mut m.clusters {
        for st in &mut c.cpus {
            st.flush_tlb = true;
        }
    }
}

/// `qom-set`: configuration properties of a device, before the machine
/// is realized (its device tree placed and reset: `x-exit-preconfig` or
/// `cont`); the device is re-created from its type with the new value.
pub fn qom_set(
    m: &mut Machine,
    o: Obj,
    prop: &str,
    value: &Value,
    realized: bool,
    setup: &Setup,
) -> Result<(), QmpError> {
    let path = qom::path_of(Some(m), o);
    let type_name = qom::type_of(Some(m), o);
    let configurable = match o {
        Obj::Device(d) => m
            .device_props
            .get(d)
            .is_some_and(|ps| ps.iter().any(|(k, _)| k == prop)),
        _ => false,
    };
    if !configurable {
        if qom::get(Some(m), o, prop).is_some() {
            return Err(QmpError::generic(format!(
                "Property '{type_name}.{prop}' is not writable: it reports state"
            )));
        }
        return Err(QmpError::generic(format!(
            "Property '{type_name}.{prop}' not found"
        )));
    }
    let Obj::Device(d) = o else {
        unreachable!("only devices have configuration properties")
    };
    if realized {
        return Err(QmpError::generic(format!(
            "Property '{prop}' of '{path}' can only be set before the machine is realized \
             (attempt to set property '{prop}' on device '{path}' (type '{type_name}') \
             after it was realized)"
        )));
    }
    let Some(ty) = setup.registry.device(&type_name) else {
        return Err(QmpError::generic(format!(
            "Property '{prop}' of '{path}' cannot be set: no model of type '{type_name}' \
             to re-create it with"
        )));
    };
    let cfg = config(
        ty,
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
    m.memory.devices[d].dev = dev;
    m.device_props[d] = cfg.props.into_iter().collect();
    flush_tlbs(m);
    Ok(())
}

/// `device_add`: create a device of type `driver` and map it at `addr` in
/// the boot cluster's address space. Everything is checked before the
/// machine changes: a failure leaves it as it was.
pub fn device_add(
    m: &mut Machine,
    args: &Map<String, Value>,
    setup: &Setup,
) -> Result<(), QmpError> {
    let driver = args
        .get("driver")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let id = args.get("id").and_then(Value::as_str).unwrap_or_default();
    let Some(ty) = setup.registry.device(driver) else {
        let names: Vec<&str> = setup.registry.device_types().map(|t| t.name).collect();
        return Err(QmpError::generic(format!(
            "Parameter 'driver' expects a driver name{}",
            suggest(driver, &names)
        )));
    };
    let id_ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && id.starts_with(|c: char| c.is_ascii_alphabetic());
    if !id_ok {
        return Err(QmpError::generic(
            "Parameters 'id' expects an identifier (a letter, then letters, digits, '-', '.' \
             or '_')",
        ));
    }
    if qom::children(Some(m), Obj::Machine)
        .iter()
        .any(|(n, _)| n == id)
    {
        return Err(QmpError::generic(format!("Duplicate ID '{id}' for device")));
    }
    let base = match args.get("addr") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => parse_u64_str(s),
        None => {
            return Err(QmpError::generic(
                "Parameter 'addr' is missing: the base address to map the device at",
            ))
        }
        _ => None,
    }
    .ok_or_else(|| QmpError::generic("Parameter 'addr' expects an address"))?;
    let given: Vec<(String, Value)> = args
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "driver" | "id" | "addr"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let cfg = config(ty, &given, &[], setup)?;
    let dev = (ty.create)(&cfg).map_err(|e| QmpError::generic(format!("{driver}: {e}")))?;
    let size = dev.mmio_size();
    if size == 0 || base.checked_add(size - 1).is_none() {
        return Err(QmpError::generic(format!(
            "{driver}: no window of {size:#x} bytes fits at {base:#x}"
        )));
    }
    let index = m.memory.devices.len();
    let space = m.clusters[m.boot_cluster()].space;
    // `map` checks overlaps before it changes anything.
    m.spaces[space]
        .map(Region {
            name: id.to_string(),
            base,
            size,
            target: Target::Mmio { device: index },
        })
        .map_err(|e| QmpError::generic(format!("device_add {id}: {e}")))?;
    m.memory.devices.push(DeviceSlot {
        path: format!("/machine/{id}"),
        type_name: ty.name,
        endian: crate::ir::Endian::Little,
        dev,
    });
    while m.device_props.len() < index {
        m.device_props.push(Vec::new());
    }
    m.device_props.push(cfg.props.into_iter().collect());
    flush_tlbs(m);
    Ok(())
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
                let pa = if m.clusters[c].cpus[k].mmu_on {
                    let cl = &mut m.clusters[c];
                    let mut bus = crate::memory::Bus {
                        space: &m.spaces[cl.space],
                        mem: &mut m.memory,
                    };
                    cl.model
                        .walk(&mut cl.cpus[k], &mut bus, va, crate::cpu::AccessKind::Load)
                        .map_err(|_| invalid(va))?
                        .paddr
                } else {
                    va
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
/// (`x-device-props-<type>`), and the builtin types they use. The order
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
    for d in reg.device_types() {
        objects.insert(
            format!("x-device-props-{}", d.name),
            d.props
                .iter()
                .map(|p| {
                    let ty = match p.ty {
                        PropType::U64 => "int",
                        PropType::Bool => "bool",
                        PropType::Str | PropType::Chardev => "str",
                    };
                    member(p.name, ty, p.default.is_some())
                })
                .collect(),
        );
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
