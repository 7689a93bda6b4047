//! The object model over QMP: user-created objects (`object-add`,
//! `object-del`, a memory backend becoming a machine's RAM), every
//! object's life cycle (created → configured → wired → realized, and
//! configuration read-only once realized), declared property ranges, and
//! hot-plugging a device whose interrupt line is wired into the running
//! machine's interrupt controller — where the guest takes the interrupt —
//! with every failure leaving the machine as it was.

#[path = "qmp/client.rs"]
mod client;

use client::{root, tmpdir, Hemu, Qmp};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A bare-metal RV64 guest for `-M virt` (raw, at 0x8000_0000), from
/// this source (`riscv64-linux-gnu-as -march=rv64i_zicsr`, `.option
/// norvc`):
///
/// ```text
///     la t0, trap; csrw mtvec, t0
///     li t0, 0x0c000030; li t1, 1; sw t1, 0(t0)      # PLIC priority[12] = 1
///     li t0, 0x0c002000; li t1, 0x1000; sw t1, 0(t0) # context 0 enables 12
///     li t0, 0x0c200000; sw zero, 0(t0)              # threshold 0
///     li t0, 0x800; csrs mie, t0; csrsi mstatus, 8   # MEIE, MIE
///     li s0, 0x80001000                              # results
///     li s1, 0x10001000                              # where UART "uart1" goes
///     li s2, 2                                       # IER: THR empty interrupt
/// loop: li t6, 0
///     sb s2, 1(s1)          # an access fault (t6 = 1) until the UART exists
///     bnez t6, loop
///     lw t0, 0(s0); addi t0, t0, 1; sw t0, 0(s0)     # count IER writes that landed
///     j loop
/// trap: csrr t2, mcause; bltz t2, irq
///     csrr t3, mepc; addi t3, t3, 4; csrw mepc, t3   # skip the faulting store
///     li t6, 1; mret
/// irq: li t0, 0x0c200004; lw t4, 0(t0)              # claim
///     sw t4, 8(s0)
///     li t0, 0x100000; li t5, 12; bne t4, t5, fail
///     li t1, 0x5555; sw t1, 0(t0)                    # source 12: exit 0
/// fail: li t1, 0x23333; sw t1, 0(t0)                 # anything else: exit 2
/// 1:  j 1b
/// ```
const IRQ_GUEST: [u32; 49] = [
    0x00000297, 0x07028293, 0x30529073, 0x0c0002b7, 0x0302829b, 0x00100313, 0x0062a023, 0x0c0022b7,
    0x00001337, 0x0062a023, 0x0c2002b7, 0x0002a023, 0x000012b7, 0x8002829b, 0x3042a073, 0x30046073,
    0x00080437, 0x0014041b, 0x00c41413, 0x100014b7, 0x00200913, 0x00000f93, 0x012480a3, 0xfe0f9ce3,
    0x00042283, 0x00128293, 0x00542023, 0xfe9ff06f, 0x342023f3, 0x0003cc63, 0x34102e73, 0x004e0e13,
    0x341e1073, 0x00100f93, 0x30200073, 0x0c2002b7, 0x0042829b, 0x0002ae83, 0x01d42423, 0x001002b7,
    0x00c00f13, 0x01ee9863, 0x00005337, 0x5553031b, 0x0062a023, 0x00023337, 0x3333031b, 0x0062a023,
    0x0000006f,
];

