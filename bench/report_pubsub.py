"""Writes bench/results/pubsub.md around the table pubsub_bench printed: each run's pair, then
the median ratio per session count, with the machine."""
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from report_redis import print_medians, ratios_by_sessions  # noqa: E402
from report_router import machine  # noqa: E402

table, messages = sys.argv[1], sys.argv[2]
print("# Google Cloud Pub/Sub forwarding benchmark\n")
print(f"{messages} messages of 256 bytes with the attributes user (20 users) and tenant, published")
print("into a fresh subscription's topic for each run, on pstest (Google's Pub/Sub test server, from")
print("its Go client v2.9.0, scripts/pubsub.sh). Baseline: a plain loop on the client qsplit uses (its")
print("Pub/Sub source and sink, over gRPC), without the engine: pull up to 1,000 messages, publish them")
print("to the copy's topic, acknowledge them once the publish was answered. qsplit: its forwarder, at")
print("least once, with 0, 1 or 10 sessions whose `message_filter` matches the `user` attribute")
print("(session i takes one user of 20; with 0 every message goes to the fallback), publishing to")
print("every destination's topic at once. Same server; each row is one pair, the copy measured just")
print("before qsplit, each side's subscriptions deleted before the other's are made (pstest keeps what")
print("they hold in memory, and a fuller server answers more slowly).\n")
print(f"Machine: {machine()}\n")
print(table.strip())
print_medians(ratios_by_sessions(table))
print("\npstest keeps everything in one process's memory behind one lock, so the server, not the")
print("client, sets both rates; Google's service would answer each call more slowly and in parallel.")
