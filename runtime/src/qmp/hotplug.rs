//! Hot-plug: `device_add` walks a new device through its life cycle in a
//! built (possibly running) machine — created (type, id), configured
//! (properties, model), wired (mapped into the boot cluster's address
//! space; its IRQ outputs connected to an interrupt controller's inputs),
//! realized (its character backend claimed; at once when the machine is
//! realized, else with the machine) — and takes every step back when one
//! fails, so a failed `device_add` leaves the machine as it was.
//! `device_del` unplugs.

use super::admin::{config, flush_tlbs, id_ok};
use super::qom::{self, Obj, Tree};
use super::{QmpError, Setup};
use crate::device::{PropType, PropValue, Vacant};
use crate::machine::object::Phase;
use crate::machine::{file::parse_u64_str, suggest, IrqTarget, Machine};
use crate::memory::{DeviceSlot, Region, Target};
use serde_json::{Map, Value};

/// The IRQ wiring `device_add` asks for: the controller, and its input
/// for each of the new device's outputs (output 0, 1, ...).
struct IrqRequest {
    parent: usize,
    lines: Vec<u32>,
}

/// Read `irq` (an input number, or a list of them for outputs 0, 1, ...)
/// and `irq-parent` (the controller's id or path; default: the machine's
/// only device that declares IRQ inputs).
fn irq_request(m: &Machine, args: &Map<String, Value>) -> Result<Option<IrqRequest>, QmpError> {
    let bad = || {
        QmpError::generic(
            "Parameter 'irq' expects an input line of the interrupt controller, or a list of \
             them (one per output of the device)",
        )
    };
    let num = |v: &Value| -> Result<u32, QmpError> {
        match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => parse_u64_str(s),
            _ => None,
        }
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(bad)
    };
    let lines = match args.get("irq") {
        None => {
            if args.contains_key("irq-parent") {
                return Err(QmpError::generic(
                    "Parameter 'irq-parent' goes with 'irq': the input lines to wire",
                ));
            }
            return Ok(None);
        }
        Some(Value::Array(a)) if !a.is_empty() => {
            a.iter().map(num).collect::<Result<Vec<_>, _>>()?
        }
        Some(Value::Array(_)) => return Err(bad()),
        Some(v) => vec![num(v)?],
    };
    let t = Tree::of(m);
    let controllers: Vec<usize> = qom::devices(m)
        .filter(|d| m.memory.devices[*d].dev.irq_inputs().is_some())
        .collect();
    let parent = match args.get("irq-parent") {
        Some(Value::String(p)) => {
            let d = match qom::resolve(t, p) {
                Ok(Obj::Device(d)) => d,
                _ => {
                    return Err(QmpError::generic(format!(
                        "Parameter 'irq-parent': '{p}' is no device of the machine"
                    )))
                }
            };
            if !controllers.contains(&d) {
                let names: Vec<String> = controllers.iter().map(|c| m.device_id(*c)).collect();
                return Err(QmpError::generic(format!(
                    "Parameter 'irq-parent': {} is no interrupt controller (it declares no IRQ \
                     inputs; controllers: {})",
                    m.memory.devices[d].path,
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                )));
            }
            d
        }
        Some(_) => {
            return Err(QmpError::generic(
                "Parameter 'irq-parent' expects the id or path of an interrupt controller",
            ))
        }
        None => match controllers.as_slice() {
            [one] => *one,
            [] => {
                return Err(QmpError::generic(
                    "Parameter 'irq': the machine has no interrupt controller to wire to",
                ))
            }
            several => {
                let names: Vec<String> = several.iter().map(|c| m.device_id(*c)).collect();
                return Err(QmpError::generic(format!(
                    "Parameter 'irq-parent' is missing: the machine has several interrupt \
                     controllers ({})",
                    names.join(", ")
                )));
            }
        },
    };
    Ok(Some(IrqRequest { parent, lines }))
}

