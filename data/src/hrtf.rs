//! Heads: head-related impulse responses at 16 kHz, from a SOFA file
//! (crate `sofar`) or from an analytic spherical-head model.

use std::path::Path;

use sofar::reader::{Filter, OpenOptions, Sofar};

use crate::conv::{fractional_tap, spectrum, SINC_HALF_WIDTH};
use crate::{Error, Result, SAMPLE_RATE, SPEED_OF_SOUND};

/// Index of the head-centre arrival in every HRIR a source returns: the
/// near ear of a lateral source may be up to this many samples earlier.
pub const LEAD: usize = 12;

/// FFT size of the diffuse-field power spectra.
pub const DIFFUSE_FFT: usize = 512;

/// A source of head-related impulse responses.
pub trait HrirSource: Send + Sync {
    /// Name recorded in mixture manifests.
    fn name(&self) -> String;
    /// Length of every HRIR in samples (16 kHz).
    fn len(&self) -> usize;
    /// True for a source of empty responses.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// `[left, right]` responses for a unit direction in the head frame
    /// (x ahead, y to the left, z up), with the head-centre arrival at sample [`LEAD`].
    fn hrir(&self, direction: [f64; 3]) -> [Vec<f32>; 2];
}

/// A head: an HRIR source plus its diffuse-field power spectra.
pub struct Head {
    source: Box<dyn HrirSource>,
    diffuse: [Vec<f32>; 2],
}

impl Head {
    /// Wraps an HRIR source, averaging its power spectra over 256 directions.
    pub fn new(source: impl HrirSource + 'static) -> Head {
        let n = 256;
        let mut diffuse = [
            vec![0.0f32; DIFFUSE_FFT / 2 + 1],
            vec![0.0f32; DIFFUSE_FFT / 2 + 1],
        ];
        for i in 0..n {
            // Fibonacci sphere: evenly spread directions.
            let z = 1.0 - (2.0 * i as f64 + 1.0) / n as f64;
            let r = (1.0 - z * z).sqrt();
            let phi = i as f64 * std::f64::consts::PI * (3.0 - 5f64.sqrt());
            let pair = source.hrir([r * phi.cos(), r * phi.sin(), z]);
            for (acc, h) in diffuse.iter_mut().zip(&pair) {
                for (a, c) in acc.iter_mut().zip(spectrum(h, DIFFUSE_FFT)) {
                    *a += c.norm_sqr() / n as f32;
                }
            }
        }
        Head {
            source: Box::new(source),
            diffuse,
        }
    }

    /// The analytic spherical head (no file needed).
    pub fn spherical() -> Head {
        Head::new(SphericalHead::default())
    }

    /// A head read from a SOFA file.
    pub fn from_sofa(path: &Path) -> Result<Head> {
        Ok(Head::new(SofaHead::open(path)?))
    }

    /// Name recorded in manifests.
    pub fn name(&self) -> String {
        self.source.name()
    }

    /// HRIR length in samples.
    pub fn len(&self) -> usize {
        self.source.len()
    }

    /// True for a zero-length HRIR source.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `[left, right]` responses for a unit direction in the head frame.
    pub fn hrir(&self, direction: [f64; 3]) -> [Vec<f32>; 2] {
        self.source.hrir(direction)
    }

    /// Diffuse-field power of ear `ear` (0 left, 1 right) at `freq` Hz.
    pub fn diffuse_power(&self, ear: usize, freq: f64) -> f32 {
        let bin = (freq / SAMPLE_RATE as f64 * DIFFUSE_FFT as f64).round() as usize;
        self.diffuse[ear][bin.min(DIFFUSE_FFT / 2)]
    }
}

/// Rigid-sphere head: Woodworth's interaural delay and Brown & Duda's
/// one-pole head-shadow filter for each ear.
#[derive(Debug, Clone)]
pub struct SphericalHead {
    /// Head radius in metres.
    pub radius: f64,
    /// HRIR length in samples.
    pub taps: usize,
}

impl Default for SphericalHead {
    fn default() -> Self {
        SphericalHead {
            radius: 0.0875,
            taps: 64,
        }
    }
}

impl HrirSource for SphericalHead {
    fn name(&self) -> String {
        format!("spherical-head-{:.1}cm", self.radius * 100.0)
    }

    fn len(&self) -> usize {
        self.taps
    }

    fn hrir(&self, direction: [f64; 3]) -> [Vec<f32>; 2] {
        let unit = unit(direction);
        [1.0, -1.0].map(|side: f64| {
            // Angle between the source and this ear's axis.
            let theta = (side * unit[1]).clamp(-1.0, 1.0).acos();
            let (shadow, delay) = sphere_ear(self.radius, theta, self.taps);
            place_at(&shadow, LEAD as f64 + delay * SAMPLE_RATE as f64, self.taps)
        })
    }
}

