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
    /// harts
    #[prop(default = 1, min = 1, max = LIMIT)]
    harts: u64,
    /// a shift
    #[prop(default = 0, range = 0..4)]
    shift: u8,
}

const LIMIT: u64 = 32;

#[test]
fn declarations_follow_the_fields() {
    let p = Demo::PROPS;
    let names: Vec<&str> = p.iter().map(|d| d.name).collect();
    assert_eq!(
        names,
        ["num-things", "enabled", "id", "chardev", "harts", "shift"]
    );
    let tys: Vec<PropType> = p.iter().map(|d| d.ty).collect();
    assert_eq!(
        tys,
        [
            PropType::U64,
            PropType::Bool,
            PropType::Str,
            PropType::Chardev,
            PropType::U64,
            PropType::U64
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
fn ranges_are_declared_and_checked() {
    let p = Demo::PROPS;
    // A field narrower than u64 is bounded by its type.
    assert_eq!((p[0].min, p[0].max), (0, u32::MAX as u64));
    assert_eq!(p[0].range_text().as_deref(), Some("0..=4294967295"));
    // min/max from constants; a half-open range.
    assert_eq!((p[4].min, p[4].max), (1, 32));
    assert_eq!((p[5].min, p[5].max), (0, 3));
    // No range on non-integers.
    assert!(!p[1].has_range() && !p[3].has_range());
    assert_eq!(p[4].check(&PropValue::U64(32)), Ok(()));
    assert_eq!(p[4].check(&PropValue::U64(1)), Ok(()));
    assert_eq!(
        p[4].check(&PropValue::U64(33)),
        Err("harts 33 is out of range 1..=32".to_string())
    );
    assert_eq!(
        p[4].check(&PropValue::U64(0)),
        Err("harts 0 is out of range 1..=32".to_string())
    );
    assert_eq!(
        p[5].check(&PropValue::U64(4)),
        Err("shift 4 is out of range 0..=3".to_string())
    );
}

/// Real device properties declare their ranges.
#[test]
fn device_properties_have_ranges() {
    let prop = |ty: &str, name: &str| {
        let t = hemu_hw::DEVICE_TYPES.iter().find(|t| t.name == ty).unwrap();
        *t.props.iter().find(|p| p.name == name).unwrap()
    };
    assert_eq!(prop("plic", "ndev").range_text().unwrap(), "1..=1023");
    assert_eq!(prop("plic", "num-harts").range_text().unwrap(), "0..=7936");
    assert_eq!(
        prop("aclint", "num-harts").range_text().unwrap(),
        "1..=4095"
    );
    assert_eq!(prop("ns16550a", "reg-shift").range_text().unwrap(), "0..=3");
    assert_eq!(
        prop("ns16550a", "clock-frequency").range_text().unwrap(),
        "1..=4294967295"
    );
    assert!(prop("goldfish_rtc", "start-time").range_text().is_none());
}

#[test]
fn values_are_read_into_the_struct() {
    let mut cfg = DeviceConfig::default();
    cfg.props.insert("num-things".into(), PropValue::U64(7));
    cfg.props.insert("enabled".into(), PropValue::Bool(false));
    cfg.props.insert("id".into(), PropValue::Str("x".into()));
    cfg.props.insert("harts".into(), PropValue::U64(2));
    cfg.props.insert("shift".into(), PropValue::U64(3));
    let (backend, out) = CharBackend::buffer();
    cfg.chardevs.insert("chardev".into(), backend);
    let d = Demo::from_config(&cfg);
    assert_eq!((d.num_things, d.enabled, d.label.as_str()), (7, false, "x"));
    assert_eq!((d.harts, d.shift), (2, 3));
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
