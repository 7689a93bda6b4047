//! QMP, QEMU's JSON control protocol, as QEMU 7.2 speaks it — so QEMU's
//! own clients (`qemu.qmp`, `qmp-shell`, libvirt-style tools) work
//! unchanged — available from process start.
//!
//! [`Server`] listens (`-qmp unix:PATH,server` / `tcp:HOST:PORT,server`),
//! with a thread per connection; [`Controller`] owns the machine side: it
//! answers commands on the thread that runs the machine, between quanta
//! ([`Machine::run_with`]), so a command never races a vCPU.
//!
//! Phases: with no machine (`preconfig`) a client creates one
//! (`machine-create`), loads images (`load-image`) and starts it (`cont`
//! or `x-exit-preconfig`); a built machine not yet started is in
//! `prelaunch` (`-S`); a started one is running or paused.
//! `query-commands` lists every command with the phases it is allowed in
//! (`x-phases`) and a line of documentation (`x-doc`).
//!
//! The controller also holds `/objects`, the user-created objects
//! (`object-add`), which exist with or without a machine: a memory
//! backend made in preconfig becomes the RAM of the machine
//! `machine-create` builds. Objects' life cycles (see
//! [`crate::machine::object`]) decide what `qom-set` may change; hot-plug
//! is in [`hotplug`].

pub mod admin;
pub mod hmp;
pub mod hotplug;
pub mod qom;
pub mod server;
pub mod wire;

pub use server::{ListenSpec, Server};
pub use wire::{ErrorClass, QmpError};

use crate::device::CharBackend;
use crate::machine::user::UserObjects;
use crate::machine::{boot, file::Source, list_machines, BuildOptions, Registry};
use crate::{Machine, RunResult};
use serde_json::{json, Map, Value};
use server::Incoming;
use std::path::PathBuf;
use wire::Request;

/// No machine exists yet.
pub const PRECONFIG: u8 = 1;
/// A machine is built and not started (`-S`, or after `machine-create`).
pub const PRELAUNCH: u8 = 2;
/// The machine runs or is paused.
pub const STARTED: u8 = 4;
const ANY: u8 = PRECONFIG | PRELAUNCH | STARTED;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ArgTy {
    Str,
    Int,
    Bool,
    Object,
    /// Any JSON value (`qom-set`'s value).
    Any,
}

impl ArgTy {
    fn name(self) -> &'static str {
        match self {
            ArgTy::Str => "string",
            ArgTy::Int => "integer",
            ArgTy::Bool => "boolean",
            ArgTy::Object => "object",
            ArgTy::Any => "any",
        }
    }
    fn accepts(self, v: &Value) -> bool {
        match self {
            ArgTy::Str => v.is_string(),
            ArgTy::Int => v.is_u64(),
            ArgTy::Bool => v.is_boolean(),
            ArgTy::Object => v.is_object(),
            ArgTy::Any => true,
        }
    }
}

