//! The object model: which objects a machine has, the life-cycle phase of
//! each, and wiring that respects it.
//!
//! Every object goes through created → configured → wired → realized, in
//! that order and one step at a time ([`Phases::advance`] refuses a skip
//! or a step back):
//!
//! - **created**: its type is known and its id (so its path) is taken;
//! - **configured**: its properties are set and checked (types, ranges) and
//!   its model is built;
//! - **wired**: it is attached to buses (mapped into address spaces) and
//!   its IRQ lines are connected ([`Machine::connect_irq`]). The builder
//!   creates and configures every object before it wires any, so wiring
//!   may run in cycles (two devices wired to each other);
//! - **realized**: the machine is complete and may run; configuration
//!   properties are read-only and its own wiring is fixed.
//!
//! The builder walks every object of a machine file through the first
//! three phases; [`Machine::realize`] does the last (when the machine is
//! started). A device hot-plugged into a realized machine is walked
//! through all four by `device_add`, and removed again if any step fails.

use super::{IrqTarget, Machine};
use std::fmt;
use std::ops::RangeInclusive;

/// An object of the composition tree, by kind and index.
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
    /// `/objects`: the container of user-created objects.
    Objects,
    /// A user-created object (`object-add`), by index in its store.
    User(usize),
}

/// Where an object is in its life cycle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Its type and id are known.
    #[default]
    Created,
    /// Its properties are set and its model built.
    Configured,
    /// It is attached to buses and its IRQ lines are connected.
    Wired,
    /// Complete: configuration is read-only, its wiring fixed.
    Realized,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Phase; 4] = [
        Phase::Created,
        Phase::Configured,
        Phase::Wired,
        Phase::Realized,
    ];
    /// The name QMP shows (`qom-get ... phase`).
    pub fn name(self) -> &'static str {
        match self {
            Phase::Created => "created",
            Phase::Configured => "configured",
            Phase::Wired => "wired",
            Phase::Realized => "realized",
        }
    }
    /// The phase after this one.
    pub fn next(self) -> Option<Phase> {
        match self {
            Phase::Created => Some(Phase::Configured),
            Phase::Configured => Some(Phase::Wired),
            Phase::Wired => Some(Phase::Realized),
            Phase::Realized => None,
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A life-cycle step out of order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what} is {from}: it cannot become {to} (objects go created → configured → wired → realized, one step at a time)")]
pub struct PhaseError {
    /// The object (`device 3`, `cluster 0`...).
    pub what: String,
    /// Its phase.
    pub from: Phase,
    /// The phase asked for.
    pub to: Phase,
}

/// The phase of every object of a machine. vCPUs go through their life
/// cycle with their cluster; the root and `/objects` are containers with
/// no life cycle; user-created objects keep theirs in their store.
#[derive(Clone, Debug, Default)]
pub struct Phases {
    machine: Phase,
    clusters: Vec<Phase>,
    devices: Vec<Phase>,
    ram: Vec<Phase>,
}

impl Phases {
    fn slot(&mut self, o: Obj) -> Option<&mut Phase> {
        match o {
            Obj::Machine => Some(&mut self.machine),
            Obj::Cluster(c) | Obj::Cpu(c, _) => self.clusters.get_mut(c),
            Obj::Device(d) => self.devices.get_mut(d),
            Obj::Ram(b) => self.ram.get_mut(b),
            Obj::Root | Obj::Objects | Obj::User(_) => None,
        }
    }

    /// The phase of an object of the machine (None: a container, or no
    /// such object).
    pub fn get(&self, o: Obj) -> Option<Phase> {
        match o {
            Obj::Machine => Some(self.machine),
            Obj::Cluster(c) | Obj::Cpu(c, _) => self.clusters.get(c).copied(),
            Obj::Device(d) => self.devices.get(d).copied(),
            Obj::Ram(b) => self.ram.get(b).copied(),
            Obj::Root | Obj::Objects | Obj::User(_) => None,
        }
    }

    /// Register a new object (the next index of its kind) as created.
    pub fn create(&mut self, o: Obj) {
        match o {
            Obj::Cluster(_) => self.clusters.push(Phase::Created),
            Obj::Device(_) => self.devices.push(Phase::Created),
            Obj::Ram(_) => self.ram.push(Phase::Created),
            _ => {}
        }
    }

    /// Forget the last device (a hot-plug that failed).
    pub(crate) fn drop_last_device(&mut self) {
        self.devices.pop();
    }

    /// Move `o` one step, to `to`.
    pub fn advance(&mut self, o: Obj, to: Phase) -> Result<(), PhaseError> {
        let what = format!("{o:?}");
        let Some(p) = self.slot(o) else {
            return Err(PhaseError {
                what,
                from: Phase::Created,
                to,
            });
        };
        if p.next() != Some(to) {
            return Err(PhaseError { what, from: *p, to });
        }
        *p = to;
        Ok(())
    }

    /// Move every object (the machine last) one step, to `to`: each must
    /// be in the phase before it.
    pub fn advance_all(&mut self, to: Phase) -> Result<(), PhaseError> {
        let objs: Vec<Obj> = (0..self.clusters.len())
            .map(Obj::Cluster)
            .chain((0..self.devices.len()).map(Obj::Device))
            .chain((0..self.ram.len()).map(Obj::Ram))
            .chain([Obj::Machine])
            .collect();
        for o in objs {
            self.advance(o, to)?;
        }
        Ok(())
    }
}

/// A wire the machine refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// No such device (or it was removed).
    #[error("'{0}' is no device of the machine")]
    NoDevice(String),
    /// The source is not in a phase where it may be wired.
    #[error("{id} is {phase}: IRQ lines are wired once an object is configured and before it is realized")]
    Phase {
        /// The source device.
        id: String,
        /// Its phase.
        phase: Phase,
    },
    /// The target's model does not exist yet.
    #[error("{id} is {phase}: only a configured device can take IRQ lines")]
    TargetPhase {
        /// The target device.
        id: String,
        /// Its phase.
        phase: Phase,
    },
    /// The target has no such input.
    #[error("{id} input {input} is out of range {}..={}", range.start(), range.end())]
    OutOfRange {
        /// The target device.
        id: String,
        /// The input asked for.
        input: u32,
        /// The inputs it has.
        range: RangeInclusive<u32>,
    },
    /// Something already drives the target line.
    #[error("{target} is already driven by {by}")]
    InUse {
        /// The target line.
        target: String,
        /// The output driving it.
        by: String,
    },
    /// No such vCPU.
    #[error("no vCPU {1} in cluster {0}")]
    NoCpu(usize, usize),
}

