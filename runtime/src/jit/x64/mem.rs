//! The x86-64 backend's guest memory accesses: the host TLB check, loads
//! and stores (straight to the address window where the fault handler
//! is installed), and the indirect exit's jump cache lookup.

use super::*;

impl Gen<'_> {
    /// Host TLB lookup of the guest address in `ga` for an access of
    /// `size` bytes; jumps to `miss` unless the entry's tag at `tag_off`
    /// matches. On a hit the host address is `ga + ` the returned
    /// register: rbp (the window base, pinned) for a window, else rcx
    /// loaded with the entry's addend. Clobbers rax, rcx.
    pub(super) fn tlb(&mut self, ga: u8, size: u8, tag_off: i32, miss: DynamicLabel) -> Option<u8> {
        let shift = (HOST_PAGE_BITS - 5) as i8;
        let index_mask = ((HOST_ENTRIES as i32) - 1) << 5;
        let tag_mask = (!((1u64 << HOST_PAGE_BITS) - 1) | (size as u64 - 1)) as i64 as i32;
        if self.bmi2 {
            // The entry index without a copy of the address.
            dynasm!(self.a ; .arch x64 ; rorx rcx, Rq(ga), shift);
        } else {
            dynasm!(self.a ; .arch x64 ; mov rcx, Rq(ga) ; shr rcx, shift);
        }
        let tag = CPU_TLB + tag_off;
        dynasm!(self.a ; .arch x64
            ; and ecx, index_mask
            ; mov rax, Rq(ga)
            ; and rax, tag_mask
            ; cmp rax, QWORD [rcx + r13 + tag]
            ; jne =>miss
        );
        match self.req.addressing {
            // The access waits for nothing but the address.
            Addressing::Window => Some(RBP),
            Addressing::Identity => None,
            Addressing::Tlb => {
                let addend = CPU_TLB + TLB_ADDEND;
                dynasm!(self.a ; .arch x64 ; mov rcx, QWORD [rcx + r13 + addend]);
                Some(RCX)
            }
        }
    }

    /// The register holding the access's address, or the base it is at a
    /// folded displacement from (`fold::disp_folds`; direct accesses
    /// only, which check the base alone), and that displacement.
    fn access_base(&mut self, at: usize, addr: Temp, mop: MemOp) -> (Temp, u8, i32) {
        match self.disps.get(&at) {
            Some(&(base, d, _, _)) if self.req.direct_access && !mop.aligned => {
                (base, self.reg_of(base, RDX), d)
            }
            _ => (addr, self.reg_of(addr, RDX), 0),
        }
    }

    /// The access at op `at` up to the access itself (`check`, with
    /// `tag`, jumping to `slow`): the register holding its address or
    /// base, the displacement, whether it goes straight to the window, and
    /// the register to add (see `check`). A direct access leaves its base
    /// known inside the window, unless the access redefines it (a load
    /// into `defines`).
    fn access(
        &mut self,
        at: usize,
        addr: Temp,
        mop: MemOp,
        tag: i32,
        slow: DynamicLabel,
        defines: Option<Temp>,
    ) -> (u8, i32, bool, Option<u8>) {
        let (base, ga, disp) = self.access_base(at, addr, mop);
        let known = self.near_window(base, disp, mop);
        let (direct, x) = self.check(ga, mop, tag, slow, known);
        if direct && defines != Some(base) {
            self.inside[base.0 as usize] = 0;
        }
        (ga, disp, direct, x)
    }

    /// May a direct access of `mop` at `base + disp` skip the window check?
    /// When `base` was checked inside the window earlier in straight-line
    /// code (give or take what `note_inside` allows), the access either
    /// is inside, or in the guard past the end, or (a window at 0 only)
    /// wrapped below 0 into the kernel's half: the last two fault to the
    /// slow path. An unchecked access that failed the check never went
    /// on (nothing past the window's end exists: `Memory::window_size`).
    fn near_window(&self, base: Temp, disp: i32, mop: MemOp) -> bool {
        let past = self.inside[base.0 as usize];
        past != u32::MAX
            && i64::from(past) + i64::from(disp.max(0)) + i64::from(mop.size)
                <= crate::window::GUARD as i64
    }

    /// Before `op`: what its result is known of (see `inside`). A value
    /// a small constant away from a checked one is near the window too,
    /// as a copy is; any other definition is not known.
    pub(super) fn note_inside(&mut self, op: &Op) {
        let Some(d) = crate::jit::regalloc::def(op) else {
            return;
        };
        let below_zero = self.req.addressing == Addressing::Identity;
        let near = match *op {
            Op::Mov { src, .. } => self.inside[src.0 as usize],
            Op::Bin {
                op: BinOp::Add,
                ty: Ty::I64,
                a,
                b,
                ..
            } => [(a, b), (b, a)]
                .into_iter()
                .find_map(|(x, k)| match self.loc(k) {
                    Loc::Imm(c) if self.inside[x.0 as usize] != u32::MAX => {
                        let c = c as i64;
                        let ok = (if below_zero { DISP_BELOW_ZERO } else { 0 }..=4096).contains(&c);
                        let past = i64::from(self.inside[x.0 as usize]) + c.max(0);
                        (ok && past <= 1 << 14).then_some(past as u32)
                    }
                    _ => None,
                })
                .unwrap_or(u32::MAX),
            _ => u32::MAX,
        };
        self.inside[d.0 as usize] = near;
    }

    /// Allocatable registers for a block: a window not at 0 pins rbp.
    pub(super) fn allocatable(addressing: Addressing) -> &'static [u8] {
        match addressing {
            Addressing::Window => &ALLOCATABLE_WINDOW,
            Addressing::Tlb | Addressing::Identity => &ALLOCATABLE,
        }
    }

    /// The check before an access of `mop` at `ga` (jumping to `slow`
    /// when it fails): whether the access goes straight to the window,
    /// and the register to add to `ga` for the host address (see `tlb`).
    /// Straight to the window when the ISA allows any alignment (no
    /// alignment trap to check for): only the window's end is checked;
    /// an unmapped page, or a store to a page holding translated code
    /// (read-only there), faults on the host, and the fault handler
    /// resumes at the slow path, which does the access the full way.
    /// `known`: the address is near enough the window (`near_window`) for
    /// a direct access without the check.
    fn check(
        &mut self,
        ga: u8,
        mop: MemOp,
        tag: i32,
        slow: DynamicLabel,
        known: bool,
    ) -> (bool, Option<u8>) {
        if !self.req.direct_access || mop.aligned {
            return (false, self.tlb(ga, mop.size, tag, slow));
        }
        if !known {
            dynasm!(self.a ; .arch x64
                ; cmp Rq(ga), QWORD [r15 + ENV_WINDOW_SIZE]
                ; jae =>slow
            );
        }
        (
            true,
            (self.req.addressing == Addressing::Window).then_some(RBP),
        )
    }

    pub(super) fn load(&mut self, at: usize, ty: Ty, dst: Temp, addr: Temp, mop: MemOp, site: u32) {
        let slow = self.a.new_dynamic_label();
        let resume = self.a.new_dynamic_label();
        let (ga, disp, direct, x) = self.access(at, addr, mop, TLB_READ, slow, Some(dst));
        let folded = self
            .folds
            .get(&at)
            .and_then(|&(b, i, k)| match (self.loc(b), self.loc(i)) {
                (Loc::Reg(b), Loc::Reg(i)) if direct => Some(At::Scaled(b, i, k)),
                _ => None,
            });
        let at_ = match (folded, x, disp) {
            (Some(f), _, _) => f,
            (None, Some(x), 0) => At::Sum(ga, x),
            (None, Some(x), d) => At::SumDisp(ga, x, d),
            (None, None, 0) => At::Reg(ga),
            (None, None, d) => At::Disp(ga, d),
        };
        let fault = direct.then(|| self.a.offset().0);
        let w = self.work(dst, None);
        let big = mop.endian == Endian::Big;
        match (mop.size, mop.signed && !big) {
            // Little-endian signed loads extend as they load.
            (1, true) => load_at!(self, at_, movsx Rq(w), BYTE),
            (2, true) => load_at!(self, at_, movsx Rq(w), WORD),
            (4, true) => load_at!(self, at_, movsxd Rq(w), DWORD),
            (1, _) => load_at!(self, at_, movzx Rd(w), BYTE),
            (2, _) => {
                load_at!(self, at_, movzx Rd(w), WORD);
                if big {
                    dynasm!(self.a ; .arch x64 ; rol Rw(w), 8);
                }
            }
            (4, _) => {
                load_at!(self, at_, mov Rd(w), DWORD);
                if big {
                    dynasm!(self.a ; .arch x64 ; bswap Rd(w));
                }
            }
            _ => {
                load_at!(self, at_, mov Rq(w), QWORD);
                if big {
                    dynasm!(self.a ; .arch x64 ; bswap Rq(w));
                }
            }
        }
        if mop.signed && big {
            match mop.size {
                1 => dynasm!(self.a ; .arch x64 ; movsx Rq(w), Rb(w)),
                2 => dynasm!(self.a ; .arch x64 ; movsx Rq(w), Rw(w)),
                4 => dynasm!(self.a ; .arch x64 ; movsxd Rq(w), Rd(w)),
                _ => {}
            }
        }
        if ty == Ty::I32 {
            dynasm!(self.a ; .arch x64 ; mov Rd(w), Rd(w));
        }
        dynasm!(self.a ; .arch x64 ; =>resume);
        self.put(dst, w);
        let saves: Vec<u8> = self
            .alloc
            .live_across(at, &CALLER_SAVED)
            .into_iter()
            .filter(|&r| r != w)
            .collect();
        self.defer(Deferred::Load {
            label: slow,
            resume,
            site,
            saves,
            ga,
            disp,
            w,
            fault,
        });
    }

    pub(super) fn store(
        &mut self,
        at: usize,
        src: Temp,
        addr: Temp,
        mop: MemOp,
        site: u32,
        hit: Option<DynamicLabel>,
    ) {
        let slow = self.a.new_dynamic_label();
        let resume = self.a.new_dynamic_label();
        let (ga, disp, direct, x) = self.access(at, addr, mop, TLB_WRITE, slow, None);
        let v = if mop.endian == Endian::Big && mop.size > 1 {
            self.get(RAX, src);
            match mop.size {
                2 => dynasm!(self.a ; .arch x64 ; rol ax, 8),
                4 => dynasm!(self.a ; .arch x64 ; bswap eax),
                _ => dynasm!(self.a ; .arch x64 ; bswap rax),
            }
            RAX
        } else {
            self.reg_of(src, RAX)
        };
        let fault = direct.then(|| self.a.offset().0);
        match mop.size {
            1 => store_at!(self, x, ga, disp, BYTE, Rb(v)),
            2 => store_at!(self, x, ga, disp, WORD, Rw(v)),
            4 => store_at!(self, x, ga, disp, DWORD, Rd(v)),
            _ => store_at!(self, x, ga, disp, QWORD, Rq(v)),
        }
        dynasm!(self.a ; .arch x64 ; =>resume);
        let saves = self.alloc.live_across(at, &CALLER_SAVED);
        self.defer(Deferred::Store {
            label: slow,
            resume,
            site,
            saves,
            ga,
            disp,
            src,
            hit,
            fault,
        });
    }

    pub(super) fn exit_indirect(&mut self, t: Temp) {
        // The masked offset fits a 32-bit register.
        const _: () = assert!((JMP_ENTRIES << 5) <= 1 << 31);
        let miss = self.a.new_dynamic_label();
        let ep = self.req.epilogue;
        let mask = (JMP_ENTRIES as i32 - 1) << 5;
        self.get(RAX, t);
        // The entry's offset, `jmp_index(pc) * 32`, is `(pc << 4) & mask`
        // (bit 4, pc's bit 0, is outside the mask). Only the dispatcher
        // needs the pc: stored on a miss.
        dynasm!(self.a ; .arch x64
            ; mov ecx, eax
            ; shl ecx, 4
            ; and ecx, mask
            ; add rcx, QWORD [r15 + ENV_JMP]
            ; cmp rax, QWORD [rcx + JMP_PC]
            ; jne =>miss
            ; mov rdx, QWORD [r13 + CPU_CTX]
            ; cmp rdx, QWORD [rcx + JMP_CTX]
            ; jne =>miss
            ; jmp QWORD [rcx + JMP_CODE]
            ; =>miss
            ; mov QWORD [r13 + CPU_PC], rax
            ; mov eax, exit::NORMAL as i32
            ; jmp extern ep
        );
    }
}
