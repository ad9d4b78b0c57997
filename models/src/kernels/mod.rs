//! The engine's inner loops, compiled three times (portable, AVX2 + FMA,
//! AVX-512) and chosen once at run time, so release builds need no
//! `target-cpu` flag and run on any x86-64 (and build on aarch64).

pub mod fastmath;

/// Which compiled variant of the kernels runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelPath {
    /// Plain Rust, whatever the target's baseline vectorises to.
    Portable,
    /// x86-64 AVX2 with fused multiply-add.
    Avx2,
    /// x86-64 AVX-512F.
    Avx512,
}

impl KernelPath {
    /// The fastest variant this CPU supports.
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Self::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Self::Avx2;
            }
        }
        Self::Portable
    }

    /// Whether this CPU can run the variant.
    pub fn supported(self) -> bool {
        match self {
            Self::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// Name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Portable => "portable",
            Self::Avx2 => "avx2+fma",
            Self::Avx512 => "avx512f",
        }
    }
}

/// Row strides of a strided product: output, left operand, right operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strides {
    /// Distance between rows of the output.
    pub out: usize,
    /// Distance between rows of the left operand.
    pub x: usize,
    /// Distance between rows of the right operand.
    pub w: usize,
}

/// `out[rows, m] += x[rows, k] * w[k, m]`, rows `ld` apart.
type GemmFn = fn(&mut [f32], &[f32], &[f32], (usize, usize, usize), Strides);
/// `out[rows, m] = bias[m] + x[rows, k] * w[k, m]`, rows `ld` apart.
type GemmBiasFn = fn(&mut [f32], &[f32], &[f32], &[f32], (usize, usize, usize), Strides);
/// `out[k, m] += x[rows, k]^T * g[rows, m]`, rows `ld` apart.
type GemmTnFn = fn(&mut [f32], &[f32], &[f32], (usize, usize, usize), Strides);
/// LSTM cell on gates [4H] (i, f, g, o) and cell state c [H]; writes h [H].
type CellFn = fn(&[f32], &mut [f32], &mut [f32]);
/// Training LSTM cell over rows: activates gates [rows, 4H] in place, c = f c_prev + i g, h = o tanh(c).
type CellTrainFn = fn(&mut [f32], &[f32], &mut [f32], &mut [f32], (usize, usize, usize));
/// LSTM cell backward over rows: (activated gates, c_prev, c, dh) -> pre-activation dgates; dc carried.
type CellBackFn = fn(&[f32], &[f32], &[f32], &[f32], &mut [f32], &mut [f32], (usize, usize));
/// Dot product.
type DotFn = fn(&[f32], &[f32]) -> f32;
/// `y += a * x`.
type AxpyFn = fn(&mut [f32], f32, &[f32]);

/// Function table of one kernel variant.
#[derive(Clone, Copy)]
pub struct Kernels {
    /// The variant.
    pub path: KernelPath,
    gemm: GemmFn,
    gemm_bias: GemmBiasFn,
    gemm_tn: GemmTnFn,
    cell: CellFn,
    cell_train: CellTrainFn,
    cell_back: CellBackFn,
    dot: DotFn,
    axpy: AxpyFn,
}

impl std::fmt::Debug for Kernels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kernels({})", self.path.name())
    }
}

/// Installs every function of variant module `$m` into a table for `$path`.
macro_rules! table {
    ($path:expr, $m:ident) => {
        Self {
            path: $path,
            gemm: $m::gemm,
            gemm_bias: $m::gemm_bias,
            gemm_tn: $m::gemm_tn,
            cell: $m::cell,
            cell_train: $m::cell_train,
            cell_back: $m::cell_back,
            dot: $m::dot,
            axpy: $m::axpy,
        }
    };
}

impl Kernels {
    /// The table for `path`, or `None` when this CPU lacks its features.
    pub fn new(path: KernelPath) -> Option<Self> {
        if !path.supported() {
            return None;
        }
        Some(match path {
            KernelPath::Portable => table!(path, portable),
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx2 => table!(path, avx2),
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx512 => table!(path, avx512),
            #[cfg(not(target_arch = "x86_64"))]
            _ => return None,
        })
    }

    /// The fastest table for this CPU.
    pub fn best() -> Self {
        Self::new(KernelPath::detect()).expect("the detected path is supported")
    }

