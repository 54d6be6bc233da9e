"""`python -m bench encoder_variants` on 20 MTSamples chunks: it exports, encodes and prints one
row per variant, the reference first (issue 19, item 3)."""

from __future__ import annotations

from bench.encoder_variants import VARIANTS, main


def test_every_variant_gets_a_row(capsys):
    assert main(["--chunks", "20", "--block", "10", "--alone", "2"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ") and "---" not in line]
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows[1:]] == list(VARIANTS)
    assert rows[1].endswith("| reference |")
    for row in rows[1:]:
        agreement = float(row.split(" | ")[3])
        assert 0.0 <= agreement <= 1.0
