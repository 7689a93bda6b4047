//! QMP on the heterogeneous machine: `query-cpus-fast` lists every vCPU
//! of every cluster with its own target, and the machine — started
//! paused from the command line, or built by `machine-create` — runs the
//! demo to the end after `cont`.

use serde_json::{json, Value};
use std::time::Duration;

#[path = "qmp/client.rs"]
mod client;

use client::{tmpdir, Hemu, Qmp};

/// (cpu-index, qom-path, target, cluster-id, core-id) of each vCPU.
fn summary(cpus: &Value) -> Vec<(u64, String, String, u64, u64)> {
    cpus.as_array()
        .expect("query-cpus-fast returns a list")
        .iter()
        .map(|c| {
            assert!(c["thread-id"].as_u64().is_some(), "{c}");
            (
                c["cpu-index"].as_u64().unwrap(),
                c["qom-path"].as_str().unwrap().to_string(),
                c["target"].as_str().unwrap().to_string(),
                c["props"]["cluster-id"].as_u64().unwrap(),
                c["props"]["core-id"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn expected() -> Vec<(u64, String, String, u64, u64)> {
    [
        (0, "/machine/app/cpu0", "riscv64", 0, 0),
        (1, "/machine/app/cpu1", "riscv64", 0, 1),
        (2, "/machine/mcu/cpu0", "arm", 1, 0),
        (3, "/machine/dsp/cpu0", "mips", 2, 0),
    ]
    .iter()
    .map(|(i, p, t, c, k)| (*i, p.to_string(), t.to_string(), *c, *k))
    .collect()
}

fn serial_args(dir: &std::path::Path) -> Vec<String> {
    ["app", "mcu", "dsp"]
        .iter()
        .flat_map(|n| {
            [
                "-serial".to_string(),
                format!("file:{}", dir.join(format!("{n}.txt")).display()),
            ]
        })
        .collect()
}

#[test]
fn query_cpus_fast_lists_every_cluster_and_the_demo_runs() {
    let dir = tmpdir("hetero");
    let sock = dir.join("qmp.sock");
    let qmp = format!("unix:{},server,wait=off", sock.display());
    let mut args = vec!["-M", "hetero", "-S", "-qmp", &qmp];
    let serials = serial_args(&dir);
    args.extend(serials.iter().map(String::as_str));
    let mut hemu = Hemu::spawn(&args);
    let mut q = Qmp::unix(&sock);
    q.greet();
    assert_eq!(summary(&q.ok("query-cpus-fast", json!({}))), expected());
    // Every cluster is an object with its vCPUs below it.
    for cluster in ["app", "mcu", "dsp"] {
        let names = q.names(&format!("/machine/{cluster}"));
        assert!(
            names.iter().any(|(n, _)| n == "cpu0"),
            "{cluster}: {names:?}"
        );
    }
    q.ok("cont", json!({}));
    let e = q.event("SHUTDOWN");
    assert_eq!(e["data"]["guest"], json!(true), "{e}");
    let status = hemu.wait(Duration::from_secs(60));
    assert_eq!(status.code(), Some(0), "{}", hemu.stderr());
    let mcu = std::fs::read_to_string(dir.join("mcu.txt")).unwrap();
    assert!(mcu.ends_with("adler32 0xfebd15f8\n"), "{mcu}");
    let dsp = std::fs::read_to_string(dir.join("dsp.txt")).unwrap();
    assert!(dsp.ends_with("answered as bytes fe bd 15 f8\n"), "{dsp}");
}

#[test]
fn a_hetero_machine_created_over_qmp_boots_its_images() {
    let dir = tmpdir("hetero-create");
    let sock = dir.join("qmp.sock");
    let qmp = format!("unix:{},server,wait=off", sock.display());
    let mut args = vec!["-qmp", qmp.as_str()];
    let serials = serial_args(&dir);
    args.extend(serials.iter().map(String::as_str));
    let mut hemu = Hemu::spawn(&args);
    let mut q = Qmp::unix(&sock);
    q.greet();
    assert_eq!(q.ok("query-cpus-fast", json!({})), json!([]));
    q.ok("machine-create", json!({"file": "hetero"}));
    assert_eq!(summary(&q.ok("query-cpus-fast", json!({}))), expected());
    // No load-image: the machine file names every cluster's image.
    q.ok("cont", json!({}));
    q.event("SHUTDOWN");
    let status = hemu.wait(Duration::from_secs(60));
    assert_eq!(status.code(), Some(0), "{}", hemu.stderr());
    let app = std::fs::read_to_string(dir.join("app.txt")).unwrap();
    assert!(
        app.ends_with("4/4 answers verified, powering off\n"),
        "{app}"
    );
}