    /// `out[rows, m] += x[rows, k] * w[k, m]`.
    #[inline]
    pub fn gemm(&self, out: &mut [f32], x: &[f32], w: &[f32], rows: usize, k: usize, m: usize) {
        let ld = Strides { out: m, x: k, w: m };
        self.gemm_strided(out, x, w, (rows, k, m), ld)
    }

    /// `out[rows, m] += x[rows, k] * w[k, m]` with rows `ld` apart.
    #[inline]
    pub fn gemm_strided(
        &self,
        out: &mut [f32],
        x: &[f32],
        w: &[f32],
        (rows, k, m): (usize, usize, usize),
        ld: Strides,
    ) {
        if rows == 0 || k == 0 || m == 0 {
            return;
        }
        // Input rows may overlap (the STFT reads frames a hop apart); output rows may not.
        assert!(ld.out >= m);
        assert!(out.len() >= (rows - 1) * ld.out + m);
        assert!(x.len() >= (rows - 1) * ld.x + k && w.len() >= (k - 1) * ld.w + m);
        (self.gemm)(out, x, w, (rows, k, m), ld)
    }

    /// `out[rows, m] = bias[m] + x[rows, k] * w[k, m]` with rows `ld` apart:
    /// overwrites `out` (a layer's forward product with its bias, in one pass).
    #[inline]
    pub fn gemm_bias_strided(
        &self,
        out: &mut [f32],
        x: &[f32],
        w: &[f32],
        bias: &[f32],
        (rows, k, m): (usize, usize, usize),
        ld: Strides,
    ) {
        if rows == 0 || m == 0 {
            return;
        }
        assert!(ld.out >= m && bias.len() >= m);
        assert!(out.len() >= (rows - 1) * ld.out + m);
        assert!(k > 0 && x.len() >= (rows - 1) * ld.x + k && w.len() >= (k - 1) * ld.w + m);
        (self.gemm_bias)(out, x, w, bias, (rows, k, m), ld)
    }

    /// `out[k, m] += x[rows, k]^T * g[rows, m]` (weight gradients), rows `ld` apart
    /// (`ld.x` for x, `ld.w` for g, `ld.out` for out).
    #[inline]
    pub fn gemm_tn(
        &self,
        out: &mut [f32],
        x: &[f32],
        g: &[f32],
        (rows, k, m): (usize, usize, usize),
        ld: Strides,
    ) {
        if rows == 0 || k == 0 || m == 0 {
            return;
        }
        assert!(ld.out >= m);
        assert!(out.len() >= (k - 1) * ld.out + m);
        assert!(x.len() >= (rows - 1) * ld.x + k && g.len() >= (rows - 1) * ld.w + m);
        (self.gemm_tn)(out, x, g, (rows, k, m), ld)
    }

    /// LSTM cell: gates [4H] in PyTorch order i, f, g, o; updates c [H], writes h [H].
    #[inline]
    pub fn cell(&self, gates: &[f32], c: &mut [f32], h: &mut [f32]) {
        assert!(gates.len() == 4 * c.len() && c.len() == h.len());
        (self.cell)(gates, c, h)
    }

    /// Training LSTM cell on `rows` rows of hidden size `hidden`: activates
    /// `gates` [rows, 4H] in place and writes c [rows, H] from `c_prev`
    /// [rows, H] and h (rows `ldh` apart).
    #[inline]
    pub fn cell_train(
        &self,
        gates: &mut [f32],
        (c_prev, c): (&[f32], &mut [f32]),
        (h, ldh): (&mut [f32], usize),
        (rows, hidden): (usize, usize),
    ) {
        if rows == 0 {
            return;
        }
        assert!(gates.len() >= rows * 4 * hidden && ldh >= hidden);
        assert!(c_prev.len() >= rows * hidden && c.len() >= rows * hidden);
        assert!(h.len() >= (rows - 1) * ldh + hidden);
        (self.cell_train)(gates, c_prev, c, h, (rows, hidden, ldh))
    }

