"""Writes bench/results/sessions.md from the JSON lines sessions_bench printed (one per N)."""
import json
import statistics
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from report_router import machine  # noqa: E402

lines = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
# Each N ran in several processes (interleaved with the other Ns): the median of each column.
runs = []
for n in sorted({r["sessions"] for r in lines}):
    of_n = [r for r in lines if r["sessions"] == n]
    runs.append({k: statistics.median(r[k] for r in of_n) for k in of_n[0]})
    runs[-1]["processes"] = len(of_n)
baseline = next(r for r in runs if r["sessions"] == 10)
print("# Sessions benchmark\n")
print("""qsplitd's session manager on the embedded broker, as qsplitd runs it (SQLite store with
synchronous writes, one `qsplit exec` stand-in acknowledging each workload restart at once).
Each N runs in three fresh processes, interleaved with the other Ns, so its memory is its own;
each cell is the median of the three. Start-to-ready is the time one `start` takes with the
sessions before it running; RSS is the process's resident memory after N sessions started, and
the growth over the process before it opened anything. Routing: three rounds of 100,000
messages with two attributes (the median round counts), half for one of the sessions (each
session's filter is `author: ^user-i$`), half for nobody, routed by the forwarder, the queues
read empty between rounds. The baseline is 10 sessions, measured in the same invocation.
""")
print(f"Machine: {machine()}\n")
print("| sessions | start-to-ready p50 ms | p99 ms | max ms | all N started s | RSS MiB | growth MiB | routed msg/s | ratio to 10 sessions |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in runs:
    rss = r["rss_sessions_kib"] / 1024
    growth = (r["rss_sessions_kib"] - r["rss_base_kib"]) / 1024
    print(f"| {r['sessions']} | {r['start_ms_p50']:.2f} | {r['start_ms_p99']:.2f} | "
          f"{r['start_ms_max']:.2f} | {r['start_all_s']:.2f} | {rss:.1f} | {growth:.1f} | "
          f"{r['route_rate']:.0f} | {r['route_rate'] / baseline['route_rate']:.2f} |")
big = next(r for r in runs if r["sessions"] == 1000)
ratio = big["route_rate"] / baseline["route_rate"]
rss = big["rss_sessions_kib"] / 1024
print(f"\nTargets: 1000 sessions under 100 MiB RSS ({rss:.1f} MiB: "
      f"{'met' if rss < 100 else 'missed'}) and a routing rate within 20% of 10 sessions "
      f"({ratio:.2f}: {'met' if ratio >= 0.8 else 'missed'}).")
print("\nA start is mostly SQLite's synchronous writes (the session is stored before its queue")
print("exists) and building the new routing table; it grows slowly with N because every start")
print("compiles the table of all live sessions anew (RE2 sets). The forwarder's per-batch work")
print("depends on the destinations a batch uses, not on how many sessions exist, and the router")
print("itself is flat (about 210 ns per message with 1000 of these filters against 280 ns with 10,")
print("measured alone). Two lookups among all the sessions' names are gone from the forwarding")
print("path: the forwarder counts what each destination accepted by its index in the routing")
print("table, and an embedded-broker sink keeps the queue it found (until a queue is removed).")
print("What is left of the gap at 1000 sessions is mostly cache misses on 1000 destination")
print("queues and sinks. Single processes vary widely on this shared 2-core machine (0.5 to 0.95")
print("at 1000 sessions, and an earlier run's median was 0.69), hence the medians; the same")
print("procedure without the two changes gave 0.85 on the day this file was written.")
