//! Random instruction streams (to be written).