    /// LSTM cell backward on `rows` rows: from the activated `gates`,
    /// `c_prev`, `c` and the gradient `dh` of h (all contiguous), writes the
    /// pre-activation gradients `dgates` and turns `dc` (gradient of c) into
    /// the gradient of `c_prev`.
    #[inline]
    pub fn cell_back(
        &self,
        gates: &[f32],
        (c_prev, c): (&[f32], &[f32]),
        dh: &[f32],
        (dgates, dc): (&mut [f32], &mut [f32]),
        (rows, hidden): (usize, usize),
    ) {
        let n = rows * hidden;
        assert!(gates.len() >= 4 * n && dgates.len() >= 4 * n);
        assert!(c_prev.len() >= n && c.len() >= n && dh.len() >= n && dc.len() >= n);
        (self.cell_back)(gates, c_prev, c, dh, dgates, dc, (rows, hidden))
    }

    /// Dot product of equal-length slices.
    #[inline]
    pub fn dot(&self, a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        (self.dot)(a, b)
    }

    /// `y += a * x`.
    #[inline]
    pub fn axpy(&self, y: &mut [f32], a: f32, x: &[f32]) {
        assert_eq!(y.len(), x.len());
        (self.axpy)(y, a, x)
    }
}

/// The kernel bodies, inlined into each variant; `FMA` selects fused
/// multiply-add and `T` the widest column tile (sized to the register file).
mod body {
    use super::{fastmath, Strides};

    #[inline(always)]
    fn madd<const FMA: bool>(acc: f32, a: f32, b: f32) -> f32 {
        if FMA {
            a.mul_add(b, acc)
        } else {
            acc + a * b
        }
    }

    /// `R` rows by `T` columns starting at (`r0`, `c0`), accumulated in registers over all of k.
    ///
    /// # Safety
    /// Every row `r0..r0 + R` and column `c0..c0 + T` must lie inside `out`,
    /// `x` and `w` at their strides (`Kernels::gemm_strided` checks the whole product).
    #[inline(always)]
    unsafe fn tile<const FMA: bool, const T: usize, const R: usize>(
        out: &mut [f32],
        (x, w, bias): (&[f32], &[f32], Option<&[f32]>),
        (r0, c0, k): (usize, usize, usize),
        ld: Strides,
    ) {
        let (op, xp, wp) = (out.as_mut_ptr(), x.as_ptr(), w.as_ptr());
        let mut acc = [[0f32; T]; R];
        let mut xr = [xp; R];
        for (r, (a, xrow)) in acc.iter_mut().zip(xr.iter_mut()).enumerate() {
            // Start from the bias (overwriting out) or from out (accumulating).
            let o = match bias {
                Some(b) => b.as_ptr().add(c0),
                None => op.add((r0 + r) * ld.out + c0),
            };
            for (t, v) in a.iter_mut().enumerate() {
                *v = *o.add(t);
            }
            *xrow = xp.add((r0 + r) * ld.x);
        }
        for j in 0..k {
            let wr = wp.add(j * ld.w + c0);
            let mut wv = [0f32; T];
            for (t, v) in wv.iter_mut().enumerate() {
                *v = *wr.add(t);
            }
            for (a, xrow) in acc.iter_mut().zip(&xr) {
                let xv = *xrow.add(j);
                for t in 0..T {
                    a[t] = madd::<FMA>(a[t], xv, wv[t]);
                }
            }
        }
        for (r, a) in acc.iter().enumerate() {
            let o = op.add((r0 + r) * ld.out + c0);
            for (t, v) in a.iter().enumerate() {
                *o.add(t) = *v;
            }
        }
    }

    /// All columns of `R` rows from `r0`: wide tiles, then narrower ones, then single columns.
    ///
    /// # Safety
    /// As [`tile`], for rows `r0..r0 + R` and all `m` columns.
    #[inline(always)]
    unsafe fn rows<const FMA: bool, const T: usize, const R: usize>(
        out: &mut [f32],
        operands: (&[f32], &[f32], Option<&[f32]>),
        (r0, k, m): (usize, usize, usize),
        ld: Strides,
    ) {
        let mut c0 = 0;
        while c0 + T <= m {
            tile::<FMA, T, R>(out, operands, (r0, c0, k), ld);
            c0 += T;
        }
        while c0 + 16 <= m {
            tile::<FMA, 16, R>(out, operands, (r0, c0, k), ld);
            c0 += 16;
        }
        while c0 + 4 <= m {
            tile::<FMA, 4, R>(out, operands, (r0, c0, k), ld);
            c0 += 4;
        }
        while c0 < m {
            tile::<FMA, 1, R>(out, operands, (r0, c0, k), ld);
            c0 += 1;
        }
    }

