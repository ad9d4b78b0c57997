//! The engine's inner loops, compiled three times (portable, AVX2 + FMA,
//! AVX-512) and chosen once at run time, so release builds need no
//! `target-cpu` flag and run on any x86-64 (and build on aarch64).

use super::fastmath;

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

/// `out[r] += sum_j x[r][j] * w[j]` for `rows` rows: x is [rows, k], w is [k, m], out is [rows, m].
type GemmFn = fn(&mut [f32], &[f32], &[f32], usize, usize, usize);
/// LSTM cell on gates [4H] (i, f, g, o) and cell state c [H]; writes h [H].
type CellFn = fn(&[f32], &mut [f32], &mut [f32]);
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
    cell: CellFn,
    dot: DotFn,
    axpy: AxpyFn,
}

impl std::fmt::Debug for Kernels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kernels({})", self.path.name())
    }
}

impl Kernels {
    /// The table for `path`, or `None` when this CPU lacks its features.
    pub fn new(path: KernelPath) -> Option<Self> {
        if !path.supported() {
            return None;
        }
        Some(match path {
            KernelPath::Portable => Self {
                path,
                gemm: portable::gemm,
                cell: portable::cell,
                dot: portable::dot,
                axpy: portable::axpy,
            },
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx2 => Self {
                path,
                gemm: avx2::gemm,
                cell: avx2::cell,
                dot: avx2::dot,
                axpy: avx2::axpy,
            },
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx512 => Self {
                path,
                gemm: avx512::gemm,
                cell: avx512::cell,
                dot: avx512::dot,
                axpy: avx512::axpy,
            },
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
        assert!(out.len() >= rows * m && x.len() >= rows * k && w.len() >= k * m);
        (self.gemm)(out, x, w, rows, k, m)
    }

    /// LSTM cell: gates [4H] in PyTorch order i, f, g, o; updates c [H], writes h [H].
    #[inline]
    pub fn cell(&self, gates: &[f32], c: &mut [f32], h: &mut [f32]) {
        assert!(gates.len() == 4 * c.len() && c.len() == h.len());
        (self.cell)(gates, c, h)
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
    use super::fastmath;

    #[inline(always)]
    fn madd<const FMA: bool>(acc: f32, a: f32, b: f32) -> f32 {
        if FMA {
            a.mul_add(b, acc)
        } else {
            acc + a * b
        }
    }

    /// `R` rows by `T` columns starting at (`r0`, `c0`), accumulated in registers over all of k.
    #[inline(always)]
    fn tile<const FMA: bool, const T: usize, const R: usize>(
        out: &mut [f32],
        x: &[f32],
        w: &[f32],
        (r0, c0): (usize, usize),
        k: usize,
        m: usize,
    ) {
        let mut acc = [[0f32; T]; R];
        for (r, a) in acc.iter_mut().enumerate() {
            a.copy_from_slice(&out[(r0 + r) * m + c0..(r0 + r) * m + c0 + T]);
        }
        for j in 0..k {
            let wr: &[f32; T] = w[j * m + c0..j * m + c0 + T]
                .try_into()
                .expect("tile inside the matrix");
            for (r, a) in acc.iter_mut().enumerate() {
                let xv = x[(r0 + r) * k + j];
                for t in 0..T {
                    a[t] = madd::<FMA>(a[t], xv, wr[t]);
                }
            }
        }
        for (r, a) in acc.iter().enumerate() {
            out[(r0 + r) * m + c0..(r0 + r) * m + c0 + T].copy_from_slice(a);
        }
    }

    /// All columns of `R` rows from `r0`: wide tiles, then narrower ones, then single columns.
    #[inline(always)]
    fn rows<const FMA: bool, const T: usize, const R: usize>(
        out: &mut [f32],
        x: &[f32],
        w: &[f32],
        r0: usize,
        k: usize,
        m: usize,
    ) {
        let mut c0 = 0;
        while c0 + T <= m {
            tile::<FMA, T, R>(out, x, w, (r0, c0), k, m);
            c0 += T;
        }
        while c0 + 16 <= m {
            tile::<FMA, 16, R>(out, x, w, (r0, c0), k, m);
            c0 += 16;
        }
        while c0 + 4 <= m {
            tile::<FMA, 4, R>(out, x, w, (r0, c0), k, m);
            c0 += 4;
        }
        while c0 < m {
            tile::<FMA, 1, R>(out, x, w, (r0, c0), k, m);
            c0 += 1;
        }
    }

    #[inline(always)]
    pub fn gemm<const FMA: bool, const T: usize>(
        out: &mut [f32],
        x: &[f32],
        w: &[f32],
        rows_n: usize,
        k: usize,
        m: usize,
    ) {
        let mut r = 0;
        while r + 2 <= rows_n {
            rows::<FMA, T, 2>(out, x, w, r, k, m);
            r += 2;
        }
        if r < rows_n {
            rows::<FMA, T, 1>(out, x, w, r, k, m);
        }
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

mod portable {
    pub fn gemm(out: &mut [f32], x: &[f32], w: &[f32], rows: usize, k: usize, m: usize) {
        super::body::gemm::<false, 16>(out, x, w, rows, k, m)
    }
    pub fn cell(gates: &[f32], c: &mut [f32], h: &mut [f32]) {
        super::body::cell(gates, c, h)
    }
    pub fn dot(a: &[f32], b: &[f32]) -> f32 {
        super::body::dot::<false>(a, b)
    }
    pub fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
        super::body::axpy::<false>(y, a, x)
    }
}

/// Declares a variant whose functions are compiled with `$features` enabled.
macro_rules! variant {
    ($name:ident, $features:literal, $tile:literal) => {
        #[cfg(target_arch = "x86_64")]
        mod $name {
            // SAFETY (all four wrappers): `Kernels::new` installs these only
            // after `KernelPath::supported` confirmed the CPU has `$features`.
            pub fn gemm(out: &mut [f32], x: &[f32], w: &[f32], rows: usize, k: usize, m: usize) {
                #[target_feature(enable = $features)]
                unsafe fn inner(
                    out: &mut [f32],
                    x: &[f32],
                    w: &[f32],
                    rows: usize,
                    k: usize,
                    m: usize,
                ) {
                    super::body::gemm::<true, $tile>(out, x, w, rows, k, m)
                }
                unsafe { inner(out, x, w, rows, k, m) }
            }
            pub fn cell(gates: &[f32], c: &mut [f32], h: &mut [f32]) {
                #[target_feature(enable = $features)]
                unsafe fn inner(gates: &[f32], c: &mut [f32], h: &mut [f32]) {
                    super::body::cell(gates, c, h)
                }
                unsafe { inner(gates, c, h) }
            }
            pub fn dot(a: &[f32], b: &[f32]) -> f32 {
                #[target_feature(enable = $features)]
                unsafe fn inner(a: &[f32], b: &[f32]) -> f32 {
                    super::body::dot::<true>(a, b)
                }
                unsafe { inner(a, b) }
            }
            pub fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
                #[target_feature(enable = $features)]
                unsafe fn inner(y: &mut [f32], a: f32, x: &[f32]) {
                    super::body::axpy::<true>(y, a, x)
                }
                unsafe { inner(y, a, x) }
            }
        }
    };
}

variant!(avx2, "avx2,fma", 32);
variant!(avx512, "avx512f,fma", 64);

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
            for (rows, kk, m) in [(97, 16, 64), (3, 5, 37), (1, 64, 256), (2, 8, 4)] {
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
                let d = k.dot(&x[..kk], &w[..kk]);
                let dr: f64 = x[..kk]
                    .iter()
                    .zip(&w[..kk])
                    .map(|(a, b)| *a as f64 * *b as f64)
                    .sum();
                assert!((d as f64 - dr).abs() < 1e-4);
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