impl Machine {
    /// The phase of an object of the machine.
    pub fn phase(&self, o: Obj) -> Option<Phase> {
        self.phases.get(o)
    }

    /// Has the machine been realized (started)?
    pub fn is_realized(&self) -> bool {
        self.phases.get(Obj::Machine) == Some(Phase::Realized)
    }

    /// The id of device `d` (the last component of its path).
    pub fn device_id(&self, d: usize) -> String {
        let p = self.memory.devices.get(d).map_or("", |s| s.path.as_str());
        p.rsplit('/').next().unwrap_or(p).to_string()
    }

    fn live_device(&self, d: usize) -> Result<Phase, WireError> {
        match (self.memory.devices.get(d), self.phases.get(Obj::Device(d))) {
            (Some(s), Some(p)) if !s.path.is_empty() => Ok(p),
            _ => Err(WireError::NoDevice(format!("device {d}"))),
        }
    }

    /// The input a wire ends at, as QOM shows it:
    /// `/machine/plic/irq-in[10]`, `/machine/cpus/cpu0/irq-in[meip]`.
    pub fn irq_target_path(&self, t: IrqTarget) -> String {
        match t {
            IrqTarget::Device(d, input) => format!(
                "{}/irq-in[{input}]",
                self.memory.devices.get(d).map_or("", |s| s.path.as_str())
            ),
            IrqTarget::Cpu(c, k, line) => {
                let cl = &self.clusters[c];
                let name = cl
                    .model
                    .irq_lines()
                    .iter()
                    .find(|(_, n)| *n == line)
                    .map_or_else(|| line.to_string(), |(n, _)| n.to_string());
                format!("/machine/{}/cpu{}/irq-in[{name}]", cl.id, cl.cpus[k].index)
            }
            IrqTarget::Reset(c) => format!("/machine/{}/reset-in", self.clusters[c].id),
        }
    }

    /// The wires leaving device `d`: (output, target), by output.
    pub fn irq_outputs(&self, d: usize) -> Vec<(u32, IrqTarget)> {
        self.irq_routes
            .range((d, 0)..=(d, u32::MAX))
            .flat_map(|(&(_, out), ts)| ts.iter().map(move |t| (out, *t)))
            .collect()
    }

