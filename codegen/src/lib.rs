//! hemu's code generator: reads ISA specs (`specs/<isa>/*.yaml`), validates
//! them with located errors, and emits frontend crates (`generated/<isa>`):
//! decoder, lifter, disassembler and CPU model. A plain library with typed
//! models, in the spirit of Cranelift's meta crate; `cargo xtask gen` drives it.

pub mod asm;
pub mod decode;
pub mod emit;
pub mod error;
pub mod lower;
pub mod model;
pub mod sem;
pub mod xtask;

pub use error::SpecError;
pub use model::Isa;
