//! The interface between the machine and device models (`hw/`).
//!
//! Devices see only MMIO accesses by offset, a context to raise machine
//! events, and their configuration; they never see a CPU or an ISA.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Something a device asks of the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MachineEvent {
    /// Power off; the run ends with this exit status.
    Shutdown(i32),
    /// Reset the machine.
    Reset,
    /// Output IRQ line `out` of device `device` changed to `level`; the
    /// machine routes it along the wiring of the machine file.
    Irq {
        /// Index of the device in the machine.
        device: usize,
        /// Output line of that device.
        out: u32,
        /// New level.
        level: bool,
    },
}

/// What a device may do during an access or a tick.
pub struct DeviceCtx<'a> {
    /// Events for the machine, handled after the current instruction.
    pub events: &'a mut Vec<MachineEvent>,
    /// Index of the device being called (for IRQ events).
    pub device: usize,
    /// Virtual time in nanoseconds (derived from retired instructions, so
    /// runs are deterministic).
    pub now_ns: u64,
}

impl DeviceCtx<'_> {
    /// Set output IRQ line `out` to `level`.
    pub fn irq(&mut self, out: u32, level: bool) {
        self.events.push(MachineEvent::Irq {
            device: self.device,
            out,
            level,
        });
    }
}

/// A device-tree value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FdtValue {
    /// An empty (boolean) property.
    Empty,
    /// A string.
    Str(String),
    /// A list of strings.
    Strs(Vec<String>),
    /// 32-bit cells.
    Cells(Vec<u32>),
}

/// What a device contributes to the guest's device tree: the machine adds
/// `reg` (from the address-space mapping), interrupt wiring and phandles.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FdtNode {
    /// Node name without the unit address (`serial`).
    pub name: String,
    /// Properties (`compatible`, `clock-frequency`, ...).
    pub props: Vec<(String, FdtValue)>,
    /// Is the device an interrupt controller others are wired to?
    pub interrupt_controller: bool,
}

/// A device refused an access.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// No register at this offset.
    #[error("no register at offset {0:#x}")]
    BadOffset(u64),
    /// The register does not accept this access size.
    #[error("bad access size {0}")]
    BadSize(u8),
}

/// A memory-mapped device model.
pub trait Device: Send {
    /// Size of the MMIO window in bytes.
    fn mmio_size(&self) -> u64;
    /// Read `size` bytes at `offset` (value in the device's byte order).
    fn read(&mut self, offset: u64, size: u8, cx: &mut DeviceCtx<'_>) -> Result<u64, DeviceError>;
    /// Write `size` bytes at `offset`.
    fn write(
        &mut self,
        offset: u64,
        size: u8,
        value: u64,
        cx: &mut DeviceCtx<'_>,
    ) -> Result<(), DeviceError>;
    /// Return to the power-on state.
    fn reset(&mut self);
    /// Input IRQ line `line` changed to `level` (interrupt controllers).
    fn set_input(&mut self, line: u32, level: bool, cx: &mut DeviceCtx<'_>) {
        let _ = (line, level, cx);
    }
    /// The virtual time (ns) at which the device wants `tick`, if any.
    fn next_deadline(&self) -> Option<u64> {
        None
    }
    /// Called when virtual time reaches `next_deadline`, and whenever the
    /// machine polls host input (a UART reads its backend here).
    fn tick(&mut self, cx: &mut DeviceCtx<'_>) {
        let _ = cx;
    }
    /// Does the device hold host input the guest has not read yet?
    fn has_pending_input(&self) -> bool {
        false
    }
    /// The device-tree node for this device (None: not described).
    fn fdt_node(&self) -> Option<FdtNode> {
        None
    }
    /// The input IRQ lines an interrupt controller has, `first..=last`,
    /// so that wiring (machine files, hot-plug) can be checked against
    /// them. None: not declared — the machine then accepts any line, and
    /// the device cannot be the target of a hot-plugged device's IRQ.
    fn irq_inputs(&self) -> Option<std::ops::RangeInclusive<u32>> {
        None
    }
    /// The device as `Any`, for the code of its own ISA crate that reaches
    /// it through the CPU's address space (Cortex-M's core calls its NVIC
    /// at the architectural address). `None` (the default): not reachable.
    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        None
    }
}

