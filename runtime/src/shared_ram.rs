//! RAM that vCPUs in several host threads access at once (the parallel
//! scheduler, [`crate::machine::parallel`]).
//!
//! The bytes live in `AtomicU64` words and every access is an atomic
//! operation, so concurrent guest loads and stores are race-free in Rust's
//! memory model (no `unsafe`, no host pointers handed to generated code).
//! An access that lies within one aligned 8-byte word — every aligned
//! access of 1, 2, 4 or 8 bytes — is single-copy atomic: a load sees all of
//! one store or none of it. All operations are sequentially consistent,
//! stronger than the memory model of any guest ISA, so guest fences need
//! nothing more. Bytes are numbered little-endian within a word on every
//! host (byte `i` of the block is bits `8 * (i % 8)..` of word `i / 8`).

//!
//! Translated code: every thread (partition) that translates code from a
//! code granule ([`crate::memory::CODE_GRANULE_BITS`]) of the block marks
//! it here first; a store into a granule another partition marked logs
//! it, and that partition drops what it built from the granule when it
//! next looks ([`SharedRam::take_remote_writes`], between its quanta).
//! Marking before reading the bytes, and checking the marks after storing,
//! both sequentially consistent, means a translation either sees the new
//! bytes or is logged for invalidation.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Ordering of every access (see the module documentation).
const ORD: Ordering = Ordering::SeqCst;

/// A block of RAM shared between threads.
#[derive(Debug)]
pub struct SharedRam {
    words: Box<[AtomicU64]>,
    len: usize,
    /// Per code granule: the partitions (bit `p % 64`) holding translations
    /// from it.
    code: Box<[AtomicU64]>,
    /// Per code granule: partitions with a logged, not yet taken, write.
    pending: Box<[AtomicU64]>,
    /// Writes into other partitions' code: (granule, partitions).
    log: Mutex<Vec<(u64, u64)>>,
    /// `log.len()`, read without the lock.
    log_len: AtomicUsize,
}

fn part_bit(part: usize) -> u64 {
    1 << (part % 64)
}

impl SharedRam {
    /// Shared RAM holding a copy of `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> SharedRam {
        let words = bytes
            .chunks(8)
            .map(|c| {
                let mut w = [0u8; 8];
                w[..c.len()].copy_from_slice(c);
                AtomicU64::new(u64::from_le_bytes(w))
            })
            .collect();
        let granules = (bytes.len() >> crate::memory::CODE_GRANULE_BITS) + 1;
        let zeros = || (0..granules).map(|_| AtomicU64::new(0)).collect();
        SharedRam {
            words,
            len: bytes.len(),
            code: zeros(),
            pending: zeros(),
            log: Mutex::new(Vec::new()),
            log_len: AtomicUsize::new(0),
        }
    }

    /// Partition `part` is about to translate code from granule `g`
    /// (before it reads the bytes).
    pub fn mark_code(&self, g: u64, part: usize) {
        if let Some(m) = self.code.get(g as usize) {
            m.fetch_or(part_bit(part), ORD);
        }
    }

    /// Partition `part` stored into granule `g` (after the store): log it
    /// for every other partition with code there.
    pub fn note_store(&self, g: u64, part: usize) {
        let (Some(code), Some(pending)) = (self.code.get(g as usize), self.pending.get(g as usize))
        else {
            return;
        };
        let others = code.load(ORD) & !part_bit(part);
        if others == 0 {
            return;
        }
        // One log entry per granule and partition until it is taken.
        let new = others & !pending.fetch_or(others, ORD);
        if new != 0 {
            let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
            log.push((g, new));
            self.log_len.store(log.len(), ORD);
        }
    }

    /// The granules of partition `part`'s code that other partitions
    /// stored into since its last look (`seen`: its place in the log).
    /// They are unmarked: the caller drops its translations from them.
    pub fn take_remote_writes(&self, part: usize, seen: &mut usize) -> Vec<u64> {
        if self.log_len.load(ORD) == *seen {
            return Vec::new();
        }
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let bit = part_bit(part);
        let mut out = Vec::new();
        for &(g, parts) in log.get(*seen..).unwrap_or_default() {
            if parts & bit != 0 {
                self.pending[g as usize].fetch_and(!bit, ORD);
                self.code[g as usize].fetch_and(!bit, ORD);
                out.push(g);
            }
        }
        *seen = log.len();
        out
    }

    /// The contents, copied out.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out: Vec<u8> = self
            .words
            .iter()
            .flat_map(|w| w.load(ORD).to_le_bytes())
            .collect();
        out.truncate(self.len);
        out
    }

    /// Size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Is the block empty?
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Pieces of `[off, off + n)` that each lie in one word: (word index,
    /// first byte in the word, length).
    fn pieces(off: usize, n: usize) -> impl Iterator<Item = (usize, usize, usize)> {
        let mut at = off;
        let end = off + n;
        std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let (w, b) = (at / 8, at % 8);
            let len = (8 - b).min(end - at);
            at += len;
            Some((w, b, len))
        })
    }

    /// Copy `out.len()` bytes at `off` into `out`. The caller checks the
    /// range (an access out of range reads nothing).
    pub fn read(&self, off: usize, out: &mut [u8]) {
        if off.checked_add(out.len()).is_none_or(|e| e > self.len) {
            return;
        }
        let mut done = 0;
        for (w, b, len) in SharedRam::pieces(off, out.len()) {
            let word = self.words[w].load(ORD).to_le_bytes();
            out[done..done + len].copy_from_slice(&word[b..b + len]);
            done += len;
        }
    }

    /// Store `data` at `off`, each word's part in one atomic step. The
    /// caller checks the range (an access out of range writes nothing).
    pub fn write(&self, off: usize, data: &[u8]) {
        if off.checked_add(data.len()).is_none_or(|e| e > self.len) {
            return;
        }
        let mut done = 0;
        for (w, b, len) in SharedRam::pieces(off, data.len()) {
            if len == 8 {
                let v = u64::from_le_bytes(data[done..done + 8].try_into().unwrap_or([0; 8]));
                self.words[w].store(v, ORD);
            } else {
                let mut bytes = [0u8; 8];
                bytes[b..b + len].copy_from_slice(&data[done..done + len]);
                let value = u64::from_le_bytes(bytes);
                let mask = (u64::MAX >> (64 - 8 * len as u32)) << (8 * b as u32);
                // A read-modify-write of the whole word: the other bytes
                // of the word may be stored concurrently by another thread.
                let _ = self.words[w].fetch_update(ORD, ORD, |old| Some(old & !mask | value));
            }
            done += len;
        }
    }
}

