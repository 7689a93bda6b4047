//! The object model of built machines: the builder walks every object
//! through created → configured → wired and leaves the machine wired;
//! realizing it (what starting does) fixes its wiring; IRQ wiring is
//! checked (busy lines, missing inputs) and may run in cycles.

use hemu_runtime::device::CharBackend;
use hemu_runtime::ir::Endian;
use hemu_runtime::machine::object::{Obj, Phase, WireError};
use hemu_runtime::machine::{BuildOptions, IrqTarget, Registry, RunResult};
use hemu_runtime::Machine;
use std::path::Path;

fn reg() -> Registry {
    Registry {
        frontends: hemu_frontends::FRONTENDS,
        devices: hemu_hw::DEVICE_TYPES,
    }
}

fn build(file: &str) -> Machine {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let opts = BuildOptions {
        params: Vec::new(),
        serials: vec![CharBackend::null()],
        engine: None,
    };
    let mut m = Machine::from_file(&path, &reg(), opts).unwrap();
    // `j .` at the reset pc, so the machine can run.
    m.load_raw(0x8000_0000, &0x0000_006fu32.to_le_bytes(), true)
        .unwrap();
    m
}

fn device(m: &Machine, id: &str) -> usize {
    m.memory
        .devices
        .iter()
        .position(|d| d.path == format!("/machine/{id}"))
        .unwrap()
}

/// Every object of the machine with a life cycle.
fn objects(m: &Machine) -> Vec<Obj> {
    let mut v = vec![Obj::Machine];
    for c in 0..m.clusters.len() {
        v.push(Obj::Cluster(c));
        v.extend((0..m.clusters[c].cpus.len()).map(|k| Obj::Cpu(c, k)));
    }
    v.extend((0..m.memory.devices.len()).map(Obj::Device));
    v.extend((0..m.memory.ram.len()).map(Obj::Ram));
    v
}

#[test]
fn built_machines_are_wired_and_realized_when_they_start() {
    let mut m = build("machines/virt.yaml");
    let objs = objects(&m);
    assert_eq!(objs.len(), 9);
    for o in &objs {
        assert_eq!(m.phase(*o), Some(Phase::Wired), "{o:?}");
    }
    assert!(!m.is_realized());
    let (test, rtc, plic) = (device(&m, "test"), device(&m, "rtc"), device(&m, "plic"));

    // Before realize, wiring is allowed — and checked.
    m.connect_irq(test, 0, IrqTarget::Device(plic, 20)).unwrap();
    assert_eq!(
        m.connect_irq(rtc, 1, IrqTarget::Device(plic, 11)),
        Err(WireError::InUse {
            target: "/machine/plic/irq-in[11]".into(),
            by: "/machine/rtc output 0".into()
        })
    );
    assert_eq!(
        m.connect_irq(rtc, 1, IrqTarget::Device(plic, 97))
            .unwrap_err()
            .to_string(),
        "plic input 97 is out of range 1..=96"
    );
    assert_eq!(
        m.connect_irq(rtc, 1, IrqTarget::Cpu(0, 5, 11)),
        Err(WireError::NoCpu(0, 5))
    );
    assert_eq!(m.irq_outputs(test), vec![(0, IrqTarget::Device(plic, 20))]);

    // Starting realizes every object (run() does it when nobody did).
    assert_eq!(m.run(Some(10)), RunResult::Limit);
    assert!(m.is_realized());
    for o in &objs {
        assert_eq!(m.phase(*o), Some(Phase::Realized), "{o:?}");
    }
    // Its wiring is fixed now.
    let e = m
        .connect_irq(test, 1, IrqTarget::Device(plic, 21))
        .unwrap_err();
    assert_eq!(
        e,
        WireError::Phase {
            id: "test".into(),
            phase: Phase::Realized
        }
    );
    assert!(e.to_string().contains("before it is realized"), "{e}");
    m.realize(); // idempotent
    assert_eq!(m.phase(Obj::Device(test)), Some(Phase::Realized));
}