/// An argument of a command: (name, type, required).
type Arg = (&'static str, ArgTy, bool);

/// A command: name, phases, arguments, documentation.
struct Command {
    name: &'static str,
    phases: u8,
    args: &'static [Arg],
    doc: &'static str,
}

const fn cmd(name: &'static str, phases: u8, args: &'static [Arg], doc: &'static str) -> Command {
    Command {
        name,
        phases,
        args,
        doc,
    }
}

/// Every command hemu answers.
const COMMANDS: &[Command] = &[
    cmd(
        "qmp_capabilities",
        ANY,
        &[("enable", ArgTy::Object, false)],
        "leave capabilities negotiation (enable: [\"oob\"])",
    ),
    cmd(
        "query-version",
        ANY,
        &[],
        "QEMU version hemu speaks for, and hemu's",
    ),
    cmd(
        "query-commands",
        ANY,
        &[],
        "these commands, with their phases",
    ),
    cmd("query-status", ANY, &[], "prelaunch, running or paused"),
    cmd(
        "query-machines",
        ANY,
        &[],
        "the machine files hemu can build",
    ),
    cmd(
        "query-cpus-fast",
        ANY,
        &[],
        "every vCPU of every cluster: cpu-index, qom-path, thread-id, target",
    ),
    cmd(
        "machine-create",
        PRECONFIG,
        &[
            ("file", ArgTy::Str, false),
            ("inline", ArgTy::Object, false),
            ("params", ArgTy::Object, false),
            ("profile", ArgTy::Str, false),
            ("memory-backend", ArgTy::Str, false),
        ],
        "build a machine: file (a name like virt, or a path) or inline (the machine file's \
         schema as JSON); params: {name: value} overrides; profile: one of the file's \
         profiles; memory-backend: id of a memory-backend-ram object that becomes the main \
         RAM (the first memory entry, with the backend's size)",
    ),
    cmd(
        "load-image",
        PRELAUNCH,
        &[
            ("bios", ArgTy::Str, false),
            ("kernel", ArgTy::Str, false),
            ("file", ArgTy::Str, false),
            ("addr", ArgTy::Int, false),
            ("entry", ArgTy::Bool, false),
            ("dtb", ArgTy::Str, false),
            ("append", ArgTy::Str, false),
        ],
        "before start: bios/kernel as -bios/-kernel; file at addr (raw) or where its ELF \
         says, entry: start there; dtb, append as -dtb/-append",
    ),
    cmd(
        "x-exit-preconfig",
        PRECONFIG | PRELAUNCH,
        &[],
        "finish building (device tree, reset) and start, unless -S",
    ),
    cmd(
        "cont",
        PRELAUNCH | STARTED,
        &[],
        "start or resume the vCPUs",
    ),
    cmd("stop", PRELAUNCH | STARTED, &[], "pause the vCPUs"),
    cmd(
        "system_reset",
        PRELAUNCH | STARTED,
        &[],
        "reset every vCPU and device",
    ),
    cmd(
        "system_powerdown",
        STARTED,
        &[],
        "ask the guest to power down (POWERDOWN event; no machine has a power button \
         device yet, so, as on QEMU's RISC-V virt, the guest is not told)",
    ),
    cmd(
        "device_del",
        PRELAUNCH | STARTED,
        &[("id", ArgTy::Str, true)],
        "remove a device (id or QOM path): unmapped and unwired; DEVICE_DELETED",
    ),
    cmd("quit", ANY, &[], "end hemu (exit status 0)"),
    cmd(
        "qom-list",
        ANY,
        &[("path", ArgTy::Str, true)],
        "children and properties of an object",
    ),
    cmd(
        "qom-get",
        ANY,
        &[("path", ArgTy::Str, true), ("property", ArgTy::Str, true)],
        "a property of an object",
    ),
    cmd(
        "qom-list-types",
        ANY,
        &[
            ("implements", ArgTy::Str, false),
            ("abstract", ArgTy::Bool, false),
        ],
        "QOM types compiled in: device types and the vCPU type of every ISA",
    ),
    cmd(
        "device-list-properties",
        ANY,
        &[("typename", ArgTy::Str, true)],
        "the typed properties of a device type, with defaults",
    ),
    cmd(
        "qom-set",
        ANY,
        &[
            ("path", ArgTy::Str, true),
            ("property", ArgTy::Str, true),
            ("value", ArgTy::Any, true),
        ],
        "set a configuration property of a device before it is realized (with its machine, \
         when it starts); realized objects refuse",
    ),
    cmd(
        "qom-list-properties",
        ANY,
        &[("typename", ArgTy::Str, true)],
        "the typed properties of any type (devices, user-creatable objects), with defaults \
         and ranges",
    ),
    cmd(
        "object-add",
        ANY,
        &[("qom-type", ArgTy::Str, true), ("id", ArgTy::Str, true)],
        "create a user-creatable object at /objects/ID: qom-type (memory-backend-ram: size) \
         and the type's properties; it is realized at once",
    ),
    cmd(
        "object-del",
        ANY,
        &[("id", ArgTy::Str, true)],
        "remove a user-created object nothing uses",
    ),
    cmd(
        "device_add",
        PRELAUNCH | STARTED,
        &[
            ("driver", ArgTy::Str, true),
            ("id", ArgTy::Str, true),
            ("addr", ArgTy::Any, false),
            ("irq", ArgTy::Any, false),
            ("irq-parent", ArgTy::Str, false),
        ],
        "hot-plug a device: driver (a device type), id, addr (base in the boot cluster's \
         address space), irq (the interrupt controller input output 0 drives, or a list, one \
         per output), irq-parent (the controller; default: the only one), and the type's \
         properties; refuses overlaps and busy lines, and leaves the machine as it was when \
         any step fails",
    ),
    cmd(
        "memsave",
        PRELAUNCH | STARTED,
        &[
            ("val", ArgTy::Int, true),
            ("size", ArgTy::Int, true),
            ("filename", ArgTy::Str, true),
            ("cpu-index", ArgTy::Int, false),
        ],
        "write guest virtual memory (as a vCPU translates it) to a host file",
    ),
    cmd(
        "pmemsave",
        PRELAUNCH | STARTED,
        &[
            ("val", ArgTy::Int, true),
            ("size", ArgTy::Int, true),
            ("filename", ArgTy::Str, true),
        ],
        "write guest physical memory (the boot cluster's address space) to a host file",
    ),
    cmd(
        "query-qmp-schema",
        ANY,
        &[],
        "the QAPI introspection of these commands, their events and device properties",
    ),
    cmd(
        "human-monitor-command",
        ANY,
        &[
            ("command-line", ArgTy::Str, true),
            ("cpu-index", ArgTy::Int, false),
        ],
        "a human monitor line: info registers|mtree|qtree|cpus|status|version|qom-tree, \
         x and xp /fmt addr, stop, cont, system_reset, quit, help",
    ),
];

fn phase_names(p: u8) -> Vec<&'static str> {
    let mut v = Vec::new();
    if p & PRECONFIG != 0 {
        v.push("preconfig");
    }
    if p & PRELAUNCH != 0 {
        v.push("prelaunch");
    }
    if p & STARTED != 0 {
        v.push("running");
        v.push("paused");
    }
    v
}