    /// # Safety
    /// `out`, `x` and `w` must hold the whole product at their strides
    /// (`Kernels::gemm_strided` checks it).
    #[inline(always)]
    pub unsafe fn gemm<const FMA: bool, const T: usize>(
        out: &mut [f32],
        x: &[f32],
        w: &[f32],
        dims: (usize, usize, usize),
        ld: Strides,
    ) {
        product::<FMA, T>(out, (x, w, None), dims, ld)
    }

    /// # Safety
    /// As [`gemm`], and `bias` holds `m` values (`Kernels::gemm_bias_strided` checks it).
    #[inline(always)]
    pub unsafe fn gemm_bias<const FMA: bool, const T: usize>(
        out: &mut [f32],
        x: &[f32],
        w: &[f32],
        bias: &[f32],
        dims: (usize, usize, usize),
        ld: Strides,
    ) {
        product::<FMA, T>(out, (x, w, Some(bias)), dims, ld)
    }

    /// The product over all rows, accumulating into `out` or starting from `bias`.
    ///
    /// # Safety
    /// As [`gemm_bias`].
    #[inline(always)]
    unsafe fn product<const FMA: bool, const T: usize>(
        out: &mut [f32],
        operands: (&[f32], &[f32], Option<&[f32]>),
        (rows_n, k, m): (usize, usize, usize),
        ld: Strides,
    ) {
        // About twelve accumulators a tile: three rows of wide tiles (four
        // with AVX-512's 32 registers), six rows when the output is narrower
        // than one wide tile, twelve when it fits in a quarter of one (one
        // vector register a row).
        let mut r = 0;
        if m <= T / 4 {
            while r + 12 <= rows_n {
                rows::<FMA, T, 12>(out, operands, (r, k, m), ld);
                r += 12;
            }
        } else if m < T {
            while r + 6 <= rows_n {
                rows::<FMA, T, 6>(out, operands, (r, k, m), ld);
                r += 6;
            }
        } else if T >= 64 {
            // 32 vector registers (AVX-512): four rows of four.
            while r + 4 <= rows_n {
                rows::<FMA, T, 4>(out, operands, (r, k, m), ld);
                r += 4;
            }
        } else {
            while r + 3 <= rows_n {
                rows::<FMA, T, 3>(out, operands, (r, k, m), ld);
                r += 3;
            }
        }
        while r < rows_n {
            rows::<FMA, T, 1>(out, operands, (r, k, m), ld);
            r += 1;
        }
    }

    /// Output rows `j0..j0 + J` by columns `c0..c0 + T` of `x^T g`, accumulated over every row of x and g.
    ///
    /// # Safety
    /// Rows `0..rows` of `x` (columns `j0..j0 + J`) and `g` (columns
    /// `c0..c0 + T`) and the output tile must lie inside the slices.
    #[inline(always)]
    unsafe fn tile_tn<const FMA: bool, const T: usize, const J: usize>(
        out: &mut [f32],
        x: &[f32],
        g: &[f32],
        (j0, c0, rows): (usize, usize, usize),
        ld: Strides,
    ) {
        let (op, xp, gp) = (out.as_mut_ptr(), x.as_ptr(), g.as_ptr());
        let mut acc = [[0f32; T]; J];
        for r in 0..rows {
            let gr = gp.add(r * ld.w + c0);
            let mut gv = [0f32; T];
            for (t, v) in gv.iter_mut().enumerate() {
                *v = *gr.add(t);
            }
            let xr = xp.add(r * ld.x + j0);
            for (jj, a) in acc.iter_mut().enumerate() {
                let xv = *xr.add(jj);
                for t in 0..T {
                    a[t] = madd::<FMA>(a[t], xv, gv[t]);
                }
            }
        }
        for (jj, a) in acc.iter().enumerate() {
            let o = op.add((j0 + jj) * ld.out + c0);
            for (t, v) in a.iter().enumerate() {
                *o.add(t) += *v;
            }
        }
    }

