"""Writes bench/results/kafka.md around the tables kafka_bench and kafka_latency printed."""
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from report_router import machine  # noqa: E402

table = sys.argv[1]
latency = sys.argv[2] if len(sys.argv) > 2 else ""
small = sys.argv[3] if len(sys.argv) > 3 else ""
runs = sys.argv[4] if len(sys.argv) > 4 else ""
print("# Kafka forwarding benchmark\n")
print("200,000 records of 1 KiB (two headers, a key, two partitions) pre-loaded on a real Apache")
print("Kafka 4.3.1 broker (one node, scripts/kafka.sh), read by a fresh consumer group per run.")
print("Baseline: a plain consume-and-produce copy written directly on librdkafka with the same")
print("settings (acks=all, idempotence, linger.ms=5, the same batch size, each batch flushed and")
print("its delivery reports checked, then a synchronous commit), once to a single topic (plain")
print("copy) and once to the same 1 + N topics qsplit writes, routed by hand with no filters")
print("(plain fan-out). qsplit: its forwarder with N sessions (session i takes the records of one")
print("user; with 100 sessions half of the records go to sessions), at least once and exactly")
print("once (each batch one Kafka transaction with its source offsets). Same broker, same run;")
print("each clock starts at the first record. The four paths take turns three times per row and")
print("each cell is the median of its three runs: on this shared machine one run of a path can")
print("be off by half.\n")
print(f"Machine: {machine()}\n")
print(table.strip())
print("\nRatios are the medians' ratios; every run is listed at the end. Compare qsplit with the")
print("plain fan-out to see qsplit's own cost: writing to 202 partitions costs the one-node broker")
print("more than writing to two. The issue's target is 0.9 of the plain copy at 100 sessions, at")
print("least once. Whether it is met cannot be read from this machine: the same path's runs spread")
print("by a factor of two or more, from one run to the next and from one invocation to the next")
print("(on 2026-11-27, before the run above, separate invocations of the 100-session row gave")
print("0.33 and 0.96 of the copy with one run each, 0.50 and 0.89 with three, and single runs on")
print("a freshly started broker reached 77,000 to 80,000 records/s, about the copy's rate).")
print("Sampled during such runs, the broker used about half a core and")
print("the benchmark a fifth, with no I/O wait: neither CPU nor disk is the limit, and the slow")
print("runs are slow while the machine is idle. With one session qsplit is faster than the plain")
print("fan-out to the same two topics; that difference is not explained yet.")

if small:
    print("\n## Batch size\n")
    print("The same 100 sessions with batches of 500 records, qsplit's default for Kafka before it")
    print("became 5,000. Each batch costs a flush and a commit (or a transaction) whatever its")
    print("size, and with 100 sessions its records spread over up to 202 partitions, so small")
    print("batches make many small writes. Compare with the 100-session row above.\n")
    print(small.strip())

if latency:
    print("\n## Latency\n")
    print("1 KiB records produced at 1,000 per second for 8 s, each with its send time in a header;")
    print("a consumer of the destination topics in the same process (same clock) records when each")
    print("arrives. End-to-end latency through the plain copy and through qsplit, same broker, same")
    print("run (each table measures its own plain copy first).\n")
    print(latency.strip())
    print("\nCompare each qsplit row with the plain copy measured just before it. A receive takes")
    print("only the records already fetched, so a paced stream makes small batches whatever the")
    print("batch size. At least once with one session qsplit's median matches the plain copy's;")
    print("with 100 sessions a batch's records go to many partitions and the median rises by a few")
    print("milliseconds. The tails on this shared 2-core machine vary from run to run and are")
    print("dominated by the broker. Exactly once, every batch is one transaction that adds each")
    print("touched partition and commits: those round trips are the price of exactly-once delivery")
    print("on this one-node broker.")

if runs:
    print("\n## Each run\n")
    print("Records per second of every run behind the medians above, in the order they ran.\n")
    print("```")
    print(runs.strip())
    print("```")
