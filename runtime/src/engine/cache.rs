//! The translation cache of one cluster.

use crate::ir::{Block, Op};
use std::collections::HashMap;
use std::sync::Arc;

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
    blocks: HashMap<(u64, u64), Arc<CachedBlock>>,
    by_granule: HashMap<(usize, u64), Vec<(u64, u64)>>,
    /// Blocks translated since creation (statistics).
    pub translated: u64,
    /// Translate one instruction per block (precise tracing, single-step).
    pub single_step: bool,
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
                self.blocks.remove(&k);
            }
        }
    }
    /// Drop everything.
    pub fn flush(&mut self) {
        self.blocks.clear();
        self.by_granule.clear();
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
