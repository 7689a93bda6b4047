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
    /// Run each cluster in its own host thread (default false).
    #[serde(default)]
    pub parallel: Option<Value>,
    /// Generate a device tree for the boot cluster.
    #[serde(default)]
    pub fdt: Option<Value>,
    /// Profiles: named device selections and parameter defaults
    /// (see [`super::profile`]).
    #[serde(default)]
    pub profiles: BTreeMap<String, Value>,
    /// Other machine files merged into this one (paths relative to this
    /// file): their lists are prepended, their maps merged.
    #[serde(default)]
    pub include: Option<Value>,
    /// Where each entry was written, for error positions.
    #[serde(skip)]
    pub at: Origins,
}

/// The top-level keys of a machine file.
pub const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "params",
    "memory",
    "devices",
    "address_spaces",
    "clusters",
    "irqs",
    "quantum",
    "insn_ns",
    "parallel",
    "fdt",
    "profiles",
    "include",
];

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
    /// Target cluster's active-low reset input: low holds every vCPU of
    /// the cluster in reset, a rising edge releases them from reset.
    #[serde(default)]
    pub to_reset: Option<String>,
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
    /// Size in bytes (optional with `memdev`).
    #[serde(default)]
    pub size: Option<Value>,
    /// ROM?
    #[serde(default)]
    pub read_only: bool,
    /// Id of a memory backend (QMP `object-add memory-backend-ram`)
    /// whose block this entry is.
    #[serde(default)]
    pub memdev: Option<String>,
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
    /// The image the cluster boots (ELF, or raw at `reset_pc`), loaded
    /// by [`super::Machine::load_file_images`]; a relative path is
    /// resolved against the directory of the machine file that names it.
    #[serde(default)]
    pub image: Option<String>,
    /// `running` (default) or `held`: held in reset until a reset line
    /// wired to it (`irqs: - { from, out, to_reset: cluster }`) rises.
    #[serde(default)]
    pub start: Option<String>,
}

fn one() -> Value {
    Value::Number(1.into())
}

/// A validation or parse error, with the file, line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// File name.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub col: usize,
    /// What is wrong.
    pub msg: String,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.col) {
            (0, _) => write!(f, "{}: {}", self.file, self.msg),
            (l, 0) => write!(f, "{}:{l}: {}", self.file, self.msg),
            (l, c) => write!(f, "{}:{l}:{c}: {}", self.file, self.msg),
        }
    }
}

impl std::error::Error for FileError {}

/// Where an entry of a (merged) machine file was written: a file (index
/// into [`Origins::files`]) and the entry's path in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// Index into [`Origins::files`].
    pub file: usize,
    /// Path in that file (`devices[3]`, `address_spaces.sys[0]`).
    pub path: String,
}

impl Origin {
    /// `path` of the machine file itself.
    pub fn root(path: &str) -> Origin {
        Origin {
            file: 0,
            path: path.to_string(),
        }
    }
    /// A path inside this entry (`.type`, `[2]`).
    pub fn sub(&self, rest: &str) -> Origin {
        Origin {
            file: self.file,
            path: format!("{}{rest}", self.path),
        }
    }
}

/// Positions of a machine file's entries, across its includes. Lists run
/// parallel to the [`MachineFile`] lists.
#[derive(Debug, Default)]
pub struct Origins {
    /// Files: the machine file first, then what it includes.
    pub files: Vec<(String, PosIndex)>,
    /// `memory` entries.
    pub memory: Vec<Origin>,
    /// `devices` entries.
    pub devices: Vec<Origin>,
    /// `clusters` entries.
    pub clusters: Vec<Origin>,
    /// `irqs` entries.
    pub irqs: Vec<Origin>,
    /// Mappings of each address space.
    pub maps: BTreeMap<String, Vec<Origin>>,
    /// Other entries: `params.NAME`, `profiles.NAME`, `fdt`, `quantum`...
    pub keys: BTreeMap<String, Origin>,
}