/// One ear of a rigid sphere of `radius` metres for a source `theta` radians
/// off the ear's axis: Brown & Duda's head-shadow filter as a `taps`-sample
/// impulse response, and Woodworth's arrival time relative to the head
/// centre in seconds (negative on the near side).
pub fn sphere_ear(radius: f64, theta: f64, taps: usize) -> (Vec<f64>, f64) {
    let fs = SAMPLE_RATE as f64;
    let w0 = SPEED_OF_SOUND / radius;
    let k = 2.0 * fs;
    let delay = if theta < std::f64::consts::FRAC_PI_2 {
        -radius / SPEED_OF_SOUND * theta.cos()
    } else {
        radius / SPEED_OF_SOUND * (theta - std::f64::consts::FRAC_PI_2)
    };
    let alpha = 1.05 + 0.95 * (theta / (150f64.to_radians()) * std::f64::consts::PI).cos();
    // Bilinear transform of (2 w0 + alpha s) / (2 w0 + s).
    let b0 = (2.0 * w0 + alpha * k) / (2.0 * w0 + k);
    let b1 = (2.0 * w0 - alpha * k) / (2.0 * w0 + k);
    let a1 = (2.0 * w0 - k) / (2.0 * w0 + k);
    let mut shadow = vec![0.0f64; taps];
    let (mut x1, mut y1) = (0.0, 0.0);
    for (n, s) in shadow.iter_mut().enumerate() {
        let x = if n == 0 { 1.0 } else { 0.0 };
        let y = b0 * x + b1 * x1 - a1 * y1;
        *s = y;
        x1 = x;
        y1 = y;
    }
    (shadow, delay)
}

/// `direction` scaled to unit length (a zero vector stays zero).
pub fn unit(direction: [f64; 3]) -> [f64; 3] {
    let norm = direction
        .iter()
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt()
        .max(1e-12);
    direction.map(|v| v / norm)
}

/// `response` delayed to start at the fractional sample `onset`, `taps` long.
pub fn place_at(response: &[f64], onset: f64, taps: usize) -> Vec<f32> {
    shift_by(response, onset, taps)
        .into_iter()
        .map(|v| v as f32)
        .collect()
}

/// `response` delayed by the fractional `shift` samples (windowed-sinc
/// interpolation), `taps` long, in full precision.
pub fn shift_by(response: &[f64], shift: f64, taps: usize) -> Vec<f64> {
    (0..taps)
        .map(|i| {
            // Only the taps within the interpolator's reach are non-zero.
            let centre = i as f64 - shift;
            let lo = (centre - SINC_HALF_WIDTH).floor().max(0.0) as usize;
            let hi = ((centre + SINC_HALF_WIDTH).ceil().max(0.0) as usize).min(response.len());
            response[lo.min(hi)..hi]
                .iter()
                .enumerate()
                .map(|(k, s)| s * fractional_tap(centre - (lo + k) as f64))
                .sum::<f64>()
        })
        .collect()
}

/// HRIRs measured on a head, read from a SOFA file and resampled to 16 kHz,
/// shifted so that a frontal source's onset (first sample at half the peak) falls at [`LEAD`].
pub struct SofaHead {
    name: String,
    sofa: Sofar,
    shift: usize,
    len: usize,
}

impl SofaHead {
    /// Opens a SOFA file.
    pub fn open(path: &Path) -> Result<SofaHead> {
        let bad = |reason: String| Error::Sofa {
            path: path.into(),
            reason,
        };
        let sofa = OpenOptions::new()
            .sample_rate(SAMPLE_RATE as f32)
            .normalized(true)
            .open(path)
            .map_err(|e| bad(e.to_string()))?;
        let n = sofa.filter_len();
        if n == 0 {
            return Err(bad("empty filters".into()));
        }
        let mut front = Filter::new(n);
        sofa.filter(1.0, 0.0, 0.0, &mut front);
        let peak = front
            .left
            .iter()
            .chain(front.right.iter())
            .fold(0.0f32, |m, v| m.max(v.abs()));
        if peak.is_nan() || peak <= 0.0 {
            return Err(bad("frontal filter is silent".into()));
        }
        let onset = front
            .left
            .iter()
            .zip(front.right.iter())
            .position(|(l, r)| l.abs().max(r.abs()) >= 0.5 * peak)
            .unwrap_or(0);
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "sofa".into());
        Ok(SofaHead {
            name,
            shift: onset,
            len: n + LEAD,
            sofa,
        })
    }
}

impl HrirSource for SofaHead {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn len(&self) -> usize {
        self.len
    }

    fn hrir(&self, direction: [f64; 3]) -> [Vec<f32>; 2] {
        let n = self.sofa.filter_len();
        let mut filter = Filter::new(n);
        self.sofa.filter(
            direction[0] as f32,
            direction[1] as f32,
            direction[2] as f32,
            &mut filter,
        );
        let fs = SAMPLE_RATE as f32;
        let place = |h: &[f32], delay: f32| {
            let mut out = vec![0.0f32; self.len];
            let offset = LEAD as isize - self.shift as isize + (delay * fs).round() as isize;
            for (i, &v) in h.iter().enumerate() {
                let j = i as isize + offset;
                if j >= 0 && (j as usize) < out.len() {
                    out[j as usize] = v;
                }
            }
            out
        };
        [
            place(&filter.left, filter.ldelay),
            place(&filter.right, filter.rdelay),
        ]
    }
}
