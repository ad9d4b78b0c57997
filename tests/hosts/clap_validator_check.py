"""Reads clap-validator's JSON report: no test failed, warned or crashed, and
every skip is one the README names, with the validator's own reason.

Usage: python3 clap_validator_check.py REPORT.json
"""

import json
import sys

# Skipped tests and why (the README's "Hosts and validators" table says the same).
EXPECTED_SKIPS = {
    "preset-discovery-crawl": "preset-discovery-factory",
    "preset-discovery-descriptor-consistency": "preset-discovery-factory",
    "preset-discovery-load": "preset-discovery-factory",
    "process-audio-double-out-of-place": "64-bit floating point audio",
    "process-audio-double-in-place": "64-bit floating point audio",
    "process-note-out-of-place-basic": "'note-ports' extension",
    "process-note-inconsistent": "'note-ports' extension",
    "process-note-wildcard": "'note-ports' extension",
    "layout-audio-ports-activation": "'audio-ports-activation' extension",
    "layout-configurable-audio-ports": "'configurable-audio-ports' extension",
}


def main():
    with open(sys.argv[1]) as f:
        results = json.load(f)["results"]
    counts = {}
    skipped = {}
    bad = []
    for r in results:
        (test,) = r["test"].values()
        code = r["status"]["code"]
        counts[code] = counts.get(code, 0) + 1
        if code == "skipped":
            skipped[test["test"]] = r["status"]["details"] or ""
        elif code != "success":
            bad.append(f"{test['test']}: {code}: {r['status']['details']}")
    print(f"clap-validator: {len(results)} tests, " + ", ".join(f"{n} {c}" for c, n in sorted(counts.items())))
    assert not bad, "\n".join(bad)
    assert set(skipped) == set(EXPECTED_SKIPS), f"skipped {sorted(skipped)}"
    for name, reason in EXPECTED_SKIPS.items():
        assert reason in skipped[name], f"{name} skipped because: {skipped[name]}"
    assert counts.get("success", 0) >= 34, "fewer tests passed than before"


if __name__ == "__main__":
    main()