impl Origins {
    fn err(&self, o: &Origin, key: bool, msg: String) -> FileError {
        let Some((file, ix)) = self.files.get(o.file) else {
            return FileError {
                file: String::new(),
                line: 0,
                col: 0,
                msg,
            };
        };
        let (line, col) = if key {
            ix.key(&o.path)
        } else {
            ix.val(&o.path)
        }
        .unwrap_or((1, 1));
        FileError {
            file: file.clone(),
            line,
            col,
            msg,
        }
    }
    /// An error at the value of `o`.
    pub fn val(&self, o: &Origin, msg: impl Into<String>) -> FileError {
        self.err(o, false, msg.into())
    }
    /// An error at the key of `o`.
    pub fn key(&self, o: &Origin, msg: impl Into<String>) -> FileError {
        self.err(o, true, msg.into())
    }
    /// The origin of a top-level entry or a `params.NAME`-like path.
    pub fn top(&self, path: &str) -> Origin {
        self.keys
            .get(path)
            .cloned()
            .unwrap_or_else(|| Origin::root(path))
    }
    /// An error for a serde message about entry `o`: an unknown field is
    /// reported at its key, anything else at the entry.
    pub fn serde(&self, o: &Origin, what: &str, e: impl std::fmt::Display) -> FileError {
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or("").to_string();
        let msg = if what.is_empty() {
            msg
        } else {
            format!("{what}: {msg}")
        };
        if let Some(field) = msg
            .split("unknown field `")
            .nth(1)
            .and_then(|r| r.split('`').next())
        {
            return self.key(&o.sub(&format!(".{field}")), msg);
        }
        self.val(o, msg)
    }
    /// Keep the origins of the `keep` entries of a list.
    pub fn retain(list: &mut Vec<Origin>, keep: &[bool]) {
        let mut i = 0;
        list.retain(|_| {
            i += 1;
            keep.get(i - 1).copied().unwrap_or(true)
        });
    }
}

/// A parsed machine file with its text, for error positions.
#[derive(Debug)]
pub struct Source {
    /// File name (for messages).
    pub file: String,
    /// Text.
    pub text: String,
}

/// Parse a machine file and the files it includes, merged: lists of an
/// included file come before the including file's, map entries of the
/// including file win. Every entry remembers where it was written.
pub fn parse(src: &Source) -> Result<MachineFile, FileError> {
    let mut at = Origins::default();
    let mut merged = serde_yaml::Mapping::new();
    let mut stack = Vec::new();
    load(&src.file, &src.text, &mut at, &mut merged, &mut stack)?;
    if let Some(Value::Mapping(ps)) = merged.get("params") {
        for (k, v) in ps {
            let name = scalar_text(k).unwrap_or_default();
            let o = at.top(&format!("params.{name}"));
            serde_yaml::from_value::<ParamDecl>(v.clone())
                .map_err(|e| at.serde(&o, &format!("parameter {name}"), e))?;
        }
    }
    let mut mf: MachineFile = serde_yaml::from_value(Value::Mapping(merged))
        .map_err(|e| at.serde(&Origin::root(""), "", e))?;
    mf.at = at;
    Ok(mf)
}

fn syntax_error(file: &str, e: &serde_yaml::Error) -> FileError {
    let (line, col) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
    FileError {
        file: file.to_string(),
        line,
        col,
        msg: e
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or("")
            .to_string(),
    }
}