/// Run state, as `query-status` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Not started (no machine yet, or built and not started).
    Prelaunch,
    /// Running.
    Running,
    /// Stopped by `stop`.
    Paused,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Prelaunch => "prelaunch",
            Status::Running => "running",
            Status::Paused => "paused",
        }
    }
}

/// What the controller needs to build machines.
pub struct Setup {
    /// Frontends and device types.
    pub registry: Registry,
    /// Where machine files are found by name.
    pub machine_dirs: Vec<PathBuf>,
    /// Character backends for `serial0`, ... of created machines.
    pub serials: Vec<CharBackend>,
    /// QEMU flags that set machine parameters (`-m`, `-smp`), applied to
    /// created machines before `machine-create`'s own `params`.
    pub flags: Vec<(String, String)>,
    /// `-S`: stay in prelaunch until `cont`.
    pub start_paused: bool,
    /// Default profile of created machines (`--profile`); `machine-create`
    /// may name another.
    pub profile: Option<String>,
}

/// Boot settings gathered before start.
#[derive(Default)]
struct PendingBoot {
    dtb: Option<Vec<u8>>,
    append: Option<String>,
    firmware: bool,
    loaded: bool,
}

/// Why the run ended, for the SHUTDOWN event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EndReason {
    Quit,
}

/// The machine side of QMP: answers commands on the machine's thread.
pub struct Controller {
    server: Server,
    setup: Setup,
    status: Status,
    machine: Option<Machine>,
    boot: PendingBoot,
    /// The machine's device tree is placed and its vCPUs reset for boot.
    booted: bool,
    end: Option<EndReason>,
    /// `/objects`: user-created objects (`object-add`), which exist with
    /// or without a machine.
    objects: UserObjects,
}

impl Controller {
    /// A controller serving `server`'s clients.
    pub fn new(server: Server, setup: Setup) -> Controller {
        Controller {
            server,
            setup,
            status: Status::Prelaunch,
            machine: None,
            boot: PendingBoot::default(),
            booted: false,
            end: None,
            objects: UserObjects::default(),
        }
    }

    /// Where the server listens.
    pub fn addrs(&self) -> &[String] {
        &self.server.addrs
    }

    /// Serve until the run ends. `machine`: one the command line built
    /// and booted (None: wait for `machine-create`). Returns how the run
    /// ended; `quit` ends it as `Shutdown(0)`.
    pub fn run(&mut self, machine: Option<Machine>, limit: Option<u64>) -> RunResult {
        self.booted = machine.is_some();
        self.machine = machine;
        // A machine the command line built and booted is complete.
        if let Some(m) = &mut self.machine {
            m.realize();
        }
        self.status = if self.machine.is_some() && !self.setup.start_paused {
            Status::Running
        } else {
            Status::Prelaunch
        };
        if self.server.wait {
            // QEMU's `wait=on`: nothing starts before a client connects.
            loop {
                match self.server.recv() {
                    Some(Incoming::Connected(_)) | None => break,
                    Some(Incoming::Command(c, r)) => self.serve_owned(c, r),
                }
            }
        }
        while self.status != Status::Running && self.end.is_none() {
            match self.server.recv() {
                Some(Incoming::Command(c, r)) => self.serve_owned(c, r),
                Some(Incoming::Connected(_)) => {}
                None => break,
            }
        }
        let r = match (self.end, self.machine.take()) {
            (Some(EndReason::Quit), _) | (None, None) => RunResult::Shutdown(0),
            (None, Some(mut m)) => {
                let r = m.run_with(limit, &mut |m| self.poll(m));
                self.machine = Some(m);
                r
            }
        };
        self.finish(&r);
        r
    }

