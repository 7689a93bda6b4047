//! Machines: built at run time from machine files, run by a deterministic
//! round-robin scheduler over every vCPU of every cluster.

pub mod boot;
pub mod file;
pub mod object;
pub mod parallel;
pub mod profile;
pub mod user;

use crate::cluster::Cluster;
use crate::cpu::{BootInfo, Frontend};
use crate::device::{
    CharBackend, DeviceConfig, DeviceCtx, DeviceType, MachineEvent, PropType, PropValue,
};
use crate::engine::{Engine, ExecCtx, Exit};
use crate::loader::{self, ElfInfo, LoadError};
use crate::memory::{AddressSpace, Bus, DeviceSlot, Memory, RamBlock, Region, Target};
use file::{parse_u64, scalar_text, FileError, Source};
use object::{Obj, Phase, Phases};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The immutable tables a machine is built from: every ISA frontend and
/// device type compiled into the binary. Passed explicitly; never global.
#[derive(Clone, Copy)]
pub struct Registry {
    /// ISA frontends.
    pub frontends: &'static [&'static dyn Frontend],
    /// Device types.
    pub devices: &'static [&'static DeviceType],
}

impl Registry {
    /// The frontend called `name`.
    pub fn frontend(&self, name: &str) -> Option<&'static dyn Frontend> {
        self.frontends.iter().copied().find(|f| f.name() == name)
    }
    /// The device type called `name`.
    pub fn device(&self, name: &str) -> Option<&'static DeviceType> {
        self.device_types().find(|d| d.name == name)
    }
    /// Every device type: the generic ones of `devices`, then those of
    /// each frontend (an ISA's own devices, such as Cortex-M's NVIC).
    pub fn device_types(&self) -> impl Iterator<Item = &'static DeviceType> + '_ {
        self.devices.iter().copied().chain(
            self.frontends
                .iter()
                .flat_map(|f| f.device_types().iter().copied()),
        )
    }
}

/// How to build a machine beyond its file.
#[derive(Default)]
pub struct BuildOptions {
    /// Parameter overrides (name, value as text).
    pub params: Vec<(String, String)>,
    /// Character backends, `serial0`, `serial1`, ... in order.
    pub serials: Vec<CharBackend>,
    /// Engine factory (default: `jit::default_engine`).
    pub engine: Option<fn() -> Box<dyn Engine>>,
}

/// Most rounds of IRQ routing after one instruction before the wiring is
/// declared oscillating (far more than any settling chain of controllers).
const MAX_IRQ_ROUNDS: u32 = 10_000;

/// Memory backends created before the machine (QMP `object-add
/// memory-backend-ram`), lent to [`Machine::build_with`].
#[derive(Default)]
pub struct Backends {
    /// Blocks by object id; a memory entry with `memdev: ID` takes ID's.
    pub blocks: BTreeMap<String, RamBlock>,
    /// QEMU's `memory-backend` machine property: the id whose block
    /// becomes the machine's main RAM — its first memory entry, whose
    /// size is then the backend's.
    pub main: Option<String>,
    /// Filled by the builder: (backend id, path of the RAM block that
    /// took it).
    pub taken: Vec<(String, String)>,
}

/// A machine failed to build.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The file is wrong.
    #[error(transparent)]
    File(#[from] FileError),
    /// The file could not be read.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// No such machine.
    #[error("unknown machine '{0}' (try `hemu list machines`)")]
    Unknown(String),
}

/// Find a machine file: a path if `name` has a `/` or ends in `.yaml`,
/// else `<name>.yaml` in one of `dirs`.
pub fn find_machine(name: &str, dirs: &[PathBuf]) -> Result<PathBuf, BuildError> {
    if name.contains('/') || name.ends_with(".yaml") {
        return Ok(PathBuf::from(name));
    }
    dirs.iter()
        .map(|d| d.join(format!("{name}.yaml")))
        .find(|p| p.is_file())
        .ok_or_else(|| BuildError::Unknown(name.to_string()))
}

/// Names and descriptions of the machine files in `dirs`.
pub fn list_machines(dirs: &[PathBuf]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(d) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for p in files {
            if p.extension().is_some_and(|e| e == "yaml") {
                let Ok(text) = std::fs::read_to_string(&p) else {
                    continue;
                };
                let src = Source {
                    file: p.display().to_string(),
                    text,
                };
                if let Ok(mf) = file::parse(&src) {
                    if !out.iter().any(|(n, _)| *n == mf.name) {
                        out.push((mf.name, mf.description));
                    }
                }
            }
        }
    }
    out
}

/// Why a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunResult {
    /// A device powered the machine off with this status.
    Shutdown(i32),
    /// A vCPU stopped on a trap nobody handles.
    Crashed {
        /// Path of the vCPU.
        cpu: String,
        /// What happened.
        report: String,
    },
    /// The instruction limit was reached.
    Limit,
    /// Every vCPU waits for an interrupt nothing will raise.
    Idle,
}

/// Where an IRQ output goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqTarget {
    /// Input line of a device.
    Device(usize, u32),
    /// Input line of a vCPU: (cluster, vCPU, line).
    Cpu(usize, usize, u32),
    /// Active-low reset of a cluster: low holds it in reset, a rising
    /// edge releases it.
    Reset(usize),
}

