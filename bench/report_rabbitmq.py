"""Writes bench/results/rabbitmq.md around the tables rabbitmq_bench printed, with the machine."""
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from report_router import machine  # noqa: E402

print("# RabbitMQ forwarding benchmark\n")
print(f"{sys.argv[2]} messages of 256 bytes with two string headers, pre-loaded into a durable")
print("classic queue of RabbitMQ 3.10 (Debian's, scripts/rabbitmq.sh) for each run. Baseline: a")
print("plain consume-publish copy written directly on librabbitmq, the client qsplit uses: manual")
print("acks with a prefetch of 1000, batches of up to 250, each message published with its")
print("properties to the copy queue with publisher confirms, the batch acked with one multiple")
print("ack once every confirm came. qsplit: its forwarder, at least once, with 0, 1 or 10")
print("sessions (session i takes the messages of one user of 20; with 0 every message goes to")
print("the fallback). Same server, same run, the baseline measured just before each qsplit run.\n")
print(f"Machine: {machine()}\n")
print(sys.argv[1])
print("\nThe server, an Erlang VM on the same 2 cores, is the bottleneck of both: the client")
print("processes use a small part of one core. Added latency: the median, over 300 messages sent")
print("one at a time, of publish-to-receive through qsplit's forwarder minus the same message")
print("published straight to the queue it is read from.")