/// A device slot with nothing in it: no window, no state, no ticks. It
/// stands in for a device removed by `device_del`, or owned by another
/// partition of a machine running clusters in parallel threads.
pub struct Vacant;

impl Device for Vacant {
    fn mmio_size(&self) -> u64 {
        0
    }
    fn read(&mut self, offset: u64, _: u8, _: &mut DeviceCtx<'_>) -> Result<u64, DeviceError> {
        Err(DeviceError::BadOffset(offset))
    }
    fn write(
        &mut self,
        offset: u64,
        _: u8,
        _: u64,
        _: &mut DeviceCtx<'_>,
    ) -> Result<(), DeviceError> {
        Err(DeviceError::BadOffset(offset))
    }
    fn reset(&mut self) {}
}

/// Type of a device property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropType {
    /// Unsigned integer.
    U64,
    /// Boolean.
    Bool,
    /// String.
    Str,
    /// Index of a character backend (`-serial`).
    Chardev,
}

impl fmt::Display for PropType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PropType::U64 => "uint64",
            PropType::Bool => "bool",
            PropType::Str => "str",
            PropType::Chardev => "chardev",
        })
    }
}

/// A statically declared, typed, documented property of a device type.
#[derive(Clone, Copy, Debug)]
pub struct PropDesc {
    /// Name.
    pub name: &'static str,
    /// Type.
    pub ty: PropType,
    /// Default, as text (None: required).
    pub default: Option<&'static str>,
    /// What it means.
    pub doc: &'static str,
    /// Smallest allowed value of an integer property (0: no bound).
    pub min: u64,
    /// Largest allowed value of an integer property (`u64::MAX`: no
    /// bound). `#[prop(min = .., max = ..)]` or `#[prop(range = A..=B)]`;
    /// a field narrower than `u64` is bounded by its type.
    pub max: u64,
}

impl PropDesc {
    /// Is the integer range narrower than all of `u64`?
    pub fn has_range(&self) -> bool {
        self.ty == PropType::U64 && (self.min, self.max) != (0, u64::MAX)
    }
    /// The allowed range as text (`1..=32`), if there is one.
    pub fn range_text(&self) -> Option<String> {
        self.has_range()
            .then(|| format!("{}..={}", self.min, self.max))
    }
    /// Check a value against the declared range: `Err("num-harts 40 is
    /// out of range 1..=32")`, naming the property, value and range.
    pub fn check(&self, v: &PropValue) -> Result<(), String> {
        match v {
            PropValue::U64(n) if self.ty == PropType::U64 && !(self.min..=self.max).contains(n) => {
                Err(format!(
                    "{} {n} is out of range {}..={}",
                    self.name, self.min, self.max
                ))
            }
            _ => Ok(()),
        }
    }
}

/// A property value.
#[derive(Clone, Debug, PartialEq)]
pub enum PropValue {
    /// Unsigned integer.
    U64(u64),
    /// Boolean.
    Bool(bool),
    /// String.
    Str(String),
}

/// A character backend: where a UART's output goes and its input comes
/// from. Input arrives in a queue (filled by a host reader thread for
/// stdio, or by a test), so devices never block on the host.
#[derive(Clone)]
pub struct CharBackend {
    out: Arc<Mutex<Box<dyn Write + Send>>>,
    input: Arc<Mutex<std::collections::VecDeque<u8>>>,
}

impl fmt::Debug for CharBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CharBackend")
    }
}