fn irq_guest(dir: &Path) -> PathBuf {
    let p = dir.join("irq-guest.bin");
    let bytes: Vec<u8> = IRQ_GUEST.iter().flat_map(|w| w.to_le_bytes()).collect();
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A 32-bit word of guest RAM, read with the monitor's `xp`.
fn ram_word(q: &mut Qmp, addr: u64) -> u64 {
    let out = q.hmp(&format!("xp /1wx {addr:#x}"));
    let hex = out
        .split_whitespace()
        .last()
        .and_then(|w| w.strip_prefix("0x"))
        .unwrap_or_else(|| panic!("xp: {out}"));
    u64::from_str_radix(hex, 16).unwrap()
}

/// What a failed command must not change: the tree, the memory map and
/// the device wiring.
fn snapshot(q: &mut Qmp) -> (Vec<(String, String)>, String, String) {
    (
        q.names("/machine"),
        q.hmp("info mtree"),
        q.hmp("info qtree"),
    )
}

#[test]
fn a_hot_plugged_uart_interrupts_the_running_guest() {
    let dir = tmpdir("hotplug-irq");
    let sock = dir.join("qmp.sock");
    let guest = irq_guest(&dir);
    let mut hemu = Hemu::spawn(&[
        "-M",
        "virt",
        "-kernel",
        guest.to_str().unwrap(),
        "-serial",
        "null",
        "-qmp",
        &format!("unix:{},server,wait=off", sock.display()),
    ]);
    let mut q = Qmp::unix(&sock);
    q.greet();
    assert_eq!(q.status(), ("running".into(), true));

    // 1. Plugged without an interrupt line: the guest's IER writes land
    // (it counts them), and no interrupt ever reaches it.
    q.ok(
        "device_add",
        json!({"driver": "ns16550a", "id": "uart1", "addr": 0x1000_1000, "chardev": "none"}),
    );
    let t = Instant::now();
    while ram_word(&mut q, 0x8000_1000) < 1000 {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the guest never wrote IER"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(ram_word(&mut q, 0x8000_1008), 0, "nothing claimed");
    assert_eq!(q.status(), ("running".into(), true));
    assert!(!q
        .names("/machine/uart1")
        .iter()
        .any(|(n, _)| n.starts_with("sysbus-irq")));

    // 2. Every failure leaves the machine as it was: the checks of the
    // wiring step, and the realize step's (the character backend), which
    // runs after the window is mapped and the line wired.
    let before = snapshot(&mut q);
    let uart2 = |extra: Value| {
        let mut a = json!({"driver": "ns16550a", "id": "uart2", "addr": 0x1000_2000,
            "chardev": "none"});
        for (k, v) in extra.as_object().unwrap() {
            a[k] = v.clone();
        }
        a
    };
    for (args, want) in [
        (
            uart2(json!({"irq": 12, "irq-parent": "nope"})),
            "'nope' is no device of the machine",
        ),
        (
            uart2(json!({"irq": 12, "irq-parent": "uart0"})),
            "/machine/uart0 is no interrupt controller",
        ),
        (
            uart2(json!({"irq": 10})),
            "irq: /machine/plic/irq-in[10] is already driven by /machine/uart0 output 0",
        ),
        (
            uart2(json!({"irq": 97})),
            "irq: plic input 97 is out of range 1..=96",
        ),
        (
            uart2(json!({"irq": 0})),
            "irq: plic input 0 is out of range 1..=96",
        ),
        (uart2(json!({"irq": "x"})), "Parameter 'irq' expects"),
        (uart2(json!({"irq": []})), "Parameter 'irq' expects"),
        (
            uart2(json!({"irq-parent": "plic"})),
            "'irq-parent' goes with 'irq'",
        ),
        (
            uart2(json!({"irq": 12, "chardev": "serial0"})),
            "Property 'ns16550a.chardev' can't take value 'serial0', it's in use (by \
             /machine/uart0)",
        ),
        (
            uart2(json!({"irq": 12, "addr": 0x1000_0000})),
            "overlaps uart0",
        ),
        (
            uart2(json!({"irq": 12, "reg-shift": 4})),
            "Property 'ns16550a.reg-shift' doesn't take value 4 (out of range 0..=3)",
        ),
    ] {
        let (class, desc) = q.err("device_add", args.clone());
        assert_eq!(class, "GenericError", "{args}");
        assert!(desc.contains(want), "{args}: {desc}");
        assert_eq!(snapshot(&mut q), before, "{args} changed the machine");
    }

    // 3. Wired: QOM shows the link, info qtree the wiring; a device
    // plugged into a started machine is realized at once.
    q.ok("device_add", uart2(json!({"irq": 13})));
    assert_eq!(
        q.ok(
            "qom-get",
            json!({"path": "/machine/uart2", "property": "sysbus-irq[0]"})
        ),
        json!("/machine/plic/irq-in[13]")
    );
    assert!(q
        .names("/machine/uart2")
        .contains(&("sysbus-irq[0]".into(), "link<irq>".into())));
    let qtree = q.hmp("info qtree");
    assert!(
        qtree.contains("sysbus-irq[0] -> /machine/plic/irq-in[13]"),
        "{qtree}"
    );
    assert!(
        qtree.contains("sysbus-irq[0] -> /machine/plic/irq-in[10]"),
        "uart0's wire, from the machine file: {qtree}"
    );
    assert_eq!(
        q.ok("qom-get", json!({"path": "uart2", "property": "phase"})),
        json!("realized")
    );
    assert!(q
        .err(
            "qom-set",
            json!({"path": "uart2", "property": "reg-shift", "value": 1})
        )
        .1
        .contains("can only be set before the machine is realized"));
    // Its line is taken; unplugging frees it.
    assert!(q
        .err(
            "device_add",
            json!({"driver": "goldfish_rtc", "id": "rtc2", "addr": 0x20_0000, "irq": 13})
        )
        .1
        .contains("already driven by /machine/uart2 output 0"));
    q.ok("device_del", json!({"id": "uart2"}));
    q.ok(
        "device_add",
        json!({"driver": "goldfish_rtc", "id": "rtc2", "addr": 0x20_0000, "irq": [13]}),
    );
    assert_eq!(
        q.ok(
            "qom-get",
            json!({"path": "rtc2", "property": "sysbus-irq[0]"})
        ),
        json!("/machine/plic/irq-in[13]")
    );

    // 4. Unplug uart1 and plug it again, wired to PLIC source 12 this
    // time: the guest's next IER write raises the line, the PLIC
    // interrupts hart 0, the guest claims source 12 and exits 0 (any
    // other source: exit 2).
    q.ok("device_del", json!({"id": "uart1"}));
    q.ok(
        "device_add",
        json!({"driver": "ns16550a", "id": "uart1", "addr": 0x1000_1000, "chardev": "none",
            "irq": 12, "irq-parent": "/machine/plic"}),
    );
    let status = hemu.wait(Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{}", hemu.stderr());
}

#[test]
fn objects_have_a_life_cycle_and_ranged_properties() {
    let dir = tmpdir("lifecycle");
    let sock = dir.join("qmp.sock");
    let mut hemu = Hemu::spawn(&[
        "-qmp",
        &format!("unix:{},server,wait=off", sock.display()),
        "-S",
        "-serial",
        "null",
    ]);
    let mut q = Qmp::unix(&sock);
    q.greet();
    q.ok("machine-create", json!({"file": "virt"}));

    // Built: every object of the tree has been walked to `wired`.
    fn walk(q: &mut Qmp, path: &str, out: &mut Vec<(String, Value, Value)>) {
        let phase = q.ok("qom-get", json!({"path": path, "property": "phase"}));
        let realized = q.ok("qom-get", json!({"path": path, "property": "realized"}));
        out.push((path.to_string(), phase, realized));
        for (name, ty) in q.names(path) {
            if ty.starts_with("child<") {
                walk(q, &format!("{path}/{name}"), out);
            }
        }
    }
    let mut objs = Vec::new();
    walk(&mut q, "/machine", &mut objs);
    assert_eq!(
        objs.len(),
        9,
        "machine, cluster, vCPU, 5 devices, RAM: {objs:?}"
    );
    for (path, phase, realized) in &objs {
        assert_eq!(
            (phase, realized),
            (&json!("wired"), &json!(false)),
            "{path}"
        );
    }
    // State, not configuration: read-only.
    assert!(q
        .err(
            "qom-set",
            json!({"path": "uart0", "property": "realized", "value": true})
        )
        .1
        .contains("not writable"));

    // Ranges: declared, shown, and checked by qom-set and device_add.
    let props = q.ok("device-list-properties", json!({"typename": "plic"}));
    let harts = props
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "num-harts")
        .unwrap()
        .clone();
    assert_eq!(
        (&harts["x-min"], &harts["x-max"]),
        (&json!(0), &json!(7936))
    );
    assert!(harts["description"]
        .as_str()
        .unwrap()
        .ends_with("(0..=7936)"));
    let (_, desc) = q.err(
        "qom-set",
        json!({"path": "plic", "property": "num-harts", "value": 9000}),
    );
    assert_eq!(
        desc,
        "Property 'plic.num-harts' doesn't take value 9000 (out of range 0..=7936)"
    );
    let (_, desc) = q.err(
        "qom-set",
        json!({"path": "uart0", "property": "clock-frequency", "value": 0}),
    );
    assert!(desc.contains("doesn't take value 0 (out of range 1..=4294967295)"));
    assert_eq!(
        q.ok("qom-get", json!({"path": "plic", "property": "num-harts"})),
        json!(1),
        "unchanged"
    );
    // In range, before realize: taken.
    q.ok(
        "qom-set",
        json!({"path": "uart0", "property": "clock-frequency", "value": 1843200}),
    );
    // A PLIC with fewer sources would lose the UART's and RTC's inputs.
    assert!(q
        .err(
            "qom-set",
            json!({"path": "plic", "property": "ndev", "value": 10})
        )
        .1
        .contains("input 11, which /machine/rtc output 0 drives, would be out of range 1..=10"));
    let before = snapshot(&mut q);
    assert!(q
        .err(
            "device_add",
            json!({"driver": "aclint", "id": "clint2", "addr": 0x300_0000, "num-harts": 0})
        )
        .1
        .contains("'aclint.num-harts' doesn't take value 0 (out of range 1..=4095)"));
    assert_eq!(snapshot(&mut q), before);

    // Plugged before the start: wired, configurable, realized with the
    // machine.
    q.ok(
        "device_add",
        json!({"driver": "goldfish_rtc", "id": "rtc2", "addr": 0x20_0000, "irq": 20}),
    );
    assert_eq!(
        q.ok("qom-get", json!({"path": "rtc2", "property": "phase"})),
        json!("wired")
    );
    q.ok(
        "qom-set",
        json!({"path": "rtc2", "property": "start-time", "value": 7}),
    );

    // Started (paused by -S): everything is realized, configuration is
    // read-only — a clear error, not a silent ignore.
    let hello = root().join("tests/guests/riscv/bin/hello64.elf");
    q.ok("load-image", json!({"kernel": hello.to_str().unwrap()}));
    q.ok("x-exit-preconfig", json!({}));
    assert_eq!(q.status(), ("prelaunch".into(), false));
    let mut objs = Vec::new();
    walk(&mut q, "/machine", &mut objs);
    for (path, phase, realized) in &objs {
        assert_eq!(
            (phase, realized),
            (&json!("realized"), &json!(true)),
            "{path}"
        );
    }
    assert!(objs.iter().any(|(p, _, _)| p == "/machine/rtc2"));
    for (path, prop, value) in [
        ("uart0", "clock-frequency", json!(3686400)),
        ("rtc2", "start-time", json!(1)),
        ("plic", "num-harts", json!(1)),
    ] {
        let (_, desc) = q.err(
            "qom-set",
            json!({"path": path, "property": prop, "value": value}),
        );
        assert!(
            desc.contains("can only be set before the machine is realized"),
            "{desc}"
        );
    }
    assert_eq!(
        q.ok(
            "qom-get",
            json!({"path": "uart0", "property": "clock-frequency"})
        ),
        json!(1843200)
    );
    q.ok("quit", json!({}));
    assert_eq!(hemu.wait(Duration::from_secs(20)).code(), Some(0));
}

#[test]
fn object_add_creates_a_memory_backend_for_machine_create() {
    let dir = tmpdir("objects");
    let sock = dir.join("qmp.sock");
    let out = dir.join("out.txt");
    let mut hemu = Hemu::spawn(&[
        "-qmp",
        &format!("unix:{},server,wait=off", sock.display()),
        "-serial",
        &format!("file:{}", out.display()),
    ]);
    let mut q = Qmp::unix(&sock);
    q.greet();

    // Introspection: the type, its interface, its properties, the commands.
    let types = q.ok("qom-list-types", json!({"implements": "user-creatable"}));
    assert_eq!(
        types,
        json!([{"name": "memory-backend-ram", "parent": "memory-backend",
            "x-compiled-in": true, "x-interfaces": ["user-creatable"]}])
    );
    let all = q.ok(
        "qom-list-types",
        json!({"implements": "user-creatable", "abstract": true}),
    );
    assert!(all
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "memory-backend" && t["abstract"] == json!(true)));
    assert!(q
        .ok("qom-list-types", json!({"implements": "device"}))
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["name"] != "memory-backend-ram"));
    let props = q.ok(
        "qom-list-properties",
        json!({"typename": "memory-backend-ram"}),
    );
    assert_eq!(props[0]["name"], json!("size"));
    assert_eq!(props[0]["x-min"], json!(1));
    assert!(props[0].get("default-value").is_none(), "required");
    assert!(q
        .err(
            "device-list-properties",
            json!({"typename": "memory-backend-ram"})
        )
        .1
        .contains("non-abstract device type"));
    let cmds = q.ok("query-commands", json!({}));
    for c in ["object-add", "object-del", "qom-list-properties"] {
        assert!(
            cmds.as_array().unwrap().iter().any(|x| x["name"] == c),
            "{c}"
        );
    }
    let schema = q.ok("query-qmp-schema", json!({}));
    let entry = |n: &str| {
        schema
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == n)
            .cloned()
            .unwrap_or_else(|| panic!("{n} not in the schema"))
    };
    assert_eq!(
        entry("object-add")["arg-type"],
        json!("q_obj_object-add-arg")
    );
    assert_eq!(
        entry("q_obj_object-add-arg")["members"],
        json!([{"name": "qom-type", "type": "str"}, {"name": "id", "type": "str"}])
    );
    assert_eq!(
        entry("x-object-props-memory-backend-ram")["members"],
        json!([{"name": "size", "type": "int", "x-min": 1, "x-max": 1u64 << 40}])
    );

    // Created before any machine, under /objects.
    q.ok(
        "object-add",
        json!({"qom-type": "memory-backend-ram", "id": "mem0", "size": "64M"}),
    );
    assert_eq!(
        q.names("/objects"),
        vec![
            ("type".into(), "string".into()),
            ("mem0".into(), "child<memory-backend-ram>".into())
        ]
    );
    for (prop, want) in [
        ("size", json!(64u64 << 20)),
        ("realized", json!(true)),
        ("phase", json!("realized")),
        ("used-by", json!("")),
        ("type", json!("memory-backend-ram")),
    ] {
        assert_eq!(
            q.ok(
                "qom-get",
                json!({"path": "/objects/mem0", "property": prop})
            ),
            want,
            "{prop}"
        );
    }
    assert!(q
        .hmp("info qom-tree")
        .contains("  mem0 (memory-backend-ram)"));

    // Refusals, none of which adds anything.
    let ram = |extra: Value| {
        let mut a = json!({"qom-type": "memory-backend-ram", "id": "mem1", "size": 4096});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                a.as_object_mut().unwrap().remove(k);
            } else {
                a[k] = v.clone();
            }
        }
        a
    };
    for (args, want) in [
        (
            ram(json!({"qom-type": "memory-backend-rom"})),
            "invalid object type: memory-backend-rom, did you mean 'memory-backend-ram'?",
        ),
        (
            ram(json!({"qom-type": "ns16550a"})),
            "object type 'ns16550a' isn't supported by object-add",
        ),
        (
            ram(json!({"qom-type": "memory-backend"})),
            "object type 'memory-backend' isn't supported by object-add",
        ),
        (
            ram(json!({"id": "mem0"})),
            "attempt to add duplicate property 'mem0' to object (type 'container')",
        ),
        (
            ram(json!({"id": "0bad"})),
            "Parameter 'id' expects an identifier",
        ),
        (
            ram(json!({"size": null})),
            "Property 'memory-backend-ram.size' is required",
        ),
        (
            ram(json!({"size": 0})),
            "Property 'memory-backend-ram.size' doesn't take value 0 (out of range \
             1..=1099511627776)",
        ),
        (
            ram(json!({"size": "lots"})),
            "Property 'memory-backend-ram.size' expects an unsigned integer",
        ),
        (
            ram(json!({"sise": 1})),
            "Property 'memory-backend-ram.sise' not found, did you mean 'size'?",
        ),
    ] {
        let (class, desc) = q.err("object-add", args.clone());
        assert_eq!(class, "GenericError");
        assert!(desc.starts_with(want), "{args}: {desc}");
        assert_eq!(q.names("/objects").len(), 2, "{args} added something");
    }
    assert!(q
        .err(
            "qom-set",
            json!({"path": "/objects/mem0", "property": "size", "value": 4096})
        )
        .1
        .contains("can only be set before the object is realized"));
    q.ok("object-add", ram(json!({})));
    q.ok("object-del", json!({"id": "mem1"}));
    assert_eq!(
        q.err("object-del", json!({"id": "mem1"})).1,
        "object 'mem1' not found"
    );

    // machine-create takes the backend as the main RAM; a failed build
    // gives it back untouched.
    assert!(q
        .err(
            "machine-create",
            json!({"file": "virt", "memory-backend": "nope"})
        )
        .1
        .contains("object 'nope' not found"));
    assert!(q
        .err(
            "machine-create",
            json!({"file": "virt", "memory-backend": "mem0", "profile": "tiny"})
        )
        .1
        .contains("tiny"));
    assert_eq!(
        q.ok("qom-get", json!({"path": "mem0", "property": "used-by"})),
        json!("")
    );
    q.ok(
        "machine-create",
        json!({"file": "virt", "memory-backend": "mem0"}),
    );
    assert_eq!(
        q.ok(
            "qom-get",
            json!({"path": "/machine/ram", "property": "size"})
        ),
        json!(64u64 << 20)
    );
    assert_eq!(
        q.ok("qom-get", json!({"path": "mem0", "property": "used-by"})),
        json!("/machine/ram")
    );
    assert_eq!(
        q.err("object-del", json!({"id": "mem0"})).1,
        "object 'mem0' is in use, can not be deleted"
    );
    // Both roots in the tree, one parent each.
    let tree = q.hmp("info qom-tree");
    assert!(tree.starts_with("/machine (virt-machine)"), "{tree}");
    assert!(
        tree.contains("/objects (container)\r\n  mem0 (memory-backend-ram)"),
        "{tree}"
    );

    // The machine runs in its 64 MiB.
    let hello = root().join("tests/guests/riscv/bin/hello64.elf");
    q.ok("load-image", json!({"kernel": hello.to_str().unwrap()}));
    q.ok("cont", json!({}));
    assert_eq!(hemu.wait(Duration::from_secs(20)).code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "Hello from hemu (rv64)\n"
    );
}