/// Read one file into `merged` (its includes first).
fn load(
    file: &str,
    text: &str,
    at: &mut Origins,
    merged: &mut serde_yaml::Mapping,
    stack: &mut Vec<std::path::PathBuf>,
) -> Result<(), FileError> {
    let v: Value = serde_yaml::from_str(text).map_err(|e| syntax_error(file, &e))?;
    let fi = at.files.len();
    at.files.push((file.to_string(), PosIndex::new(text)));
    let here = |path: &str| Origin {
        file: fi,
        path: path.to_string(),
    };
    let map = match v {
        Value::Mapping(m) => m,
        Value::Null => serde_yaml::Mapping::new(),
        _ => return Err(at.val(&here(""), "a machine file is a mapping of keys")),
    };
    for k in map.keys() {
        let name = scalar_text(k).unwrap_or_default();
        if !TOP_KEYS.contains(&name.as_str()) {
            let known: Vec<String> = TOP_KEYS.iter().map(|k| format!("`{k}`")).collect();
            return Err(at.key(
                &here(&name),
                format!(
                    "unknown field `{name}`, expected one of {}",
                    known.join(", ")
                ),
            ));
        }
    }
    let me = std::fs::canonicalize(file).unwrap_or_else(|_| file.into());
    stack.push(me);
    if let Some(inc) = map.get("include") {
        let list: Vec<(Origin, Option<String>)> = match inc {
            Value::Sequence(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (here(&format!("include[{i}]")), scalar_text(v)))
                .collect(),
            v => vec![(here("include"), scalar_text(v))],
        };
        for (o, name) in list {
            let Some(name) = name else {
                return Err(at.val(&o, "include: expected a file name"));
            };
            let dir = std::path::Path::new(file)
                .parent()
                .unwrap_or(std::path::Path::new(""));
            let path = dir.join(&name);
            let canon = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            if stack.contains(&canon) {
                return Err(at.val(&o, format!("include cycle: {name} includes itself")));
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|e| at.val(&o, format!("include {name}: {e}")))?;
            load(&path.display().to_string(), &text, at, merged, stack)?;
        }
    }
    stack.pop();
    for (k, v) in map {
        let key = scalar_text(&k).unwrap_or_default();
        match (key.as_str(), v) {
            ("include", _) => {}
            ("memory" | "devices" | "clusters" | "irqs", Value::Sequence(items)) => {
                let list = match key.as_str() {
                    "memory" => &mut at.memory,
                    "devices" => &mut at.devices,
                    "clusters" => &mut at.clusters,
                    _ => &mut at.irqs,
                };
                for i in 0..items.len() {
                    list.push(here(&format!("{key}[{i}]")));
                }
                match merged.get_mut(&k) {
                    Some(Value::Sequence(old)) => old.extend(items),
                    _ => {
                        merged.insert(k, Value::Sequence(items));
                    }
                }
            }
            ("address_spaces", Value::Mapping(spaces)) => {
                let entry = merged
                    .entry(k)
                    .or_insert_with(|| Value::Mapping(Default::default()));
                let Value::Mapping(old) = entry else {
                    continue;
                };
                for (name, maps) in spaces {
                    let n = scalar_text(&name).unwrap_or_default();
                    let origins = at.maps.entry(n.clone()).or_default();
                    if let Value::Sequence(items) = &maps {
                        for i in 0..items.len() {
                            origins.push(here(&format!("address_spaces.{n}[{i}]")));
                        }
                    }
                    match (old.get_mut(&name), maps) {
                        (Some(Value::Sequence(o)), Value::Sequence(items)) => o.extend(items),
                        (_, maps) => {
                            old.insert(name, maps);
                        }
                    }
                }
            }
            ("params" | "profiles", Value::Mapping(entries)) => {
                let entry = merged
                    .entry(k)
                    .or_insert_with(|| Value::Mapping(Default::default()));
                let Value::Mapping(old) = entry else {
                    continue;
                };
                for (name, v) in entries {
                    let p = format!("{key}.{}", scalar_text(&name).unwrap_or_default());
                    at.keys.insert(p.clone(), here(&p));
                    old.insert(name, v);
                }
            }
            (_, v) => {
                at.keys.insert(key.clone(), here(&key));
                merged.insert(k, v);
            }
        }
    }
    Ok(())
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
        if !mf.params.contains_key(k) {
            let known: Vec<&str> = mf.params.keys().map(|s| s.as_str()).collect();
            return Err(FileError {
                file: src.file.clone(),
                line: 0,
                col: 0,
                msg: format!(
                    "machine {} has no parameter '{k}' (it has: {})",
                    mf.name,
                    known.join(", ")
                ),
            });
        }
        out.insert(k.clone(), Value::String(v.clone()));
    }
    for (name, decl) in &mf.params {
        let o = mf.at.top(&format!("params.{name}"));
        let given = overrides.iter().any(|(k, _)| k == name);
        // The value at fault: the default, unless the command line set it.
        let at_value = if given { o.clone() } else { o.sub(".default") };
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
                return Err(mf.at.val(
                    &o.sub(".type"),
                    format!("parameter {name}: unknown type '{other}' (int, size, bool, str)"),
                ))
            }
        };
        let Some(typed) = typed else {
            return Err(mf.at.val(
                &at_value,
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
                return Err(mf.at.val(
                    &at_value,
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

/// Replace `${param}` references in every string of `v` (the entry at
/// `o`). A string that is exactly one reference takes the parameter's
/// typed value.
pub fn substitute(
    at: &Origins,
    o: &Origin,
    v: &Value,
    params: &BTreeMap<String, Value>,
) -> Result<Value, FileError> {
    Ok(match v {
        Value::String(s) if s.contains("${") => {
            let trimmed = s.trim();
            if let Some(name) = trimmed.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                if !name.contains("${") {
                    return params
                        .get(name)
                        .cloned()
                        .ok_or_else(|| at.val(o, format!("unknown parameter '{name}' in '{s}'")));
                }
            }
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(i) = rest.find("${") {
                out.push_str(&rest[..i]);
                let end = rest[i..]
                    .find('}')
                    .ok_or_else(|| at.val(o, format!("unclosed '${{' in '{s}'")))?;
                let name = &rest[i + 2..i + end];
                let val = params
                    .get(name)
                    .and_then(scalar_text)
                    .ok_or_else(|| at.val(o, format!("unknown parameter '{name}' in '{s}'")))?;
                out.push_str(&val);
                rest = &rest[i + end + 1..];
            }
            out.push_str(rest);
            Value::String(out)
        }
        Value::Sequence(items) => Value::Sequence(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| substitute(at, &o.sub(&format!("[{i}]")), v, params))
                .collect::<Result<_, _>>()?,
        ),
        Value::Mapping(m) => {
            let mut out = serde_yaml::Mapping::new();
            for (k, val) in m {
                let key = scalar_text(k).unwrap_or_default();
                out.insert(
                    k.clone(),
                    substitute(at, &o.sub(&format!(".{key}")), val, params)?,
                );
            }
            Value::Mapping(out)
        }
        other => other.clone(),
    })
}

/// Deserialize a substituted entry written at `o`.
pub fn typed<T: serde::de::DeserializeOwned>(
    at: &Origins,
    o: &Origin,
    v: Value,
    what: &str,
) -> Result<T, FileError> {
    serde_yaml::from_value::<T>(v.clone()).map_err(|e| {
        let msg = e.to_string();
        // serde_yaml does not say which field has the wrong type: find the
        // key whose removal changes the error, and report it there.
        if let (false, Value::Mapping(m)) = (msg.contains("unknown field"), &v) {
            for k in m.keys() {
                let mut less = m.clone();
                less.remove(k);
                let other = serde_yaml::from_value::<T>(Value::Mapping(less));
                if other.as_ref().err().map(|e| e.to_string()) != Some(msg.clone()) {
                    let key = scalar_text(k).unwrap_or_default();
                    return at.serde(&o.sub(&format!(".{key}")), what, e);
                }
            }
        }
        at.serde(o, what, e)
    })
}

/// The `id` of an entry, for error positions before it is typed.
pub fn entry_id(v: &Value) -> String {
    v.get("id").and_then(scalar_text).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Positions: serde_yaml has no spans, so a small scanner indexes the text of
// a file by structural path (`devices[3].type`, `address_spaces.sys[1].map`)
// — block mappings and sequences, and one-line flow `{...}`/`[...]`.

/// Line and column (1-based) of a key and of its value, by path.
#[derive(Debug, Default)]
pub struct PosIndex {
    keys: BTreeMap<String, (usize, usize)>,
    vals: BTreeMap<String, (usize, usize)>,
}

impl PosIndex {
    /// Index `text`.
    pub fn new(text: &str) -> PosIndex {
        let mut ix = PosIndex::default();
        // Open block containers: (column, path, is a sequence, items so far).
        let mut stack: Vec<(usize, String, bool, usize)> = Vec::new();
        // Path of the last entry whose value is on the following lines.
        let mut pending: Option<String> = None;
        for (ln, raw) in text.lines().enumerate() {
            let chars: Vec<char> = strip_comment(raw).chars().collect();
            let Some(mut c) = chars.iter().position(|ch| !ch.is_whitespace()) else {
                continue;
            };
            if chars[c..].starts_with(&['-', '-', '-']) {
                continue;
            }
            let line = ln + 1;
            while stack.last().is_some_and(|f| f.0 > c) {
                stack.pop();
            }
            let is_item = chars[c] == '-' && chars.get(c + 1).is_none_or(|ch| *ch == ' ');
            // A key at the column of a sequence that belongs to a key ends it.
            if !is_item && stack.last().is_some_and(|f| f.0 == c && f.2) {
                stack.pop();
            }
            let opens = match stack.last() {
                Some(f) => f.0 < c || (f.0 == c && is_item && !f.2),
                None => true,
            };
            if opens {
                let parent = pending.take().unwrap_or_default();
                stack.push((c, parent, is_item, 0));
            }
            pending = None;
            if is_item {
                let top = stack.last_mut().expect("pushed");
                let path = format!("{}[{}]", top.1, top.3);
                top.3 += 1;
                c += 1;
                while chars.get(c) == Some(&' ') {
                    c += 1;
                }
                ix.vals.entry(path.clone()).or_insert((line, c + 1));
                if c >= chars.len() {
                    pending = Some(path);
                    continue;
                }
                if chars[c] == '{' || chars[c] == '[' || key_end(&chars, c).is_none() {
                    let mut i = c;
                    ix.flow(&chars, &mut i, &path, line);
                    continue;
                }
                // `- key: value`: a mapping in the item, at this column.
                stack.push((c, path, false, 0));
            }
            let parent = stack.last().map(|f| f.1.clone()).unwrap_or_default();
            let Some((kend, vstart)) = key_end(&chars, c) else {
                continue;
            };
            let key = unquote(&chars[c..kend].iter().collect::<String>());
            let path = join(&parent, &key);
            ix.keys.entry(path.clone()).or_insert((line, c + 1));
            let mut v = vstart;
            while chars.get(v) == Some(&' ') {
                v += 1;
            }
            if v >= chars.len() {
                pending = Some(path);
            } else {
                let mut i = v;
                ix.flow(&chars, &mut i, &path, line);
            }
        }
        ix
    }

    /// Index a flow value (or a plain scalar) starting at `chars[*i]`.
    fn flow(&mut self, chars: &[char], i: &mut usize, path: &str, line: usize) {
        let skip = |i: &mut usize| {
            while chars.get(*i).is_some_and(|c| c.is_whitespace()) {
                *i += 1;
            }
        };
        skip(i);
        if *i >= chars.len() {
            return;
        }
        self.vals.entry(path.to_string()).or_insert((line, *i + 1));
        match chars[*i] {
            '{' => {
                *i += 1;
                loop {
                    skip(i);
                    match chars.get(*i) {
                        None => return,
                        Some('}') => {
                            *i += 1;
                            return;
                        }
                        Some(',') => {
                            *i += 1;
                            continue;
                        }
                        _ => {}
                    }
                    let start = *i;
                    let end = scalar_end(chars, *i, true);
                    let key = unquote(chars[start..end].iter().collect::<String>().trim());
                    let p = join(path, &key);
                    self.keys.entry(p.clone()).or_insert((line, start + 1));
                    *i = end;
                    if chars.get(*i) == Some(&':') {
                        *i += 1;
                        skip(i);
                        if !matches!(chars.get(*i), Some(',') | Some('}') | None) {
                            self.flow(chars, i, &p, line);
                        }
                    }
                    if *i == start {
                        *i += 1;
                    }
                }
            }
            '[' => {
                *i += 1;
                let mut n = 0;
                loop {
                    skip(i);
                    match chars.get(*i) {
                        None => return,
                        Some(']') => {
                            *i += 1;
                            return;
                        }
                        Some(',') => {
                            *i += 1;
                            continue;
                        }
                        _ => {}
                    }
                    let start = *i;
                    self.flow(chars, i, &format!("{path}[{n}]"), line);
                    n += 1;
                    if *i == start {
                        *i += 1;
                    }
                }
            }
            _ => *i = scalar_end(chars, *i, false),
        }
    }

    /// Position of the key at `path`, else of the nearest enclosing entry.
    pub fn key(&self, path: &str) -> Option<(usize, usize)> {
        self.find(path, true)
    }

    /// Position of the value at `path`, else of the nearest enclosing entry.
    pub fn val(&self, path: &str) -> Option<(usize, usize)> {
        self.find(path, false)
    }

    fn find(&self, path: &str, key: bool) -> Option<(usize, usize)> {
        let mut p = path.to_string();
        loop {
            let (first, second) = if key {
                (&self.keys, &self.vals)
            } else {
                (&self.vals, &self.keys)
            };
            if let Some(at) = first.get(&p).or_else(|| second.get(&p)) {
                return Some(*at);
            }
            let cut = p.rfind(['.', '['])?;
            p.truncate(cut);
        }
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

fn unquote(s: &str) -> String {
    s.trim_matches(|c| c == '"' || c == '\'').to_string()
}

/// The text of a line without its comment.
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if prev.is_whitespace() => return &line[..i],
            _ => {}
        }
        prev = c;
    }
    line
}

/// End of a plain or quoted scalar at `i` (in flow context: stops at `,`
/// `}` `]`, and at `:` followed by a space when it is a key).
fn scalar_end(chars: &[char], mut i: usize, key: bool) -> usize {
    if let Some(q @ ('"' | '\'')) = chars.get(i).copied() {
        i += 1;
        while i < chars.len() && chars[i] != q {
            i += 1 + usize::from(chars[i] == '\\' && q == '"');
        }
        return (i + 1).min(chars.len());
    }
    while i < chars.len() {
        match chars[i] {
            ',' | '}' | ']' => break,
            ':' if key && chars.get(i + 1).is_none_or(|c| c.is_whitespace()) => break,
            _ => i += 1,
        }
    }
    i
}

/// For a block `key: value` line at `c`: (end of key, start of value).
fn key_end(chars: &[char], c: usize) -> Option<(usize, usize)> {
    let end = scalar_end(chars, c, true);
    (chars.get(end) == Some(&':') && end > c).then_some((end, end + 1))
}

#[cfg(test)]
mod tests {
    use super::PosIndex;

    #[test]
    fn index_finds_keys_and_values_by_path() {
        let text = "\
name: t # a comment: uart0
devices:
  - { id: uart0, type: \"ns16550a\", props: { chardev: serial0 } }
  - id: plic
    type: plic
address_spaces:
  sys:
  - { map: ram, base: 0x80000000 }
  - map: uart0
    base: 0x10000000
irqs:
  - { from: plic, to_cpus: cpus, lines: [meip, seip] }
fdt: { stdout: uart0 }
";
        let ix = PosIndex::new(text);
        assert_eq!(ix.key("name"), Some((1, 1)));
        assert_eq!(ix.val("name"), Some((1, 7)));
        assert_eq!(ix.val("devices[0]"), Some((3, 5)));
        assert_eq!(ix.val("devices[0].id"), Some((3, 11)));
        assert_eq!(ix.val("devices[0].type"), Some((3, 24)));
        assert_eq!(ix.key("devices[0].props.chardev"), Some((3, 45)));
        assert_eq!(ix.key("devices[1].type"), Some((5, 5)));
        assert_eq!(ix.val("devices[1].id"), Some((4, 9)));
        assert_eq!(ix.val("address_spaces.sys[1].map"), Some((9, 10)));
        assert_eq!(ix.val("address_spaces.sys[1].base"), Some((10, 11)));
        assert_eq!(ix.val("irqs[0].lines[1]"), Some((12, 48)));
        assert_eq!(ix.val("fdt.stdout"), Some((13, 16)));
        // Unknown paths fall back to the nearest enclosing entry.
        assert_eq!(ix.val("devices[1].props"), Some((4, 5)));
        assert_eq!(ix.key("devices[0].nosuch"), Some((3, 5)));
    }
}
