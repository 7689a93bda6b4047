//! QMP's wire format: a stream of JSON objects, framed by the JSON itself
//! (clients need not end a message with a newline — `qemu.qmp` does not),
//! and the shape of commands, replies, errors and events.
//!
//! Everything here is pure: bytes in, values out. A malformed message is
//! an error value to answer, never a panic.

use serde_json::{json, Map, Value};
use std::time::{SystemTime, UNIX_EPOCH};

/// Largest message accepted, in bytes; a larger one is answered with an
/// error and skipped (the connection stays usable).
pub const MAX_MESSAGE: usize = 1 << 20;

/// Deepest nesting of `{`/`[` accepted in a message.
pub const MAX_DEPTH: usize = 1024;

/// The QEMU version hemu reports (the protocol it speaks is QEMU 7.2's).
pub const QEMU_VERSION: (u32, u32, u32) = (7, 2, 0);

/// A QMP error class (QEMU's `QapiErrorClass`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// Anything without a more precise class.
    GenericError,
    /// No such command, or not now (capabilities negotiation).
    CommandNotFound,
    /// No object at a QOM path / no device with an id.
    DeviceNotFound,
}

impl ErrorClass {
    /// The class as QMP spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::GenericError => "GenericError",
            ErrorClass::CommandNotFound => "CommandNotFound",
            ErrorClass::DeviceNotFound => "DeviceNotFound",
        }
    }
}

/// An error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QmpError {
    /// Class.
    pub class: ErrorClass,
    /// Human-readable description.
    pub desc: String,
}

impl QmpError {
    /// A `GenericError`.
    pub fn generic(desc: impl Into<String>) -> QmpError {
        QmpError {
            class: ErrorClass::GenericError,
            desc: desc.into(),
        }
    }
    /// A `CommandNotFound`.
    pub fn not_found(desc: impl Into<String>) -> QmpError {
        QmpError {
            class: ErrorClass::CommandNotFound,
            desc: desc.into(),
        }
    }
    /// A `DeviceNotFound`.
    pub fn no_device(desc: impl Into<String>) -> QmpError {
        QmpError {
            class: ErrorClass::DeviceNotFound,
            desc: desc.into(),
        }
    }
}

impl From<String> for QmpError {
    fn from(s: String) -> QmpError {
        QmpError::generic(s)
    }
}

impl From<&str> for QmpError {
    fn from(s: &str) -> QmpError {
        QmpError::generic(s)
    }
}

/// A command as a client sent it, after validation of its envelope.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// Command name.
    pub name: String,
    /// Arguments (empty when absent).
    pub args: Map<String, Value>,
    /// The `id` to echo, if any.
    pub id: Option<Value>,
    /// Sent as `exec-oob`.
    pub oob: bool,
}

/// A message that could not become a [`Request`]: the error to send, with
/// the `id` when the message had one.
#[derive(Clone, Debug, PartialEq)]
pub struct BadRequest {
    /// What is wrong.
    pub error: QmpError,
    /// The message's `id`, if it could be read.
    pub id: Option<Value>,
}

/// Splits a byte stream into JSON messages as QEMU's JSON streamer does:
/// a message ends where its outermost object (or array, or scalar) ends.
/// Byte 0xFF resets the splitter, dropping any partial message (QEMU's
/// way for a client to resynchronize).
#[derive(Debug, Default)]
pub struct Splitter {
    buf: Vec<u8>,
    started: bool,
    /// Nesting depth of `{`/`[` (0 inside a top-level scalar).
    depth: usize,
    in_str: bool,
    esc: bool,
    /// The current message outgrew [`MAX_MESSAGE`] or [`MAX_DEPTH`]:
    /// scan to its end without keeping it.
    overflow: Option<&'static str>,
}

/// One framed message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// The bytes of one message.
    Message(Vec<u8>),
    /// A message was dropped: it exceeded a limit (which one).
    TooLarge(&'static str),
}

