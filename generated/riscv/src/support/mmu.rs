//! Sv32, Sv39 and Sv48 address translation: the page walker the runtime's
//! software TLB calls on a miss, and the bookkeeping of when translation
//! applies (satp mode, privilege, MPRV).

use super::csr::*;
use hemu_runtime::cpu::{AccessKind, CpuState, Trap};
use hemu_runtime::ir::Endian;
use hemu_runtime::memory::Bus;
use hemu_runtime::tlb::{TlbFill, PERM_R, PERM_W, PERM_X};

const PTE_V: u64 = 1;
const PTE_R: u64 = 2;
const PTE_W: u64 = 4;
const PTE_X: u64 = 8;
const PTE_U: u64 = 16;
const PTE_A: u64 = 64;
const PTE_D: u64 = 128;

/// Page-fault exception codes.
const FETCH_PAGE_FAULT: u32 = 12;
const LOAD_PAGE_FAULT: u32 = 13;
const STORE_PAGE_FAULT: u32 = 15;
/// Access-fault codes (a page-table entry outside memory).
const FETCH_ACCESS: u32 = 1;
const LOAD_ACCESS: u32 = 5;
const STORE_ACCESS: u32 = 7;

/// The translation scheme of satp: (levels, PTE bytes, VPN bits per level).
fn scheme(s: &RvState) -> Option<(u32, u64, u32)> {
    if s.xlen == 32 {
        (s.satp >> 31 == 1).then_some((2, 4, 10))
    } else {
        match s.satp >> 60 {
            8 => Some((3, 8, 9)),
            9 => Some((4, 8, 9)),
            _ => None,
        }
    }
}

fn satp_ppn(s: &RvState) -> u64 {
    if s.xlen == 32 {
        s.satp & 0x3f_ffff
    } else {
        s.satp & ((1 << 44) - 1)
    }
}

/// Recompute when translation applies and the code context; called after
/// anything that changes privilege, satp or mstatus.
pub fn update_mode(st: &mut CpuState) {
    let s = rv(st);
    let paging = scheme(s).is_some();
    let fetch_translated = paging && s.prv < PRV_M;
    let data_prv = if s.prv == PRV_M && s.mstatus & MPRV != 0 {
        (s.mstatus & MPP) >> MPP_SHIFT
    } else {
        s.prv
    };
    let data_translated = paging && data_prv < PRV_M;
    let prv = s.prv;
    st.mmu_on = fetch_translated || data_translated;
    st.code_ctx = prv | (fetch_translated as u64) << 2;
    super::csr::sync_fp(st);
}

fn fault(kind: AccessKind, vaddr: u64) -> Trap {
    let code = match kind {
        AccessKind::Fetch => FETCH_PAGE_FAULT,
        AccessKind::Load => LOAD_PAGE_FAULT,
        AccessKind::Store => STORE_PAGE_FAULT,
    };
    Trap { code, tval: vaddr }
}

fn access_fault(kind: AccessKind, vaddr: u64) -> Trap {
    let code = match kind {
        AccessKind::Fetch => FETCH_ACCESS,
        AccessKind::Load => LOAD_ACCESS,
        AccessKind::Store => STORE_ACCESS,
    };
    Trap { code, tval: vaddr }
}

/// Translate `vaddr` for an access of `kind`.
pub fn walk(
    st: &mut CpuState,
    bus: &mut Bus<'_>,
    vaddr: u64,
    kind: AccessKind,
) -> Result<TlbFill, Trap> {
    let s = rv(st);
    let prv = match kind {
        AccessKind::Fetch => s.prv,
        _ if s.prv == PRV_M && s.mstatus & MPRV != 0 => (s.mstatus & MPP) >> MPP_SHIFT,
        _ => s.prv,
    };
    let Some((levels, pte_size, vpn_bits)) = scheme(s).filter(|_| prv < PRV_M) else {
        // This access is not translated (M-mode fetch while MPRV makes data
        // accesses translate): identity, with no permissions so the TLB
        // never serves it to a translated access.
        return Ok(TlbFill {
            paddr: vaddr,
            perms: 0,
        });
    };
    let va_bits = 12 + levels * vpn_bits;
    if s.xlen == 64 {
        // The address must be sign-extended from its top valid bit.
        let top = (vaddr as i64) >> (va_bits - 1);
        if top != 0 && top != -1 {
            return Err(fault(kind, vaddr));
        }
    } else if vaddr >> 32 != 0 {
        return Err(fault(kind, vaddr));
    }
    let (sum, mxr) = (s.mstatus & SUM != 0, s.mstatus & MXR != 0);
    let endian = Endian::Little;
    let mut table = satp_ppn(s) << 12;
    let mut level = levels - 1;
    loop {
        let vpn = (vaddr >> (12 + level * vpn_bits)) & ((1 << vpn_bits) - 1);
        let pte_addr = table + vpn * pte_size;
        let pte = bus
            .read(pte_addr, pte_size as u8, endian)
            .map_err(|_| access_fault(kind, vaddr))?;
        if pte & PTE_V == 0 || (pte & PTE_R == 0 && pte & PTE_W != 0) {
            return Err(fault(kind, vaddr));
        }
        let ppn = if s.xlen == 32 {
            pte >> 10
        } else {
            (pte >> 10) & ((1 << 44) - 1)
        };
        if pte & (PTE_R | PTE_X) == 0 {
            // A pointer to the next level.
            if level == 0 || pte & (PTE_D | PTE_A | PTE_U) != 0 {
                return Err(fault(kind, vaddr));
            }
            level -= 1;
            table = ppn << 12;
            continue;
        }
        // A leaf: superpages must be aligned.
        if level > 0 && ppn & ((1 << (level * vpn_bits)) - 1) != 0 {
            return Err(fault(kind, vaddr));
        }
        let user = pte & PTE_U != 0;
        let prv_ok = match prv {
            PRV_U => user,
            _ => !user || (sum && kind != AccessKind::Fetch),
        };
        let readable = pte & PTE_R != 0 || (mxr && pte & PTE_X != 0);
        let allowed = prv_ok
            && match kind {
                AccessKind::Load => readable,
                AccessKind::Store => pte & PTE_W != 0,
                AccessKind::Fetch => pte & PTE_X != 0,
            };
        if !allowed {
            return Err(fault(kind, vaddr));
        }
        // Hardware A/D updating, as QEMU does.
        let mut new = pte | PTE_A;
        if kind == AccessKind::Store {
            new |= PTE_D;
        }
        if new != pte {
            bus.write(pte_addr, pte_size as u8, new, endian)
                .map_err(|_| access_fault(kind, vaddr))?;
        }
        let page_mask = (1u64 << (12 + level * vpn_bits)) - 1;
        let paddr = ((ppn << 12) & !page_mask) | (vaddr & page_mask);
        // Permissions the TLB may grant without another walk: writes only
        // once the page is dirty; execute only in the fetch regime (not for
        // MPRV data translations), and never for S on user pages.
        let mut perms = 0;
        if prv_ok && readable {
            perms |= PERM_R;
        }
        if prv_ok && pte & PTE_W != 0 && new & PTE_D != 0 {
            perms |= PERM_W;
        }
        let fetch_ok = (if prv == PRV_U { user } else { !user }) && pte & PTE_X != 0;
        if prv == s.prv && fetch_ok {
            perms |= PERM_X;
        }
        return Ok(TlbFill { paddr, perms });
    }
}
