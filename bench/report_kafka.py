"""Writes bench/results/kafka.md around the table kafka_bench printed, with the machine."""
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from report_router import machine  # noqa: E402

table = sys.argv[1]
latency = sys.argv[2] if len(sys.argv) > 2 else ""
print("# Kafka forwarding benchmark\n")
print("200,000 records of 1 KiB (two headers, a key, two partitions) pre-loaded on a real Apache")
print("Kafka 4.3.1 broker (one node, scripts/kafka.sh), read by a fresh consumer group per run.")
print("Baseline: a plain consume-and-produce copy written directly on librdkafka with the same")
print("settings (acks=all, idempotence, linger.ms=5, batches of 2,000, each batch flushed, then")
print("a synchronous commit), once to a single topic (plain copy) and once to the same 1 + N")
print("topics qsplit writes, routed by hand with no filters (plain fan-out). qsplit: its forwarder")
print("with N sessions (session i takes the records of one user; with 100 sessions half of the")
print("records go to sessions), at least once and exactly once (each batch one Kafka transaction")
print("with its source offsets). Same broker, same run; each clock starts at the first record.")
print("The four paths take turns three times per row and each cell is the median of its three")
print("runs: on this shared machine one run of a path can be off by half.\n")
print(f"Machine: {machine()}\n")
print(table)
print("\nRatios are the medians' ratios. Writing to many topics costs the one-node broker more")
print("(one produce request per partition touched; its CPU, shared with the client on this")
print("2-core machine, is the limit): compare qsplit with the plain fan-out to see qsplit's own")
print("cost. The issue's target, 0.9 of the plain copy at 100 sessions at least once, is not met:")
print("the plain fan-out to the same 202 partitions reaches only about half of the copy here.")

if latency:
    print("\n## Latency\n")
    print("1 KiB records produced at 1,000 per second for 8 s, each with its send time in a header;")
    print("a consumer of the destination topics in the same process (same clock) records when each")
    print("arrives. End-to-end latency through the plain copy and through qsplit, same broker, same")
    print("run (each table measures its own plain copy first).\n")
    print(latency.strip())
    print("\nCompare each qsplit row with the plain copy measured just before it. At least once,")
    print("qsplit adds well under the plain copy's median (it flushes a batch's records instead of")
    print("letting each partition linger for linger.ms); the tails on this shared 2-core machine")
    print("vary from run to run and are dominated by the broker. Exactly once, every batch is one")
    print("transaction that adds each touched partition and commits: with many session topics and")
    print("the small batches a paced stream gives, those round trips are the price of exactly-once")
    print("delivery on this one-node broker.")