    /// Serve a command while the controller holds the machine (if any).
    fn serve_owned(&mut self, client: u64, req: Request) {
        let mut m = self.machine.take();
        self.serve(m.as_mut(), client, req);
        // `machine-create` puts a new machine in `self.machine`.
        if let Some(created) = self.machine.take() {
            m = Some(created);
        }
        self.machine = m;
    }

    /// Between quanta: answer what is waiting; block while paused.
    fn poll(&mut self, m: &mut Machine) -> Option<RunResult> {
        while let Some(msg) = self.server.try_recv() {
            if let Incoming::Command(c, r) = msg {
                self.serve(Some(m), c, r);
            }
            if self.end.is_some() {
                return Some(RunResult::Shutdown(0));
            }
        }
        while self.status != Status::Running {
            match self.server.recv() {
                Some(Incoming::Command(c, r)) => self.serve(Some(m), c, r),
                Some(Incoming::Connected(_)) => {}
                None => return Some(RunResult::Shutdown(0)),
            }
            if self.end.is_some() {
                return Some(RunResult::Shutdown(0));
            }
        }
        None
    }

    /// Tell every client how the run ended.
    fn finish(&mut self, r: &RunResult) {
        let (guest, reason) = match (self.end, r) {
            (Some(EndReason::Quit), _) => (false, "host-qmp-quit"),
            (None, RunResult::Shutdown(_)) => (true, "guest-shutdown"),
            (None, RunResult::Crashed { cpu, report }) => {
                self.emit(
                    "GUEST_PANICKED",
                    Some(json!({"action": "poweroff", "info": {"type": "hemu", "cpu": cpu, "report": report}})),
                );
                (true, "guest-panic")
            }
            (None, RunResult::Limit | RunResult::Idle) => (false, "host-error"),
        };
        self.emit("SHUTDOWN", Some(json!({"guest": guest, "reason": reason})));
    }

    fn emit(&self, name: &str, data: Option<Value>) {
        self.server.clients.broadcast(&wire::event(name, data));
    }

    fn phase(&self, m: Option<&Machine>) -> u8 {
        match (m, self.status) {
            (None, _) => PRECONFIG,
            (Some(_), Status::Prelaunch) => PRELAUNCH,
            (Some(_), _) => STARTED,
        }
    }

    /// Check, run and answer one command.
    fn serve(&mut self, m: Option<&mut Machine>, client: u64, req: Request) {
        let result = self.execute(m, &req.name, &req.args);
        let msg = match result {
            Ok(v) => wire::reply_ok(v, req.id.as_ref()),
            Err(e) => wire::reply_err(&e, req.id.as_ref()),
        };
        self.server.clients.reply(client, &msg);
    }