impl SharedRam {
    /// Atomically replace the `out_len`-byte little-endian value at `off`
    /// with `f(old)` (no store when `f` gives `None`); returns the old
    /// value. One indivisible step when the bytes lie in one word (every
    /// aligned access); otherwise a read and a write, as a guest's
    /// misaligned access is on real hardware. The caller checks the range
    /// (out of range: nothing happens, `None`).
    pub fn update(
        &self,
        off: usize,
        n: usize,
        mut f: impl FnMut(u64) -> Option<u64>,
    ) -> Option<u64> {
        if n == 0 || n > 8 || off.checked_add(n).is_none_or(|e| e > self.len) {
            return None;
        }
        let (w, b) = (off / 8, off % 8);
        if b + n > 8 {
            let mut bytes = [0u8; 8];
            self.read(off, &mut bytes[..n]);
            let old = u64::from_le_bytes(bytes);
            if let Some(new) = f(old) {
                self.write(off, &new.to_le_bytes()[..n]);
            }
            return Some(old);
        }
        let mask = u64::MAX >> (64 - 8 * n as u32);
        let shift = 8 * b as u32;
        let prev = match self.words[w].fetch_update(ORD, ORD, |word| {
            let new = f(word >> shift & mask)?;
            Some(word & !(mask << shift) | (new & mask) << shift)
        }) {
            Ok(p) | Err(p) => p,
        };
        Some(prev >> shift & mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_at_every_alignment() {
        let init: Vec<u8> = (0..37u8).collect();
        let r = SharedRam::from_bytes(&init);
        assert_eq!(r.len(), 37);
        assert_eq!(r.to_vec(), init);
        for off in 0..30 {
            for n in 1..=8 {
                let data: Vec<u8> = (0..n as u8).map(|i| 0xa0 ^ i ^ off as u8).collect();
                r.write(off, &data);
                let mut back = vec![0; n];
                r.read(off, &mut back);
                assert_eq!(back, data, "off {off} n {n}");
            }
        }
        // Out of range: nothing happens.
        let before = r.to_vec();
        r.write(35, &[1, 2, 3]);
        assert_eq!(r.to_vec(), before);
    }

    #[test]
    fn concurrent_byte_stores_to_one_word_are_not_lost() {
        // Eight threads each own one byte of the same word and count it
        // up: a non-atomic read-modify-write of the word would lose counts.
        let r = SharedRam::from_bytes(&[0; 8]);
        std::thread::scope(|s| {
            for t in 0..8 {
                let r = &r;
                s.spawn(move || {
                    for i in 1..=200u8 {
                        r.write(t, &[i]);
                    }
                });
            }
        });
        assert_eq!(r.to_vec(), vec![200; 8]);
    }

    #[test]
    fn concurrent_updates_are_not_lost() {
        // Four threads add to the same 4-byte counter, and to a 2-byte
        // one in the same word; a read-then-write would lose increments.
        let r = SharedRam::from_bytes(&[0; 16]);
        std::thread::scope(|s| {
            for _ in 0..4 {
                let r = &r;
                s.spawn(move || {
                    for _ in 0..5_000 {
                        r.update(8, 4, |v| Some(v + 1));
                        r.update(12, 2, |v| Some(v + 3));
                    }
                });
            }
        });
        let mut v = [0u8; 8];
        r.read(8, &mut v);
        assert_eq!(u32::from_le_bytes(v[..4].try_into().unwrap()), 20_000);
        assert_eq!(u16::from_le_bytes(v[4..6].try_into().unwrap()), 60_000);
        // No store when the update declines; the old value comes back.
        assert_eq!(r.update(8, 4, |_| None), Some(20_000));
        // Straddling two words: a read and a write, same result.
        assert_eq!(r.update(6, 4, |v| Some(v + 1)), Some(20_000 << 16));
        assert_eq!(r.update(6, 4, Some), Some((20_000 << 16) + 1));
        assert_eq!(r.update(12, 8, Some), None, "out of range");
    }

    #[test]
    fn aligned_words_are_single_copy_atomic() {
        // A writer alternates two 4-byte patterns; a reader never sees a
        // mix of them.
        let r = SharedRam::from_bytes(&[0; 16]);
        let (a, b) = ([0x11u8; 4], [0xeeu8; 4]);
        r.write(4, &a);
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..20_000 {
                    r.write(4, if i % 2 == 0 { &b } else { &a });
                }
            });
            s.spawn(|| {
                for _ in 0..20_000 {
                    let mut v = [0u8; 4];
                    r.read(4, &mut v);
                    assert!(v == a || v == b, "torn read {v:x?}");
                }
            });
        });
    }
}
