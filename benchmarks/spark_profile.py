"""Where a run's time goes, from Spark's own event log: for each step (speedrun names its jobs `speedrun <step>`
and `speedrun write <table>`; another program's jobs are grouped by the line of code that launched them), its Spark
jobs and stages, their seconds, and the rows and bytes read, written and shuffled.

    python benchmarks/spark_profile.py --rows 1000000                       # speedrun-lr, cold, on the bench's data
    python benchmarks/spark_profile.py --rows 1000000 --contender naive-medallion-lr

The bench's generated data is reused (work/bench/data/<rows>); results go to benchmarks/results/profile/ as
<contender>-<rows>.json and .md, and the table is printed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from bench import ROOT, contenders, generate_data
from measuring import measure

METRICS = {
    "input_rows": "internal.metrics.input.recordsRead",
    "input_mb": "internal.metrics.input.bytesRead",
    "output_rows": "internal.metrics.output.recordsWritten",
    "output_mb": "internal.metrics.output.bytesWritten",
    "shuffle_write_mb": "internal.metrics.shuffle.write.bytesWritten",
    "spilled_mb": "internal.metrics.diskBytesSpilled",
    "task_seconds": "internal.metrics.executorRunTime",
}
MEGABYTES = ("input_mb", "output_mb", "shuffle_write_mb", "spilled_mb")


def events(log_dir: Path) -> list[dict]:
    """The events of the one application logged in `log_dir` (a file, or a folder of rolled files)."""
    rolled = sorted(log_dir.rglob("events_*"), key=lambda p: int(p.name.split("_")[1]))
    files = rolled or [p for p in log_dir.iterdir() if p.is_file() and not p.name.startswith(".")]
    return [json.loads(line) for log in files for line in log.read_text().splitlines() if line.strip()]


def group_of(job: dict) -> str:
    """The step a job belongs to: speedrun's label, else the line of code that launched it."""
    properties = job.get("Properties") or {}
    label = properties.get("spark.job.description")
    if label:
        return label.removeprefix("speedrun ")
    stages = job.get("Stage Infos") or [{}]
    name = stages[-1].get("Stage Name", "?")
    return re.sub(r" at .*?([\w.]+\.py:\d+).*", r" at \1", name)


def profile(log: list[dict]) -> dict[str, dict]:
    """Per group: jobs, stages, seconds (the union of its jobs' spans), and the stages' metrics summed."""
    groups: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    stage_group, job_group, started = {}, {}, {}
    for event in log:
        kind = event["Event"]
        if kind == "SparkListenerJobStart":
            group = group_of(event)
            job_group[event["Job ID"]], started[event["Job ID"]] = group, event["Submission Time"]
            stage_group.update({s: group for s in event["Stage IDs"]})
            groups[group]["jobs"] += 1
        elif kind == "SparkListenerJobEnd" and event["Job ID"] in job_group:
            spans[job_group[event["Job ID"]]].append((started[event["Job ID"]], event["Completion Time"]))
        elif kind == "SparkListenerStageCompleted":
            info = event["Stage Info"]
            group = stage_group.get(info["Stage ID"], "?")
            groups[group]["stages"] += 1
            values = {a["Name"]: float(a.get("Value", 0)) for a in info.get("Accumulables", [])}
            for key, name in METRICS.items():
                groups[group][key] += values.get(name, 0.0)
    for group, values in groups.items():
        values["seconds"] = union_seconds(spans[group])
        values["task_seconds"] /= 1000
        for key in MEGABYTES:
            values[key] /= 2**20
    return {g: {k: round(v, 1) for k, v in values.items()} for g, values in groups.items()}


def union_seconds(spans: list[tuple[int, int]]) -> float:
    total, end = 0, 0
    for start, stop in sorted(spans):
        total += max(0, stop - max(start, end))
        end = max(end, stop)
    return total / 1000


def table(rows: dict[str, dict]) -> str:
    columns = ["jobs", "stages", "seconds", "task_seconds", *[k for k in METRICS if k != "task_seconds"]]
    lines = ["| step | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for group, values in rows.items():
        lines.append(
            f"| {group} | " + " | ".join(f"{values.get(c, 0):,.1f}".removesuffix(".0") for c in columns) + " |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--contender", default="speedrun-lr")
    parser.add_argument("--data", default=str(ROOT / "work/bench/data"))
    parser.add_argument("--results", default=str(ROOT / "benchmarks/results/profile"))
    args = parser.parse_args()
    data = Path(args.data)
    generate_data([args.rows], data)
    with tempfile.TemporaryDirectory(prefix="speedrun-profile-") as tmp:
        conf, log_dir, work = Path(tmp) / "conf", Path(tmp) / "events", Path(tmp) / "work"
        for folder in (conf, log_dir):
            folder.mkdir()
        # read by every JVM pyspark or spark-submit starts
        (conf / "spark-defaults.conf").write_text(
            f"spark.eventLog.enabled true\nspark.eventLog.compress false\nspark.eventLog.dir {log_dir}\n"
        )
        command = contenders(str(data / str(args.rows) / "train"), str(data / str(args.rows) / "test"), str(work))
        result = measure(["env", f"SPARK_CONF_DIR={conf}", *command[args.contender]], 3600)
        if result["status"] != "ok":
            sys.exit(f"profile: {args.contender} {result['status']}: {result.get('error')}")
        rows = profile(events(log_dir))
    report = {"contender": args.contender, "rows": args.rows, "run": result, "groups": rows}
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.contender}-{args.rows}.json").write_text(json.dumps(report, indent=2))
    text = f"{args.contender} on {args.rows:,} rows: {result['seconds']} s, peak {result['peak_memory_mb']} MB\n\n"
    text += table(rows)
    (out / f"{args.contender}-{args.rows}.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