    /// # Safety
    /// As [`tile_tn`], for output rows `j0..j0 + J` and all `m` columns.
    #[inline(always)]
    unsafe fn cols_tn<const FMA: bool, const T: usize, const J: usize>(
        out: &mut [f32],
        x: &[f32],
        g: &[f32],
        (j0, rows, m): (usize, usize, usize),
        ld: Strides,
    ) {
        let mut c0 = 0;
        while c0 + T <= m {
            tile_tn::<FMA, T, J>(out, x, g, (j0, c0, rows), ld);
            c0 += T;
        }
        while c0 + 16 <= m {
            tile_tn::<FMA, 16, J>(out, x, g, (j0, c0, rows), ld);
            c0 += 16;
        }
        while c0 + 8 <= m {
            tile_tn::<FMA, 8, J>(out, x, g, (j0, c0, rows), ld);
            c0 += 8;
        }
        while c0 < m {
            tile_tn::<FMA, 1, J>(out, x, g, (j0, c0, rows), ld);
            c0 += 1;
        }
    }

    /// `out[k, m] += x[rows, k]^T g[rows, m]` over row blocks, without the transposition trick.
    ///
    /// # Safety
    /// As [`gemm_tn`].
    #[inline(always)]
    unsafe fn gemm_tn_direct<const FMA: bool, const T: usize>(
        out: &mut [f32],
        x: &[f32],
        g: &[f32],
        (rows, k, m): (usize, usize, usize),
        ld: Strides,
    ) {
        // Row blocks keep the operands' slices in cache while every output tile passes over them.
        const BLOCK: usize = 256;
        let mut r0 = 0;
        while r0 < rows {
            let n = BLOCK.min(rows - r0);
            let (xb, gb) = (&x[r0 * ld.x..], &g[r0 * ld.w..]);
            let mut j = 0;
            if m < T {
                while j + 6 <= k {
                    cols_tn::<FMA, T, 6>(out, xb, gb, (j, n, m), ld);
                    j += 6;
                }
            } else if T >= 64 {
                while j + 4 <= k {
                    cols_tn::<FMA, T, 4>(out, xb, gb, (j, n, m), ld);
                    j += 4;
                }
            } else {
                while j + 3 <= k {
                    cols_tn::<FMA, T, 3>(out, xb, gb, (j, n, m), ld);
                    j += 3;
                }
            }
            while j < k {
                cols_tn::<FMA, T, 1>(out, xb, gb, (j, n, m), ld);
                j += 1;
            }
            r0 += n;
        }
    }

    /// Largest `k * m` that [`gemm_tn`] transposes through its stack buffer.
    const TN_SCRATCH: usize = 4096;

    /// # Safety
    /// `out`, `x` and `g` must hold the whole product at their strides
    /// (`Kernels::gemm_tn` checks it).
    #[inline(always)]
    pub unsafe fn gemm_tn<const FMA: bool, const T: usize>(
        out: &mut [f32],
        x: &[f32],
        g: &[f32],
        (rows, k, m): (usize, usize, usize),
        ld: Strides,
    ) {
        // A narrow output (m under one wide tile) with many rows k, such as
        // an LSTM's [4H, in] weight gradient, runs as its transpose
        // `g^T x` [m, k] into a stack buffer: wide tiles over k, few
        // passes over the operands.
        if m < T && k >= T && k * m <= TN_SCRATCH {
            let mut scratch = [0f32; TN_SCRATCH];
            let ldt = Strides {
                out: k,
                x: ld.w,
                w: ld.x,
            };
            gemm_tn_direct::<FMA, T>(&mut scratch, g, x, (rows, m, k), ldt);
            for j in 0..k {
                let o = out.as_mut_ptr().add(j * ld.out);
                for c in 0..m {
                    *o.add(c) += scratch[c * k + j];
                }
            }
            return;
        }
        gemm_tn_direct::<FMA, T>(out, x, g, (rows, k, m), ld);
    }

