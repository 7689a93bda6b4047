//! The translation cache of one cluster.

use crate::ir::{Block, Op};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// A fast hasher for the cache's integer keys (guest pcs are not chosen by
/// an adversary of the host, so SipHash's protection buys nothing here and
/// costs a sixth of the interpreter's time).
#[derive(Default)]
pub struct PcHasher(u64);

impl Hasher for PcHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(*b as u64);
        }
    }
    fn write_u64(&mut self, v: u64) {
        // FxHash's multiply-rotate step.
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<PcHasher>>;

/// Blocks kept before the whole cache is flushed.
pub const CACHE_LIMIT: usize = 1 << 16;

/// A translated block with what engines precompute for it.
#[derive(Debug)]
pub struct CachedBlock {
    /// The IR.
    pub block: Block,
    /// Position in `block.ops` of each label.
    pub label_pos: Vec<u32>,
    /// RAM granules the block's code came from.
    pub granules: Vec<(usize, u64)>,
}

impl CachedBlock {
    /// Wrap a block, resolving its labels.
    pub fn new(block: Block, granules: Vec<(usize, u64)>) -> CachedBlock {
        let mut label_pos = vec![u32::MAX; block.labels as usize];
        for (i, op) in block.ops.iter().enumerate() {
            if let Op::SetLabel(l) = op {
                label_pos[l.0 as usize] = i as u32;
            }
        }
        CachedBlock {
            block,
            label_pos,
            granules,
        }
    }
}

/// Blocks by guest pc, with a reverse map from RAM granules for
/// invalidation when guest code is overwritten.
#[derive(Debug, Default)]
pub struct TranslationCache {
    blocks: FastMap<(u64, u64), Arc<CachedBlock>>,
    by_granule: FastMap<(usize, u64), Vec<(u64, u64)>>,
    /// Blocks translated since creation (statistics).
    pub translated: u64,
    /// Translate one instruction per block (precise tracing, single-step).
    pub single_step: bool,
    /// Keep a log of dropped blocks in `evicted` (an engine that keeps
    /// its own code per block, the JIT, reads and clears it).
    pub track_evictions: bool,
    /// Blocks dropped by `invalidate` since the log was last cleared.
    pub evicted: Vec<(u64, u64)>,
    /// Times the whole cache was flushed.
    pub flushes: u64,
}

impl TranslationCache {
    /// An empty cache.
    pub fn new() -> TranslationCache {
        TranslationCache::default()
    }
    /// The block at `pc` translated in code context `ctx`, if any.
    pub fn get(&self, pc: u64, ctx: u64) -> Option<Arc<CachedBlock>> {
        self.blocks.get(&(pc, ctx)).cloned()
    }
    /// Add a block translated in code context `ctx`.
    pub fn insert(&mut self, b: CachedBlock, ctx: u64) -> Arc<CachedBlock> {
        if self.blocks.len() >= CACHE_LIMIT {
            self.flush();
        }
        let key = (b.block.pc, ctx);
        for g in &b.granules {
            self.by_granule.entry(*g).or_default().push(key);
        }
        let b = Arc::new(b);
        self.blocks.insert(key, b.clone());
        self.translated += 1;
        b
    }
    /// Drop every block built from RAM granule `g`.
    pub fn invalidate(&mut self, g: (usize, u64)) {
        if let Some(keys) = self.by_granule.remove(&g) {
            for k in keys {
                if self.blocks.remove(&k).is_some() && self.track_evictions {
                    self.evicted.push(k);
                }
            }
        }
    }
    /// Drop everything.
    pub fn flush(&mut self) {
        self.blocks.clear();
        self.by_granule.clear();
        self.evicted.clear();
        self.flushes += 1;
    }
    /// Number of cached blocks.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }
    /// Is the cache empty?
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }
}
