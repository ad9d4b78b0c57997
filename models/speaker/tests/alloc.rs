//! After construction the encoder allocates and frees nothing per embedding
//! (counting global allocator, watched on this thread).

use std::{path::Path, sync::atomic::Ordering};

use kb_speaker::{EncoderWeights, SpeakerEncoder};

#[path = "../../tests/counting/mod.rs"]
mod counting;

use counting::{ALLOCS, FREES, WATCHING};

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

fn wav(name: &str) -> Vec<f32> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    hound::WavReader::open(dir.join(format!("{name}.wav")))
        .expect("golden wav")
        .samples::<i16>()
        .map(|s| s.expect("sample") as f32 / 32768.0)
        .collect()
}

#[test]
fn embedding_neither_allocates_nor_frees() {
    let weights =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/speaker_encoder.safetensors");
    let mut encoder = SpeakerEncoder::new(EncoderWeights::load(&weights).expect("weights"), 10.0);
    let recordings = [wav("june"), wav("gap"), wav("short")];
    let first: Vec<_> = recordings
        .iter()
        .map(|x| encoder.embed(x).expect("embedding"))
        .collect();
    ALLOCS.store(0, Ordering::SeqCst);
    FREES.store(0, Ordering::SeqCst);
    WATCHING.with(|w| w.set(true));
    let mut again = [[0.0f32; kb_speaker::EMBEDDING]; 3];
    for (out, x) in again.iter_mut().zip(&recordings) {
        *out = encoder.embed(x).expect("embedding");
    }
    WATCHING.with(|w| w.set(false));
    let (allocs, frees) = (ALLOCS.load(Ordering::SeqCst), FREES.load(Ordering::SeqCst));
    assert_eq!(
        (allocs, frees),
        (0, 0),
        "allocations and frees while embedding"
    );
    assert_eq!(
        first,
        again.to_vec(),
        "the same recording gives the same embedding"
    );
}
