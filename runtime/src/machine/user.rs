//! User-creatable objects (QMP `object-add`/`object-del`, QEMU's
//! `-object`): objects that are not devices, living under `/objects/ID`
//! whether or not a machine exists — a memory backend is created before
//! the machine whose RAM it becomes.
//!
//! Types are an immutable table ([`OBJECT_TYPES`]) with typed,
//! documented, ranged properties like device types; the objects of one
//! controller are held in a [`UserObjects`] store, never globally.

use super::object::Phase;
use super::Backends;
use crate::device::{PropDesc, PropType, PropValue};
use crate::memory::RamBlock;

/// A concrete user-creatable type.
pub struct ObjectType {
    /// Type name (`memory-backend-ram`).
    pub name: &'static str,
    /// Parent type.
    pub parent: &'static str,
    /// One line of description.
    pub description: &'static str,
    /// Properties (set by `object-add`, read-only afterwards).
    pub props: &'static [PropDesc],
}

impl std::fmt::Debug for ObjectType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ObjectType({})", self.name)
    }
}

/// Largest memory backend (1 TiB): far beyond any host this runs on, and
/// small enough that the allocation fails cleanly instead of overflowing.
const MAX_BACKEND: u64 = 1 << 40;

const RAM_PROPS: &[PropDesc] = &[PropDesc {
    name: "size",
    ty: PropType::U64,
    default: None,
    doc: "size of the memory in bytes (K/M/G suffixes as text)",
    min: 1,
    max: MAX_BACKEND,
}];

/// `memory-backend-ram`: anonymous zeroed guest RAM, which a machine
/// file's memory entry (`memdev: ID`) or `machine-create`'s
/// `memory-backend` turns into a machine's RAM block.
pub static MEMORY_BACKEND_RAM: ObjectType = ObjectType {
    name: "memory-backend-ram",
    parent: "memory-backend",
    description: "guest RAM for a machine's memory (memdev)",
    props: RAM_PROPS,
};

/// Every concrete user-creatable type.
pub static OBJECT_TYPES: &[&ObjectType] = &[&MEMORY_BACKEND_RAM];

/// The abstract types and interfaces above them: (name, parent,
/// interfaces it implements, is an interface).
pub const ABSTRACT_TYPES: &[(&str, Option<&str>, &[&str], bool)] = &[
    ("interface", None, &[], true),
    ("user-creatable", Some("interface"), &[], true),
    ("memory-backend", Some("object"), &["user-creatable"], false),
];

/// The concrete type called `name`.
pub fn object_type(name: &str) -> Option<&'static ObjectType> {
    OBJECT_TYPES.iter().copied().find(|t| t.name == name)
}

/// A user-created object.
pub struct UserObject {
    /// Id (`/objects/<id>`).
    pub id: String,
    /// Type.
    pub ty: &'static ObjectType,
    /// Property values, every declared property present.
    pub props: Vec<(String, PropValue)>,
    /// Life-cycle phase: `object-add` returns realized objects.
    pub phase: Phase,
    /// Path of the machine object using it (`/machine/ram`).
    pub used_by: Option<String>,
    /// A memory backend's RAM, until a machine takes it.
    block: Option<RamBlock>,
}

/// Why `object-add`/`object-del` refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ObjectError {
    /// The id is taken.
    #[error("attempt to add duplicate property '{0}' to object (type 'container')")]
    Duplicate(String),
    /// No such object.
    #[error("object '{0}' not found")]
    NotFound(String),
    /// Something uses it.
    #[error("object '{0}' is in use, can not be deleted")]
    InUse(String),
    /// Realizing it failed (the object was not added).
    #[error("cannot create '{id}': {msg}")]
    Realize {
        /// The object.
        id: String,
        /// What failed.
        msg: String,
    },
}

/// The user-created objects of one controller, in creation order.
#[derive(Default)]
pub struct UserObjects {
    list: Vec<UserObject>,
}

impl UserObjects {
    /// An empty store.
    pub const fn new() -> UserObjects {
        UserObjects { list: Vec::new() }
    }
    /// The objects.
    pub fn all(&self) -> &[UserObject] {
        &self.list
    }

    /// Index of object `id`.
    pub fn index(&self, id: &str) -> Option<usize> {
        self.list.iter().position(|o| o.id == id)
    }

    /// Create object `id` of type `ty` with checked, complete `props`
    /// (created → configured → wired → realized, in one step for the
    /// caller: a memory backend allocates its RAM when realized). A
    /// failure adds nothing.
    pub fn add(
        &mut self,
        ty: &'static ObjectType,
        id: &str,
        props: Vec<(String, PropValue)>,
    ) -> Result<(), ObjectError> {
        if self.index(id).is_some() {
            return Err(ObjectError::Duplicate(id.to_string()));
        }
        let mut o = UserObject {
            id: id.to_string(),
            ty,
            props,
            phase: Phase::Created,
            used_by: None,
            block: None,
        };
        // Configured: the caller checked the values. Wired: a backend has
        // nothing to wire. Realized: its memory exists.
        o.phase = Phase::Wired;
        if std::ptr::eq(ty, &MEMORY_BACKEND_RAM) {
            let size = match o.props.iter().find(|(k, _)| k == "size") {
                Some((_, PropValue::U64(n))) => *n,
                _ => 0,
            };
            let block = RamBlock::new(&format!("/objects/{id}"), size, false).map_err(|e| {
                ObjectError::Realize {
                    id: id.to_string(),
                    msg: format!("cannot set up guest memory: {e}"),
                }
            })?;
            o.block = Some(block);
        }
        o.phase = Phase::Realized;
        self.list.push(o);
        Ok(())
    }

