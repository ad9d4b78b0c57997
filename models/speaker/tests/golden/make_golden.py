"""Golden vectors of the Resemblyzer speaker encoder for kb-speaker's tests.

Run in a test-only venv (never by the build or the tests):
    python3 -m venv venv && venv/bin/pip install torch==2.5.1 sympy==1.13.1 \
        librosa==0.10.2.post1 webrtcvad-wheels==2.0.14 scipy numpy resemblyzer==0.1.4
    venv/bin/python make_golden.py CACHE
CACHE is the data cache (`cargo xtask data fetch`); the WAVs it cuts from the
corpus's test talkers are committed beside this script with golden.json.
"""
import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from resemblyzer import VoiceEncoder, audio
from resemblyzer.hparams import audio_norm_target_dBFS, sampling_rate

HERE = Path(__file__).resolve().parent

# (name, clips as (cache path, start s, length s), gain): from three corpora
# whose licences allow redistribution (CC-BY-SA-3.0, GPL-2+, GPL-2, GPL-3+).
CASES = [
    ("june", [("clips/asterisk-core-sounds-fr-g722/demo-congrats.wav", 0.0, 5.0)], 1.0),
    ("fillets", [("clips/fillets-ng-data-cs/ending/cs/z-v-pozdrav.wav", 0.0, 4.0)], 1.0),
    ("tuxpaint", [("clips/tuxpaint-stamps-default/symbols/chess/b_4_knight_desc_el.wav", 0.0, 3.0)], 1.0),
    ("short", [("clips/qabcs-data/pl/sounds/words/ukraińska_żalejka.wav", 0.0, 1.38)], 1.0),
    # Two talkers with a second and a half of silence between them (trimmed away).
    ("gap", [("clips/asterisk-core-sounds-fr-g722/demo-congrats.wav", 5.0, 2.0), (None, 0.0, 1.5),
             ("clips/fillets-ng-data-cs/ending/cs/z-v-pozdrav.wav", 4.0, 2.0)], 1.0),
    # Quiet (-40 dB): the volume normalisation raises it.
    ("quiet", [("clips/fillets-ng-data-cs/ending/cs/z-v-pozdrav.wav", 6.0, 2.5)], 0.01),
]


def cut(cache, clips, gain):
    parts = []
    for path, start, length in clips:
        n = int(round(length * sampling_rate))
        if path is None:
            parts.append(np.zeros(n, dtype=np.int16))
            continue
        pcm, sr = sf.read(str(cache / path), dtype="int16")
        assert sr == sampling_rate
        s = int(round(start * sr))
        parts.append(pcm[s:s + n])
    pcm = np.concatenate(parts).astype(np.float64) * gain
    return np.round(pcm).clip(-32768, 32767).astype(np.int16)


def vad_flags(wav):
    """The per-30 ms voice flags trim_long_silences computes (before smoothing)."""
    import struct
    import webrtcvad
    win = 30 * sampling_rate // 1000
    wav = wav[:len(wav) - (len(wav) % win)]
    pcm = struct.pack("%dh" % len(wav), *(np.round(wav * 32767)).astype(np.int16))
    vad = webrtcvad.Vad(mode=3)
    return [bool(vad.is_speech(pcm[i * 2:(i + win) * 2], sample_rate=sampling_rate))
            for i in range(0, len(wav), win)]


def main():
    cache = Path(sys.argv[1])
    encoder = VoiceEncoder("cpu")
    out = {}
    for name, clips, gain in CASES:
        pcm = cut(cache, clips, gain)
        sf.write(str(HERE / f"{name}.wav"), pcm, sampling_rate, subtype="PCM_16")
        wav, sr = sf.read(str(HERE / f"{name}.wav"), dtype="float32")
        normalised = audio.normalize_volume(wav, audio_norm_target_dBFS, increase_only=True)
        trimmed = audio.trim_long_silences(normalised)
        embed, partials, slices = encoder.embed_utterance(trimmed, return_partials=True)
        untrimmed = encoder.embed_utterance(normalised.astype(np.float32))
        mel = audio.wav_to_mel_spectrogram(normalised.astype(np.float32))
        out[name] = {
            "samples": len(wav),
            "vad_flags": vad_flags(normalised),
            "trimmed_samples": len(trimmed),
            "mel_frames": int(mel.shape[0]),
            "mel_first_frames": mel[:12].tolist(),
            "partial_starts": [int(s.start) for s in slices],
            "partials": partials.tolist(),
            "embedding": embed.tolist(),
            "embedding_untrimmed": untrimmed.tolist(),
        }
    (HERE / "golden.json").write_text(json.dumps(out))


if __name__ == "__main__":
    main()