/// A machine file can name a backend with `memdev:` (inline here).
#[test]
fn machine_files_take_backends_by_memdev() {
    let dir = tmpdir("memdev");
    let sock = dir.join("qmp.sock");
    let mut hemu = Hemu::spawn(&[
        "-qmp",
        &format!("unix:{},server,wait=off", sock.display()),
        "-serial",
        "null",
    ]);
    let mut q = Qmp::unix(&sock);
    q.greet();
    q.ok(
        "object-add",
        json!({"qom-type": "memory-backend-ram", "id": "fast", "size": "1M"}),
    );
    let machine = |mem: Value| {
        json!({"inline": {
            "name": "tiny",
            "memory": [mem],
            "address_spaces": {"sys": [{"map": "sram", "base": 0x8000_0000u64}]},
            "clusters": [{"id": "cpus", "arch": "riscv", "address_space": "sys"}]
        }})
    };
    let (_, desc) = q.err(
        "machine-create",
        machine(json!({"id": "sram", "memdev": "fast", "size": "2M"})),
    );
    assert!(
        desc.contains("memory sram: size 0x200000 differs from memory backend 'fast' (0x100000)"),
        "{desc}"
    );
    q.ok(
        "machine-create",
        machine(json!({"id": "sram", "memdev": "fast"})),
    );
    assert_eq!(
        q.ok(
            "qom-get",
            json!({"path": "/machine/sram", "property": "size"})
        ),
        json!(1u64 << 20)
    );
    assert_eq!(
        q.ok(
            "qom-get",
            json!({"path": "/objects/fast", "property": "used-by"})
        ),
        json!("/machine/sram")
    );
    q.ok("quit", json!({}));
    assert_eq!(hemu.wait(Duration::from_secs(20)).code(), Some(0));
}