impl Splitter {
    /// Feed bytes; completed messages are appended to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Frame>) {
        for &b in bytes {
            self.byte(b, out);
        }
    }

    fn push(&mut self, b: u8) {
        if self.overflow.is_none() {
            if self.buf.len() >= MAX_MESSAGE {
                self.overflow = Some("message size");
                self.buf = Vec::new();
            } else {
                self.buf.push(b);
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<Frame>) {
        let frame = match self.overflow.take() {
            Some(what) => Frame::TooLarge(what),
            None => Frame::Message(std::mem::take(&mut self.buf)),
        };
        out.push(frame);
        self.reset();
    }

    fn reset(&mut self) {
        self.buf.clear();
        self.started = false;
        self.depth = 0;
        self.in_str = false;
        self.esc = false;
        self.overflow = None;
    }

    fn byte(&mut self, b: u8, out: &mut Vec<Frame>) {
        if b == 0xff {
            self.reset();
            return;
        }
        if !self.started {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => {}
                b'{' | b'[' => {
                    self.started = true;
                    self.depth = 1;
                    self.push(b);
                }
                b'"' => {
                    self.started = true;
                    self.in_str = true;
                    self.push(b);
                }
                b'}' | b']' => {
                    self.push(b);
                    self.finish(out);
                }
                _ => {
                    self.started = true;
                    self.push(b);
                }
            }
            return;
        }
        if self.in_str {
            self.push(b);
            if self.esc {
                self.esc = false;
            } else if b == b'\\' {
                self.esc = true;
            } else if b == b'"' {
                self.in_str = false;
                if self.depth == 0 {
                    self.finish(out);
                }
            }
            return;
        }
        if self.depth == 0 {
            // Inside a top-level scalar (`42`, `true`, garbage): it ends at
            // whitespace or a structural character, which starts anew.
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => self.finish(out),
                b'{' | b'[' | b'}' | b']' | b'"' => {
                    self.finish(out);
                    self.byte(b, out);
                }
                _ => self.push(b),
            }
            return;
        }
        self.push(b);
        match b {
            b'"' => self.in_str = true,
            b'{' | b'[' => {
                self.depth += 1;
                if self.depth > MAX_DEPTH && self.overflow.is_none() {
                    self.overflow = Some("nesting depth");
                    self.buf = Vec::new();
                }
            }
            b'}' | b']' => {
                self.depth -= 1;
                if self.depth == 0 {
                    self.finish(out);
                }
            }
            _ => {}
        }
    }
}

/// Turn one framed message into a request, checking its envelope as QEMU
/// does (`qmp_dispatch`'s messages).
pub fn parse_request(bytes: &[u8]) -> Result<Request, BadRequest> {
    let bad = |desc: String, id: Option<Value>| BadRequest {
        error: QmpError::generic(desc),
        id,
    };
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("JSON parse error, {e}"), None))?;
    let Value::Object(mut obj) = v else {
        return Err(bad("QMP input must be a JSON object".into(), None));
    };
    let id = obj.remove("id");
    for k in obj.keys() {
        if !matches!(k.as_str(), "execute" | "exec-oob" | "arguments" | "control") {
            return Err(bad(format!("QMP input member '{k}' is unexpected"), id));
        }
    }
    let (key, oob) = match (obj.contains_key("execute"), obj.contains_key("exec-oob")) {
        (true, false) => ("execute", false),
        (false, true) => ("exec-oob", true),
        (true, true) => {
            return Err(bad(
                "QMP input must not contain both 'execute' and 'exec-oob'".into(),
                id,
            ))
        }
        (false, false) => return Err(bad("QMP input lacks member 'execute'".into(), id)),
    };
    let Some(Value::String(name)) = obj.remove(key) else {
        return Err(bad(
            format!("QMP input member '{key}' must be a string"),
            id,
        ));
    };
    let args = match obj.remove("arguments") {
        None => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(bad(
                "QMP input member 'arguments' must be an object".into(),
                id,
            ))
        }
    };
    Ok(Request {
        name,
        args,
        id,
        oob,
    })
}

/// The greeting sent when a client connects.
pub fn greeting() -> Value {
    let (major, minor, micro) = QEMU_VERSION;
    json!({"QMP": {
        "version": {"qemu": {"micro": micro, "minor": minor, "major": major}, "package": "hemu"},
        "capabilities": ["oob"],
    }})
}

/// A successful reply.
pub fn reply_ok(ret: Value, id: Option<&Value>) -> Value {
    let mut m = Map::new();
    m.insert("return".into(), ret);
    if let Some(id) = id {
        m.insert("id".into(), id.clone());
    }
    Value::Object(m)
}

/// An error reply.
pub fn reply_err(e: &QmpError, id: Option<&Value>) -> Value {
    let mut m = Map::new();
    m.insert(
        "error".into(),
        json!({"class": e.class.as_str(), "desc": e.desc}),
    );
    if let Some(id) = id {
        m.insert("id".into(), id.clone());
    }
    Value::Object(m)
}

