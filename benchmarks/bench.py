"""`make bench`: speedrun against a naive PySpark script and scikit-learn, each timed as a whole process.

For each size, on the same generated data (training files of N rows, a test file of N/4 rows, generated once
per size by speedrun's generator and kept under work/bench/data), the contenders run in turn:

  speedrun-lr      `speedrun --no-server run`: cold, in a Spark session of its own (JVM start, Delta tables,
                   MLflow tracking and registry included)
  speedrun-lr-first  `speedrun run` with no speedrun server running: it starts one and runs in it
  speedrun-lr-warm   `speedrun run` again, warm in that server (the bench's own server folder): the raw files
                   and the config unchanged, every step is up to date (the earlier run's metrics are printed)
  speedrun-lr-warm-fresh  `speedrun run --fresh` in that server: every step done again, warm
  naive-spark-lr   benchmarks/naive_spark.py: default SparkSession and ML parameters
  naive-medallion-lr  benchmarks/naive_medallion.py: what a Databricks engineer writes by hand (bronze and silver
                   Delta tables, the same pipeline, Spark's evaluator, the model logged to MLflow)
  sklearn-lr       benchmarks/sklearn_baseline.py: pandas + scikit-learn
  speedrun-trees   `speedrun run` with the gradient-boosted trees
  naive-spark-trees  the naive script with Spark's gradient-boosted trees
  naive-medallion-trees  the medallion notebook with Spark's gradient-boosted trees
  sklearn-hgb      HistGradientBoostingClassifier
  speedrun-xgb     `speedrun run` with xgboost (model.type xgboost, its defaults)

  speedrun-xgb-warm  `speedrun run` with xgboost in that server, on the tables speedrun-lr-first made: another
                   model on the same files (ingest and prepare up to date), trained and evaluated warm
  speedrun-lr-retrain  the data scientist's loop: `speedrun run` in that server on the tables speedrun-lr-first
                   made, one model key changed each time (`model.reg_param`, RETRAIN_VALUES): silver up to date,
                   split, train and evaluate done again; each run timed, the median kept (`runs` holds them all)

Each is measured for wall time, peak memory (proportional set size, PSS, of the process and all its children,
sampled: a page shared by forked Python workers counts once, not once per worker, for every contender alike)
and test AUC. Results: benchmarks/results/bench.json, bench.md (the table) and bench.png (time vs rows,
log-log); the table is printed too.

    python benchmarks/bench.py --sizes 10000,100000 --repeats 1
    python benchmarks/bench.py --report-only      # table and plot again from bench.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import psutil
from measuring import SERVER_DIR, measure, stop_server

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WARM_UP_ROWS = 10_000  # the warm-up's size, whatever sizes are measured: its one-time work does not grow with rows
# run in the server the one before them started
WARM_CONTENDERS = ("speedrun-lr-warm", "speedrun-lr-warm-fresh", "speedrun-xgb-warm", "speedrun-lr-retrain")
RETRAIN_VALUES = (0.001, 0.003, 0.01, 0.03, 0.1)  # speedrun-lr-retrain's `model.reg_param`, one per run


def contenders(train: str, test: str, work: str) -> dict[str, list[str]]:
    def speedrun(
        model: str, mode: str = "--no-server", *options: str, work_of: str | None = None, key: str | None = None
    ) -> list[str]:
        folder = f"{work}/{work_of or model}{mode}"  # `work_of`: the tables another contender made
        sets = [f"storage.work_dir={folder}", f"source.path={train}", f"test_source.path={test}"]
        # the trees on the same footing as the naive script's: Spark's default 20 boosting rounds (speedrun's own
        # default is 50)
        sets.append("model={type: gbt, max_iter: 20}" if model == "gbt" else f"model={{type: {model}}}")
        sets += [key] if key else []  # one more model key
        command = [str(BIN / "speedrun"), *([mode] if mode == "--no-server" else []), "run", *options]
        return [
            "env",
            f"SPEEDRUN_SERVER_DIR={SERVER_DIR}",
            *command,
            "--config",
            str(ROOT / "benchmarks/bench.yml"),
            *[arg for s in sets for arg in ("--set", s)],
        ]

    baseline = [sys.executable, str(ROOT / "benchmarks/sklearn_baseline.py"), train, test]
    naive = [sys.executable, str(ROOT / "benchmarks/naive_spark.py"), train, test]
    medallion = [sys.executable, str(ROOT / "benchmarks/naive_medallion.py"), train, test]
    return {
        "speedrun-lr": speedrun("logistic_regression"),
        "speedrun-lr-first": speedrun("logistic_regression", "server"),
        "speedrun-lr-warm": speedrun("logistic_regression", "server"),
        "speedrun-lr-warm-fresh": speedrun("logistic_regression", "server", "--fresh"),
        "speedrun-xgb-warm": speedrun("xgboost", "server", work_of="logistic_regression"),
        **{
            f"speedrun-lr-retrain:{value}": speedrun("logistic_regression", "server", key=f"model.reg_param={value}")
            for value in RETRAIN_VALUES
        },
        "naive-spark-lr": naive,
        "naive-medallion-lr": medallion,
        "sklearn-lr": baseline,
        "speedrun-trees": speedrun("gbt"),
        "naive-spark-trees": [*naive, "--model", "gbt"],
        "naive-medallion-trees": [*medallion, "--model", "gbt"],
        "sklearn-hgb": [*baseline, "--model", "hist_gbt"],
        "speedrun-xgb": speedrun("xgboost"),
    }


def generate_data(sizes: list[int], data: Path) -> None:
    """Training files of N rows (seed 7) and a test file of N/4 rows (seed 11) per size, made once."""
    missing = [n for n in sizes if not (data / str(n) / "test" / "_SUCCESS").exists()]
    if not missing:
        return
    from speedrun.edges.raw import generate
    from speedrun.edges.session import get_spark

    spark = get_spark("speedrun-bench-data")
    for n in missing:
        print(f"generating {n:,} + {n // 4:,} rows -> {data / str(n)}", file=sys.stderr, flush=True)
        generate(spark, n, 7, str(data / str(n) / "train"))
        generate(spark, n // 4, 11, str(data / str(n) / "test"))
    spark.stop()


def grouped(commands: dict[str, list[str]]) -> dict[str, list[list[str]]]:
    """Each contender's commands: one, or for a contender of several runs (`name:value`), one per value."""
    groups: dict[str, list[list[str]]] = {}
    for name, command in commands.items():
        groups.setdefault(name.split(":")[0], []).append(command)
    return groups


