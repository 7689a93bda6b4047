//! The generated device tree of a virt-like machine (2 harts, CLINT, PLIC,
//! UART, RTC, test finisher): decompiled with `dtc` when it is installed
//! and checked against the structure of QEMU 7.2's `virt` tree.

use hemu_runtime::fdt::{self, FdtOptions};
use hemu_runtime::machine::file::Source;
use hemu_runtime::machine::{BuildOptions, Registry};
use hemu_runtime::Machine;
use std::process::Command;

fn registry() -> Registry {
    Registry {
        frontends: hemu_frontends::FRONTENDS,
        devices: hemu_hw::DEVICE_TYPES,
    }
}

/// Names of the vCPU input lines with device-tree specifiers 3 (MSIP),
/// 7 (MTIP), 11 (MEIP) and 9 (SEIP), if the frontend has them.
fn line_names() -> Option<[&'static str; 4]> {
    let fe = registry().frontend("riscv")?;
    let lines = fe.configure(&[]).ok()?.irq_lines();
    let name = |n: u32| lines.iter().find(|(_, k)| *k == n).map(|(s, _)| *s);
    Some([name(3)?, name(7)?, name(11)?, name(9)?])
}

fn machine_text() -> String {
    let mut text = String::from(
        r#"
name: fdt-test
description: virt-like machine for the device-tree test
memory:
  - { id: ram, size: 128M }
devices:
  - { id: test, type: sifive_test }
  - { id: rtc, type: goldfish_rtc, props: { start-time: 1 } }
  - { id: clint, type: aclint, props: { num-harts: 2 } }
  - { id: plic, type: plic, props: { ndev: 96, num-contexts: 4 } }
  - { id: uart0, type: ns16550a }
address_spaces:
  sysmem:
    - { map: test, base: 0x100000 }
    - { map: rtc, base: 0x101000 }
    - { map: clint, base: 0x2000000 }
    - { map: plic, base: 0xc000000 }
    - { map: uart0, base: 0x10000000 }
    - { map: ram, base: 0x80000000 }
clusters:
  - { id: cpus, arch: riscv, cpus: 2, address_space: sysmem, boot: true }
irqs:
  - { from: uart0, to: plic, input: 10 }
  - { from: rtc, to: plic, input: 11 }
"#,
    );
    if let Some([msip, mtip, meip, seip]) = line_names() {
        text.push_str(&format!(
            "  - {{ from: clint, to_cpus: cpus, lines: [{msip}, {mtip}] }}\n  \
             - {{ from: plic, to_cpus: cpus, lines: [{meip}, {seip}] }}\n"
        ));
    } else {
        eprintln!("NOTE: the riscv frontend has no vCPU interrupt lines yet; CPU wiring left out");
    }
    text
}

fn build_machine() -> Machine {
    let src = Source {
        file: "fdt-test.yaml".into(),
        text: machine_text(),
    };
    Machine::build(&src, &registry(), BuildOptions::default()).expect("machine builds")
}

fn opts() -> FdtOptions {
    FdtOptions {
        timebase_hz: 10_000_000,
        bootargs: Some("console=ttyS0".into()),
        stdout: None,
    }
}

fn dtc_available() -> bool {
    Command::new("dtc").arg("--version").output().is_ok()
}

/// Decompile with dtc; returns (dts, warnings).
fn decompile(blob: &[u8]) -> (String, String) {
    let dir = std::env::temp_dir().join(format!("hemu-fdt-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("virt.dtb");
    std::fs::write(&path, blob).unwrap();
    let out = Command::new("dtc")
        .args(["-I", "dtb", "-O", "dts", "-o", "-"])
        .arg(&path)
        .output()
        .expect("dtc runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "dtc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn virt_like_machine_tree() {
    let m = build_machine();
    let blob = fdt::build(&m, 0, &opts()).expect("tree builds");
    assert_eq!(&blob[..4], &0xd00d_feedu32.to_be_bytes(), "FDT magic");
    assert_eq!(
        blob,
        fdt::build(&build_machine(), 0, &opts()).unwrap(),
        "deterministic"
    );
    let wired = line_names().is_some();
    if !dtc_available() {
        eprintln!("SKIPPED: dtc is not installed (apt-get install device-tree-compiler); checked the header and node names only");
        for name in [
            "chosen",
            "memory@80000000",
            "cpus",
            "cpu@0",
            "cpu@1",
            "interrupt-controller",
            "soc",
            "serial@10000000",
            "plic@c000000",
            "clint@2000000",
            "rtc@101000",
            "test@100000",
            "poweroff",
            "reboot",
        ] {
            let needle = format!("{name}\0");
            assert!(
                blob.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "node {name} missing"
            );
        }
        return;
    }
    let (dts, warnings) = decompile(&blob);
    println!("{dts}");
    assert!(warnings.trim().is_empty(), "dtc warnings:\n{warnings}");
    // Phandles: cpu@0 1, its intc 2, cpu@1 3, its intc 4, then in address
    // order the test finisher (regmap target) 5 and the PLIC 6.
    for want in [
        "#address-cells = <0x02>;",
        "compatible = \"riscv-virtio\";",
        "model = \"riscv-virtio,qemu\";",
        "stdout-path = \"/soc/serial@10000000\";",
        "bootargs = \"console=ttyS0\";",
        "memory@80000000 {",
        "reg = <0x00 0x80000000 0x00 0x8000000>;",
        "timebase-frequency = <0x989680>;",
        "cpu@1 {",
        "compatible = \"riscv,cpu-intc\";",
        "compatible = \"simple-bus\";",
        "test@100000 {",
        "compatible = \"sifive,test1\\0sifive,test0\\0syscon\";",
        "compatible = \"syscon-poweroff\";",
        "compatible = \"syscon-reboot\";",
        "regmap = <0x05>;",
        "value = <0x7777>;",
        "rtc@101000 {",
        "compatible = \"google,goldfish-rtc\";",
        "interrupts = <0x0b>;",
        "clint@2000000 {",
        "reg = <0x00 0x2000000 0x00 0x10000>;",
        "plic@c000000 {",
        "reg = <0x00 0xc000000 0x00 0x600000>;",
        "riscv,ndev = <0x60>;",
        "compatible = \"sifive,plic-1.0.0\\0riscv,plic0\";",
        "serial@10000000 {",
        "interrupt-parent = <0x06>;",
        "interrupts = <0x0a>;",
        "compatible = \"ns16550a\";",
    ] {
        assert!(dts.contains(want), "missing `{want}` in\n{dts}");
    }
    if wired {
        for want in [
            "interrupts-extended = <0x02 0x03 0x02 0x07 0x04 0x03 0x04 0x07>;",
            "interrupts-extended = <0x02 0x0b 0x02 0x09 0x04 0x0b 0x04 0x09>;",
        ] {
            assert!(dts.contains(want), "missing `{want}` in\n{dts}");
        }
    }
}

#[test]
fn stdout_option_and_bad_cluster() {
    let m = build_machine();
    let mut o = opts();
    o.stdout = Some("rtc".into());
    let blob = fdt::build(&m, 0, &o).unwrap();
    let needle = b"/soc/rtc@101000\0";
    assert!(blob.windows(needle.len()).any(|w| w == needle));
    o.stdout = Some("nosuch".into());
    let e = fdt::build(&m, 0, &o).unwrap_err();
    assert!(e.contains("'nosuch'"), "{e}");
    assert!(fdt::build(&m, 1, &opts()).is_err());
}