    /// Remove object `id`, unless something uses it.
    pub fn remove(&mut self, id: &str) -> Result<(), ObjectError> {
        let i = self
            .index(id)
            .ok_or_else(|| ObjectError::NotFound(id.to_string()))?;
        if self.list[i].used_by.is_some() {
            return Err(ObjectError::InUse(id.to_string()));
        }
        self.list.remove(i);
        Ok(())
    }

    /// Lend every unused memory backend to a machine build; `main`: the
    /// backend for the machine's main RAM (`machine-create`'s
    /// `memory-backend`), which must exist.
    pub fn lend(&mut self, main: Option<&str>) -> Result<Backends, ObjectError> {
        if let Some(id) = main {
            let ok = self
                .list
                .iter()
                .any(|o| o.id == id && std::ptr::eq(o.ty, &MEMORY_BACKEND_RAM));
            if !ok {
                return Err(ObjectError::NotFound(id.to_string()));
            }
            if self.list.iter().any(|o| o.id == id && o.used_by.is_some()) {
                return Err(ObjectError::InUse(id.to_string()));
            }
        }
        let mut b = Backends {
            main: main.map(str::to_string),
            ..Backends::default()
        };
        for o in &mut self.list {
            if let Some(block) = o.block.take() {
                b.blocks.insert(o.id.clone(), block);
            }
        }
        Ok(b)
    }

    /// Take back what a build did not use. The backends it took are now
    /// the machine's RAM (`built`: `used_by` records where), or, when the
    /// build failed, are allocated again: they were never written, so a
    /// fresh zeroed block is the same memory.
    pub fn settle(&mut self, mut lent: Backends, built: bool) {
        for o in &mut self.list {
            if let Some(block) = lent.blocks.remove(&o.id) {
                o.block = Some(block);
            } else if let Some(path) = lent.taken.iter().find(|(id, _)| *id == o.id).map(|t| &t.1) {
                if built {
                    o.used_by = Some(path.clone());
                } else {
                    let size = match o.props.iter().find(|(k, _)| k == "size") {
                        Some((_, PropValue::U64(n))) => *n,
                        _ => 0,
                    };
                    o.block = RamBlock::new(&format!("/objects/{}", o.id), size, false).ok();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(n: u64) -> Vec<(String, PropValue)> {
        vec![("size".into(), PropValue::U64(n))]
    }

    #[test]
    fn objects_are_added_realized_and_removed() {
        let mut s = UserObjects::default();
        s.add(&MEMORY_BACKEND_RAM, "mem0", size(0x1000)).unwrap();
        assert_eq!(s.all()[0].phase, Phase::Realized);
        assert_eq!(
            s.add(&MEMORY_BACKEND_RAM, "mem0", size(0x1000)),
            Err(ObjectError::Duplicate("mem0".into()))
        );
        // A failed realize adds nothing.
        assert!(matches!(
            s.add(&MEMORY_BACKEND_RAM, "huge", size(u64::MAX)),
            Err(ObjectError::Realize { .. })
        ));
        assert_eq!(s.all().len(), 1);
        s.remove("mem0").unwrap();
        assert_eq!(s.remove("mem0"), Err(ObjectError::NotFound("mem0".into())));
    }

    #[test]
    fn lent_backends_come_back_or_stay_in_use() {
        let mut s = UserObjects::default();
        s.add(&MEMORY_BACKEND_RAM, "a", size(0x1000)).unwrap();
        s.add(&MEMORY_BACKEND_RAM, "b", size(0x2000)).unwrap();
        assert_eq!(
            s.lend(Some("c")).err(),
            Some(ObjectError::NotFound("c".into()))
        );
        // A failed build: everything is back, even what it took.
        let mut lent = s.lend(Some("a")).unwrap();
        let a = lent.blocks.remove("a").unwrap();
        lent.taken.push(("a".into(), "/machine/ram".into()));
        drop(a);
        s.settle(lent, false);
        assert!(s
            .all()
            .iter()
            .all(|o| o.block.is_some() && o.used_by.is_none()));
        // A build that took "a".
        let mut lent = s.lend(None).unwrap();
        lent.blocks.remove("a").unwrap();
        lent.taken.push(("a".into(), "/machine/ram".into()));
        s.settle(lent, true);
        assert_eq!(s.all()[0].used_by.as_deref(), Some("/machine/ram"));
        assert!(s.all()[1].block.is_some());
        assert_eq!(s.remove("a"), Err(ObjectError::InUse("a".into())));
        assert_eq!(
            s.lend(Some("a")).err(),
            Some(ObjectError::InUse("a".into()))
        );
    }
}
