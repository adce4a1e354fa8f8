"""The benchmark's outputs a person reads: ``results.csv`` and ``summary.md``.

One row per (subject, pipeline), in the benchmark file's order; ``summary.md`` has a
table per pipeline (mean, median, subjects above chance) and a paired comparison of every
two pipelines over the subjects both finished: the Wilcoxon signed-rank test, as MOABB
reports it (two-sided, uncorrected for the number of pairs).
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: Columns of results.csv, in order.
COLUMNS = (
    "subject",
    "pipeline",
    "status",
    "accuracy",
    "accuracy_std",
    "kappa",
    "chance_level",
    "significance_threshold",
    "above_chance",
    "n_epochs",
    "n_folds",
    "pooled_accuracy",
    "pseudo_online_accuracy",
    "fit_seconds",
    "predict_ms_per_epoch",
    "host",
    "wall_seconds",
    "task_id",
    "error",
)

#: Columns that depend on where and when a task ran, not on what it computed.
RUN_COLUMNS = ("fit_seconds", "predict_ms_per_epoch", "host", "wall_seconds")


def result_row(subject: str, pipeline: str, task_id: str, result: dict | None) -> dict:
    """One results.csv row; ``result`` None means the task has not run (yet)."""
    row = dict.fromkeys(COLUMNS, "")
    row.update(subject=subject, pipeline=pipeline, task_id=task_id, status="not run")
    if result is None:
        return row
    for key in COLUMNS:
        if key in result and result[key] is not None and key not in ("subject", "pipeline"):
            row[key] = result[key]
    online = result.get("pseudo_online")
    if isinstance(online, dict):
        row["pseudo_online_accuracy"] = online.get("accuracy", "")
    return row


def _cell(value: object) -> str:
    # repr-exact floats: two engines that computed the same numbers write the same file.
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_results_csv(rows: Sequence[dict], path: str | Path) -> Path:
    """Write ``rows`` (from :func:`result_row`) as CSV with :data:`COLUMNS`."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for row in rows:
        w.writerow([_cell(row.get(c, "")) for c in COLUMNS])
    out = Path(path)
    _atomic_write(out, buf.getvalue())
    return out


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _ok(rows: Sequence[dict]) -> list[dict]:
    return [r for r in rows if r["status"] == "ok"]


def pipeline_table(rows: Sequence[dict], pipelines: Sequence[str]) -> list[dict]:
    """Per pipeline over its finished subjects: mean, std, median, min, max, above chance."""
    out = []
    for name in pipelines:
        ok = [r for r in _ok(rows) if r["pipeline"] == name]
        acc = np.asarray([float(r["accuracy"]) for r in ok])
        n = acc.size
        out.append(
            {
                "pipeline": name,
                "subjects": n,
                "failed": sum(1 for r in rows if r["pipeline"] == name and r["status"] == "failed"),
                "mean": float(acc.mean()) if n else math.nan,
                "std": float(acc.std()) if n else math.nan,
                "median": float(np.median(acc)) if n else math.nan,
                "min": float(acc.min()) if n else math.nan,
                "max": float(acc.max()) if n else math.nan,
                "above_chance": sum(1 for r in ok if r["above_chance"] is True),
                "kappa": float(np.mean([float(r["kappa"]) for r in ok])) if n else math.nan,
                "fit_seconds": float(np.mean([float(r["fit_seconds"]) for r in ok]))
                if n
                else math.nan,
            }
        )
    return out


