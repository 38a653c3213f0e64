# One sitting of issue 13's goals: the plain-Rust ceiling (shared/anchors/heap_limit),
# scalelab through its CLI and SimPy, measured one after the other, printed as a table with
# the ratios. Usage, from the repository root after `cargo build --release`:
#
#   python3 benches/sitting.py [--baseline OTHER_BINARY] [--scenarios]
#
# --baseline runs a second scalelab binary (say, the one before a change) in the same
# sitting; --scenarios adds every shipped scenario's simulated requests per wall second.
# The ceiling is built from ../shared/anchors/heap_limit into $TMPDIR (or taken from
# $HEAP_LIMIT); SimPy is skipped when `import simpy` fails (pip install simpy).
# Events per second follow heap_limit's convention: 2 events per customer per station.
import glob, json, os, statistics, subprocess, sys

BIN = os.environ.get("SCALELAB", "target/release/scalelab")
TMP = os.environ.get("TMPDIR", "/tmp")
ANCHORS = os.path.join("..", "shared", "anchors")
WORKLOADS = [  # (bench file, heap_limit's name, SimPy's name, stations)
    ("mm1", "mm1", "mm1", 1),
    ("mm8", "mmc", "mmc", 1),
    ("tandem", "tandem", "tandem", 3),
]


def ceiling():
    """heap_limit's events/s per workload (its --quick run)."""
    exe = os.environ.get("HEAP_LIMIT")
    if not exe:
        src = os.path.join(ANCHORS, "heap_limit")
        dst = os.path.join(TMP, "scalelab-heap-limit")
        if not os.path.isdir(dst):
            subprocess.run(["cp", "-r", src, dst], check=True)
        subprocess.run(["cargo", "build", "--release", "-q"], cwd=dst, check=True)
        exe = os.path.join(dst, "target", "release", "heap_limit")
    out = subprocess.run([exe, "--quick"], capture_output=True, text=True, check=True).stdout
    rates = {}
    for line in out.splitlines():
        r = json.loads(line)
        if r.get("bench") == "des":
            rates[r["workload"]] = r["median_events_per_s_convention_2_per_station"]
    return rates


def scalelab(binary, bench, stations, reps=3):
    """Median events/s of `reps` runs of benches/<bench>.ron through the CLI."""
    rates = []
    for _ in range(reps):
        p = subprocess.run([binary, "run", f"benches/{bench}.ron", "--json", "--wall-time"],
                           capture_output=True, text=True, check=True)
        r = json.loads(p.stdout)
        rates.append(2 * stations * r["summary"]["requests"] / r["wall_seconds"])
    return statistics.median(rates)


def simpy(workload):
    p = subprocess.run([sys.executable, "simpy_bench.py", "--workload", workload,
                        "--customers", "200000", "--seed", "1"],
                       cwd=ANCHORS, capture_output=True, text=True)
    if p.returncode != 0:
        return None
    return json.loads(p.stdout)["events_per_s"]


def main():
    args = sys.argv[1:]
    baseline = args[args.index("--baseline") + 1] if "--baseline" in args else None
    have_simpy = subprocess.run([sys.executable, "-c", "import simpy"],
                                capture_output=True).returncode == 0
    ceil = ceiling()
    print("| workload | ceiling (events/s) | scalelab (events/s) | ratio |"
          + (" baseline (ratio) |" if baseline else "") + " SimPy (events/s) | × SimPy |")
    print("| --- | --- | --- | --- |" + (" --- |" if baseline else "") + " --- | --- |")
    for bench, hl, sp, stations in WORKLOADS:
        c = ceil[hl]
        s = scalelab(BIN, bench, stations)
        row = f"| {bench} | {c / 1e6:.2f} M | {s / 1e6:.2f} M | {s / c:.2f} |"
        if baseline:
            b = scalelab(baseline, bench, stations)
            row += f" {b / 1e6:.2f} M ({b / c:.2f}) |"
        y = simpy(sp) if have_simpy else None
        row += f" {y / 1e3:.0f} k | {s / y:.0f}× |" if y else " (no simpy) | — |"
        print(row, flush=True)
    for b in [BIN] + ([baseline] if baseline else []):
        rates = []
        for _ in range(3):
            p = subprocess.run([b, "run", "--duration", "30m", "--json", "--wall-time"],
                               capture_output=True, text=True, check=True)
            r = json.loads(p.stdout)
            rates.append(r["summary"]["requests"] / r["wall_seconds"])
        print(f"default scenario ({b}): {statistics.median(rates) / 1e6:.2f} M requests/s")
    if "--scenarios" in args:
        print("scenario: M requests/s, M completed/s, events a request (best of 2)")
        for f in sorted(glob.glob("scenarios/*.ron")):
            name = os.path.basename(f)[:-4]
            best = None
            for _ in range(2):
                p = subprocess.run([BIN, "run", f, "--json", "--wall-time"],
                                   capture_output=True, text=True)
                if not p.stdout.strip():  # no report: the run failed before it began
                    print(f"{name} FAILED: {p.stderr.strip()[-300:]}", flush=True)
                    break
                r = json.loads(p.stdout)
                s, w = r["summary"], r["wall_seconds"]
                row = (s["requests"] / w / 1e6, s["completed"] / w / 1e6,
                       r["events"] / max(s["requests"], 1))
                best = row if best is None or row > best else best
            if best:
                print(f"{name} {best[0]:.2f} / {best[1]:.2f} / {best[2]:.1f}", flush=True)


if __name__ == "__main__":
    main()