def median_run(runs: list[dict]) -> dict:
    """The median run (by seconds); with the seconds of every run when there were several."""
    median = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    return {**median, "runs": [r["seconds"] for r in runs]} if len(runs) > 1 else median


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def warm_up(data: Path) -> None:
    """One untimed `speedrun run` first, so that one-time work of a machine's first run (resolving the Delta
    jars into the Ivy cache, writing the JVM's class-data archive) is not counted against any size."""
    print("[bench] warm-up run (not timed)", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="speedrun-bench-") as work:
        result = measure(contenders(str(data / "train"), str(data / "test"), work)["speedrun-lr"], 1800)
    if result["status"] != "ok":
        sys.exit(f"bench: the warm-up run of speedrun failed: {result.get('error')}")
    time.sleep(25)  # a class-data archive written at the JVM's exit is adopted once it has settled (jvm_cache)


def ratios(results: dict[str, dict]) -> dict[str, float]:
    def seconds(name: str) -> float | None:
        r = results.get(name, {})
        return r["seconds"] if r.get("status") == "ok" else None

    pairs = {
        "naive_spark_lr / speedrun_lr": ("naive-spark-lr", "speedrun-lr"),
        "naive_medallion_lr / speedrun_lr": ("naive-medallion-lr", "speedrun-lr"),
        "naive_medallion_trees / speedrun_trees": ("naive-medallion-trees", "speedrun-trees"),
        "naive_spark_lr / speedrun_lr_warm": ("naive-spark-lr", "speedrun-lr-warm"),
        "naive_spark_lr / speedrun_lr_warm_fresh": ("naive-spark-lr", "speedrun-lr-warm-fresh"),
        "speedrun_lr_first / speedrun_lr": ("speedrun-lr-first", "speedrun-lr"),
        "naive_spark_trees / speedrun_trees": ("naive-spark-trees", "speedrun-trees"),
        "speedrun_lr / sklearn_lr": ("speedrun-lr", "sklearn-lr"),
        "speedrun_trees / sklearn_hgb": ("speedrun-trees", "sklearn-hgb"),
        "speedrun_xgb / sklearn_hgb": ("speedrun-xgb", "sklearn-hgb"),
        "speedrun_xgb_warm / sklearn_hgb": ("speedrun-xgb-warm", "sklearn-hgb"),
        "naive_spark_lr / speedrun_lr_retrain": ("naive-spark-lr", "speedrun-lr-retrain"),
        "speedrun_lr_retrain / sklearn_lr": ("speedrun-lr-retrain", "sklearn-lr"),
    }
    out = {}
    for label, (a, b) in pairs.items():
        if seconds(a) and seconds(b):
            out[label] = round(seconds(a) / seconds(b), 2)
    return out


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    names = sorted({name for size in report["sizes"].values() for name in size["results"]})
    for name in names:
        points = [
            (int(n), size["results"][name]["seconds"])
            for n, size in report["sizes"].items()
            if size["results"].get(name, {}).get("status") == "ok"
        ]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training rows")
    ax.set_ylabel("wall time, whole process (s)")
    ax.set_title(f"speedrun vs naive PySpark vs scikit-learn ({report['machine']['cores']} cores)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def table(report: dict) -> str:
    """The results as a Markdown table, then the ratios and speedrun's time per step."""
    lines = ["| rows | contender | seconds | peak memory (MB) | test AUC |", "|---:|---|---:|---:|---:|"]
    for n, size in report["sizes"].items():
        for name, r in size["results"].items():
            auc = f"{r['auc']:.4f}" if r.get("auc") is not None else r["status"]
            lines.append(f"| {int(n):,} | {name} | {r['seconds']:.1f} | {r.get('peak_memory_mb', '')} | {auc} |")
    lines.append("")
    for n, size in report["sizes"].items():
        ratios_text = ", ".join(f"{label} = {value:.2f}" for label, value in size["ratios"].items())
        lines.append(f"- {int(n):,} rows: {ratios_text}")
        shown = ("speedrun-lr", "speedrun-lr-warm", "speedrun-lr-warm-fresh", "speedrun-lr-retrain", "speedrun-trees")
        for name in (*shown, "speedrun-xgb"):
            steps = size["results"].get(name, {}).get("steps")
            jobs = size["results"].get(name, {}).get("spark_jobs", {})
            if steps:
                r = size["results"][name]
                lines.append(
                    f"  - {name} steps (s, Spark jobs): "
                    + ", ".join(f"{k} {v:.1f}" + (f" ({jobs[k]})" if k in jobs else "") for k, v in steps.items())
                    + (f"; waited at the end {r['waited']:.1f}" if "waited" in r else "")
                    + (f"; outside the steps {r['outside_steps']:.1f}" if "outside_steps" in r else "")
                    + (f"; every run: {', '.join(f'{x:.1f}' for x in r['runs'])}" if "runs" in r else "")
                )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000,10000000", help="comma-separated row counts")
    parser.add_argument("--repeats", type=int, default=1, help="runs per contender and size (the median is kept)")
    parser.add_argument("--only", help="comma-separated contenders to run (default: all)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before a contender is stopped")
    parser.add_argument("--data", default=str(ROOT / "work/bench/data"), help="folder for the generated data")
    parser.add_argument("--results", default=str(ROOT / "benchmarks/results"), help="folder for JSON, table, plot")
    parser.add_argument("--report-only", action="store_true", help="only redo table and plot from the JSON")
    parser.add_argument(
        "--pause",
        type=float,
        default=0.0,
        help="seconds between the runs of speedrun-lr-retrain, as a user reads the metrics and changes a key "
        "(default 0: back to back, each run waiting for what the server finishes of the one before)",
    )
    args = parser.parse_args()
    out = Path(args.results).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if args.report_only:
        publish(json.loads((out / "bench.json").read_text()), out)
        return
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    generate_data(sorted({*sizes, WARM_UP_ROWS}), Path(args.data).resolve())
    machine = {
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30),
        "python": platform.python_version(),
        "cpu": cpu_model(),
    }
    report = {"machine": machine, "sizes": {}}
    previous = out / "bench.json"
    if previous.exists() and json.loads(previous.read_text()).get("machine") == machine:
        report = json.loads(previous.read_text())  # sizes not run now keep their last results
    warm_up(Path(args.data).resolve() / str(WARM_UP_ROWS))
    for n in sizes:
        data = Path(args.data).resolve() / str(n)
        with tempfile.TemporaryDirectory(prefix="speedrun-bench-") as work:
            commands = grouped(contenders(str(data / "train"), str(data / "test"), work))
            chosen = args.only.split(",") if args.only else list(commands)
            runs: dict[str, list[dict]] = {name: [] for name in chosen}
            for repeat in range(args.repeats):
                for name in chosen:  # alternating: every contender once before any runs again
                    if name not in WARM_CONTENDERS:  # each measured alone: no server of an earlier one beside it
                        stop_server()
                    for number, command in enumerate(commands[name], 1):
                        print(
                            f"[bench] {n:>10,} rows  {name:<15} run {repeat + 1}/{args.repeats}"
                            + (f", {number}/{len(commands[name])}" if len(commands[name]) > 1 else ""),
                            file=sys.stderr,
                            flush=True,
                        )
                        if number > 1:
                            time.sleep(args.pause)
                        result = measure(command, args.timeout)
                        print(
                            f"[bench] {'':>10}       {name:<15} {result['status']} in {result['seconds']:.1f}s",
                            file=sys.stderr,
                            flush=True,
                        )
                        runs[name].append(result)
            stop_server()  # once it has finished the last run's work in this folder, before the folder goes
        results = {name: median_run(rs) for name, rs in runs.items()}
        report["sizes"][str(n)] = {"results": results, "ratios": ratios(results)}
        report["sizes"] = dict(sorted(report["sizes"].items(), key=lambda item: int(item[0])))
        (out / "bench.json").write_text(json.dumps(report, indent=2))
    stop_server()
    publish(report, out)


def publish(report: dict, out: Path) -> None:
    plot(report, out / "bench.png")
    (out / "bench.md").write_text(table(report))
    print(table(report))
    print(f"results: {out / 'bench.json'}, {out / 'bench.md'}\nplot:    {out / 'bench.png'}")


if __name__ == "__main__":
    main()
