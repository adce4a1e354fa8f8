"""results.csv, summary.md and the plots from given rows: the numbers checked against scipy."""

from __future__ import annotations

import csv
import math

import numpy as np
from scipy.stats import wilcoxon

from bci.benchmark_plots import plot_pipeline_pairs, plot_subject_accuracy
from bci.benchmark_results import (
    COLUMNS,
    paired_comparisons,
    pipeline_table,
    result_row,
    summary_markdown,
    write_results_csv,
)

A = [0.81, 0.69, 0.75, 0.92, 0.55, 0.70]
B = [0.50, 0.47, 0.71, 0.80, 0.31, 0.70]
C = [0.60, 0.62, 0.59, 0.83, 0.41, 0.64]


def _rows(failed_subject: str | None = None) -> list[dict]:
    rows = []
    for i in range(6):
        s = f"subject{i + 1:02d}"
        for name, acc in (("a", A), ("b", B), ("c", C)):
            if s == failed_subject and name == "c":
                rows.append(result_row(s, name, "id", {"status": "failed", "error": "E: bad"}))
                continue
            result = {
                "status": "ok",
                "accuracy": acc[i],
                "accuracy_std": 0.05,
                "kappa": (acc[i] - 0.25) / 0.75,
                "chance_level": 0.25,
                "significance_threshold": 0.34375,
                "above_chance": acc[i] > 0.34375,
                "n_epochs": 64,
                "fit_seconds": 0.1,
                "predict_ms_per_epoch": 1.0,
                "host": "h",
                "wall_seconds": 1.0,
                "pseudo_online": {"accuracy": 0.5},
            }
            rows.append(result_row(s, name, f"id{i}{name}", result))
    rows.append(result_row("subject07", "a", "idx", None))
    return rows


def test_pipeline_table_counts_and_medians():
    table = {t["pipeline"]: t for t in pipeline_table(_rows("subject05"), ["a", "b", "c"])}
    assert table["a"]["subjects"] == 6 and math.isclose(table["a"]["mean"], np.mean(A))
    assert math.isclose(table["a"]["median"], np.median(A))
    assert table["b"]["above_chance"] == 5  # 0.31 is below the threshold
    assert table["c"]["subjects"] == 5 and table["c"]["failed"] == 1
    assert math.isclose(table["c"]["mean"], np.mean([v for i, v in enumerate(C) if i != 4]))


def test_paired_comparisons_are_scipy_wilcoxon_over_shared_subjects():
    pairs = {(c["a"], c["b"]): c for c in paired_comparisons(_rows("subject05"), ["a", "b", "c"])}
    assert set(pairs) == {("a", "b"), ("a", "c"), ("b", "c")}
    ab = pairs[("a", "b")]
    ref = wilcoxon(A, B)
    assert math.isclose(ab["p"], ref.pvalue) and math.isclose(ab["statistic"], ref.statistic)
    assert (ab["n"], ab["a_better"], ab["b_better"], ab["ties"]) == (6, 5, 0, 1)
    ac = pairs[("a", "c")]  # subject05 failed for c: left out of the pair
    keep = [0, 1, 2, 3, 5]
    assert ac["n"] == 5
    assert math.isclose(ac["p"], wilcoxon([A[i] for i in keep], [C[i] for i in keep]).pvalue)
    same = paired_comparisons(_rows(), ["a", "a"])
    assert same[0]["p"] == 1.0 and same[0]["ties"] == 6


def test_summary_and_csv_have_every_column_and_the_failures(tmp_path):
    rows = _rows("subject05")
    text = summary_markdown(rows, ["a", "b", "c"], title="Benchmark: toy")
    assert text.startswith("# Benchmark: toy")
    assert "7 subjects x 3 pipelines = 19 tasks: 17 finished, 1 failed, 1 not run." in text
    assert f"| a | 6 | {np.mean(A):.3f} |" in text
    assert "| c | 5 (1 failed) |" in text
    assert f"{wilcoxon(A, B).pvalue:.4f}" in text
    assert "- subject05 / c: E: bad" in text

    path = write_results_csv(rows, tmp_path / "results.csv")
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        got = list(reader)
    assert tuple(reader.fieldnames) == COLUMNS
    required = {"subject", "pipeline", "accuracy", "accuracy_std", "kappa", "chance_level",
                "significance_threshold", "above_chance", "n_epochs", "fit_seconds",
                "predict_ms_per_epoch", "host", "wall_seconds", "status", "error"}  # fmt: skip
    assert required <= set(COLUMNS)
    assert len(got) == 19
    assert float(got[0]["accuracy"]) == A[0] and got[0]["pseudo_online_accuracy"] == "0.5"
    assert [r["status"] for r in got].count("not run") == 1
    assert next(r for r in got if r["status"] == "failed")["error"] == "E: bad"


def test_plots_are_written(tmp_path):
    rows = _rows("subject05")
    strip = plot_subject_accuracy(rows, ["a", "b", "c"], tmp_path / "strip.png")
    pairs = plot_pipeline_pairs(rows, ["a", "b", "c"], tmp_path / "pairs.png")
    for p in (strip, pairs):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000
    assert plot_pipeline_pairs(rows, ["a"], tmp_path / "none.png") is None
