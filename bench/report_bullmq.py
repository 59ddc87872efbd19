"""Writes bench/results/bullmq.md around the table bullmq_bench printed: each run's pair, then
the median ratio per session count, with the machine."""
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from report_redis import print_medians, ratios_by_sessions  # noqa: E402
from report_router import machine  # noqa: E402

table, jobs = sys.argv[1], sys.argv[2]
print("# BullMQ forwarding benchmark\n")
print(f"{jobs} jobs whose data holds user (20 users), tenant and a 256-byte payload, pre-loaded into a")
print("BullMQ queue on Redis 7.0 (Debian's, scripts/redis.sh, append-only file on) for each run, with")
print("bullmq 5.81.5's add script. Baseline: a plain loop on the client qsplit uses (its BullMQ source")
print("and sink, the bullmq package's scripts), without the engine: take up to 100 jobs")
print("(`moveToActive`), add them to the copy queue (pipelined), remove them (qsplit's removal script) once every")
print("add was answered. qsplit: its forwarder, at least once, with 0, 1 or 10 sessions whose")
print("`message_filter` matches the data's `user` (session i takes one user of 20; with 0 every job")
print("goes to the fallback). Same server; each row is one pair, the copy measured just before qsplit.\n")
print(f"Machine: {machine()}\n")
print(table.strip())
print_medians(ratios_by_sessions(table))
print("\nA job costs three Lua scripts on the server (take, add, remove), so Redis's one thread, not the")
print("client, sets both rates.")