    /// Check a command against the table and run it.
    fn execute(
        &mut self,
        m: Option<&mut Machine>,
        name: &str,
        args: &Map<String, Value>,
    ) -> Result<Value, QmpError> {
        let Some(c) = COMMANDS.iter().find(|c| c.name == name) else {
            return Err(QmpError::not_found(format!(
                "The command {name} has not been found"
            )));
        };
        let phase = self.phase(m.as_deref());
        if c.phases & phase == 0 {
            return Err(QmpError::generic(if phase == PRECONFIG {
                format!("The command '{name}' needs a machine: create one with machine-create")
            } else if c.phases == PRECONFIG {
                format!("The command '{name}' is permitted only before a machine exists")
            } else if c.phases & STARTED == 0 {
                format!("The command '{name}' is permitted only before the machine starts")
            } else {
                format!("The command '{name}' is permitted only once the machine has started")
            }));
        }
        for k in args.keys() {
            // device_add and object-add also take the properties of their
            // type.
            let open = matches!(c.name, "device_add" | "object-add");
            if !c.args.iter().any(|(n, _, _)| n == k) && !open {
                return Err(QmpError::generic(format!("Parameter '{k}' is unexpected")));
            }
        }
        for (n, ty, required) in c.args {
            match args.get(*n) {
                None if *required => {
                    return Err(QmpError::generic(format!("Parameter '{n}' is missing")))
                }
                Some(v) if !ty.accepts(v) => {
                    return Err(QmpError::generic(format!(
                        "Invalid parameter type for '{n}', expected: {}",
                        ty.name()
                    )))
                }
                _ => {}
            }
        }
        let s = |k: &str| args.get(k).and_then(Value::as_str);
        match name {
            "query-version" => {
                let (major, minor, micro) = wire::QEMU_VERSION;
                Ok(json!({"qemu": {"major": major, "minor": minor, "micro": micro},
                    "package": format!("hemu {}", env!("CARGO_PKG_VERSION"))}))
            }
            "query-commands" => Ok(Value::Array(
                COMMANDS
                    .iter()
                    .map(|c| json!({"name": c.name, "x-phases": phase_names(c.phases), "x-doc": c.doc}))
                    .collect(),
            )),
            "query-status" => Ok(json!({
                "status": self.status.as_str(),
                "singlestep": false,
                "running": self.status == Status::Running,
            })),
            "query-machines" => Ok(Value::Array(
                list_machines(&self.setup.machine_dirs)
                    .into_iter()
                    .map(|(n, d)| {
                        json!({"name": n, "x-description": d, "cpu-max": 1024,
                            "hotpluggable-cpus": false, "numa-mem-supported": false,
                            "deprecated": false})
                    })
                    .collect(),
            )),
            "query-cpus-fast" => Ok(Value::Array(m.map_or_else(Vec::new, |m| cpus(m)))),
            "machine-create" => self.machine_create(args).map(|m| {
                let r = json!({"name": m.name});
                self.machine = Some(m);
                r
            }),
            "load-image" => self.load_image(need(m)?, args),
            "x-exit-preconfig" => {
                let m = m.ok_or("no machine to start: create one with machine-create")?;
                if self.booted {
                    return Err("The command is permitted only before machine initialization".into());
                }
                self.boot_machine(m)?;
                if !self.setup.start_paused {
                    self.resume();
                }
                Ok(json!({}))
            }
            "cont" => {
                let m = need(m)?;
                if !self.booted {
                    self.boot_machine(m)?;
                }
                if self.status != Status::Running {
                    self.resume();
                }
                Ok(json!({}))
            }
            "stop" => {
                if self.status == Status::Running {
                    self.status = Status::Paused;
                    self.emit("STOP", None);
                }
                Ok(json!({}))
            }
            "system_reset" => {
                need(m)?.reset();
                self.emit(
                    "RESET",
                    Some(json!({"guest": false, "reason": "host-qmp-system-reset"})),
                );
                Ok(json!({}))
            }
            "system_powerdown" => {
                self.emit("POWERDOWN", None);
                Ok(json!({}))
            }
            "device_del" => {
                let m = need(m)?;
                let id = s("id").unwrap_or_default();
                let path = hotplug::device_del(m, id)?;
                self.emit("DEVICE_DELETED", Some(json!({"device": id, "path": path})));
                Ok(json!({}))
            }
            "quit" => {
                self.end = Some(EndReason::Quit);
                Ok(json!({}))
            }
            "qom-list" => {
                let t = qom::Tree::new(m.as_deref(), &self.objects);
                let o = lookup(t, s("path").unwrap_or_default())?;
                Ok(qom::list(t, o))
            }
            "qom-get" => {
                let t = qom::Tree::new(m.as_deref(), &self.objects);
                let path = s("path").unwrap_or_default();
                let prop = s("property").unwrap_or_default();
                let o = lookup(t, path)?;
                qom::get(t, o, prop).ok_or_else(|| {
                    QmpError::generic(format!(
                        "Property '{}.{prop}' not found",
                        qom::type_of(t, o)
                    ))
                })
            }
            "qom-list-types" => Ok(admin::list_types(
                &self.setup.registry,
                s("implements"),
                args.get("abstract").and_then(Value::as_bool).unwrap_or(false),
            )),
            "device-list-properties" => {
                admin::device_properties(&self.setup.registry, s("typename").unwrap_or_default())
            }
            "qom-set" => {
                let path = s("path").unwrap_or_default();
                let prop = s("property").unwrap_or_default();
                let o = lookup(qom::Tree::new(m.as_deref(), &self.objects), path)?;
                let value = args.get("value").cloned().unwrap_or(Value::Null);
                match (o, m) {
                    (qom::Obj::User(i), _) => admin::qom_set_object(&self.objects, i, prop),
                    (_, Some(m)) => admin::qom_set(m, o, prop, &value, &self.setup),
                    (_, None) => Err(QmpError::generic(format!(
                        "Property 'container.{prop}' not found"
                    ))),
                }
                .map(|()| json!({}))
            }
            "qom-list-properties" => {
                admin::type_properties(&self.setup.registry, s("typename").unwrap_or_default())
            }
            "object-add" => {
                admin::object_add(&mut self.objects, args, &self.setup).map(|()| json!({}))
            }
            "object-del" => self
                .objects
                .remove(s("id").unwrap_or_default())
                .map(|()| json!({}))
                .map_err(|e| QmpError::generic(e.to_string())),
            "device_add" => hotplug::device_add(need(m)?, args, &self.setup).map(|()| json!({})),
            "memsave" | "pmemsave" => {
                let m = need(m)?;
                let int = |k: &str| args.get(k).and_then(Value::as_u64).unwrap_or(0);
                let cpu = (name == "memsave").then(|| int("cpu-index") as usize);
                admin::memsave(
                    m,
                    int("val"),
                    int("size"),
                    s("filename").unwrap_or_default(),
                    cpu,
                )
                .map(|()| json!({}))
            }
            "query-qmp-schema" => Ok(admin::schema(&self.setup.registry)),
            "human-monitor-command" => self.hmp(m, args),
            // qmp_capabilities is answered by the connection.
            _ => Err(QmpError::not_found(format!(
                "The command {name} has not been found"
            ))),
        }
    }