impl CharBackend {
    /// A backend writing to `w`, with no input.
    pub fn new(w: Box<dyn Write + Send>) -> CharBackend {
        CharBackend {
            out: Arc::new(Mutex::new(w)),
            input: Arc::default(),
        }
    }
    /// The host terminal: output to stdout, input from stdin (read by a
    /// thread owned by this backend).
    pub fn stdio() -> CharBackend {
        let b = CharBackend::new(Box::new(std::io::stdout()));
        let q = b.input.clone();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 256];
            let mut stdin = std::io::stdin();
            while let Ok(n) = stdin.read(&mut buf) {
                if n == 0 {
                    break;
                }
                match q.lock() {
                    Ok(mut v) => v.extend(&buf[..n]),
                    Err(_) => break,
                }
            }
        });
        b
    }
    /// Queue bytes as if typed (tests, QMP `human-monitor-command`...).
    pub fn push_input(&self, bytes: &[u8]) {
        if let Ok(mut q) = self.input.lock() {
            q.extend(bytes);
        }
    }
    /// Take the next input byte, if one is waiting.
    pub fn read_byte(&self) -> Option<u8> {
        self.input.lock().ok()?.pop_front()
    }
    /// Is input waiting?
    pub fn has_input(&self) -> bool {
        self.input.lock().is_ok_and(|q| !q.is_empty())
    }
    /// A backend that drops everything.
    pub fn null() -> CharBackend {
        CharBackend::new(Box::new(std::io::sink()))
    }
    /// A backend collecting into a buffer the caller can read.
    pub fn buffer() -> (CharBackend, Arc<Mutex<Vec<u8>>>) {
        let buf = Arc::new(Mutex::new(Vec::new()));
        (CharBackend::new(Box::new(SharedBuf(buf.clone()))), buf)
    }
    /// Send bytes; host I/O errors are not the guest's business and are
    /// dropped, as a real UART drops bytes nobody listens to.
    pub fn write(&self, bytes: &[u8]) {
        if let Ok(mut w) = self.out.lock() {
            let _ = w.write_all(bytes);
            let _ = w.flush();
        }
    }
}

struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(b);
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Resolved configuration handed to a device constructor.
#[derive(Debug, Default)]
pub struct DeviceConfig {
    /// Property values, every declared property present.
    pub props: BTreeMap<String, PropValue>,
    /// Character backends referenced by `Chardev` properties.
    pub chardevs: BTreeMap<String, CharBackend>,
}

impl DeviceConfig {
    /// An integer property (declared with a default, so always present).
    pub fn u64(&self, name: &str) -> u64 {
        match self.props.get(name) {
            Some(PropValue::U64(v)) => *v,
            _ => 0,
        }
    }
    /// A boolean property.
    pub fn bool(&self, name: &str) -> bool {
        matches!(self.props.get(name), Some(PropValue::Bool(true)))
    }
    /// A string property (empty if unset).
    pub fn str(&self, name: &str) -> String {
        match self.props.get(name) {
            Some(PropValue::Str(s)) => s.clone(),
            _ => String::new(),
        }
    }
    /// The character backend of a `Chardev` property (a null one if unset).
    pub fn chardev(&self, name: &str) -> CharBackend {
        self.chardevs
            .get(name)
            .cloned()
            .unwrap_or_else(CharBackend::null)
    }
}

/// A device's typed configuration: its static property declarations and
/// how to read resolved values. Implement it with `#[derive(Properties)]`
/// (from `codegen/macros`, re-exported here) on a struct with one
/// documented field per property.
pub trait Properties: Sized {
    /// The declarations, for [`DeviceType::props`].
    const PROPS: &'static [PropDesc];
    /// The values of a resolved configuration (every declared property is
    /// present, so this cannot fail).
    fn from_config(cfg: &DeviceConfig) -> Self;
}

pub use hemu_macros::Properties;

/// A device type: an immutable entry of the device registry.
pub struct DeviceType {
    /// Type name used in machine files (`ns16550a`).
    pub name: &'static str,
    /// One line of description.
    pub description: &'static str,
    /// Properties.
    pub props: &'static [PropDesc],
    /// Constructor.
    pub create: fn(&DeviceConfig) -> Result<Box<dyn Device>, String>,
}

impl fmt::Debug for DeviceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceType({})", self.name)
    }
}