    #[inline(always)]
    pub fn cell(gates: &[f32], c: &mut [f32], h: &mut [f32]) {
        let n = c.len();
        let (i, rest) = gates.split_at(n);
        let (f, rest) = rest.split_at(n);
        let (g, o) = rest.split_at(n);
        for ((((cj, hj), (&ij, &fj)), &gj), &oj) in c
            .iter_mut()
            .zip(h.iter_mut())
            .zip(i.iter().zip(f))
            .zip(g)
            .zip(o)
        {
            let next = fastmath::sigmoid(fj) * *cj + fastmath::sigmoid(ij) * fastmath::tanh(gj);
            *cj = next;
            *hj = fastmath::sigmoid(oj) * fastmath::tanh(next);
        }
    }

    #[inline(always)]
    pub fn cell_train(
        gates: &mut [f32],
        c_prev: &[f32],
        c: &mut [f32],
        h: &mut [f32],
        (rows, n, ldh): (usize, usize, usize),
    ) {
        // Two passes per row, each over a run long enough for the compiler's
        // vector loop: every gate through one sigmoid (tanh(x) = 2 s(2x) - 1
        // for the g gate), then the cell and hidden updates.
        for r in 0..rows {
            let g4 = &mut gates[r * 4 * n..(r + 1) * 4 * n];
            let (ifg, o) = g4.split_at_mut(3 * n);
            let (i_f, g) = ifg.split_at_mut(2 * n);
            for v in i_f.iter_mut() {
                *v = fastmath::sigmoid(*v);
            }
            for v in g.iter_mut() {
                *v = 2.0 * fastmath::sigmoid(2.0 * *v) - 1.0;
            }
            for v in o.iter_mut() {
                *v = fastmath::sigmoid(*v);
            }
            let (i, f) = i_f.split_at(n);
            let cp = &c_prev[r * n..(r + 1) * n];
            let cr = &mut c[r * n..(r + 1) * n];
            let hr = &mut h[r * ldh..r * ldh + n];
            for (((((cj, hj), &cpj), &ij), &fj), (&gj, &oj)) in cr
                .iter_mut()
                .zip(hr.iter_mut())
                .zip(cp)
                .zip(i)
                .zip(f)
                .zip(g.iter().zip(o.iter()))
            {
                let next = fj * cpj + ij * gj;
                *cj = next;
                *hj = oj * fastmath::tanh(next);
            }
        }
    }

    #[inline(always)]
    pub fn cell_back(
        gates: &[f32],
        c_prev: &[f32],
        c: &[f32],
        dh: &[f32],
        dgates: &mut [f32],
        dc: &mut [f32],
        (rows, n): (usize, usize),
    ) {
        for r in 0..rows {
            let g4 = &gates[r * 4 * n..(r + 1) * 4 * n];
            let (i, rest) = g4.split_at(n);
            let (f, rest) = rest.split_at(n);
            let (g, o) = rest.split_at(n);
            let d4 = &mut dgates[r * 4 * n..(r + 1) * 4 * n];
            let (di, rest) = d4.split_at_mut(n);
            let (df, rest) = rest.split_at_mut(n);
            let (dg, dout) = rest.split_at_mut(n);
            let cp = &c_prev[r * n..(r + 1) * n];
            let cr = &c[r * n..(r + 1) * n];
            let dhr = &dh[r * n..(r + 1) * n];
            let dcr = &mut dc[r * n..(r + 1) * n];
            for j in 0..n {
                let tc = fastmath::tanh(cr[j]);
                let dcc = dcr[j] + dhr[j] * o[j] * (1.0 - tc * tc);
                dout[j] = dhr[j] * tc * o[j] * (1.0 - o[j]);
                di[j] = dcc * g[j] * i[j] * (1.0 - i[j]);
                df[j] = dcc * cp[j] * f[j] * (1.0 - f[j]);
                dg[j] = dcc * i[j] * (1.0 - g[j] * g[j]);
                dcr[j] = dcc * f[j];
            }
        }
    }

    #[inline(always)]
    pub fn dot<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
        const L: usize = 16;
        let mut acc = [0f32; L];
        let full = a.len() / L * L;
        for (ca, cb) in a[..full].chunks_exact(L).zip(b[..full].chunks_exact(L)) {
            for t in 0..L {
                acc[t] = madd::<FMA>(acc[t], ca[t], cb[t]);
            }
        }
        let mut s: f32 = acc.iter().sum();
        for (x, y) in a[full..].iter().zip(&b[full..]) {
            s = madd::<FMA>(s, *x, *y);
        }
        s
    }

    #[inline(always)]
    pub fn axpy<const FMA: bool>(y: &mut [f32], a: f32, x: &[f32]) {
        for (yv, &xv) in y.iter_mut().zip(x) {
            *yv = madd::<FMA>(*yv, a, xv);
        }
    }
}

