//! STFT / iSTFT: perfect reconstruction and the spec's conventions.

mod common;

use candle_core::{Device, Tensor};
use kb_models::{stft::Stft, window::hamming};

#[test]
fn istft_of_stft_reconstructs_random_audio() {
    let stft = Stft::new(128, 64, &Device::Cpu).unwrap();
    let x = common::test_signal(128 * 40, 7);
    let window = x.pad_with_zeros(2, 0, 64).unwrap();
    let spec = stft.analyse(&window).unwrap();
    assert_eq!(spec.dims(), &[1, 4, 40, 97]);
    // Analyse gives channels [Re ch0, Re ch1, Im ch0, Im ch1]; synthesise wants re/im pairs per channel.
    let pairs = Tensor::cat(
        &[
            spec.narrow(1, 0, 1).unwrap(),
            spec.narrow(1, 2, 1).unwrap(),
            spec.narrow(1, 1, 1).unwrap(),
            spec.narrow(1, 3, 1).unwrap(),
        ],
        1,
    )
    .unwrap();
    let mut tail = Tensor::zeros((1, 2, 64), candle_core::DType::F32, &Device::Cpu).unwrap();
    let y = stft.synthesise(&pairs, &mut tail).unwrap();
    // The first `pad` samples lack the previous frame's overlap (start-up transient).
    let settled = |t: &Tensor| t.narrow(2, 64, 128 * 40 - 64).unwrap();
    let err = common::max_abs(&(settled(&y) - settled(&x)).unwrap());
    println!("reconstruction max abs error {err:.2e}");
    assert!(err < 1e-5, "iSTFT(STFT(x)) differs from x by {err}");
}

#[test]
fn streamed_synthesis_equals_whole_synthesis() {
    let stft = Stft::new(128, 64, &Device::Cpu).unwrap();
    let x = common::test_signal(128 * 12, 3)
        .pad_with_zeros(2, 0, 64)
        .unwrap();
    let spec = stft.analyse(&x).unwrap();
    let mut tail = Tensor::zeros((1, 2, 64), candle_core::DType::F32, &Device::Cpu).unwrap();
    let whole = stft.synthesise(&spec, &mut tail.clone()).unwrap();
    let mut parts = Vec::new();
    for t in 0..12 {
        parts.push(
            stft.synthesise(&spec.narrow(2, t, 1).unwrap(), &mut tail)
                .unwrap(),
        );
    }
    let streamed = Tensor::cat(&parts, 2).unwrap();
    assert!(common::max_abs(&(streamed - whole).unwrap()) < 1e-6);
}

#[test]
fn analysis_matches_a_direct_dft() {
    let stft = Stft::new(128, 64, &Device::Cpu).unwrap();
    let x = common::test_signal(128 * 3, 11)
        .pad_with_zeros(2, 0, 64)
        .unwrap();
    let spec = stft.analyse(&x).unwrap();
    let samples = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let w = hamming(192);
    // Frame 2 of channel 1, bin 17, by the textbook sum.
    let (t, ch, k) = (2usize, 1usize, 17usize);
    let n_total = 128 * 3 + 64;
    let (mut re, mut im) = (0f64, 0f64);
    for n in 0..192 {
        let v = samples[ch * n_total + 128 * t + n] as f64 * w[n];
        let ph = 2.0 * std::f64::consts::PI * (k * n) as f64 / 192.0;
        re += v * ph.cos();
        im -= v * ph.sin();
    }
    let got_re = spec
        .get(0)
        .unwrap()
        .get(ch)
        .unwrap()
        .get(t)
        .unwrap()
        .get(k)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    let got_im = spec
        .get(0)
        .unwrap()
        .get(2 + ch)
        .unwrap()
        .get(t)
        .unwrap()
        .get(k)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!((got_re as f64 - re).abs() < 1e-5 && (got_im as f64 - im).abs() < 1e-5);
    assert!(
        (w[0] - 0.08).abs() < 1e-12 && (w[96] - 1.0).abs() < 1e-12,
        "periodic Hamming window"
    );
}
