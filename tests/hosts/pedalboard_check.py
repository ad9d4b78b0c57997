"""The VST3 bundle in pedalboard, the Python host people script with.

pedalboard turns off every non-main output bus, so this is the host that once
got the input back unprocessed. Checks the parameters the plugin exposes, then
runs the demo clip through it at 44.1 and 48 kHz and asserts the main bus is
processed: it equals `cargo xtask process` of the same clip (talker 1) within
1e-3 after latency alignment, and differs from the input.

Usage: python check.py PLUGIN.vst3 XTASK DEMO_MIXTURE.wav WORK_DIR
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pedalboard
from pedalboard.io import AudioFile

TOLERANCE = 1e-3
RATES = (44100, 48000)
EXPECTED_PARAMETERS = {
    "mode": ("Separate", ["Separate", "Enhance", "Extract"]),
    "boost": (True, None),
    "mix": (100.0, None),
    "output_gain_db": (0.0, None),
    "reduction_db": (60.0, None),
    "bypass": (False, None),
}


def check_parameters(plugin):
    names = set(plugin.parameters)
    assert names == set(EXPECTED_PARAMETERS), f"parameters {sorted(names)}"
    for name, (default, values) in EXPECTED_PARAMETERS.items():
        value = getattr(plugin, name)
        assert value == default, f"{name} defaults to {value!r}, not {default!r}"
        if values is not None:
            got = list(plugin.parameters[name].valid_values)
            assert got == values, f"{name} offers {got}"
    print(f"parameters: {', '.join(sorted(names))} with their defaults")


def read(path):
    with AudioFile(str(path)) as f:
        return f.read(f.frames), f.samplerate


def best_shift(a, b, span):
    """The shift s in [-span, span] that minimises max |a[i + s] - b[i]|, and that maximum."""
    best = (None, np.inf)
    for s in range(-span, span + 1):
        if s >= 0:
            x, y = a[:, s:], b
        else:
            x, y = a, b[:, -s:]
        n = min(x.shape[1], y.shape[1])
        d = float(np.abs(x[:, :n] - y[:, :n]).max())
        if d < best[1]:
            best = (s, d)
    return best


def main():
    vst3, xtask, demo, work = sys.argv[1:5]
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    plugin = pedalboard.load_plugin(vst3)
    print(f"loaded {plugin.name} ({vst3})")
    check_parameters(plugin)

    for rate in RATES:
        with AudioFile(demo).resampled_to(rate) as f:
            clip = f.read(f.frames)
        clip_path = work / f"demo_{rate}.wav"
        with AudioFile(str(clip_path), "w", rate, 2, bit_depth=32) as f:
            f.write(clip)
        clip, _ = read(clip_path)

        out_dir = work / f"xtask_{rate}"
        subprocess.run(
            [xtask, "process", "--in", str(clip_path), "--out-dir", str(out_dir)],
            check=True,
        )
        expected, expected_rate = read(out_dir / "talker1.wav")
        assert expected_rate == rate

        plugin.reset()
        got = plugin.process(clip, float(rate))
        assert got.shape == clip.shape, f"{got.shape} vs {clip.shape}"
        assert np.isfinite(got).all(), "non-finite output"
        shift, diff = best_shift(got, expected, 64)
        from_input = float(np.abs(got - clip).max())
        print(
            f"{rate} Hz: {clip.shape[1]} frames, main bus vs xtask process talker 1: "
            f"max diff {diff:.2e} at shift {shift}; vs the input: {from_input:.3f}"
        )
        assert diff <= TOLERANCE, f"{rate} Hz: pedalboard and xtask process differ by {diff}"
        assert from_input > 0.01, f"{rate} Hz: the output is the input"
    print("pedalboard: processed audio at every rate")


if __name__ == "__main__":
    main()
