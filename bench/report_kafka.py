"""Writes bench/results/kafka.md around the table kafka_bench printed, with the machine."""
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from report_router import machine  # noqa: E402

table = sys.argv[1]
print("# Kafka forwarding benchmark\n")
print("50,000 records of 1 KiB (two headers, a key, two partitions) pre-loaded on a real Apache")
print("Kafka 4.3.1 broker (one node, scripts/kafka.sh), read by a fresh consumer group per run.")
print("Baseline: a plain consume-and-produce copy written directly on librdkafka with the same")
print("settings (acks=all, idempotence, linger.ms=5, batches of 2,000, a synchronous commit after")
print("each batch is delivered), once to a single topic (plain copy) and once to the same 1 + N")
print("topics qsplit writes, routed by hand with no filters (plain fan-out). qsplit: its forwarder")
print("with N sessions (session i takes the records of one user; with 100 sessions half of the")
print("records go to sessions), at least once and exactly once (each batch one Kafka transaction")
print("with its source offsets). Same broker, same run; each clock starts at the first record.\n")
print(f"Machine: {machine()}\n")
print(table)
print("\nRatios are qsplit's throughput over the baselines measured just before it. Writing to")
print("many topics costs the one-node broker more (its CPU, shared with the client on this")
print("2-core machine, is the limit): compare qsplit with the plain fan-out to see qsplit's own cost.")
