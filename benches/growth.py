# How cost grows with the work (issue 13): generates each workload as a RON file, runs
# it through the CLI (`run --json --wall-time` under /usr/bin/time) and prints requests
# and events per wall second and peak RSS. Usage, from the repository root after
# `cargo build --release`:  python3 benches/growth.py nodes|instances ALGS|inflight|cache
# (ALGS: comma-separated balancer algorithms, e.g. RoundRobin,LeastConnections).
import json, subprocess, sys, os
BIN = os.environ.get("SCALELAB", "target/release/scalelab")
def run(name, text, reps=2):
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"growth-{name.replace(' ', '-')}.ron")
    open(path, "w").write(text)
    best = None
    for _ in range(reps):
        p = subprocess.run(["/usr/bin/time", "-f", "%M", BIN, "run", path, "--json", "--wall-time"],
                           capture_output=True, text=True)
        if p.returncode != 0:
            print(name, "FAILED", p.stderr[-400:]); return
        r = json.loads(p.stdout)
        rss = int(p.stderr.strip().splitlines()[-1]) / 1024
        ev = r.get("events") or 0
        req = r["summary"]["requests"]
        w = r["wall_seconds"]
        row = (req / w / 1e6, rss, ev / w / 1e6 if ev else 0)
        if best is None or row[0] > best[0]: best = row
    print(f"{name:28s} {best[0]:7.2f} M req/s  {best[2]:7.2f} M events/s  {best[1]:8.1f} MB", flush=True)

which = sys.argv[1]
if which == "nodes":
    for n in [1, 10, 100, 999]:
        backends = ", ".join(f'"s{i}"' for i in range(n))
        svcs = ",\n".join(f'Service(name: "s{i}", handlers: {{"*": [Cpu(Exp("10us"))]}})' for i in range(n))
        rate = 90000 * n if n <= 10 else 900000
        # every pool at rho 0.9 (n <= 10) or lighter
        text = f'''Scenario(name: "nodes{n}", duration: "{max(1, round(5e6 / rate))}s",
 sources: [Source(name: "in", target: "lb", rate: Constant({rate}))],
 nodes: [LoadBalancer(name: "lb", algorithm: RoundRobin, backends: [{backends}]),
 {svcs}])'''
        run(f"nodes {n}", text)
if which == "instances":
    for alg in sys.argv[2].split(","):
        for k in [1, 100, 10000, 100000]:
            rate = 90 * k
            dur = max(2, round(3e6 / rate))
            text = f'''Scenario(name: "inst", duration: "{dur}s", warmup: "1s",
 sources: [Source(name: "in", target: "lb", rate: Constant({rate}), sessions: 1000000)],
 nodes: [LoadBalancer(name: "lb", algorithm: {alg}, backends: ["web"]),
 Service(name: "web", instances: {k}, handlers: {{"*": [Cpu(Exp("10ms"))]}})])'''
            run(f"{alg} {k}", text, reps=1)
if which == "inflight":
    for L in [1000, 10000, 100000, 1000000]:
        lam = L // 10
        text = f'''Scenario(name: "inflight", duration: "60s", limits: (max_in_flight: 2000000),
 sources: [Source(name: "in", target: "s", rate: Constant({lam}))],
 nodes: [Service(name: "s", instances: 20, cores: {max(1, L // 10)}, handlers: {{"*": [Cpu(Constant("10s"))]}})])'''
        run(f"in flight {L}", text, reps=1)
if which == "cache":
    for n in [1000, 100000, 1000000, 10000000]:
        text = f'''Scenario(name: "cache", duration: "{max(20, n // 100000 * 2)}s",
 sources: [Source(name: "in", target: "c", rate: Constant(500000), mix: [Class(name: "get", weight: 1, keys: Uniform(n: {n}))])],
 nodes: [Cache(name: "c", capacity: {n}, hit: Exp("10us"), cores: 64, read_through: "db"),
 Database(name: "db", cores: 64, read: Exp("100us"), write: Exp("100us"))])'''
        run(f"cache keys {n}", text, reps=1)
