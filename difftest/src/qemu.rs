//! QEMU logs (to be written).