    /// Connect output `out` of device `from` to `to`. The source must be
    /// configured and not yet realized (its wiring is fixed once it is);
    /// a device target must be configured, have the input (when it
    /// declares its inputs), and nothing else may drive that input: two
    /// level-triggered outputs on one line would hide each other.
    pub fn connect_irq(&mut self, from: usize, out: u32, to: IrqTarget) -> Result<(), WireError> {
        let phase = self.live_device(from)?;
        if !matches!(phase, Phase::Configured | Phase::Wired) {
            return Err(WireError::Phase {
                id: self.device_id(from),
                phase,
            });
        }
        match to {
            IrqTarget::Device(d, input) => {
                let tp = self
                    .live_device(d)
                    .map_err(|_| WireError::NoDevice(format!("device {d}")))?;
                if tp < Phase::Configured {
                    return Err(WireError::TargetPhase {
                        id: self.device_id(d),
                        phase: tp,
                    });
                }
                if let Some(range) = self.memory.devices[d].dev.irq_inputs() {
                    if !range.contains(&input) {
                        return Err(WireError::OutOfRange {
                            id: self.device_id(d),
                            input,
                            range,
                        });
                    }
                }
            }
            IrqTarget::Cpu(c, k, _) => {
                if self.clusters.get(c).is_none_or(|cl| k >= cl.cpus.len()) {
                    return Err(WireError::NoCpu(c, k));
                }
            }
            IrqTarget::Reset(c) => {
                if c >= self.clusters.len() {
                    return Err(WireError::NoCpu(c, 0));
                }
            }
        }
        if let Some((&(d, o), _)) = self.irq_routes.iter().find(|(_, ts)| ts.contains(&to)) {
            return Err(WireError::InUse {
                target: self.irq_target_path(to),
                by: format!("{} output {o}", self.memory.devices[d].path),
            });
        }
        self.irq_routes.entry((from, out)).or_default().push(to);
        Ok(())
    }

    /// Realize the machine: every object, wired by the builder (or by
    /// `device_add` before the start), becomes realized; from now on
    /// configuration properties are read-only. Idempotent.
    pub fn realize(&mut self) {
        if self.is_realized() {
            return;
        }
        // The builder leaves every object wired and a failed hot-plug
        // leaves nothing behind, so this cannot fail; were it to, the
        // object would stay unrealized and its configuration writable,
        // which is visible (`qom-get ... phase`) rather than fatal.
        for d in 0..self.memory.devices.len() {
            if self.phases.get(Obj::Device(d)) == Some(Phase::Wired) {
                let _ = self.phases.advance(Obj::Device(d), Phase::Realized);
            }
        }
        for c in 0..self.clusters.len() {
            let _ = self.phases.advance(Obj::Cluster(c), Phase::Realized);
        }
        for b in 0..self.memory.ram.len() {
            let _ = self.phases.advance(Obj::Ram(b), Phase::Realized);
        }
        let _ = self.phases.advance(Obj::Machine, Phase::Realized);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_go_one_step_at_a_time() {
        let mut p = Phases::default();
        p.create(Obj::Device(0));
        assert_eq!(p.get(Obj::Device(0)), Some(Phase::Created));
        // No skipping...
        let e = p.advance(Obj::Device(0), Phase::Wired).unwrap_err();
        assert_eq!((e.from, e.to), (Phase::Created, Phase::Wired));
        p.advance(Obj::Device(0), Phase::Configured).unwrap();
        p.advance(Obj::Device(0), Phase::Wired).unwrap();
        // ...and no going back.
        assert!(p.advance(Obj::Device(0), Phase::Configured).is_err());
        p.advance(Obj::Device(0), Phase::Realized).unwrap();
        assert!(p.advance(Obj::Device(0), Phase::Realized).is_err());
        assert!(p.advance(Obj::Device(1), Phase::Configured).is_err());
        // Containers have no life cycle.
        assert_eq!(p.get(Obj::Root), None);
    }

    #[test]
    fn advance_all_needs_every_object_in_step() {
        let mut p = Phases::default();
        p.create(Obj::Device(0));
        p.create(Obj::Ram(0));
        p.create(Obj::Cluster(0));
        p.advance(Obj::Device(0), Phase::Configured).unwrap();
        // The RAM block is still created: the machine cannot be wired.
        assert!(p.advance_all(Phase::Wired).is_err());
        let mut p = Phases::default();
        p.create(Obj::Device(0));
        p.advance_all(Phase::Configured).unwrap();
        p.advance_all(Phase::Wired).unwrap();
        assert_eq!(p.get(Obj::Machine), Some(Phase::Wired));
        assert_eq!(p.get(Obj::Cpu(0, 3)), None);
        let order: Vec<&str> = Phase::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(order, ["created", "configured", "wired", "realized"]);
    }
}
