//! CPU clusters: vCPUs of one ISA configuration sharing a translation
//! cache and an engine (the roadmap's AccelCpuCluster).

use crate::cpu::{BootInfo, CpuModel, CpuState};
use crate::engine::{Engine, TranslationCache};

/// A group of identical vCPUs.
pub struct Cluster {
    /// Id from the machine file.
    pub id: String,
    /// The configured CPU model.
    pub model: Box<dyn CpuModel>,
    /// Index of the address space the cluster sees.
    pub space: usize,
    /// The vCPUs.
    pub cpus: Vec<CpuState>,
    /// Translations shared by the vCPUs.
    pub cache: TranslationCache,
    /// The engine running them.
    pub engine: Box<dyn Engine>,
    /// Where the vCPUs start after reset.
    pub boot: BootInfo,
    /// Where a raw kernel image goes when firmware is loaded too.
    pub kernel_addr: u64,
    /// The image the machine file says the cluster boots (resolved path).
    pub image: Option<std::path::PathBuf>,
    /// Does the cluster start held in reset (machine file `start: held`)?
    pub start_held: bool,
    /// Is the cluster held in reset now? Its vCPUs do not run until a
    /// reset line releases it (they then start from [`Cluster::boot`]).
    pub held: bool,
}

impl Cluster {
    /// A cluster of `n` vCPUs.
    pub fn new(
        id: &str,
        model: Box<dyn CpuModel>,
        space: usize,
        n: u32,
        engine: Box<dyn Engine>,
        reset_pc: u64,
    ) -> Cluster {
        let cpus = (0..n).map(|i| model.new_state(i)).collect();
        Cluster {
            id: id.to_string(),
            model,
            space,
            cpus,
            cache: TranslationCache::new(),
            engine,
            boot: BootInfo {
                entry: reset_pc,
                fdt: 0,
                ..BootInfo::default()
            },
            kernel_addr: reset_pc.wrapping_add(2 << 20),
            image: None,
            start_held: false,
            held: false,
        }
    }

    /// The cluster's active-low reset line changed to `level`. Edges
    /// only: asserting it (low) holds a running cluster, releasing it
    /// starts a held one from its reset state.
    pub fn set_reset_line(&mut self, level: bool) {
        match (self.held, level) {
            (false, false) => self.held = true,
            (true, true) => {
                self.reset();
                self.held = false;
            }
            _ => {}
        }
    }

    /// Reset every vCPU to the boot state.
    pub fn reset(&mut self) {
        for (i, c) in self.cpus.iter_mut().enumerate() {
            *c = self.model.new_state(i as u32);
            self.model.reset(c, &self.boot);
        }
    }
}
