"""Writes bench/results/redis.md around the tables redis_bench printed: each run's pair, then
the median ratio per session count, with the machine."""
import statistics
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from report_router import machine  # noqa: E402


def ratios_by_sessions(table):
    """sessions -> the ratio of each run, from a `| run | sessions | copy | qsplit | ratio |` table."""
    ratios = {}
    for row in table.splitlines():
        cells = [c.strip() for c in row.strip("|").split("|")]
        if len(cells) == 5 and cells[0].isdigit():
            ratios.setdefault(int(cells[1]), []).append(float(cells[4]))
    return ratios


def print_medians(ratios):
    """The median ratio per session count, and whether the 0.8 target is met."""
    print("\n| sessions | median ratio to the plain copy | runs |\n|---:|---:|---:|")
    for n in sorted(ratios):
        print(f"| {n} | {statistics.median(ratios[n]):.2f} | {len(ratios[n])} |")
    if 10 in ratios:
        r = statistics.median(ratios[10])
        met = min(statistics.median(v) for v in ratios.values()) >= 0.8
        print(f"\nTarget: at least 0.8 of the plain copy: {'met' if met else 'not met'} (10 sessions: {r:.2f}).")


def main():
    table, messages = sys.argv[1], sys.argv[2]
    ratios = ratios_by_sessions(table)
    print("# Redis Streams forwarding benchmark\n")
    print(f"{messages} entries with the fields user (20 users), tenant and a 256-byte payload, pre-loaded")
    print("into a stream of Redis 7.0 (Debian's, scripts/redis.sh, append-only file on) with a consumer")
    print("group for each run. Baseline: a plain copy written on the client qsplit uses (hiredis,")
    print("through qsplit's RedisConnection): XREADGROUP 500 entries, XADD each to the copy stream")
    print("with its fields (pipelined), XACK the batch once every add was answered. qsplit: its")
    print("forwarder, at least once, reading in the same kind of group, with 0, 1 or 10 sessions")
    print("(session i takes the entries of one user of 20; with 0 every entry goes to the fallback).")
    print("Same server; each row is one pair, the copy measured just before qsplit.\n")
    print(f"Machine: {machine()}\n")
    print(table.strip())
    print_medians(ratios)
    print("\nAdded latency: the median, over 300 entries added one at a time, of add-to-read through")
    print("qsplit's forwarder minus the same entry added straight to the stream it is read from.")


if __name__ == "__main__":
    main()
