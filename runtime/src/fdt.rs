//! The guest's flattened device tree, generated from a built [`Machine`].
//!
//! The tree describes what one cluster sees: the RAM and the devices
//! mapped in its address space, its vCPUs, and the interrupt wiring of the
//! machine file. Its shape follows QEMU's `virt` boards (checked against
//! `qemu-system-riscv64 -M virt,dumpdtb=...` of QEMU 7.2): `/chosen`,
//! `/memory@...`, `/cpus` with one `cpu@k` and its interrupt controller
//! per vCPU, and `/soc` (a `simple-bus`) with one node per device. Nothing
//! here names an ISA: ISA words come from the CPU model (`isa_name()` for
//! the `compatible` strings, `fdt_cpu()` for per-vCPU properties).
//!
//! The output is deterministic: nodes come in address order, phandles are
//! numbered in that order, and no host data (no `rng-seed`) is included.

use crate::device::{FdtNode, FdtValue};
use crate::machine::{IrqTarget, Machine};
use crate::memory::Target;
use std::collections::BTreeMap;
use vm_fdt::{FdtWriter, FdtWriterNode};

/// What the machine description does not say about the tree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FdtOptions {
    /// `timebase-frequency` of `/cpus` (the frequency of the timer the
    /// vCPUs read, e.g. a CLINT's `mtime`).
    pub timebase_hz: u32,
    /// `/chosen/bootargs` (the kernel command line), if any.
    pub bootargs: Option<String>,
    /// Id of the device `/chosen/stdout-path` names (default: the first
    /// `serial` node).
    pub stdout: Option<String>,
}

/// Properties the builder sets itself; a device's own are dropped.
const MACHINE_PROPS: &[&str] = &[
    "reg",
    "interrupts",
    "interrupt-parent",
    "interrupts-extended",
    "phandle",
    "interrupt-controller",
    "#interrupt-cells",
    "#address-cells",
];

/// A device as it appears in the tree.
struct DevNode {
    /// Index in `Memory::devices`.
    index: usize,
    /// Id from the machine file.
    id: String,
    /// `(base, size)` of each mapping, in address order.
    regs: Vec<(u64, u64)>,
    node: FdtNode,
    phandle: Option<u32>,
}

impl DevNode {
    fn name(&self) -> String {
        format!("{}@{:x}", self.node.name, self.regs[0].0)
    }

    fn compatible(&self, c: &str) -> bool {
        self.node.props.iter().any(|(k, v)| {
            k == "compatible"
                && match v {
                    FdtValue::Str(s) => s == c,
                    FdtValue::Strs(v) => v.iter().any(|s| s == c),
                    _ => false,
                }
        })
    }
}

fn err(e: vm_fdt::Error) -> String {
    format!("device tree: {e}")
}

fn prop(w: &mut FdtWriter, name: &str, v: &FdtValue) -> Result<(), String> {
    match v {
        FdtValue::Empty => w.property_null(name),
        FdtValue::Str(s) => w.property_string(name, s),
        FdtValue::Strs(v) => w.property_string_list(name, v.clone()),
        FdtValue::Cells(c) => w.property_array_u32(name, c),
    }
    .map_err(err)
}

/// `reg` cells for #address-cells = #size-cells = 2.
fn reg_cells(regs: &[(u64, u64)]) -> Vec<u32> {
    regs.iter()
        .flat_map(|&(b, s)| [(b >> 32) as u32, b as u32, (s >> 32) as u32, s as u32])
        .collect()
}