/// A built machine.
pub struct Machine {
    /// Name.
    pub name: String,
    /// RAM and devices.
    pub memory: Memory,
    /// Address spaces, by index.
    pub spaces: Vec<AddressSpace>,
    /// CPU clusters.
    pub clusters: Vec<Cluster>,
    /// Instructions a vCPU runs before the next one gets its turn.
    pub quantum: u64,
    /// Run each cluster in its own host thread ([`parallel`]) instead of
    /// the deterministic round-robin (machine file `parallel:`).
    pub parallel: bool,
    /// Parallel mode: wall time the clusters run between two looks of the
    /// monitor (`poll`) at the whole machine.
    pub slice: std::time::Duration,
    /// Virtual nanoseconds per instruction.
    pub insn_ns: u64,
    /// Virtual time.
    pub time_ns: u64,
    /// IRQ wiring: (device, output) → targets.
    pub irq_routes: BTreeMap<(usize, u32), Vec<IrqTarget>>,
    /// When every vCPU waits and no timer is due: poll host input and
    /// wait (true, interactive), or return `RunResult::Idle` (false).
    pub idle_wait: bool,
    /// Device-tree options when the machine file asks for a generated tree.
    pub fdt: Option<crate::fdt::FdtOptions>,
    /// Images loaded so far: (address space, start, end, name), to
    /// refuse overlaps (images of different spaces may share addresses).
    loaded: Vec<(usize, u64, u64, String)>,
    /// Have the machine file's per-cluster images been loaded?
    images_loaded: bool,
    boot_cluster: usize,
    /// Each device's configured property values, in `memory.devices`
    /// order (for introspection: QMP's `qom-get`, `info qtree`).
    pub device_props: Vec<Vec<(String, PropValue)>>,
    /// The life-cycle phase of every object ([`object`]).
    pub(crate) phases: Phases,
    /// The GDB stub's breakpoints and stop requests, consulted before
    /// each vCPU runs ([`crate::gdb::DebugState::run_vcpu`]); `None`
    /// without a debugger (the run loop then calls the engines directly).
    pub debug: Option<Box<crate::gdb::DebugState>>,
}