def paired_comparisons(rows: Sequence[dict], pipelines: Sequence[str]) -> list[dict]:
    """Every pair of pipelines over the subjects both finished: Wilcoxon signed-rank test.

    ``p`` is the two-sided p-value of :func:`scipy.stats.wilcoxon` on the paired
    accuracies (``nan`` when fewer than 2 subjects are shared, ``1.0`` when the two
    pipelines scored every shared subject the same).
    """
    from scipy.stats import wilcoxon  # heavy to import; only the summary needs it

    acc = {(r["subject"], r["pipeline"]): float(r["accuracy"]) for r in _ok(rows)}
    subjects = list(dict.fromkeys(r["subject"] for r in rows))
    out = []
    for i, a in enumerate(pipelines):
        for b in pipelines[i + 1 :]:
            both = [s for s in subjects if (s, a) in acc and (s, b) in acc]
            xa = np.asarray([acc[(s, a)] for s in both])
            xb = np.asarray([acc[(s, b)] for s in both])
            d = xa - xb
            stat, p = math.nan, math.nan
            if len(both) >= 2 and np.all(d == 0):
                stat, p = 0.0, 1.0
            elif len(both) >= 2:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # small-sample notes, not errors
                    res = wilcoxon(xa, xb)
                stat, p = float(res.statistic), float(res.pvalue)
            out.append(
                {
                    "a": a,
                    "b": b,
                    "n": len(both),
                    "mean_difference": float(d.mean()) if d.size else math.nan,
                    "a_better": int(np.sum(d > 0)),
                    "b_better": int(np.sum(d < 0)),
                    "ties": int(np.sum(d == 0)),
                    "statistic": stat,
                    "p": p,
                }
            )
    return out


def _f(v: float, digits: int = 3) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def summary_markdown(
    rows: Sequence[dict], pipelines: Sequence[str], *, title: str, details: Sequence[str] = ()
) -> str:
    """The text of summary.md."""
    n_subjects = len(dict.fromkeys(r["subject"] for r in rows))
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("ok", "failed", "not run")}
    lines = [f"# {title}", ""]
    lines.append(
        f"{n_subjects} subjects x {len(pipelines)} pipelines = {len(rows)} tasks: "
        f"{counts['ok']} finished, {counts['failed']} failed, {counts['not run']} not run."
    )
    lines.extend(details)
    lines += ["", "## Accuracy per pipeline (over subjects)", ""]
    lines.append(
        "| pipeline | subjects | mean | std | median | min | max | above chance | "
        "mean kappa | fit s/fold |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t in pipeline_table(rows, pipelines):
        failed = f" ({t['failed']} failed)" if t["failed"] else ""
        lines.append(
            f"| {t['pipeline']} | {t['subjects']}{failed} | {_f(t['mean'])} | {_f(t['std'])} | "
            f"{_f(t['median'])} | {_f(t['min'])} | {_f(t['max'])} | "
            f"{t['above_chance']}/{t['subjects']} | {_f(t['kappa'])} | {_f(t['fit_seconds'])} |"
        )
    pairs = paired_comparisons(rows, pipelines)
    if pairs:
        lines += ["", "## Paired comparison (Wilcoxon signed-rank over subjects)", ""]
        lines.append(
            "Two-sided, on the subjects both pipelines finished; not corrected for the "
            "number of pairs. Difference = A - B."
        )
        lines.append("")
        lines.append("| A | B | subjects | mean difference | A better | B better | W | p |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|")
        for c in pairs:
            lines.append(
                f"| {c['a']} | {c['b']} | {c['n']} | {_f(c['mean_difference'])} | "
                f"{c['a_better']} | {c['b_better']} | {_f(c['statistic'], 1)} | {_f(c['p'], 4)} |"
            )
    failed = [r for r in rows if r["status"] == "failed"]
    if failed:
        lines += ["", "## Failed tasks", ""]
        for r in failed:
            lines.append(f"- {r['subject']} / {r['pipeline']}: {r['error']}")
    return "\n".join(lines) + "\n"


def write_summary(
    rows: Sequence[dict],
    pipelines: Sequence[str],
    path: str | Path,
    *,
    title: str,
    details: Sequence[str] = (),
) -> Path:
    """Write :func:`summary_markdown` to ``path``."""
    out = Path(path)
    _atomic_write(out, summary_markdown(rows, pipelines, title=title, details=details))
    return out