/// Build the device tree blob of what cluster `cluster` of `m` sees.
pub fn build(m: &Machine, cluster: usize, opts: &FdtOptions) -> Result<Vec<u8>, String> {
    let cl = m
        .clusters
        .get(cluster)
        .ok_or_else(|| format!("device tree: no cluster {cluster}"))?;
    let space = &m.spaces[cl.space];
    let target = cl.model.isa_name().to_string();

    // RAM and devices in the cluster's address space, in address order.
    let mut memory = Vec::new();
    let mut devs: Vec<DevNode> = Vec::new();
    let mut by_index: BTreeMap<usize, usize> = BTreeMap::new();
    let mut regions: Vec<_> = space.regions().iter().collect();
    regions.sort_by_key(|r| r.base);
    for r in regions {
        match r.target {
            Target::Ram { .. } => memory.push((r.base, r.size)),
            Target::Mmio { device } => {
                if let Some(&i) = by_index.get(&device) {
                    devs[i].regs.push((r.base, r.size));
                    continue;
                }
                let slot = &m.memory.devices[device];
                let Some(node) = slot.dev.fdt_node() else {
                    continue;
                };
                let id = slot
                    .path
                    .strip_prefix("/machine/")
                    .unwrap_or(&slot.path)
                    .to_string();
                by_index.insert(device, devs.len());
                devs.push(DevNode {
                    index: device,
                    id,
                    regs: vec![(r.base, r.size)],
                    node,
                    phandle: None,
                });
            }
        }
    }

    // Phandles: each vCPU and its interrupt controller, then interrupt
    // controllers and syscon targets in address order.
    let ncpu = cl.cpus.len() as u32;
    let cpu_ph = |k: usize| 1 + 2 * k as u32;
    let intc_ph = |k: usize| 2 + 2 * k as u32;
    let mut next = 1 + 2 * ncpu;
    let test = devs.iter().position(|d| d.compatible("sifive,test0"));
    for (i, d) in devs.iter_mut().enumerate() {
        if d.node.interrupt_controller || Some(i) == test {
            d.phandle = Some(next);
            next += 1;
        }
    }
    let controller_ph = |device: usize| -> Option<u32> {
        let d = &devs[*by_index.get(&device)?];
        if d.node.interrupt_controller {
            d.phandle
        } else {
            None
        }
    };

    // Interrupt specifiers of each device's outputs, in output order:
    // (controller phandle, specifier, is the controller a device?).
    let mut irqs: Vec<Vec<(u32, u32, bool)>> = Vec::with_capacity(devs.len());
    for d in &devs {
        let mut spec = Vec::new();
        for (_, targets) in m.irq_routes.range((d.index, 0)..=(d.index, u32::MAX)) {
            for t in targets {
                match *t {
                    IrqTarget::Device(c, input) => {
                        if let Some(ph) = controller_ph(c) {
                            spec.push((ph, input, true));
                        }
                    }
                    IrqTarget::Cpu(c, k, line) if c == cluster => {
                        spec.push((intc_ph(k), line, false));
                    }
                    // Another cluster's vCPU, or a cluster's reset line.
                    IrqTarget::Cpu(..) | IrqTarget::Reset(_) => {}
                }
            }
        }
        irqs.push(spec);
    }

    let stdout = match &opts.stdout {
        Some(id) => Some(
            devs.iter()
                .find(|d| &d.id == id)
                .ok_or_else(|| {
                    format!(
                        "device tree: stdout device '{id}' is not described to cluster {}",
                        cl.id
                    )
                })?
                .name(),
        ),
        None => devs
            .iter()
            .find(|d| d.node.name == "serial")
            .map(DevNode::name),
    };

    let mut w = FdtWriter::new().map_err(err)?;
    let root = w.begin_node("").map_err(err)?;
    w.property_u32("#address-cells", 2).map_err(err)?;
    w.property_u32("#size-cells", 2).map_err(err)?;
    w.property_string("compatible", &format!("{target}-virtio"))
        .map_err(err)?;
    w.property_string("model", &format!("{target}-virtio,qemu"))
        .map_err(err)?;

    let chosen = w.begin_node("chosen").map_err(err)?;
    if let Some(s) = &stdout {
        w.property_string("stdout-path", &format!("/soc/{s}"))
            .map_err(err)?;
    }
    if let Some(b) = &opts.bootargs {
        w.property_string("bootargs", b).map_err(err)?;
    }
    w.end_node(chosen).map_err(err)?;

    // QEMU 7.2 puts these at the root; both drivers find them by
    // compatible wherever they are.
    if let Some(ph) = test.and_then(|i| devs[i].phandle) {
        for (name, compatible, value) in [
            ("poweroff", "syscon-poweroff", 0x5555),
            ("reboot", "syscon-reboot", 0x7777),
        ] {
            let n = w.begin_node(name).map_err(err)?;
            w.property_string("compatible", compatible).map_err(err)?;
            w.property_u32("regmap", ph).map_err(err)?;
            w.property_u32("offset", 0).map_err(err)?;
            w.property_u32("value", value).map_err(err)?;
            w.end_node(n).map_err(err)?;
        }
    }

    for &(base, size) in &memory {
        let n = w.begin_node(&format!("memory@{base:x}")).map_err(err)?;
        w.property_string("device_type", "memory").map_err(err)?;
        w.property_array_u32("reg", &reg_cells(&[(base, size)]))
            .map_err(err)?;
        w.end_node(n).map_err(err)?;
    }

    write_cpus(&mut w, m, cluster, opts, cpu_ph, intc_ph)?;

    let soc = w.begin_node("soc").map_err(err)?;
    w.property_u32("#address-cells", 2).map_err(err)?;
    w.property_u32("#size-cells", 2).map_err(err)?;
    w.property_string("compatible", "simple-bus").map_err(err)?;
    w.property_null("ranges").map_err(err)?;
    for (d, spec) in devs.iter().zip(&irqs) {
        write_device(&mut w, d, spec)?;
    }
    w.end_node(soc).map_err(err)?;

    w.end_node(root).map_err(err)?;
    w.finish().map_err(err)
}