impl Machine {
    /// Build a machine from a file.
    pub fn from_file(
        path: &Path,
        reg: &Registry,
        opts: BuildOptions,
    ) -> Result<Machine, BuildError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| BuildError::Io(path.display().to_string(), e))?;
        let src = Source {
            file: path.display().to_string(),
            text,
        };
        Ok(Machine::build(&src, reg, opts)?)
    }

    /// Build a machine from machine-file text.
    pub fn build(src: &Source, reg: &Registry, opts: BuildOptions) -> Result<Machine, FileError> {
        Machine::build_profile(src, reg, opts, None)
    }

    /// [`Machine::build`], narrowed to one of the file's profiles.
    pub fn build_profile(
        src: &Source,
        reg: &Registry,
        opts: BuildOptions,
        profile: Option<&str>,
    ) -> Result<Machine, FileError> {
        Machine::build_with(src, reg, opts, profile, &mut Backends::default())
    }

    /// [`Machine::build_profile`] with memory backends created before the
    /// machine: memory entries that name one (`memdev:`, or the first
    /// entry for [`Backends::main`]) take its block out of `backends`.
    ///
    /// Every object goes through its life cycle stage by stage: all are
    /// created and configured (RAM blocks, devices, clusters) before any
    /// is wired (mapped into address spaces, IRQ lines connected), so
    /// wiring may run in cycles. The machine is left wired; it is
    /// realized when it starts ([`Machine::realize`]).
    pub fn build_with(
        src: &Source,
        reg: &Registry,
        opts: BuildOptions,
        profile: Option<&str>,
        backends: &mut Backends,
    ) -> Result<Machine, FileError> {
        let mut mf = file::parse(src)?;
        profile::check(&mf)?;
        if let Some(p) = profile {
            profile::apply(src, &mut mf, p)?;
        }
        let params = file::resolve_params(src, &mf, &opts.params)?;
        let at = &mf.at;
        let sub = |o: &file::Origin, v: &serde_yaml::Value| file::substitute(at, o, v, &params);
        let mut memory = Memory::default();
        let mut phases = Phases::default();
        // Ids of RAM blocks and devices, to map them into address spaces.
        let mut ids: BTreeMap<String, Target> = BTreeMap::new();
        let mut sizes: BTreeMap<String, u64> = BTreeMap::new();

        // Stage 1: create and configure RAM blocks.
        for (i, raw) in mf.memory.iter().enumerate() {
            let o = at.memory.get(i).cloned().unwrap_or_default();
            let r: file::RamSpec = file::typed(at, &o, sub(&o, raw)?, "memory")?;
            if ids.contains_key(&r.id) {
                return Err(at.val(&o.sub(".id"), format!("duplicate id '{}'", r.id)));
            }
            let index = memory.ram.len();
            ids.insert(
                r.id.clone(),
                Target::Ram {
                    block: index,
                    offset: 0,
                },
            );
            phases.create(Obj::Ram(index));
            let size = match &r.size {
                Some(v) => Some(parse_u64(v).filter(|s| *s > 0).ok_or_else(|| {
                    at.val(&o.sub(".size"), format!("memory {}: bad size", r.id))
                })?),
                None => None,
            };
            // The machine's main RAM (QEMU's `memory-backend`) takes its
            // size from the backend; a `memdev:` entry must agree with it.
            let main = (i == 0).then(|| backends.main.clone()).flatten();
            let block = match (r.memdev.as_ref().or(main.as_ref()), size) {
                (Some(id), size) => {
                    let key = if r.memdev.is_some() { ".memdev" } else { "" };
                    let Some(mut b) = backends.blocks.remove(id) else {
                        return Err(at.val(
                            &o.sub(key),
                            format!(
                                "memory {}: no memory backend '{id}' (create one with QMP \
                                 object-add memory-backend-ram)",
                                r.id
                            ),
                        ));
                    };
                    // Recorded at once: a failed build gives it back.
                    backends
                        .taken
                        .push((id.clone(), format!("/machine/{}", r.id)));
                    if r.read_only {
                        return Err(at.val(
                            &o.sub(".read_only"),
                            format!("memory {}: a memory backend is RAM, not ROM", r.id),
                        ));
                    }
                    if let Some(s) = size.filter(|s| *s != b.size() && r.memdev.is_some()) {
                        return Err(at.val(
                            &o.sub(".size"),
                            format!(
                                "memory {}: size {s:#x} differs from memory backend '{id}' ({:#x})",
                                r.id,
                                b.size()
                            ),
                        ));
                    }
                    b.path = format!("/machine/{}", r.id);
                    b
                }
                (None, Some(size)) => {
                    RamBlock::new(&format!("/machine/{}", r.id), size, r.read_only)
                        .map_err(|e| at.val(&o.sub(".size"), format!("memory {}: {e}", r.id)))?
                }
                (None, None) => {
                    return Err(at.val(
                        &o,
                        format!(
                            "memory {}: give its size (or memdev: a memory backend)",
                            r.id
                        ),
                    ))
                }
            };
            sizes.insert(r.id.clone(), block.size());
            memory.ram.push(block);
            phases
                .advance(Obj::Ram(index), Phase::Configured)
                .map_err(|e| at.val(&o, e.to_string()))?;
        }

        // Stage 1: create every device (its type and id)...
        let mut specs = Vec::new();
        for (i, raw) in mf.devices.iter().enumerate() {
            let o = at.devices.get(i).cloned().unwrap_or_default();
            let d: file::DeviceSpec = file::typed(at, &o, sub(&o, raw)?, "device")?;
            let Some(ty) = reg.device(&d.ty) else {
                let names: Vec<&str> = reg.device_types().map(|t| t.name).collect();
                return Err(at.val(
                    &o.sub(".type"),
                    format!(
                        "device {}: unknown device type '{}'{}",
                        d.id,
                        d.ty,
                        suggest(&d.ty, &names)
                    ),
                ));
            };
            if ids.contains_key(&d.id) {
                return Err(at.val(&o.sub(".id"), format!("duplicate id '{}'", d.id)));
            }
            let index = specs.len();
            ids.insert(d.id.clone(), Target::Mmio { device: index });
            phases.create(Obj::Device(index));
            specs.push((o, d, ty));
        }
        // ...then configure each: properties checked, model built.
        let mut device_props = Vec::new();
        for (index, (o, d, ty)) in specs.into_iter().enumerate() {
            let cfg = device_config(at, &o, &d, ty, &opts.serials)?;
            device_props.push(cfg.props.clone().into_iter().collect());
            let dev = (ty.create)(&cfg).map_err(|e| at.val(&o, format!("device {}: {e}", d.id)))?;
            sizes.insert(d.id.clone(), dev.mmio_size());
            memory.devices.push(DeviceSlot {
                path: format!("/machine/{}", d.id),
                type_name: ty.name,
                endian: crate::ir::Endian::Little,
                dev,
            });
            phases
                .advance(Obj::Device(index), Phase::Configured)
                .map_err(|e| at.val(&o, e.to_string()))?;
        }

        // Stage 1: create and configure clusters. The address space a
        // cluster sees is attached in the wiring stage; here its name is
        // checked and its index fixed (spaces are built in name order).
        let mut clusters = Vec::new();
        let mut boot_cluster = None;
        for (i, raw) in mf.clusters.iter().enumerate() {
            let o = at.clusters.get(i).cloned().unwrap_or_default();
            let c: file::ClusterSpec = file::typed(at, &o, sub(&o, raw)?, "cluster")?;
            phases.create(Obj::Cluster(i));
            let Some(fe) = reg.frontend(&c.arch) else {
                let names: Vec<&str> = reg.frontends.iter().map(|f| f.name()).collect();
                return Err(at.val(
                    &o.sub(".arch"),
                    format!(
                        "cluster {}: unknown arch '{}'{}",
                        c.id,
                        c.arch,
                        suggest(&c.arch, &names)
                    ),
                ));
            };
            let config: Vec<(String, String)> = c
                .config
                .iter()
                .map(|(k, v)| (k.clone(), scalar_text(v).unwrap_or_default()))
                .collect();
            let model = fe
                .configure(&config)
                .map_err(|e| at.val(&o.sub(".config"), format!("cluster {}: {e}", c.id)))?;
            let n = parse_u64(&c.cpus)
                .filter(|n| (1..=1024).contains(n))
                .ok_or_else(|| {
                    at.val(
                        &o.sub(".cpus"),
                        format!("cluster {}: cpus must be 1..1024", c.id),
                    )
                })?;
            let Some(space) = mf.address_spaces.keys().position(|n| *n == c.address_space) else {
                return Err(at.val(
                    &o.sub(".address_space"),
                    format!("cluster {}: no address space '{}'", c.id, c.address_space),
                ));
            };
            let reset_pc = match &c.reset_pc {
                Some(v) => parse_u64(v).ok_or_else(|| {
                    at.val(
                        &o.sub(".reset_pc"),
                        format!("cluster {}: bad reset_pc", c.id),
                    )
                })?,
                None => 0,
            };
            let kernel_addr = match &c.kernel_addr {
                Some(v) => parse_u64(v).ok_or_else(|| {
                    at.val(
                        &o.sub(".kernel_addr"),
                        format!("cluster {}: bad kernel_addr", c.id),
                    )
                })?,
                None => reset_pc.wrapping_add(2 << 20),
            };
            if c.boot == Some(true) && boot_cluster.is_none() {
                boot_cluster = Some(clusters.len());
            }
            let engine = opts.engine.map_or_else(crate::jit::default_engine, |f| f());
            let mut cl = Cluster::new(&c.id, model, space, n as u32, engine, reset_pc);
            cl.kernel_addr = kernel_addr;
            cl.start_held = match c.start.as_deref() {
                None | Some("running") => false,
                Some("held") => true,
                Some(other) => {
                    return Err(at.val(
                        &o.sub(".start"),
                        format!(
                            "cluster {}: start must be running or held, not '{other}'",
                            c.id
                        ),
                    ))
                }
            };
            // A relative image path is relative to the file naming it.
            cl.image = c.image.as_ref().map(|img| {
                let dir = at
                    .files
                    .get(o.file)
                    .and_then(|(f, _)| Path::new(f).parent())
                    .unwrap_or(Path::new(""));
                dir.join(img)
            });
            clusters.push(cl);
            phases
                .advance(Obj::Cluster(i), Phase::Configured)
                .map_err(|e| at.val(&o, e.to_string()))?;
        }
        if clusters.is_empty() {
            return Err(at.key(&at.top("clusters"), "a machine needs at least one cluster"));
        }
        let internal = |e: object::PhaseError| at.val(&file::Origin::root(""), e.to_string());
        phases
            .advance(Obj::Machine, Phase::Configured)
            .map_err(internal)?;

        // Stage 2: wire. Bus attachment: RAM blocks and device windows
        // mapped into address spaces (which the clusters see)...
        let mut spaces = Vec::new();
        for (name, maps) in &mf.address_spaces {
            let mut space = AddressSpace::new(name);
            for (i, raw) in maps.iter().enumerate() {
                let o = at
                    .maps
                    .get(name)
                    .and_then(|l| l.get(i))
                    .cloned()
                    .unwrap_or_default();
                let m: file::MapSpec = file::typed(at, &o, sub(&o, raw)?, "mapping")?;
                let Some(target) = ids.get(&m.map).copied() else {
                    return Err(at.val(
                        &o.sub(".map"),
                        format!(
                            "address space {name}: '{}' is no memory or device id",
                            m.map
                        ),
                    ));
                };
                let num =
                    |v: &Option<serde_yaml::Value>, what: &str| -> Result<Option<u64>, FileError> {
                        v.as_ref()
                            .map(|v| {
                                parse_u64(v).ok_or_else(|| {
                                    at.val(
                                        &o.sub(&format!(".{what}")),
                                        format!("mapping of {}: bad {what}", m.map),
                                    )
                                })
                            })
                            .transpose()
                    };
                let base = num(&Some(m.base.clone()), "base")?.unwrap_or(0);
                let offset = num(&m.offset, "offset")?.unwrap_or(0);
                let full = sizes[&m.map];
                let size = num(&m.size, "size")?.unwrap_or(full.saturating_sub(offset));
                let target = match target {
                    Target::Ram { block, .. } => {
                        if offset.checked_add(size).is_none_or(|e| e > full) {
                            return Err(
                                at.val(&o, format!("mapping of {} runs past its end", m.map))
                            );
                        }
                        Target::Ram { block, offset }
                    }
                    t => t,
                };
                if base.checked_add(size.saturating_sub(1)).is_none() {
                    return Err(at.val(
                        &o.sub(".base"),
                        format!("mapping of {} wraps around", m.map),
                    ));
                }
                space
                    .map(Region {
                        name: m.map.clone(),
                        base,
                        size,
                        target,
                    })
                    .map_err(|e| at.val(&o.sub(".base"), format!("address space {name}: {e}")))?;
            }
            spaces.push(space);
        }
        let mut m = Machine {
            name: mf.name.clone(),
            memory,
            spaces,
            clusters,
            quantum: 10_000,
            parallel: false,
            slice: parallel::SLICE,
            insn_ns: 10,
            time_ns: 0,
            irq_routes: BTreeMap::new(),
            idle_wait: true,
            fdt: None,
            loaded: Vec::new(),
            images_loaded: false,
            boot_cluster: boot_cluster.unwrap_or(0),
            device_props,
            phases,
            debug: None,
        };
        // ...and IRQ lines.
        for (i, raw) in mf.irqs.iter().enumerate() {
            let o = at.irqs.get(i).cloned().unwrap_or_default();
            let w: file::IrqSpec = file::typed(at, &o, sub(&o, raw)?, "irq")?;
            let dev_index = |id: &str, key: &str| match ids.get(id) {
                Some(Target::Mmio { device }) => Ok(*device),
                _ => Err(at.val(&o.sub(key), format!("irq: '{id}' is not a device id"))),
            };
            let from_dev = dev_index(&w.from, ".from")?;
            let num = |v: &Option<serde_yaml::Value>, what: &str| -> Result<u32, FileError> {
                match v {
                    None => Ok(0),
                    Some(v) => parse_u64(v)
                        .filter(|n| *n < 1 << 16)
                        .map(|n| n as u32)
                        .ok_or_else(|| {
                            at.val(
                                &o.sub(&format!(".{what}")),
                                format!("irq from {}: bad {what}", w.from),
                            )
                        }),
                }
            };
            let out = num(&w.out, "out")?;
            let wire_err = |key: &str, e: object::WireError| {
                at.val(&o.sub(key), format!("irq from {}: {e}", w.from))
            };
            if let Some(c) = &w.to_reset {
                if w.to.is_some() || w.to_cpus.is_some() {
                    return Err(at.val(
                        &o,
                        format!(
                            "irq from {}: give one of `to`, `to_cpus`, `to_reset`",
                            w.from
                        ),
                    ));
                }
                let Some(ci) = m.clusters.iter().position(|x| &x.id == c) else {
                    return Err(at.val(
                        &o.sub(".to_reset"),
                        format!("irq from {}: no cluster '{c}'", w.from),
                    ));
                };
                m.connect_irq(from_dev, out, IrqTarget::Reset(ci))
                    .map_err(|e| wire_err(".to_reset", e))?;
                continue;
            }
            match (&w.to, &w.to_cpus) {
                (Some(to), None) => {
                    let d = dev_index(to, ".to")?;
                    let input = num(&w.input, "input")?;
                    m.connect_irq(from_dev, out, IrqTarget::Device(d, input))
                        .map_err(|e| wire_err(".input", e))?;
                }
                (None, Some(c)) => {
                    let Some(ci) = m.clusters.iter().position(|x| &x.id == c) else {
                        return Err(at.val(
                            &o.sub(".to_cpus"),
                            format!("irq from {}: no cluster '{c}'", w.from),
                        ));
                    };
                    if w.lines.is_empty() {
                        return Err(at.val(
                            &o,
                            format!("irq from {}: `lines` names the vCPU inputs", w.from),
                        ));
                    }
                    let known = m.clusters[ci].model.irq_lines();
                    let mut nums = Vec::new();
                    for (j, l) in w.lines.iter().enumerate() {
                        let Some((_, n)) = known.iter().find(|(name, _)| name == l) else {
                            let names: Vec<&str> = known.iter().map(|(n, _)| *n).collect();
                            return Err(at.val(
                                &o.sub(&format!(".lines[{j}]")),
                                format!(
                                    "irq from {}: vCPUs of {c} have no input line '{l}'{}",
                                    w.from,
                                    suggest(l, &names)
                                ),
                            ));
                        };
                        nums.push(*n);
                    }
                    for k in 0..m.clusters[ci].cpus.len() {
                        for (j, n) in nums.iter().enumerate() {
                            let o = out + (k * nums.len() + j) as u32;
                            m.connect_irq(from_dev, o, IrqTarget::Cpu(ci, k, *n))
                                .map_err(|e| wire_err(".to_cpus", e))?;
                        }
                    }
                }
                _ => {
                    return Err(at.val(
                        &o,
                        format!(
                            "irq from {}: give either `to` (a device) or `to_cpus` (a cluster)",
                            w.from
                        ),
                    ))
                }
            }
        }
        m.phases.advance_all(Phase::Wired).map_err(internal)?;

        m.insn_ns = match &mf.insn_ns {
            Some(v) => {
                let o = at.top("insn_ns");
                parse_u64(&sub(&o, v)?)
                    .filter(|q| (1..=1_000_000).contains(q))
                    .ok_or_else(|| at.val(&o, "insn_ns must be 1..1000000"))?
            }
            None => 10,
        };
        m.quantum = match &mf.quantum {
            Some(v) => {
                let o = at.top("quantum");
                parse_u64(&sub(&o, v)?)
                    .filter(|q| *q > 0)
                    .ok_or_else(|| at.val(&o, "quantum must be a positive integer"))?
            }
            None => 10_000,
        };
        m.parallel = match &mf.parallel {
            Some(v) => {
                let o = at.top("parallel");
                match scalar_text(&sub(&o, v)?).as_deref() {
                    Some("true" | "on") => true,
                    Some("false" | "off") => false,
                    _ => return Err(at.val(&o, "parallel must be true or false")),
                }
            }
            None => false,
        };
        m.fdt = match &mf.fdt {
            Some(v) => {
                let o = at.top("fdt");
                let f: file::FdtSpec = file::typed(at, &o, sub(&o, v)?, "fdt")?;
                let tb = parse_u64(&f.timebase_frequency)
                    .filter(|t| (1..=u32::MAX as u64).contains(t))
                    .ok_or_else(|| {
                        at.val(&o.sub(".timebase_frequency"), "fdt: bad timebase_frequency")
                    })?;
                if let Some(s) = &f.stdout {
                    if !matches!(ids.get(s), Some(Target::Mmio { .. })) {
                        return Err(at.val(
                            &o.sub(".stdout"),
                            format!("fdt: stdout '{s}' is not a device id"),
                        ));
                    }
                }
                Some(crate::fdt::FdtOptions {
                    timebase_hz: tb as u32,
                    bootargs: None,
                    stdout: f.stdout,
                })
            }
            None => None,
        };
        m.reset();
        Ok(m)
    }

    /// The bus of cluster `c`.
    pub fn bus(&mut self, c: usize) -> Bus<'_> {
        Bus {
            space: &self.spaces[self.clusters[c].space],
            mem: &mut self.memory,
        }
    }

    /// Refuse an image whose ranges overlap an image loaded before; then
    /// remember them under `name`.
    fn claim(&mut self, space: usize, name: &str, ranges: &[(u64, u64)]) -> Result<(), LoadError> {
        for &(s, e) in ranges {
            if let Some((_, os, oe, on)) = self
                .loaded
                .iter()
                .find(|(sp, os, oe, _)| *sp == space && s < *oe && *os < e)
            {
                return Err(LoadError::Overlap {
                    start: s,
                    end: e,
                    other: on.clone(),
                    other_start: *os,
                    other_end: *oe,
                });
            }
        }
        self.loaded
            .extend(ranges.iter().map(|&(s, e)| (space, s, e, name.to_string())));
        Ok(())
    }

    /// Load an ELF image into the boot cluster's address space and make its
    /// entry point the boot cluster's start address.
    pub fn load_elf(&mut self, data: &[u8]) -> Result<ElfInfo, LoadError> {
        self.load_elf_named(data, "an earlier image")
    }

    /// [`Machine::load_elf`], naming the image for overlap errors.
    pub fn load_elf_named(&mut self, data: &[u8], name: &str) -> Result<ElfInfo, LoadError> {
        self.load_elf_into(self.boot_cluster, data, name)
    }

    /// Load an ELF image into cluster `c`'s address space and make its
    /// entry point that cluster's start address.
    pub fn load_elf_into(
        &mut self,
        c: usize,
        data: &[u8],
        name: &str,
    ) -> Result<ElfInfo, LoadError> {
        let ranges = loader::elf_ranges(data)?;
        self.claim(self.clusters[c].space, name, &ranges)?;
        let info = loader::load_elf(&mut self.bus(c), data)?;
        self.clusters[c].boot.entry = info.entry;
        Ok(info)
    }

    /// Boot a different image on the cluster called `cluster` than its
    /// machine file names (`--image CLUSTER=PATH`); before
    /// [`Machine::load_file_images`].
    pub fn set_cluster_image(&mut self, cluster: &str, path: &Path) -> Result<(), String> {
        let Some(c) = self.clusters.iter().position(|c| c.id == cluster) else {
            let ids: Vec<&str> = self.clusters.iter().map(|c| c.id.as_str()).collect();
            return Err(format!("no cluster '{cluster}'{}", suggest(cluster, &ids)));
        };
        self.clusters[c].image = Some(path.to_path_buf());
        Ok(())
    }

    /// Load the image of every cluster that has one (machine file
    /// `image:`, or [`Machine::set_cluster_image`]): an ELF where it says,
    /// starting the cluster at its entry; anything else raw at the
    /// cluster's reset address. Once; returns how many were loaded.
    pub fn load_file_images(&mut self) -> Result<usize, String> {
        if self.images_loaded {
            return Ok(0);
        }
        self.images_loaded = true;
        let mut n = 0;
        for c in 0..self.clusters.len() {
            let Some(path) = self.clusters[c].image.clone() else {
                continue;
            };
            let data = std::fs::read(&path).map_err(|e| {
                format!(
                    "cluster {}: image {}: {e}",
                    self.clusters[c].id,
                    path.display()
                )
            })?;
            let name = path.display().to_string();
            let what = |e: LoadError| format!("{name}: {e}");
            if data.starts_with(b"\x7fELF") {
                self.load_elf_into(c, &data, &name).map_err(what)?;
            } else {
                let addr = self.clusters[c].boot.entry;
                self.claim(
                    self.clusters[c].space,
                    &name,
                    &[(addr, addr.saturating_add(data.len() as u64))],
                )
                .map_err(what)?;
                loader::load_raw(&mut self.bus(c), addr, &data).map_err(what)?;
            }
            n += 1;
        }
        Ok(n)
    }

    /// Load a raw image at `addr`; with `entry`, start the boot cluster there.
    pub fn load_raw(&mut self, addr: u64, data: &[u8], entry: bool) -> Result<(), LoadError> {
        self.load_raw_named(addr, data, entry, "an earlier image")
    }

    /// [`Machine::load_raw`], naming the image for overlap errors.
    pub fn load_raw_named(
        &mut self,
        addr: u64,
        data: &[u8],
        entry: bool,
        name: &str,
    ) -> Result<(), LoadError> {
        let c = self.boot_cluster;
        let space = self.clusters[c].space;
        self.claim(
            space,
            name,
            &[(addr, addr.saturating_add(data.len() as u64))],
        )?;
        loader::load_raw(&mut self.bus(c), addr, data)?;
        if entry {
            self.clusters[c].boot.entry = addr;
        }
        Ok(())
    }

    /// Index of the cluster `-kernel`/`-bios` boot.
    pub fn boot_cluster(&self) -> usize {
        self.boot_cluster
    }

    /// The boot cluster's RAM region holding its start address (else its
    /// first RAM region): where QEMU's virt board puts boot data.
    fn boot_ram(&self) -> Option<Region> {
        let cl = &self.clusters[self.boot_cluster];
        let entry = cl.boot.entry;
        let rams = || {
            self.spaces[cl.space]
                .regions()
                .iter()
                .filter(|r| matches!(r.target, Target::Ram { .. }))
        };
        rams()
            .find(|r| r.base <= entry && entry <= r.last())
            .or_else(|| rams().next())
            .cloned()
    }

    /// Put a device tree in the boot cluster's RAM where QEMU's virt board
    /// puts it — the top of the RAM holding the start address, below 3 GiB,
    /// 2 MiB aligned — and pass its address at reset. `blob` None: the
    /// tree generated from this machine (if the machine file asks for one).
    /// Returns the address, or None when there is no tree.
    pub fn place_fdt(
        &mut self,
        blob: Option<Vec<u8>>,
        bootargs: Option<String>,
    ) -> Result<Option<u64>, String> {
        let c = self.boot_cluster;
        let blob = match blob {
            Some(b) => b,
            None => match &self.fdt {
                Some(opts) => {
                    let mut o = opts.clone();
                    o.bootargs = bootargs;
                    crate::fdt::build(self, c, &o)?
                }
                None => return Ok(None),
            },
        };
        let ram = self.boot_ram().ok_or("no RAM to hold the device tree")?;
        const MIB2: u64 = 2 << 20;
        let end = ram.last().saturating_add(1);
        let top = if ram.base < 3 << 30 {
            end.min(3 << 30)
        } else {
            end
        };
        let addr = top
            .checked_sub(blob.len() as u64)
            .map(|a| a & !(MIB2 - 1))
            .filter(|a| *a >= ram.base)
            .ok_or("the device tree does not fit in RAM")?;
        crate::loader::load_raw(&mut self.bus(c), addr, &blob).map_err(|e| e.to_string())?;
        self.clusters[c].boot.fdt = addr;
        Ok(Some(addr))
    }

    /// Record the entry of the next boot stage (a kernel loaded after
    /// firmware), for the firmware's boot-information block.
    pub fn set_next_stage(&mut self, entry: u64) {
        let c = self.boot_cluster;
        self.clusters[c].boot.next = entry;
    }

    /// Write the boot-information block the boot cluster's ISA asks for
    /// (if any) into RAM — 4 KiB below the device tree, or at the top of
    /// the RAM holding the start address — and pass its address at reset.
    pub fn place_boot_info(&mut self) -> Result<Option<u64>, String> {
        let c = self.boot_cluster;
        let boot = self.clusters[c].boot;
        let Some(block) = self.clusters[c].model.boot_info_block(&boot) else {
            return Ok(None);
        };
        let ram = self.boot_ram().ok_or("no RAM for the boot information")?;
        let top = if boot.fdt != 0 {
            boot.fdt
        } else {
            ram.last().saturating_add(1)
        };
        let addr = top
            .checked_sub(0x1000)
            .filter(|a| *a >= ram.base && block.len() <= 0x1000)
            .ok_or("no room for the boot information")?;
        let space = self.clusters[c].space;
        self.claim(
            space,
            "the boot information",
            &[(addr, addr + block.len() as u64)],
        )
        .map_err(|e| e.to_string())?;
        crate::loader::load_raw(&mut self.bus(c), addr, &block).map_err(|e| e.to_string())?;
        self.clusters[c].boot.info = addr;
        Ok(Some(addr))
    }

    /// Set the boot information of the boot cluster.
    pub fn set_boot(&mut self, boot: BootInfo) {
        let c = self.boot_cluster;
        self.clusters[c].boot = boot;
    }

    /// Reset every vCPU and device; clusters the machine file starts
    /// held go back into reset.
    pub fn reset(&mut self) {
        for d in &mut self.memory.devices {
            d.dev.reset();
        }
        for c in &mut self.clusters {
            c.reset();
            c.held = c.start_held;
        }
    }

    /// A cluster's reset line changed (`level` false: asserted). Edges
    /// only: asserting holds a running cluster, releasing a held one
    /// starts it from its reset state.
    pub fn set_cluster_reset(&mut self, cluster: usize, level: bool) {
        self.clusters[cluster].set_reset_line(level);
    }

    /// Run until shutdown, a crash, or `limit` instructions per vCPU.
    pub fn run(&mut self, limit: Option<u64>) -> RunResult {
        self.run_with(limit, &mut |_| None)
    }

    /// [`Machine::run`], calling `poll` between quanta (a monitor serving
    /// commands): it may change the machine, block while it is paused, or
    /// end the run by returning a result.
    pub fn run_with(
        &mut self,
        limit: Option<u64>,
        poll: &mut dyn FnMut(&mut Machine) -> Option<RunResult>,
    ) -> RunResult {
        // A machine runs realized: its configuration is fixed from here.
        self.realize();
        if self.parallel {
            // Each cluster in its own host thread (machine/parallel.rs).
            return self.run_parallel(limit, poll);
        }
        let start: Vec<Vec<u64>> = self
            .clusters
            .iter()
            .map(|c| c.cpus.iter().map(|s| s.insns).collect())
            .collect();
        loop {
            let mut all_done = true;
            let mut all_waiting = true;
            let mut most = 0u64;
            self.memory.now_ns = self.time_ns;
            // Indexed: handling events below needs `self` between clusters.
            #[allow(clippy::needless_range_loop)]
            for ci in 0..self.clusters.len() {
                let cl = &mut self.clusters[ci];
                if cl.held {
                    // Held in reset: neither running nor waiting.
                    continue;
                }
                let space = &self.spaces[cl.space];
                for (i, cpu) in cl.cpus.iter_mut().enumerate() {
                    let budget = match limit {
                        Some(l) => {
                            let used = cpu.insns.saturating_sub(start[ci][i]);
                            if used >= l {
                                continue;
                            }
                            (l - used).min(self.quantum)
                        }
                        None => self.quantum,
                    };
                    all_done = false;
                    // The debugger holds this vCPU: it stays exactly as it
                    // is (takes no interrupt); held while others run, it
                    // is idle for the scheduler.
                    if let Some(idle) = self.debug.as_deref().and_then(|d| d.holds(ci, i)) {
                        all_waiting &= idle;
                        continue;
                    }
                    if cpu.irq_pending {
                        cpu.irq_pending = false;
                        cl.model.check_interrupts(cpu);
                    }
                    if cpu.waiting {
                        continue;
                    }
                    all_waiting = false;
                    let before = cpu.insns;
                    let mut bus = Bus {
                        space,
                        mem: &mut self.memory,
                    };
                    let cx = ExecCtx {
                        model: &*cl.model,
                        cache: &mut cl.cache,
                        cpu,
                        bus: &mut bus,
                    };
                    // With a debugger, it decides how far the vCPU runs
                    // (breakpoints, single-steps, a held machine).
                    let exit = match self.debug.as_deref_mut() {
                        Some(d) => d.run_vcpu(ci, i, &mut *cl.engine, cx, budget),
                        None => cl.engine.run(cx, budget),
                    };
                    most = most.max(cpu.insns - before);
                    if let Exit::Trap(t) = exit {
                        return RunResult::Crashed {
                            cpu: format!("/machine/{}/cpu{}", cl.id, cpu.index),
                            report: format!(
                                "trap {} returned to a machine that has no host handler",
                                t.code
                            ),
                        };
                    }
                    if exit == Exit::Stopped {
                        return RunResult::Crashed {
                            cpu: format!("/machine/{}/cpu{}", cl.id, cpu.index),
                            report: cpu.stopped.clone().unwrap_or_default(),
                        };
                    }
                    if !self.memory.events.is_empty() {
                        break;
                    }
                }
                if let Some(r) = self.handle_events() {
                    return r;
                }
            }
            self.propagate_code_writes();
            if all_done {
                return RunResult::Limit;
            }
            if all_waiting {
                // Nothing runs: skip to the next timer, or wait for input.
                match self.next_deadline() {
                    Some(t) => self.time_ns = self.time_ns.max(t),
                    None if self.idle_wait => {
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                    None if !self.has_input() => return RunResult::Idle,
                    None => {}
                }
            } else {
                self.time_ns += most.max(1) * self.insn_ns;
            }
            if let Some(r) = self.tick_devices() {
                return r;
            }
            if let Some(r) = poll(self) {
                return r;
            }
        }
    }

    fn next_deadline(&self) -> Option<u64> {
        self.memory
            .devices
            .iter()
            .filter_map(|d| d.dev.next_deadline())
            .min()
    }

    fn has_input(&self) -> bool {
        self.memory
            .devices
            .iter()
            .any(|d| d.dev.has_pending_input())
    }

    /// Let devices see the time (timers) and poll host input.
    fn tick_devices(&mut self) -> Option<RunResult> {
        self.memory.now_ns = self.time_ns;
        for (i, d) in self.memory.devices.iter_mut().enumerate() {
            let mut cx = DeviceCtx {
                events: &mut self.memory.events,
                device: i,
                now_ns: self.time_ns,
            };
            d.dev.tick(&mut cx);
        }
        self.handle_events()
    }

    /// Execute exactly one instruction (or take one trap) on one vCPU,
    /// translating one instruction per block. For tracing and stepping.
    pub fn step(&mut self, cluster: usize, cpu: usize) -> Option<RunResult> {
        let cl = &mut self.clusters[cluster];
        if !cl.cache.single_step {
            cl.cache.flush();
            cl.cache.single_step = true;
        }
        let mut bus = Bus {
            space: &self.spaces[cl.space],
            mem: &mut self.memory,
        };
        let st = &mut cl.cpus[cpu];
        let exit = cl.engine.run(
            ExecCtx {
                model: &*cl.model,
                cache: &mut cl.cache,
                cpu: st,
                bus: &mut bus,
            },
            1,
        );
        self.propagate_code_writes();
        if exit == Exit::Stopped {
            let st = &self.clusters[cluster].cpus[cpu];
            return Some(RunResult::Crashed {
                cpu: format!("/machine/{}/cpu{}", self.clusters[cluster].id, st.index),
                report: st.stopped.clone().unwrap_or_default(),
            });
        }
        self.handle_events()
    }

    fn handle_events(&mut self) -> Option<RunResult> {
        // Routing an IRQ into a controller can raise more events: loop.
        // Wiring may run in cycles; devices only signal level changes, so
        // a cycle settles, but a pair of devices that kept toggling each
        // other must not hang the machine.
        let mut rounds = 0u32;
        while !self.memory.events.is_empty() {
            rounds += 1;
            if rounds > MAX_IRQ_ROUNDS {
                self.memory.events.clear();
                return Some(RunResult::Crashed {
                    cpu: "/machine".into(),
                    report: format!(
                        "interrupt lines still changing after {MAX_IRQ_ROUNDS} rounds: the IRQ \
                         wiring oscillates"
                    ),
                });
            }
            let events = std::mem::take(&mut self.memory.events);
            for e in events {
                match e {
                    MachineEvent::Shutdown(code) => return Some(RunResult::Shutdown(code)),
                    MachineEvent::Reset => self.reset(),
                    MachineEvent::Irq { device, out, level } => {
                        let targets = self
                            .irq_routes
                            .get(&(device, out))
                            .cloned()
                            .unwrap_or_default();
                        for t in targets {
                            match t {
                                IrqTarget::Device(d, input) => {
                                    let mut cx = DeviceCtx {
                                        events: &mut self.memory.events,
                                        device: d,
                                        now_ns: self.memory.now_ns,
                                    };
                                    self.memory.devices[d].dev.set_input(input, level, &mut cx);
                                }
                                IrqTarget::Cpu(c, k, line) => {
                                    let cl = &mut self.clusters[c];
                                    cl.model.set_irq(&mut cl.cpus[k], line, level);
                                }
                                IrqTarget::Reset(c) => self.set_cluster_reset(c, level),
                            }
                        }
                    }
                }
            }
        }
        None
    }

    fn propagate_code_writes(&mut self) {
        if self.memory.code_writes.is_empty() {
            return;
        }
        for g in std::mem::take(&mut self.memory.code_writes) {
            for c in &mut self.clusters {
                c.cache.invalidate(g);
            }
            if let Some(d) = self.debug.as_deref_mut() {
                d.invalidate(g);
            }
        }
    }
}

