"""Writes bench/results/redis-pubsub.md around the table redis_pubsub_bench printed: each run,
then the median over runs of each run's ratio and added milliseconds."""
import statistics
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from report_router import machine  # noqa: E402

table, samples = sys.argv[1], sys.argv[2]
print("# Redis Pub/Sub latency benchmark\n")
print(f"{samples} messages published one at a time (JSON, about 256 bytes, on Redis 7.0, Debian's,")
print("scripts/redis.sh), each timed from `PUBLISH` until a subscriber has it. Baseline: the message")
print("published straight on the channel the subscriber reads. qsplit: published on the original,")
print("which qsplit's forwarder subscribes to; it matches the message's payload fields against 0 or")
print("10 sessions' `message_filter`s (it matches none) and publishes it to the fallback, which the")
print("subscriber reads. Both paths use the same client (hiredis, through qsplit's RedisConnection")
print("and RedisSubscriber) on the same server, in the same run. Redis Pub/Sub keeps nothing, so")
print("there is no backlog to forward: what a split costs is this latency.\n")
print(f"Machine: {machine()}\n")
print(table.strip())
by = {}
for row in table.splitlines():
    cells = [c.strip() for c in row.strip("|").split("|")]
    if len(cells) == 7 and cells[0].isdigit() and cells[1] == "through qsplit":
        by.setdefault(int(cells[2]), []).append((float(cells[5]), float(cells[6])))
print("\n| sessions | median ratio to straight | median added ms | runs |\n|---:|---:|---:|---:|")
for n in sorted(by):
    print(f"| {n} | {statistics.median(r for r, _ in by[n]):.2f} | {statistics.median(a for _, a in by[n]):.3f} | {len(by[n])} |")
print("\nEach run's ratio is its median through qsplit over its median straight; \"added\" is their")
print("difference.")