    fn resume(&mut self) {
        self.status = Status::Running;
        self.emit("RESUME", None);
    }

    fn hmp(
        &mut self,
        m: Option<&mut Machine>,
        args: &Map<String, Value>,
    ) -> Result<Value, QmpError> {
        let line = args
            .get("command-line")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let cpu = args.get("cpu-index").and_then(Value::as_u64);
        if let Some(i) = cpu {
            let ok = m
                .as_deref()
                .is_some_and(|m| qom::cpu_by_index(m, i as usize).is_some());
            if !ok {
                return Err("Parameter 'cpu-index' expects a CPU number".into());
            }
        }
        let status = match self.status {
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Prelaunch => "paused (prelaunch)",
        };
        let mut m = m;
        let out = hmp::exec(
            line,
            hmp::Ctx {
                machine: m.as_deref_mut(),
                objects: &self.objects,
                cpu: cpu.unwrap_or(0) as usize,
                status,
                thread_id: thread_id(),
            },
        );
        let text = match out {
            hmp::Outcome::Text(t) => t,
            hmp::Outcome::Qmp(name) => match self.execute(m, name, &Map::new()) {
                Ok(_) => String::new(),
                Err(e) => format!("Error: {}\n", e.desc),
            },
        };
        Ok(Value::String(text.replace('\n', "\r\n")))
    }