fn device_config(
    at: &file::Origins,
    o: &file::Origin,
    d: &file::DeviceSpec,
    ty: &DeviceType,
    serials: &[CharBackend],
) -> Result<DeviceConfig, FileError> {
    let mut cfg = DeviceConfig::default();
    for k in d.props.keys() {
        if !ty.props.iter().any(|p| p.name == k) {
            let names: Vec<&str> = ty.props.iter().map(|p| p.name).collect();
            return Err(at.key(
                &o.sub(&format!(".props.{k}")),
                format!(
                    "device {}: {} has no property '{k}'{}",
                    d.id,
                    ty.name,
                    suggest(k, &names)
                ),
            ));
        }
    }
    for p in ty.props {
        let given = d.props.get(p.name);
        let text = match (given, p.default) {
            (Some(v), _) => scalar_text(v).unwrap_or_default(),
            (None, Some(def)) => def.to_string(),
            (None, None) => {
                return Err(at.val(
                    &o.sub(".props"),
                    format!("device {}: property '{}' is required", d.id, p.name),
                ))
            }
        };
        let bad = || {
            at.val(
                &o.sub(&format!(".props.{}", p.name)),
                format!(
                    "device {}: property {} must be {}, not '{text}'",
                    d.id, p.name, p.ty
                ),
            )
        };
        let v = match p.ty {
            PropType::U64 => PropValue::U64(file::parse_u64_str(&text).ok_or_else(bad)?),
            PropType::Bool => PropValue::Bool(match text.as_str() {
                "true" | "on" => true,
                "false" | "off" => false,
                _ => return Err(bad()),
            }),
            PropType::Str => PropValue::Str(text.clone()),
            PropType::Chardev => {
                if let Some(n) = text
                    .strip_prefix("serial")
                    .and_then(|n| n.parse::<usize>().ok())
                {
                    if let Some(b) = serials.get(n) {
                        cfg.chardevs.insert(p.name.to_string(), b.clone());
                    }
                } else if !text.is_empty() && text != "none" {
                    return Err(bad());
                }
                PropValue::Str(text.clone())
            }
        };
        p.check(&v).map_err(|e| {
            at.val(
                &o.sub(&format!(".props.{}", p.name)),
                format!("device {}: {e}", d.id),
            )
        })?;
        cfg.props.insert(p.name.to_string(), v);
    }
    Ok(cfg)
}

/// ", did you mean 'x'?" for the closest of `names`, if any is close.
pub fn suggest(word: &str, names: &[&str]) -> String {
    let best = names
        .iter()
        .map(|n| (edit_distance(word, n), *n))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, n)) if d <= 3.max(word.len() / 3) => format!(", did you mean '{n}'?"),
        _ if !names.is_empty() => format!(" (known: {})", names.join(", ")),
        _ => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