/// An event, stamped with the host's wall-clock time as QEMU does.
pub fn event(name: &str, data: Option<Value>) -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut m = Map::new();
    m.insert("event".into(), Value::String(name.into()));
    if let Some(d) = data {
        m.insert("data".into(), d);
    }
    m.insert(
        "timestamp".into(),
        json!({"seconds": now.as_secs(), "microseconds": now.subsec_micros()}),
    );
    Value::Object(m)
}

/// Serialize a message for the wire: compact JSON and CRLF, as QEMU sends.
pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec());
    out.extend_from_slice(b"\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<Frame> {
        let mut s = Splitter::default();
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c, &mut out);
        }
        out
    }

    fn msg(s: &str) -> Frame {
        Frame::Message(s.as_bytes().to_vec())
    }

    #[test]
    fn frames_without_newlines_and_across_reads() {
        let got = split(&[
            b"{\"execute\":\"a\"}{\"exe",
            b"cute\":\"b}\\\"{\"}\n [1,[2]] 42 ",
        ]);
        assert_eq!(
            got,
            vec![
                msg("{\"execute\":\"a\"}"),
                msg("{\"execute\":\"b}\\\"{\"}"),
                msg("[1,[2]]"),
                msg("42"),
            ]
        );
    }

    #[test]
    fn stray_closers_scalars_and_resync() {
        assert_eq!(split(&[b"}"]), vec![msg("}")]);
        assert_eq!(split(&[b"abc{}"]), vec![msg("abc"), msg("{}")]);
        assert_eq!(split(&[b"{\"a\": [\xff{}"]), vec![msg("{}")]);
        assert_eq!(split(&[b"\"x\"\"y\""]), vec![msg("\"x\""), msg("\"y\"")]);
    }

    #[test]
    fn oversized_and_deep_messages_are_dropped_then_framing_resumes() {
        let mut big = b"{\"x\": \"".to_vec();
        big.extend(vec![b'a'; MAX_MESSAGE + 10]);
        big.extend_from_slice(b"\"}{}");
        assert_eq!(
            split(&[&big]),
            vec![Frame::TooLarge("message size"), msg("{}")]
        );
        let mut deep = vec![b'['; MAX_DEPTH + 5];
        deep.extend(vec![b']'; MAX_DEPTH + 5]);
        deep.extend_from_slice(b"{}");
        assert_eq!(
            split(&[&deep]),
            vec![Frame::TooLarge("nesting depth"), msg("{}")]
        );
    }

    #[test]
    fn envelopes_are_checked() {
        let e = |s: &str| parse_request(s.as_bytes()).unwrap_err().error.desc;
        assert!(e("{").starts_with("JSON parse error"));
        assert_eq!(e("[1]"), "QMP input must be a JSON object");
        assert_eq!(e("{}"), "QMP input lacks member 'execute'");
        assert_eq!(
            e("{\"execute\": 1}"),
            "QMP input member 'execute' must be a string"
        );
        assert_eq!(
            e("{\"execute\": \"x\", \"arguments\": []}"),
            "QMP input member 'arguments' must be an object"
        );
        assert_eq!(
            e("{\"execute\": \"x\", \"foo\": 1}"),
            "QMP input member 'foo' is unexpected"
        );
        let bad = parse_request(b"{\"id\": 7, \"arguments\": 1}").unwrap_err();
        assert_eq!(bad.id, Some(json!(7)));
        let r = parse_request(b"{\"execute\": \"q\", \"arguments\": {\"a\": 1}, \"id\": \"x\"}")
            .unwrap();
        assert_eq!(r.name, "q");
        assert_eq!(r.args["a"], json!(1));
        assert_eq!(r.id, Some(json!("x")));
        assert!(!r.oob);
    }

    #[test]
    fn replies_and_events_have_qemus_shape() {
        let g = greeting();
        assert_eq!(g["QMP"]["version"]["qemu"]["major"], json!(7));
        assert_eq!(g["QMP"]["capabilities"], json!(["oob"]));
        let e = reply_err(&QmpError::not_found("nope"), Some(&json!(3)));
        assert_eq!(
            e,
            json!({"error": {"class": "CommandNotFound", "desc": "nope"}, "id": 3})
        );
        let ev = event("STOP", None);
        assert!(ev["timestamp"]["seconds"].as_u64().unwrap() > 1_600_000_000);
        assert!(encode(&json!({})).ends_with(b"\r\n"));
    }
}
