"""Turns router_bench's JSON into bench/results/router.md: medians of 5 repetitions, the
ratio against the plain filter loop measured in the same run, and the machine it ran on."""
import json
import platform
import subprocess
import sys


def machine():
    model = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    compiler = subprocess.run(["c++", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return f"{model}, {cores} cores, Linux {platform.release()}, {compiler}"


def main(path):
    data = json.load(open(path))
    median = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") == "median":
            name, arg = b["run_name"].split("/")
            median[(name, int(arg))] = b["cpu_time"]  # ns per message
    print("# Router benchmark\n")
    print("Routing one message (6 attributes, 1 KiB body) among N sessions with two attribute")
    print("regexes each. Baseline: a plain loop over the sessions' filters in start order, run")
    print("in the same process on the same messages (the router is checked to agree with it).")
    print("Median CPU time of 5 repetitions, one core.\n")
    print(f"Machine: {machine()}  ")
    print(f"Run: {data['context']['date']}\n")
    print("| sessions | router ns/msg | loop ns/msg | router speed-up |")
    print("|---:|---:|---:|---:|")
    for n in sorted({k[1] for k in median}):
        r, l = median[("BM_Router", n)], median[("BM_FilterLoop", n)]
        print(f"| {n} | {r:.0f} | {l:.0f} | {l / r:.1f}x |")
    r100, l100 = median[("BM_Router", 100)], median[("BM_FilterLoop", 100)]
    ok = r100 < 1000 and l100 / r100 >= 10
    print(f"\nTarget at 100 sessions: under 1,000 ns and at least 10x the loop: "
          f"{'met' if ok else 'NOT met'} ({r100:.0f} ns, {l100 / r100:.1f}x).")


if __name__ == "__main__":
    main(sys.argv[1])
