//! `#[derive(Properties)]`: typed, documented, static property
//! declarations, and every device type's table.

use hemu_runtime::device::{CharBackend, DeviceConfig, PropType, PropValue, Properties};

/// A configuration with one property of each kind.
#[derive(Properties)]
#[allow(dead_code)]
struct Demo {
    /// number of
    /// things
    #[prop(default = 0x10)]
    num_things: u32,
    /// on or off
    #[prop(default = true)]
    enabled: bool,
    /// a label
    #[prop(name = "id")]
    label: String,
    #[prop(default = "serial0", doc = "where bytes go")]
    chardev: CharBackend,
}

#[test]
fn declarations_follow_the_fields() {
    let p = Demo::PROPS;
    let names: Vec<&str> = p.iter().map(|d| d.name).collect();
    assert_eq!(names, ["num-things", "enabled", "id", "chardev"]);
    let tys: Vec<PropType> = p.iter().map(|d| d.ty).collect();
    assert_eq!(
        tys,
        [
            PropType::U64,
            PropType::Bool,
            PropType::Str,
            PropType::Chardev
        ]
    );
    assert_eq!(
        p[0].default,
        Some("16"),
        "literals are written out in decimal"
    );
    assert_eq!(p[0].doc, "number of things");
    assert_eq!(p[1].default, Some("true"));
    assert_eq!(p[2].default, None, "no default: required");
    assert_eq!(p[3].doc, "where bytes go");
}

#[test]
fn values_are_read_into_the_struct() {
    let mut cfg = DeviceConfig::default();
    cfg.props.insert("num-things".into(), PropValue::U64(7));
    cfg.props.insert("enabled".into(), PropValue::Bool(false));
    cfg.props.insert("id".into(), PropValue::Str("x".into()));
    let (backend, out) = CharBackend::buffer();
    cfg.chardevs.insert("chardev".into(), backend);
    let d = Demo::from_config(&cfg);
    assert_eq!((d.num_things, d.enabled, d.label.as_str()), (7, false, "x"));
    d.chardev.write(b"hi");
    assert_eq!(out.lock().unwrap().as_slice(), b"hi");
}

#[test]
fn every_device_type_documents_unique_properties() {
    for t in hemu_hw::DEVICE_TYPES {
        let mut seen = Vec::new();
        for p in t.props {
            assert!(!p.doc.is_empty(), "{}.{} has no doc", t.name, p.name);
            assert!(!seen.contains(&p.name), "{}.{} twice", t.name, p.name);
            seen.push(p.name);
        }
    }
}