fn write_cpus(
    w: &mut FdtWriter,
    m: &Machine,
    cluster: usize,
    opts: &FdtOptions,
    cpu_ph: impl Fn(usize) -> u32,
    intc_ph: impl Fn(usize) -> u32,
) -> Result<(), String> {
    let cl = &m.clusters[cluster];
    let target = cl.model.isa_name().to_string();
    let extra = cl.model.fdt_cpu();
    let has = |name: &str| extra.iter().any(|(k, _)| k == name);
    let cpus = w.begin_node("cpus").map_err(err)?;
    w.property_u32("#address-cells", 1).map_err(err)?;
    w.property_u32("#size-cells", 0).map_err(err)?;
    w.property_u32("timebase-frequency", opts.timebase_hz)
        .map_err(err)?;
    for (k, st) in cl.cpus.iter().enumerate() {
        let n = w.begin_node(&format!("cpu@{:x}", st.index)).map_err(err)?;
        w.property_phandle(cpu_ph(k)).map_err(err)?;
        w.property_string("device_type", "cpu").map_err(err)?;
        w.property_u32("reg", st.index).map_err(err)?;
        w.property_string("status", "okay").map_err(err)?;
        if !has("compatible") {
            w.property_string("compatible", &target).map_err(err)?;
        }
        for (name, v) in &extra {
            if !matches!(name.as_str(), "reg" | "phandle" | "device_type" | "status") {
                prop(w, name, v)?;
            }
        }
        let ic = w.begin_node("interrupt-controller").map_err(err)?;
        w.property_u32("#interrupt-cells", 1).map_err(err)?;
        w.property_u32("#address-cells", 0).map_err(err)?;
        w.property_null("interrupt-controller").map_err(err)?;
        w.property_string("compatible", &format!("{target},cpu-intc"))
            .map_err(err)?;
        w.property_phandle(intc_ph(k)).map_err(err)?;
        w.end_node(ic).map_err(err)?;
        w.end_node(n).map_err(err)?;
    }
    let map = w.begin_node("cpu-map").map_err(err)?;
    let c0 = w.begin_node("cluster0").map_err(err)?;
    for k in 0..cl.cpus.len() {
        let core = w.begin_node(&format!("core{k}")).map_err(err)?;
        w.property_u32("cpu", cpu_ph(k)).map_err(err)?;
        w.end_node(core).map_err(err)?;
    }
    w.end_node(c0).map_err(err)?;
    w.end_node(map).map_err(err)?;
    w.end_node(cpus).map_err(err)
}

fn write_device(w: &mut FdtWriter, d: &DevNode, spec: &[(u32, u32, bool)]) -> Result<(), String> {
    let n: FdtWriterNode = w.begin_node(&d.name()).map_err(err)?;
    w.property_array_u32("reg", &reg_cells(&d.regs))
        .map_err(err)?;
    for (name, v) in &d.node.props {
        if !MACHINE_PROPS.contains(&name.as_str()) {
            prop(w, name, v)?;
        }
    }
    if let Some(&(parent, _, true)) = spec.first() {
        if spec.iter().all(|&(p, _, dev)| dev && p == parent) {
            w.property_u32("interrupt-parent", parent).map_err(err)?;
            let cells: Vec<u32> = spec.iter().map(|s| s.1).collect();
            w.property_array_u32("interrupts", &cells).map_err(err)?;
        } else {
            extended(w, spec)?;
        }
    } else if !spec.is_empty() {
        extended(w, spec)?;
    }
    if d.node.interrupt_controller {
        w.property_u32("#interrupt-cells", 1).map_err(err)?;
        w.property_u32("#address-cells", 0).map_err(err)?;
        w.property_null("interrupt-controller").map_err(err)?;
    }
    if let Some(ph) = d.phandle {
        w.property_phandle(ph).map_err(err)?;
    }
    w.end_node(n).map_err(err)
}

fn extended(w: &mut FdtWriter, spec: &[(u32, u32, bool)]) -> Result<(), String> {
    let cells: Vec<u32> = spec.iter().flat_map(|&(p, s, _)| [p, s]).collect();
    w.property_array_u32("interrupts-extended", &cells)
        .map_err(err)
}
