//! `hemu machine show|check`: look at and validate machine files.

use clap::Subcommand;
use hemu_runtime::device::CharBackend;
use hemu_runtime::machine::{boot, profile, BuildOptions, Registry};
use hemu_runtime::Machine;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum MachineCmd {
    /// Print a machine: parameters, clusters, memory map, devices,
    /// interrupt wiring and profiles.
    Show {
        /// A name (`virt`) or a file; `,key=value` sets parameters.
        #[arg(value_name = "MACHINE[,key=value...]")]
        machine: String,
        /// Narrow to one of the file's profiles.
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
    },
    /// Validate machine files: parse each and build it as it is and with
    /// every profile; errors name the file, line and column.
    Check {
        /// Machine files (or names).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
    },
}

/// Parameter settings: (name, value as text).
pub type Params = Vec<(String, String)>;

/// Split `name,key=value,...`.
pub fn split_spec(spec: &str) -> Result<(&str, Params), String> {
    let mut parts = spec.split(',');
    let name = parts.next().unwrap_or_default();
    let mut params = Vec::new();
    for kv in parts {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("{spec}: '{kv}' is not key=value"))?;
        params.push((k.to_string(), v.to_string()));
    }
    Ok((name, params))
}

fn build(
    reg: &Registry,
    src: &hemu_runtime::machine::file::Source,
    params: Vec<(String, String)>,
    profile: Option<&str>,
) -> Result<Machine, String> {
    let opts = BuildOptions {
        params,
        serials: vec![CharBackend::null()],
        engine: None,
    };
    Machine::build_profile(src, reg, opts, profile).map_err(|e| e.to_string())
}

pub fn run(reg: &Registry, dirs: &[PathBuf], cmd: &MachineCmd) -> Result<ExitCode, String> {
    match cmd {
        MachineCmd::Show { machine, profile } => {
            let (name, params) = split_spec(machine)?;
            let src = boot::machine_source(name, dirs)?;
            let mut mf = boot::parse(&src)?;
            if let Some(p) = profile {
                profile::apply(&src, &mut mf, p).map_err(|e| e.to_string())?;
            }
            let m = build(reg, &src, params.clone(), profile.as_deref())?;
            let text = profile::describe(&src, &mf, &m, profile.as_deref(), &params)
                .map_err(|e| e.to_string())?;
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        MachineCmd::Check { files } => {
            let mut bad = 0;
            for f in files {
                match check(reg, dirs, f) {
                    Ok(line) => println!("{line}"),
                    Err(e) => {
                        eprintln!("hemu: {e}");
                        bad += 1;
                    }
                }
            }
            Ok(if bad == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(crate::EXIT_BAD_INPUT)
            })
        }
    }
}

fn check(reg: &Registry, dirs: &[PathBuf], f: &str) -> Result<String, String> {
    let src = boot::machine_source(f, dirs)?;
    let mf = boot::parse(&src)?;
    let m = build(reg, &src, Vec::new(), None)?;
    let profiles = profile::list(&src, &mf).map_err(|e| e.to_string())?;
    for (p, _) in &profiles {
        build(reg, &src, Vec::new(), Some(p))?;
    }
    let names: Vec<&str> = profiles.iter().map(|(n, _)| n.as_str()).collect();
    Ok(format!(
        "{}: ok: machine {} (clusters: {}, devices: {}{})",
        src.file,
        mf.name,
        m.clusters.len(),
        m.memory.devices.len(),
        if names.is_empty() {
            String::new()
        } else {
            format!("; profiles {}", names.join(", "))
        }
    ))
}
