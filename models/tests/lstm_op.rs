//! The fused LSTM recurrence against a step-by-step candle LSTM (values and
//! gradients) and against finite differences.

mod common;

use candle_core::{Device, Tensor, Var, D};
use candle_nn::ops::sigmoid;
use kb_models::lstm_op::lstm_recurrence;
use rand::{rngs::StdRng, Rng, SeedableRng};

const N: usize = 3;
const L: usize = 6;
const H: usize = 4;

fn random(shape: &[usize], seed: u64, scale: f32) -> Var {
    let mut rng = StdRng::seed_from_u64(seed);
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.random_range(-scale..scale)).collect();
    Var::from_tensor(&Tensor::from_vec(v, shape, &Device::Cpu).unwrap()).unwrap()
}

/// The textbook recurrence in candle primitives (PyTorch gate order i, f, g, o).
fn step_by_step(
    xp: &Tensor,
    w: &Tensor,
    h0: &Tensor,
    c0: &Tensor,
    reverse: bool,
) -> (Tensor, Tensor, Tensor) {
    let (mut h, mut c) = (h0.clone(), c0.clone());
    let mut outs = vec![None; L];
    for step in 0..L {
        let t = if reverse { L - 1 - step } else { step };
        let gates = (xp.narrow(1, t, 1).unwrap().squeeze(1).unwrap()
            + h.matmul(&w.t().unwrap()).unwrap())
        .unwrap();
        let part = |k: usize| gates.narrow(1, k * H, H).unwrap();
        let (i, f, g, o) = (
            sigmoid(&part(0)).unwrap(),
            sigmoid(&part(1)).unwrap(),
            part(2).tanh().unwrap(),
            sigmoid(&part(3)).unwrap(),
        );
        c = ((f * &c).unwrap() + (i * g).unwrap()).unwrap();
        h = (o * c.tanh().unwrap()).unwrap();
        outs[t] = Some(h.clone());
    }
    let outs: Vec<Tensor> = outs.into_iter().map(Option::unwrap).collect();
    (Tensor::stack(&outs, 1).unwrap(), h, c)
}

/// A scalar loss touching every output: weighted sums of the sequence and the final state.
fn loss(out: &Tensor, h: &Tensor, c: &Tensor, weights: &Tensor) -> Tensor {
    let a = (out * weights).unwrap().sum_all().unwrap();
    let b = (h.sum_all().unwrap() * 0.7).unwrap();
    let d = (c.sqr().unwrap().sum(D::Minus1).unwrap().sum_all().unwrap() * 0.3).unwrap();
    ((a + b).unwrap() + d).unwrap()
}

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    common::max_abs(&(a - b).unwrap())
}

#[test]
fn fused_recurrence_matches_the_step_by_step_lstm_and_its_gradients() {
    for reverse in [false, true] {
        let xp = random(&[N, L, 4 * H], 1, 1.5);
        let w = random(&[4 * H, H], 2, 0.8);
        let h0 = random(&[N, H], 3, 0.5);
        let c0 = random(&[N, H], 4, 0.5);
        let weights = random(&[N, L, H], 5, 1.0);
        let vars = [&xp, &w, &h0, &c0];

        let (o1, h1, c1) = lstm_recurrence(&xp, &w, &h0, &c0, reverse).unwrap();
        let (o2, h2, c2) = step_by_step(&xp, &w, &h0, &c0, reverse);
        assert!(
            max_diff(&o1, &o2) < 1e-5 && max_diff(&h1, &h2) < 1e-5 && max_diff(&c1, &c2) < 1e-5
        );

        let g1 = loss(&o1, &h1, &c1, &weights).backward().unwrap();
        let g2 = loss(&o2, &h2, &c2, &weights).backward().unwrap();
        for (k, v) in vars.iter().enumerate() {
            let (a, b) = (
                g1.get(v.as_tensor()).unwrap(),
                g2.get(v.as_tensor()).unwrap(),
            );
            let d = max_diff(a, b);
            assert!(
                d < 1e-4,
                "reverse={reverse}: gradient of input {k} differs by {d}"
            );
        }

        // Central finite differences on a few entries of every input.
        let f = |vals: [&Tensor; 4]| -> f64 {
            let (o, h, c) = lstm_recurrence(vals[0], vals[1], vals[2], vals[3], reverse).unwrap();
            loss(&o, &h, &c, &weights).to_scalar::<f32>().unwrap() as f64
        };
        let eps = 1e-2f32;
        for (k, v) in vars.iter().enumerate() {
            let base = v
                .as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            let grad = g1
                .get(v.as_tensor())
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            for idx in [0, base.len() / 2, base.len() - 1] {
                let shifted = |delta: f32| {
                    let mut b = base.clone();
                    b[idx] += delta;
                    Tensor::from_vec(b, v.shape(), &Device::Cpu).unwrap()
                };
                let (plus, minus) = (shifted(eps), shifted(-eps));
                let mut args: [Tensor; 4] = vars.map(|x| x.as_tensor().clone());
                args[k] = plus;
                let fp = f([&args[0], &args[1], &args[2], &args[3]]);
                args[k] = minus;
                let fm = f([&args[0], &args[1], &args[2], &args[3]]);
                let numeric = (fp - fm) / (2.0 * eps as f64);
                let err = (numeric - grad[idx] as f64).abs();
                assert!(
                    err < 2e-3 * (1.0 + numeric.abs()),
                    "reverse={reverse}: input {k}[{idx}] numeric {numeric} analytic {}",
                    grad[idx]
                );
            }
        }
    }
}