    fn machine_create(&mut self, args: &Map<String, Value>) -> Result<Machine, QmpError> {
        let src = match (args.get("file"), args.get("inline")) {
            (Some(Value::String(f)), None) => boot::machine_source(f, &self.setup.machine_dirs)?,
            (None, Some(v)) => Source {
                file: "<machine-create inline>".into(),
                text: serde_yaml::to_string(v).map_err(|e| format!("inline: {e}"))?,
            },
            _ => return Err("give exactly one of 'file' and 'inline'".into()),
        };
        let mf = boot::parse(&src)?;
        let flags: Vec<(&str, Option<&str>)> = self
            .setup
            .flags
            .iter()
            .map(|(f, v)| (f.as_str(), Some(v.as_str())))
            .collect();
        let mut params = boot::flag_params(&mf, &flags)?;
        if let Some(Value::Object(p)) = args.get("params") {
            for (k, v) in p {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => {
                        return Err(QmpError::generic(format!(
                            "Invalid parameter type for 'params.{k}', expected: string, \
                             integer or boolean"
                        )))
                    }
                };
                params.push((k.clone(), text));
            }
        }
        let opts = BuildOptions {
            params,
            serials: self.setup.serials.clone(),
            engine: None,
        };
        let profile = args
            .get("profile")
            .and_then(Value::as_str)
            .or(self.setup.profile.as_deref());
        // Memory backends are lent to the build; what it does not take
        // (or everything, when it fails) comes back.
        let main = args.get("memory-backend").and_then(Value::as_str);
        let mut lent = self
            .objects
            .lend(main)
            .map_err(|e| QmpError::generic(format!("Parameter 'memory-backend': {e}")))?;
        let built = Machine::build_with(&src, &self.setup.registry, opts, profile, &mut lent);
        self.objects.settle(lent, built.is_ok());
        let m = built.map_err(|e| e.to_string())?;
        self.boot = PendingBoot::default();
        self.booted = false;
        Ok(m)
    }

    fn load_image(
        &mut self,
        m: &mut Machine,
        args: &Map<String, Value>,
    ) -> Result<Value, QmpError> {
        if self.booted {
            return Err("images can only be loaded before the machine starts".into());
        }
        let s = |k: &str| args.get(k).and_then(Value::as_str);
        if (args.contains_key("addr") || args.contains_key("entry")) && s("file").is_none() {
            return Err("'addr' and 'entry' go with 'file'".into());
        }
        if let Some(b) = s("bios").filter(|b| *b != "none") {
            boot::load_image(m, &PathBuf::from(b), true)?;
            self.boot.firmware = true;
            self.boot.loaded = true;
        }
        if let Some(k) = s("kernel") {
            boot::load_image(m, &PathBuf::from(k), !self.boot.firmware)?;
            self.boot.loaded = true;
        }
        if let Some(f) = s("file") {
            let addr = args.get("addr").and_then(Value::as_u64);
            let entry = args.get("entry").and_then(Value::as_bool).unwrap_or(false);
            boot::load_file(m, &PathBuf::from(f), addr, entry)?;
            self.boot.loaded = true;
        }
        if let Some(d) = s("dtb") {
            self.boot.dtb = Some(std::fs::read(d).map_err(|e| format!("{d}: {e}"))?);
        }
        if let Some(a) = s("append") {
            self.boot.append = Some(a.to_string());
        }
        let c = m.boot_cluster();
        Ok(json!({"start-address": m.clusters[c].boot.entry}))
    }

    /// What the command line does after loading: device tree, reset.
    fn boot_machine(&mut self, m: &mut Machine) -> Result<(), QmpError> {
        // The images a heterogeneous machine file names per cluster
        // (what load-image loaded replaces the boot cluster's).
        if self.boot.loaded {
            let c = m.boot_cluster();
            m.clusters[c].image = None;
        }
        if m.load_file_images()? > 0 {
            self.boot.loaded = true;
        }
        if !self.boot.loaded {
            return Err("nothing to run: load an image with load-image first".into());
        }
        m.place_fdt(self.boot.dtb.take(), self.boot.append.take())?;
        m.place_boot_info()?;
        m.reset();
        m.realize();
        self.booted = true;
        Ok(())
    }
}

fn need(m: Option<&mut Machine>) -> Result<&mut Machine, QmpError> {
    m.ok_or_else(|| QmpError::generic("no machine: create one with machine-create"))
}

fn lookup(t: qom::Tree<'_>, path: &str) -> Result<qom::Obj, QmpError> {
    qom::resolve(t, path).map_err(|e| match e {
        qom::LookupError::NotFound => QmpError::no_device(format!("Device '{path}' not found")),
        qom::LookupError::Ambiguous => QmpError::generic(format!("Path '{path}' is ambiguous")),
    })
}

/// `query-cpus-fast` entries.
fn cpus(m: &Machine) -> Vec<Value> {
    let tid = thread_id();
    let mut out = Vec::new();
    for (c, cl) in m.clusters.iter().enumerate() {
        for (k, st) in cl.cpus.iter().enumerate() {
            out.push(json!({
                "cpu-index": qom::cpu_index(m, c, k),
                "qom-path": qom::path_of(qom::Tree::of(m), qom::Obj::Cpu(c, k)),
                "thread-id": tid,
                "props": {"core-id": st.index, "cluster-id": c},
                "target": cl.model.target(),
            }));
        }
    }
    out
}

/// The host thread id of the calling thread (which runs the vCPUs).
pub fn thread_id() -> u64 {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name()?.to_str()?.parse().ok())
        .unwrap_or_else(|| u64::from(std::process::id()))
}