/// `device_add`: create a device of type `driver` with id `id`, map it at
/// `addr` in the boot cluster's address space and wire its IRQ outputs
/// (`irq`, `irq-parent`). Each step is undone when a later one fails.
pub fn device_add(
    m: &mut Machine,
    args: &Map<String, Value>,
    setup: &Setup,
) -> Result<(), QmpError> {
    // Created: the type and the id.
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
    if !id_ok(id) {
        return Err(QmpError::generic(
            "Parameters 'id' expects an identifier (a letter, then letters, digits, '-', '.' \
             or '_')",
        ));
    }
    if qom::children(Tree::of(m), Obj::Machine)
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
    let irq = irq_request(m, args)?;

    // Configured: properties checked (types, ranges), model built.
    let given: Vec<(String, Value)> = args
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "driver" | "id" | "addr" | "irq" | "irq-parent"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let cfg = config(ty.name, ty.props, &given, &[], setup)?;
    let dev = (ty.create)(&cfg).map_err(|e| QmpError::generic(format!("{driver}: {e}")))?;
    let size = dev.mmio_size();
    if size == 0 || base.checked_add(size - 1).is_none() {
        return Err(QmpError::generic(format!(
            "{driver}: no window of {size:#x} bytes fits at {base:#x}"
        )));
    }
    let props: Vec<(String, PropValue)> = cfg.props.into_iter().collect();
    let index = m.memory.devices.len();
    m.memory.devices.push(DeviceSlot {
        path: format!("/machine/{id}"),
        type_name: ty.name,
        endian: crate::ir::Endian::Little,
        dev,
    });
    m.device_props.truncate(index);
    while m.device_props.len() < index {
        m.device_props.push(Vec::new());
    }
    m.device_props.push(props.clone());
    m.phases.create(Obj::Device(index));
    let space = m.clusters[m.boot_cluster()].space;
    let routes = m.irq_routes.clone();
    let mut mapped = false;
    let steps = (|| -> Result<(), QmpError> {
        m.phases
            .advance(Obj::Device(index), Phase::Configured)
            .map_err(|e| QmpError::generic(e.to_string()))?;
        // Wired: bus attachment, then IRQ lines. `map` checks overlaps
        // before it changes anything.
        m.spaces[space]
            .map(Region {
                name: id.to_string(),
                base,
                size,
                target: Target::Mmio { device: index },
            })
            .map_err(|e| QmpError::generic(format!("device_add {id}: {e}")))?;
        mapped = true;
        if let Some(req) = &irq {
            for (out, line) in req.lines.iter().enumerate() {
                m.connect_irq(index, out as u32, IrqTarget::Device(req.parent, *line))
                    .map_err(|e| QmpError::generic(format!("device_add {id}: irq: {e}")))?;
            }
        }
        m.phases
            .advance(Obj::Device(index), Phase::Wired)
            .map_err(|e| QmpError::generic(e.to_string()))?;
        // Realized: host resources claimed. A character backend serves
        // one device: two UARTs on one terminal would interleave output
        // and steal each other's input.
        for p in ty.props.iter().filter(|p| p.ty == PropType::Chardev) {
            let Some((_, PropValue::Str(v))) = props.iter().find(|(k, _)| k == p.name) else {
                continue;
            };
            if v.is_empty() || v == "none" {
                continue;
            }
            if let Some(user) = chardev_user(m, setup, index, v) {
                return Err(QmpError::generic(format!(
                    "Property '{driver}.{}' can't take value '{v}', it's in use (by {user})",
                    p.name
                )));
            }
        }
        if m.is_realized() {
            m.phases
                .advance(Obj::Device(index), Phase::Realized)
                .map_err(|e| QmpError::generic(e.to_string()))?;
        }
        Ok(())
    })();
    if let Err(e) = steps {
        // Back out, last step first.
        m.irq_routes = routes;
        if mapped {
            let _ = m.spaces[space].unmap(base, size);
        }
        m.memory.devices.truncate(index);
        m.device_props.truncate(index);
        m.phases.drop_last_device();
        return Err(e);
    }
    flush_tlbs(m);
    Ok(())
}

/// The path of a device other than `except` whose character backend
/// property is `value`.
fn chardev_user(m: &Machine, setup: &Setup, except: usize, value: &str) -> Option<String> {
    qom::devices(m).filter(|d| *d != except).find_map(|d| {
        let slot = &m.memory.devices[d];
        let ty = setup.registry.device(slot.type_name)?;
        let props = m.device_props.get(d)?;
        ty.props
            .iter()
            .filter(|p| p.ty == PropType::Chardev)
            .any(|p| {
                props
                    .iter()
                    .any(|(k, v)| k == p.name && *v == PropValue::Str(value.to_string()))
            })
            .then(|| slot.path.clone())
    })
}

/// Remove a device: unmap its windows, cut its wires, drop its model.
/// Its slot stays (indices are stable) under an empty path, which the
/// object tree skips. Returns the path it had.
pub fn device_del(m: &mut Machine, id: &str) -> Result<String, QmpError> {
    let d = match qom::resolve(Tree::of(m), id) {
        Ok(Obj::Device(d)) => d,
        _ => {
            return Err(QmpError::no_device(format!("Device '{id}' not found")));
        }
    };
    let path = m.memory.devices[d].path.clone();
    for s in &mut m.spaces {
        let windows: Vec<(u64, u64)> = s
            .regions()
            .iter()
            .filter(|r| r.target == (Target::Mmio { device: d }))
            .map(|r| (r.base, r.size))
            .collect();
        for (base, size) in windows {
            s.unmap(base, size)?;
        }
    }
    m.irq_routes.retain(|(from, _), _| *from != d);
    for targets in m.irq_routes.values_mut() {
        targets.retain(|t| !matches!(t, IrqTarget::Device(x, _) if *x == d));
    }
    m.irq_routes.retain(|_, targets| !targets.is_empty());
    let slot = &mut m.memory.devices[d];
    slot.dev = Box::new(Vacant);
    slot.path = String::new();
    if let Some(p) = m.device_props.get_mut(d) {
        p.clear();
    }
    flush_tlbs(m);
    Ok(path)
}
