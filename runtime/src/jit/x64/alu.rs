//! The x86-64 backend's arithmetic: two-operand ops (with the `lea`
//! and zero-extending forms that save a copy), high multiplies,
//! divisions and extensions.

use super::*;

impl Gen<'_> {
    /// `dst = base + (index << k)` in one `lea` (`fold::lea_folds`).
    pub(super) fn scaled_lea(&mut self, dst: Temp, base: Temp, index: Temp, k: u8) {
        let b = self.reg_of(base, RAX);
        let x = self.reg_of(index, RCX);
        let w = self.work(dst, None);
        match k {
            1 => dynasm!(self.a ; .arch x64 ; lea Rq(w), [Rq(b) + Rq(x) * 2]),
            2 => dynasm!(self.a ; .arch x64 ; lea Rq(w), [Rq(b) + Rq(x) * 4]),
            _ => dynasm!(self.a ; .arch x64 ; lea Rq(w), [Rq(b) + Rq(x) * 8]),
        }
        self.put(dst, w);
    }

    /// `dst = a & mask` for a mask of the low 8, 16 or 32 bits: a
    /// zero-extending move, which needs no copy of `a` first. False (and
    /// nothing emitted) for other masks.
    pub(super) fn and_zero_extends(&mut self, dst: Temp, a: Temp, b: Temp) -> bool {
        let (x, mask) = match (self.loc(a), self.loc(b)) {
            (_, Loc::Imm(m)) => (a, m),
            (Loc::Imm(m), _) => (b, m),
            _ => return false,
        };
        if !matches!(mask, 0xff | 0xffff | 0xffff_ffff) {
            return false;
        }
        let w = self.work(dst, None);
        let r = self.reg_of(x, w);
        match mask {
            0xff => dynasm!(self.a ; .arch x64 ; movzx Rd(w), Rb(r)),
            0xffff => dynasm!(self.a ; .arch x64 ; movzx Rd(w), Rw(r)),
            _ => dynasm!(self.a ; .arch x64 ; mov Rd(w), Rd(r)),
        }
        self.put(dst, w);
        true
    }

    pub(super) fn bin(&mut self, op: BinOp, ty: Ty, dst: Temp, a: Temp, b: Temp) {
        match op {
            BinOp::Add if self.lea(ty, dst, a, b) => {}
            BinOp::And if self.and_zero_extends(dst, a, b) => {}
            BinOp::Add | BinOp::Sub | BinOp::And | BinOp::Or | BinOp::Xor | BinOp::Mul => {
                // A commutative op whose result shares b's register:
                // compute it there.
                let (a, b) = match (self.loc(dst), self.loc(b)) {
                    (Loc::Reg(d), Loc::Reg(rb)) if d == rb && op != BinOp::Sub => (b, a),
                    _ => (a, b),
                };
                let w = self.work(dst, Some(b));
                self.get(w, a);
                let s = self.src(b, ty, RCX);
                match op {
                    BinOp::Add => alu!(self, add, ty, w, s),
                    BinOp::Sub => alu!(self, sub, ty, w, s),
                    BinOp::And => alu!(self, and, ty, w, s),
                    BinOp::Or => alu!(self, or, ty, w, s),
                    BinOp::Xor => alu!(self, xor, ty, w, s),
                    _ => match (ty, s) {
                        (Ty::I64, Src::Reg(r)) => dynasm!(self.a ; .arch x64 ; imul Rq(w), Rq(r)),
                        (Ty::I64, Src::Mem(b, o)) => {
                            dynasm!(self.a ; .arch x64 ; imul Rq(w), QWORD [Rq(b) + o])
                        }
                        (Ty::I64, Src::Imm(i)) => {
                            dynasm!(self.a ; .arch x64 ; imul Rq(w), Rq(w), i)
                        }
                        (Ty::I32, Src::Reg(r)) => dynasm!(self.a ; .arch x64 ; imul Rd(w), Rd(r)),
                        (Ty::I32, Src::Mem(b, o)) => {
                            dynasm!(self.a ; .arch x64 ; imul Rd(w), DWORD [Rq(b) + o])
                        }
                        (Ty::I32, Src::Imm(i)) => {
                            dynasm!(self.a ; .arch x64 ; imul Rd(w), Rd(w), i)
                        }
                    },
                }
                self.put(dst, w);
            }
            BinOp::Shl | BinOp::Shr | BinOp::Sar | BinOp::Rotr => {
                let amt = match self.loc(b) {
                    Loc::Imm(v) => Some((v & (ty.bits() as u64 - 1)) as i8),
                    _ => None,
                };
                if amt.is_none() {
                    self.get(RCX, b);
                }
                let w = self.work(dst, None);
                self.get(w, a);
                match op {
                    BinOp::Shl => shift!(self, shl, ty, w, amt),
                    BinOp::Shr => shift!(self, shr, ty, w, amt),
                    BinOp::Rotr => shift!(self, ror, ty, w, amt),
                    _ => shift!(self, sar, ty, w, amt),
                }
                self.put(dst, w);
            }
            BinOp::MulHs | BinOp::MulHu | BinOp::MulHsu => self.mulh(op, ty, dst, a, b),
            BinOp::DivS | BinOp::DivU | BinOp::RemS | BinOp::RemU => self.div(op, ty, dst, a, b),
        }
    }

    /// `dst = a + b` in one `lea` when all three are in registers (or b
    /// a 32-bit immediate) and dst is neither operand's: no copy of `a`
    /// first. False when it does not apply.
    pub(super) fn lea(&mut self, ty: Ty, dst: Temp, a: Temp, b: Temp) -> bool {
        let (Loc::Reg(d), Loc::Reg(ra)) = (self.loc(dst), self.loc(a)) else {
            return false;
        };
        if d == ra {
            return false;
        }
        match (self.loc(b), ty) {
            (Loc::Reg(rb), Ty::I64) if rb != d => {
                dynasm!(self.a ; .arch x64 ; lea Rq(d), [Rq(ra) + Rq(rb)])
            }
            (Loc::Reg(rb), Ty::I32) if rb != d => {
                dynasm!(self.a ; .arch x64 ; lea Rd(d), [Rq(ra) + Rq(rb)])
            }
            (Loc::Imm(v), Ty::I64) if v as i64 == v as i64 as i32 as i64 => {
                let i = v as i64 as i32;
                dynasm!(self.a ; .arch x64 ; lea Rq(d), [Rq(ra) + i])
            }
            (Loc::Imm(v), Ty::I32) => {
                let i = v as u32 as i32;
                dynasm!(self.a ; .arch x64 ; lea Rd(d), [Rq(ra) + i])
            }
            _ => return false,
        }
        true
    }

    pub(super) fn mulh(&mut self, op: BinOp, ty: Ty, dst: Temp, a: Temp, b: Temp) {
        self.get(RCX, b);
        self.get(RAX, a);
        match (ty, op) {
            (Ty::I64, BinOp::MulHs) => {
                dynasm!(self.a ; .arch x64 ; imul rcx ; mov rax, rdx)
            }
            (Ty::I64, BinOp::MulHu) => dynasm!(self.a ; .arch x64 ; mul rcx ; mov rax, rdx),
            (Ty::I64, _) => {
                // hi(a * b) unsigned, minus b when a is negative.
                dynasm!(self.a ; .arch x64
                    ; mul rcx
                    ; mov rax, rdx
                    ; mov rdx, rcx
                );
                self.get(RCX, a);
                dynasm!(self.a ; .arch x64
                    ; sar rcx, 63
                    ; and rcx, rdx
                    ; sub rax, rcx
                );
            }
            (Ty::I32, BinOp::MulHs) => dynasm!(self.a ; .arch x64
                ; movsxd rax, eax ; movsxd rcx, ecx ; imul rax, rcx ; shr rax, 32),
            (Ty::I32, BinOp::MulHu) => dynasm!(self.a ; .arch x64
                ; mov eax, eax ; mov ecx, ecx ; imul rax, rcx ; shr rax, 32),
            (Ty::I32, _) => dynasm!(self.a ; .arch x64
                ; movsxd rax, eax ; mov ecx, ecx ; imul rax, rcx ; shr rax, 32),
        }
        if ty == Ty::I32 {
            dynasm!(self.a ; .arch x64 ; mov eax, eax);
        }
        self.put(dst, RAX);
    }

    pub(super) fn div(&mut self, op: BinOp, ty: Ty, dst: Temp, a: Temp, b: Temp) {
        let zero = self.a.new_dynamic_label();
        let minus1 = self.a.new_dynamic_label();
        let done = self.a.new_dynamic_label();
        let signed = matches!(op, BinOp::DivS | BinOp::RemS);
        let rem = matches!(op, BinOp::RemS | BinOp::RemU);
        self.get(RCX, b);
        self.get(RAX, a);
        match ty {
            Ty::I64 => dynasm!(self.a ; .arch x64 ; test rcx, rcx ; jz =>zero),
            Ty::I32 => dynasm!(self.a ; .arch x64 ; test ecx, ecx ; jz =>zero),
        }
        if signed {
            match ty {
                Ty::I64 => dynasm!(self.a ; .arch x64 ; cmp rcx, -1 ; je =>minus1 ; cqo ; idiv rcx),
                Ty::I32 => dynasm!(self.a ; .arch x64 ; cmp ecx, -1 ; je =>minus1 ; cdq ; idiv ecx),
            }
        } else {
            match ty {
                Ty::I64 => dynasm!(self.a ; .arch x64 ; xor edx, edx ; div rcx),
                Ty::I32 => dynasm!(self.a ; .arch x64 ; xor edx, edx ; div ecx),
            }
        }
        if rem {
            dynasm!(self.a ; .arch x64 ; mov rax, rdx);
        }
        dynasm!(self.a ; .arch x64 ; jmp =>done ; =>minus1);
        // x / -1 = -x (MIN stays MIN); x % -1 = 0.
        match (rem, ty) {
            (true, _) => dynasm!(self.a ; .arch x64 ; xor eax, eax),
            (false, Ty::I64) => dynasm!(self.a ; .arch x64 ; neg rax),
            (false, Ty::I32) => dynasm!(self.a ; .arch x64 ; neg eax),
        }
        dynasm!(self.a ; .arch x64 ; jmp =>done ; =>zero);
        // x / 0 = all ones; x % 0 = x (already in rax).
        if !rem {
            match ty {
                Ty::I64 => dynasm!(self.a ; .arch x64 ; mov rax, -1),
                Ty::I32 => dynasm!(self.a ; .arch x64 ; mov eax, -1),
            }
        }
        dynasm!(self.a ; .arch x64 ; =>done);
        self.put(dst, RAX);
    }

    pub(super) fn ext(&mut self, ty: Ty, dst: Temp, src: Temp, bits: u8, signed: bool) {
        let w = self.work(dst, None);
        // Extend straight from the source's register (one instruction, not
        // a copy and then an extension in place).
        let s = self.reg_of(src, w);
        match (bits, signed) {
            (8, false) => dynasm!(self.a ; .arch x64 ; movzx Rd(w), Rb(s)),
            (8, true) => dynasm!(self.a ; .arch x64 ; movsx Rq(w), Rb(s)),
            (16, false) => dynasm!(self.a ; .arch x64 ; movzx Rd(w), Rw(s)),
            (16, true) => dynasm!(self.a ; .arch x64 ; movsx Rq(w), Rw(s)),
            (32, false) if s == w && self.zext32[src.0 as usize] => {}
            (32, false) => dynasm!(self.a ; .arch x64 ; mov Rd(w), Rd(s)),
            (32, true) => dynasm!(self.a ; .arch x64 ; movsxd Rq(w), Rd(s)),
            (b, _) if b >= 64 => {
                if s != w {
                    dynasm!(self.a ; .arch x64 ; mov Rq(w), Rq(s));
                }
            }
            (b, s_) => {
                if s != w {
                    dynasm!(self.a ; .arch x64 ; mov Rq(w), Rq(s));
                }
                let sh = (64 - b) as i8;
                dynasm!(self.a ; .arch x64 ; shl Rq(w), sh);
                if s_ {
                    dynasm!(self.a ; .arch x64 ; sar Rq(w), sh);
                } else {
                    dynasm!(self.a ; .arch x64 ; shr Rq(w), sh);
                }
            }
        }
        // Zero-extensions of at most 32 bits leave the upper half clear.
        if ty == Ty::I32 && (signed || bits > 32) {
            dynasm!(self.a ; .arch x64 ; mov Rd(w), Rd(w));
        }
        self.put(dst, w);
    }
}
