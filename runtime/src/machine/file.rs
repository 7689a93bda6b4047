//! Machine files: the YAML schema, parameters, and validation.
//!
//! A machine is data. This module reads a file into a [`MachineFile`],
//! resolves its parameters (defaults, `-M name,key=value`, `-m`, `-smp`),
//! substitutes `${param}` references, and leaves a [`MachineSpec`] with every
//! value typed, for the builder.

use serde::Deserialize;
use serde_yaml::Value;
use std::collections::BTreeMap;

/// A machine file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineFile {
    /// Machine name.
    pub name: String,
    /// One line of description.
    #[serde(default)]
    pub description: String,
    /// Parameters.
    #[serde(default)]
    pub params: BTreeMap<String, ParamDecl>,
    /// RAM and ROM blocks.
    #[serde(default)]
    pub memory: Vec<Value>,
    /// Devices.
    #[serde(default)]
    pub devices: Vec<Value>,
    /// Address spaces: name → mappings.
    pub address_spaces: BTreeMap<String, Vec<Value>>,
    /// CPU clusters.
    pub clusters: Vec<Value>,
    /// Interrupt wiring.
    #[serde(default)]
    pub irqs: Vec<Value>,
    /// Scheduling quantum in instructions.
    #[serde(default)]
    pub quantum: Option<Value>,
    /// Virtual nanoseconds per retired instruction.
    #[serde(default)]
    pub insn_ns: Option<Value>,
    /// Generate a device tree for the boot cluster.
    #[serde(default)]
    pub fdt: Option<Value>,
    /// Profiles: named device selections and parameter defaults
    /// (see [`super::profile`]).
    #[serde(default)]
    pub profiles: BTreeMap<String, Value>,
}

/// The `fdt:` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FdtSpec {
    /// `timebase-frequency` of `/cpus`.
    pub timebase_frequency: Value,
    /// Id of the console device (`/chosen/stdout-path`).
    #[serde(default)]
    pub stdout: Option<String>,
}

/// One interrupt wire (or a fan-out to every vCPU of a cluster).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IrqSpec {
    /// Source device id.
    pub from: String,
    /// Source output line (default 0).
    #[serde(default)]
    pub out: Option<Value>,
    /// Target device id (an interrupt controller).
    #[serde(default)]
    pub to: Option<String>,
    /// Input line of the target device.
    #[serde(default)]
    pub input: Option<Value>,
    /// Target cluster: output `k * lines.len() + j` of the source drives
    /// line `lines[j]` of vCPU `k`.
    #[serde(default)]
    pub to_cpus: Option<String>,
    /// vCPU input line names (see `hemu list archs`).
    #[serde(default)]
    pub lines: Vec<String>,
}

/// A parameter declaration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamDecl {
    /// `int`, `size`, `str` or `bool`.
    #[serde(rename = "type")]
    pub ty: String,
    /// Default value.
    pub default: Value,
    /// Allowed values (optional).
    #[serde(default)]
    pub values: Vec<Value>,
    /// What it means.
    #[serde(default)]
    pub doc: String,
    /// CLI flag that sets it (`-m`, `-smp`).
    #[serde(default)]
    pub flag: Option<String>,
}

/// A RAM block after substitution.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RamSpec {
    /// Id, unique in the machine.
    pub id: String,
    /// Size in bytes.
    pub size: Value,
    /// ROM?
    #[serde(default)]
    pub read_only: bool,
}

/// A device after substitution.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSpec {
    /// Id, unique in the machine.
    pub id: String,
    /// Device type name.
    #[serde(rename = "type")]
    pub ty: String,
    /// Property values.
    #[serde(default)]
    pub props: BTreeMap<String, Value>,
}

/// One mapping in an address space.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapSpec {
    /// Id of a RAM block or device.
    pub map: String,
    /// Guest address.
    pub base: Value,
    /// Offset into a RAM block (aliases of part of a block).
    #[serde(default)]
    pub offset: Option<Value>,
    /// Size (defaults to the whole block or device window).
    #[serde(default)]
    pub size: Option<Value>,
}

/// A CPU cluster.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    /// Id.
    pub id: String,
    /// Frontend name.
    pub arch: String,
    /// Frontend parameters.
    #[serde(default)]
    pub config: BTreeMap<String, Value>,
    /// Number of vCPUs.
    #[serde(default = "one")]
    pub cpus: Value,
    /// Address space the cluster sees.
    pub address_space: String,
    /// Does `-kernel`/`-bios` boot this cluster? (default: the first one)
    #[serde(default)]
    pub boot: Option<bool>,
    /// Reset pc when nothing is loaded.
    #[serde(default)]
    pub reset_pc: Option<Value>,
    /// Where a raw `-kernel` image goes when firmware is loaded too
    /// (default: reset_pc + 2 MiB, as QEMU's virt board for RV64).
    #[serde(default)]
    pub kernel_addr: Option<Value>,
}

fn one() -> Value {
    Value::Number(1.into())
}

/// A validation or parse error, with the file and line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {msg}")]
pub struct FileError {
    /// File name.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// What is wrong.
    pub msg: String,
}

/// A parsed machine file with its text, for error positions.
#[derive(Debug)]
pub struct Source {
    /// File name (for messages).
    pub file: String,
    /// Text.
    pub text: String,
}

impl Source {
    /// An error at the line where `needle` first appears (after `after`).
    pub fn err_at(&self, needle: &str, msg: impl Into<String>) -> FileError {
        let line = self
            .text
            .lines()
            .position(|l| {
                let l = l.split('#').next().unwrap_or("");
                l.contains(needle)
            })
            .map_or(0, |i| i + 1);
        FileError {
            file: self.file.clone(),
            line,
            msg: msg.into(),
        }
    }
}