#[test]
fn an_interrupt_goes_around_a_wiring_cycle() {
    let mut m = build("tests/machines/irq_cycle.yaml");
    let (pic0, pic1) = (device(&m, "pic0"), device(&m, "pic1"));
    // The two controllers feed each other.
    assert_eq!(m.irq_outputs(pic0)[0], (0, IrqTarget::Cpu(0, 0, 11)));
    assert!(m
        .irq_outputs(pic0)
        .contains(&(1, IrqTarget::Device(pic1, 1))));
    assert_eq!(m.irq_outputs(pic1), vec![(1, IrqTarget::Device(pic0, 1))]);

    let w = |m: &mut Machine, addr: u64, size: u8, v: u64| {
        m.bus(0).write(addr, size, v, Endian::Little).unwrap();
    };
    let pending =
        |m: &mut Machine, base: u64| m.bus(0).read(base + 0x1000, 4, Endian::Little).unwrap();
    // pic0: source 2 (the UART) → context 1 (output 1) → pic1 source 1 →
    // pic1 context 1 (output 1) → pic0 source 1.
    w(&mut m, 0xc00_0008, 4, 1); // pic0 priority[2]
    w(&mut m, 0xc00_2080, 4, 1 << 2); // pic0 context 1 enables 2
    w(&mut m, 0xd00_0004, 4, 1); // pic1 priority[1]
    w(&mut m, 0xd00_2080, 4, 1 << 1); // pic1 context 1 enables 1
    m.run(Some(10));
    assert_eq!(pending(&mut m, 0xc00_0000), 0);
    assert_eq!(pending(&mut m, 0xd00_0000), 0);
    w(&mut m, 0x1000_0001, 1, 2); // UART IER: THR empty interrupt
    assert_eq!(m.run(Some(10)), RunResult::Limit, "the loop settles");
    assert_eq!(pending(&mut m, 0xd00_0000), 1 << 1, "pic1 got it");
    assert_eq!(
        pending(&mut m, 0xc00_0000),
        (1 << 2) | (1 << 1),
        "and handed it back to pic0"
    );
}

/// A device that drives its output to the opposite of its input, and
/// raises it on its first tick.
struct Inverter {
    started: bool,
}

impl hemu_runtime::device::Device for Inverter {
    fn mmio_size(&self) -> u64 {
        0x1000
    }
    fn read(
        &mut self,
        _: u64,
        _: u8,
        _: &mut hemu_runtime::device::DeviceCtx<'_>,
    ) -> Result<u64, hemu_runtime::device::DeviceError> {
        Ok(0)
    }
    fn write(
        &mut self,
        _: u64,
        _: u8,
        _: u64,
        _: &mut hemu_runtime::device::DeviceCtx<'_>,
    ) -> Result<(), hemu_runtime::device::DeviceError> {
        Ok(())
    }
    fn reset(&mut self) {}
    fn set_input(&mut self, _: u32, level: bool, cx: &mut hemu_runtime::device::DeviceCtx<'_>) {
        cx.irq(0, !level);
    }
    fn tick(&mut self, cx: &mut hemu_runtime::device::DeviceCtx<'_>) {
        if !self.started {
            self.started = true;
            cx.irq(0, true);
        }
    }
}

/// Two inverters wired to each other never settle: the machine stops
/// with a report instead of hanging.
#[test]
fn an_oscillating_wiring_cycle_stops_the_machine() {
    use hemu_runtime::device::DeviceType;
    use hemu_runtime::machine::file::Source;
    static INVERTER: DeviceType = DeviceType {
        name: "inverter",
        description: "output = !input",
        props: &[],
        create: |_| Ok(Box::new(Inverter { started: false })),
    };
    static DEVICES: [&DeviceType; 1] = [&INVERTER];
    let reg = Registry {
        frontends: hemu_frontends::FRONTENDS,
        devices: &DEVICES,
    };
    let src = Source {
        file: "inverters.yaml".into(),
        text: "name: t\n\
               memory:\n  - { id: ram, size: 1M }\n\
               devices:\n  - { id: a, type: inverter }\n  - { id: b, type: inverter }\n\
               address_spaces:\n  sys:\n    - { map: ram, base: 0x80000000 }\n\
               clusters:\n  - { id: cpus, arch: riscv, address_space: sys, reset_pc: 0x80000000 }\n\
               irqs:\n  - { from: a, to: b }\n  - { from: b, to: a }\n"
            .into(),
    };
    let mut m = Machine::build(&src, &reg, BuildOptions::default()).unwrap();
    m.load_raw(0x8000_0000, &0x0000_006fu32.to_le_bytes(), true)
        .unwrap();
    match m.run(Some(1_000_000)) {
        RunResult::Crashed { cpu, report } => {
            assert_eq!(cpu, "/machine");
            assert!(report.contains("oscillates"), "{report}");
        }
        r => panic!("{r:?}"),
    }
}
