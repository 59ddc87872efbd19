"""Writes bench/results/kafka.md around the table kafka_bench printed, with the machine."""
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from report_router import machine  # noqa: E402

table = sys.argv[1]
print("# Kafka forwarding benchmark\n")
print("50,000 records of 1 KiB (two headers, a key, two partitions) pre-loaded on a real Apache")
print("Kafka 4.3.1 broker (one node, scripts/kafka.sh), read by a fresh consumer group per run.")
print("Baseline: a plain consume-and-produce copy written directly on librdkafka with the same")
print("settings (acks=all, idempotence, linger.ms=5, batches of 500, a synchronous commit after")
print("each batch is delivered). qsplit: its forwarder with N sessions (half of the records")
print("match one session's filter, the rest go to the fallback), at least once and exactly once")
print("(each batch one Kafka transaction with its source offsets). Same broker, same run; the")
print("clock starts at each run's first record.\n")
print(f"Machine: {machine()}\n")
print(table)
print("\nThe ratio is qsplit's throughput over the plain copy's measured just before it.")