/// Wraps one body function in an inner function carrying a variant's `#[target_feature]`s.
macro_rules! wrap {
    ([$(#[$attr:meta])*] $fname:ident ($($arg:ident : $ty:ty),*) $(-> $ret:ty)? = $call:expr) => {
        pub fn $fname($($arg: $ty),*) $(-> $ret)? {
            $(#[$attr])*
            #[allow(unused_unsafe)]
            unsafe fn inner($($arg: $ty),*) $(-> $ret)? {
                $call
            }
            // SAFETY: `Kernels::new` installs a variant only after
            // `KernelPath::supported` confirmed the CPU has its features.
            unsafe { inner($($arg),*) }
        }
    };
}

/// Declares a variant module whose functions are the bodies compiled with the
/// given `#[target_feature]` attributes (none for the portable baseline),
/// multiply-adds fused when `$fma` and product tiles `$tile` columns wide.
macro_rules! variant {
    ($name:ident, [$(#[$attr:meta])*], $fma:literal, $tile:literal) => {
        mod $name {
            use super::{body, Strides};

            // SAFETY (the products): `Kernels::gemm_strided`,
            // `Kernels::gemm_bias_strided` and `Kernels::gemm_tn` checked
            // that the slices hold the whole product.
            wrap!([$(#[$attr])*] gemm(out: &mut [f32], x: &[f32], w: &[f32], dims: (usize, usize, usize), ld: Strides)
                = unsafe { body::gemm::<$fma, $tile>(out, x, w, dims, ld) });
            wrap!([$(#[$attr])*] gemm_bias(out: &mut [f32], x: &[f32], w: &[f32], bias: &[f32], dims: (usize, usize, usize), ld: Strides)
                = unsafe { body::gemm_bias::<$fma, $tile>(out, x, w, bias, dims, ld) });
            wrap!([$(#[$attr])*] gemm_tn(out: &mut [f32], x: &[f32], g: &[f32], dims: (usize, usize, usize), ld: Strides)
                = unsafe { body::gemm_tn::<$fma, $tile>(out, x, g, dims, ld) });
            wrap!([$(#[$attr])*] cell(gates: &[f32], c: &mut [f32], h: &mut [f32]) = body::cell(gates, c, h));
            wrap!([$(#[$attr])*] cell_train(gates: &mut [f32], c_prev: &[f32], c: &mut [f32], h: &mut [f32], dims: (usize, usize, usize))
                = body::cell_train(gates, c_prev, c, h, dims));
            wrap!([$(#[$attr])*] cell_back(gates: &[f32], c_prev: &[f32], c: &[f32], dh: &[f32], dgates: &mut [f32], dc: &mut [f32], dims: (usize, usize))
                = body::cell_back(gates, c_prev, c, dh, dgates, dc, dims));
            wrap!([$(#[$attr])*] dot(a: &[f32], b: &[f32]) -> f32 = body::dot::<$fma>(a, b));
            wrap!([$(#[$attr])*] axpy(y: &mut [f32], a: f32, x: &[f32]) = body::axpy::<$fma>(y, a, x));
        }
    };
}

variant!(portable, [], false, 16);
#[cfg(target_arch = "x86_64")]
variant!(avx2, [#[target_feature(enable = "avx2,fma")]], true, 32);
#[cfg(target_arch = "x86_64")]
variant!(avx512, [#[target_feature(enable = "avx512f,fma")]], true, 64);

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_gemm(x: &[f32], w: &[f32], rows: usize, k: usize, m: usize) -> Vec<f64> {
        let mut out = vec![0f64; rows * m];
        for r in 0..rows {
            for j in 0..k {
                for c in 0..m {
                    out[r * m + c] += x[r * k + j] as f64 * w[j * m + c] as f64;
                }
            }
        }
        out
    }

    #[test]
    fn every_supported_path_computes_the_same_products() {
        let paths = [KernelPath::Portable, KernelPath::Avx2, KernelPath::Avx512];
        assert!(Kernels::new(KernelPath::Portable).is_some());
        for path in paths.into_iter().filter(|p| p.supported()) {
            let k = Kernels::new(path).unwrap();
            let shapes = [
                (97, 16, 64),
                (3, 5, 37),
                (1, 64, 256),
                (2, 8, 4),
                (97, 64, 16),
                (50, 16, 16),
                (13, 32, 8),
            ];
            for (rows, kk, m) in shapes {
                let x: Vec<f32> = (0..rows * kk)
                    .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
                    .collect();
                let w: Vec<f32> = (0..kk * m)
                    .map(|i| ((i * 53 % 89) as f32 - 44.0) / 44.0)
                    .collect();
                let mut out = vec![0.5f32; rows * m];
                k.gemm(&mut out, &x, &w, rows, kk, m);
                let want = reference_gemm(&x, &w, rows, kk, m);
                for (o, r) in out.iter().zip(&want) {
                    assert!(
                        (*o as f64 - (r + 0.5)).abs() < 1e-4,
                        "{} gemm {rows}x{kk}x{m}",
                        path.name()
                    );
                }
                let bias: Vec<f32> = (0..m).map(|c| c as f32 * 0.25 - 1.0).collect();
                let ld = Strides {
                    out: m,
                    x: kk,
                    w: m,
                };
                k.gemm_bias_strided(&mut out, &x, &w, &bias, (rows, kk, m), ld);
                for (i, (o, r)) in out.iter().zip(&want).enumerate() {
                    assert!(
                        (*o as f64 - (r + bias[i % m] as f64)).abs() < 1e-4,
                        "{} gemm_bias {rows}x{kk}x{m}",
                        path.name()
                    );
                }
                let d = k.dot(&x[..kk], &w[..kk]);
                let dr: f64 = x[..kk]
                    .iter()
                    .zip(&w[..kk])
                    .map(|(a, b)| *a as f64 * *b as f64)
                    .sum();
                assert!((d as f64 - dr).abs() < 1e-4);
            }
            // Weight-gradient products, direct and through the transposed
            // stack buffer (narrow outputs with many rows), with row strides.
            for (rows, kk, m) in [(300, 64, 16), (300, 16, 64), (70, 5, 37), (300, 128, 32)] {
                let (ldx, ldg, ldo) = (kk + 3, m + 5, m + 2);
                let x: Vec<f32> = (0..rows * ldx)
                    .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
                    .collect();
                let g: Vec<f32> = (0..rows * ldg)
                    .map(|i| ((i * 53 % 89) as f32 - 44.0) / 44.0)
                    .collect();
                let mut out = vec![0.5f32; kk * ldo];
                let ld = Strides {
                    out: ldo,
                    x: ldx,
                    w: ldg,
                };
                k.gemm_tn(&mut out, &x, &g, (rows, kk, m), ld);
                for j in 0..kk {
                    for c in 0..m {
                        let want: f64 = (0..rows)
                            .map(|r| x[r * ldx + j] as f64 * g[r * ldg + c] as f64)
                            .sum();
                        let got = out[j * ldo + c] as f64;
                        assert!(
                            (got - (want + 0.5)).abs() < 1e-3,
                            "{} gemm_tn {rows}x{kk}x{m} at ({j}, {c}): {got} vs {want}",
                            path.name()
                        );
                    }
                    // Padding between output rows is untouched.
                    assert!(out[j * ldo + m..(j + 1) * ldo].iter().all(|&v| v == 0.5));
                }
            }
            let gates: Vec<f32> = (0..32).map(|i| (i as f32 - 16.0) / 4.0).collect();
            let (mut c, mut h) = (vec![0.3f32; 8], vec![0f32; 8]);
            k.cell(&gates, &mut c, &mut h);
            for j in 0..8 {
                let s = |v: f32| 1.0 / (1.0 + (-(v as f64)).exp());
                let cj = s(gates[8 + j]) * 0.3 + s(gates[j]) * (gates[16 + j] as f64).tanh();
                assert!((c[j] as f64 - cj).abs() < 1e-6);
                assert!((h[j] as f64 - s(gates[24 + j]) * cj.tanh()).abs() < 1e-6);
            }
        }
    }
}
