"""Writes bench/results/sqs.md around the table sqs_bench printed, with the machine."""
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from report_router import machine  # noqa: E402

print("# SQS forwarding benchmark\n")
print("10,000 messages of 1 KiB with two String attributes, pre-loaded on ElasticMQ 1.7.1")
print("(scripts/sqs.sh, in memory) for each run. Baseline: a plain copy loop written directly on")
print("qsplit's SQS client (same HTTP client, same signing): ReceiveMessage of 10 (long poll),")
print("SendMessageBatch of what came, DeleteMessageBatch of it; with 1 loop, and with 4 loops in")
print("parallel. qsplit: its forwarder, at least once, with the same number of parallel polls and")
print("0, 1 or 10 sessions (session i takes the messages of one user of 20; with 0 every message")
print("goes to the fallback, so every send batch is full). Same server, same run; requests are")
print("every HTTP request the client made, retries included, over the messages forwarded.\n")
print(f"Machine: {machine()}\n")
print(sys.argv[1])
print("\nRatios are qsplit's throughput over the plain loop with the same parallelism, measured")
print("just before it. qsplit starts its next polls before it sends the batch in hand, so")
print("receiving overlaps sending, which the plain loop does not do. With sessions, a batch of")
print("10 received messages goes to several destinations, so its send batches are not full: that")
print("is where the extra requests per message come from (more parallel polls give each")
print("destination more messages per send). On this 2-core machine the Java server shares the")
print("CPU with the client.")