/// Parse the text of a machine file.
pub fn parse(src: &Source) -> Result<MachineFile, FileError> {
    serde_yaml::from_str(&src.text).map_err(|e| FileError {
        file: src.file.clone(),
        line: e.location().map_or(0, |l| l.line()),
        msg: e
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or("")
            .to_string(),
    })
}

/// Parse an integer written as a YAML number or a string: decimal, `0x`
/// hex, `_` separators, and `K`/`M`/`G` suffixes (powers of two).
pub fn parse_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => parse_u64_str(s),
        _ => None,
    }
}

/// [`parse_u64`] for text.
pub fn parse_u64_str(s: &str) -> Option<u64> {
    let s: String = s.trim().chars().filter(|c| *c != '_').collect();
    let (num, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1u64 << 10),
        'm' | 'M' => (&s[..s.len() - 1], 1 << 20),
        'g' | 'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (&s[..], 1),
    };
    let n = if let Some(h) = num.strip_prefix("0x").or_else(|| num.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()?
    } else {
        num.parse::<u64>().ok()?
    };
    n.checked_mul(mult)
}

/// Render a YAML scalar as text.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Resolve parameter values: defaults, then `overrides` (name → text).
pub fn resolve_params(
    src: &Source,
    mf: &MachineFile,
    overrides: &[(String, String)],
) -> Result<BTreeMap<String, Value>, FileError> {
    let mut out = BTreeMap::new();
    for (name, decl) in &mf.params {
        out.insert(name.clone(), decl.default.clone());
    }
    for (k, v) in overrides {
        let Some(decl) = mf.params.get(k) else {
            let known: Vec<&str> = mf.params.keys().map(|s| s.as_str()).collect();
            return Err(FileError {
                file: src.file.clone(),
                line: 0,
                msg: format!(
                    "machine {} has no parameter '{k}' (it has: {})",
                    mf.name,
                    known.join(", ")
                ),
            });
        };
        let _ = decl;
        out.insert(k.clone(), Value::String(v.clone()));
    }
    for (name, decl) in &mf.params {
        let v = &out[name];
        let text = scalar_text(v).unwrap_or_default();
        let typed = match decl.ty.as_str() {
            "int" | "size" => parse_u64(v).map(|n| Value::Number(n.into())),
            "bool" => match text.as_str() {
                "true" | "on" | "yes" => Some(Value::Bool(true)),
                "false" | "off" | "no" => Some(Value::Bool(false)),
                _ => None,
            },
            "str" => Some(Value::String(text.clone())),
            other => {
                return Err(src.err_at(
                    &format!("{name}:"),
                    format!("parameter {name}: unknown type '{other}' (int, size, bool, str)"),
                ))
            }
        };
        let Some(typed) = typed else {
            return Err(src.err_at(
                &format!("{name}:"),
                format!("parameter {name}: '{text}' is not a valid {}", decl.ty),
            ));
        };
        if !decl.values.is_empty() {
            let ok = decl.values.iter().any(|a| match decl.ty.as_str() {
                "int" | "size" => parse_u64(a) == parse_u64(&typed),
                _ => scalar_text(a) == scalar_text(&typed),
            });
            if !ok {
                let allowed: Vec<String> = decl.values.iter().filter_map(scalar_text).collect();
                return Err(src.err_at(
                    &format!("{name}:"),
                    format!(
                        "parameter {name}: '{text}' is not one of {}",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        out.insert(name.clone(), typed);
    }
    Ok(out)
}

/// Replace `${param}` references in every string of `v`. A string that is
/// exactly one reference takes the parameter's typed value.
pub fn substitute(
    src: &Source,
    v: &Value,
    params: &BTreeMap<String, Value>,
) -> Result<Value, FileError> {
    Ok(match v {
        Value::String(s) if s.contains("${") => {
            let trimmed = s.trim();
            if let Some(name) = trimmed.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                if !name.contains("${") {
                    return params.get(name).cloned().ok_or_else(|| {
                        src.err_at(s, format!("unknown parameter '{name}' in '{s}'"))
                    });
                }
            }
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(i) = rest.find("${") {
                out.push_str(&rest[..i]);
                let end = rest[i..]
                    .find('}')
                    .ok_or_else(|| src.err_at(s, format!("unclosed '${{' in '{s}'")))?;
                let name = &rest[i + 2..i + end];
                let val = params
                    .get(name)
                    .and_then(scalar_text)
                    .ok_or_else(|| src.err_at(s, format!("unknown parameter '{name}' in '{s}'")))?;
                out.push_str(&val);
                rest = &rest[i + end + 1..];
            }
            out.push_str(rest);
            Value::String(out)
        }
        Value::Sequence(items) => Value::Sequence(
            items
                .iter()
                .map(|i| substitute(src, i, params))
                .collect::<Result<_, _>>()?,
        ),
        Value::Mapping(m) => {
            let mut out = serde_yaml::Mapping::new();
            for (k, val) in m {
                out.insert(k.clone(), substitute(src, val, params)?);
            }
            Value::Mapping(out)
        }
        other => other.clone(),
    })
}

/// Deserialize a substituted entry, reporting errors at `anchor`'s line.
pub fn typed<T: serde::de::DeserializeOwned>(
    src: &Source,
    v: Value,
    anchor: &str,
    what: &str,
) -> Result<T, FileError> {
    serde_yaml::from_value(v).map_err(|e| src.err_at(anchor, format!("{what}: {e}")))
}

/// The `id` of an entry, for error positions before it is typed.
pub fn entry_id(v: &Value) -> String {
    v.get("id").and_then(scalar_text).unwrap_or_default()
}
