"""Turns jq_bench's lines and kafka_bench --jq's table into bench/results/jq.md: medians of 3
runs, each against the baseline measured in the same run, and the machine it ran on."""
import datetime
import statistics
import sys

from report_router import machine


def main(lines_path, kafka_table, build):
    runs, decoding = {}, {}
    for line in open(lines_path):
        decode = line.startswith("decode ")
        fields = dict(f.split("=", 1) for f in line.split()[1 if decode else 0:])
        if fields.get("agree") != "1":
            sys.exit(f"jq_bench: the two routings disagree: {line}")
        if decode:
            decoding.setdefault(int(fields["sessions"]), []).append(
                (float(fields["protobuf_per_s"]), float(fields["json_per_s"]), int(fields["messages"])))
            continue
        runs.setdefault(int(fields["sessions"]), []).append(
            (float(fields["qsplit_per_s"]), float(fields["loop_per_s"]), int(fields["messages"])))
    print("# jq filter benchmark\n")
    print("Routing Kafka records with 1 KiB JSON payloads among N sessions that each have a")
    print("`jq_filter` (`.payload | fromjson | .tenant == \"tK\"`, all steal; one record in ten")
    print("matches none). qsplit: a RouteTable and its jq worker process, batches of 500, as a")
    print("forwarder routes them; each record's document is built once, its payload parsed once")
    print("for every program that calls fromjson on it, the programs' shared left side")
    print("(`.payload | fromjson | .tenant`) run once, and the walk stops at the first match.")
    print("Baseline, the plain loop, in the same process on the same records: for each session in")
    print("start order, parse the record's document anew and run its program (libjq in process),")
    print("until one matches. Both are checked to route every record alike. Median of 3 runs.\n")
    print(f"Machine: {machine()}  ")
    print(f"Built: {build}  ")
    print(f"Run: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}\n")
    print("| sessions | records | qsplit records/s | plain loop records/s | speed-up |")
    print("|---:|---:|---:|---:|---:|")
    ratios = {}
    for n in sorted(runs):
        q = statistics.median(r[0] for r in runs[n])
        l = statistics.median(r[1] for r in runs[n])
        ratios[n] = statistics.median(r[0] / r[1] for r in runs[n])
        print(f"| {n} | {runs[n][0][2]} | {q:.0f} | {l:.0f} | {ratios[n]:.1f}x |")
    if 10 in ratios:
        met = "met" if ratios[10] >= 3 else "not met"
        print(f"\nTarget at 10 sessions: at least 3x the plain loop: {met} ({ratios[10]:.1f}x).\n")
    print("## Kafka forwarding with jq filters\n")
    print("Exactly once, 1 KiB records, through a real broker: N sessions whose filters are jq")
    print("programs on a header (`.headers.user == \"user-K\"`), run by qsplit's default of two jq")
    print("workers, against the same N sessions with the same rule as an attribute filter")
    print("(`user: ^user-K$`). Nineteen records in twenty match no session, so each of those is")
    print("decided by every session's program. The jq programs are comparisons of one left side")
    print("with each session's own value, which qsplit runs once per record for all sessions")
    print("(docs/filters.md, \"Fast\"); the third path writes the same programs in parentheses,")
    print("which qsplit does not split, so each runs whole, as any program that is not a plain")
    print("comparison does. The three paths take turns in one run; median of 3 runs each.\n")
    print(kafka_table.strip())
    rates, cpu = {}, {}
    for row in kafka_table.splitlines():
        cells = [c.strip() for c in row.strip("|").split("|")]
        if not cells or not cells[0].isdigit():
            continue
        (rates if len(cells) == 6 else cpu)[int(cells[0])] = cells
    if 10 in rates:
        ratio = float(rates[10][3])
        met = "met" if ratio >= 0.7 else "not met"
        print(f"\nTarget at 10 sessions: at least 0.7 of the attribute filters: {met} ({ratio:.2f}; with")
        print(f"every program run whole, {float(rates[10][5]):.2f}).")
    if 10 in cpu:
        a, j, w = float(cpu[10][1]), float(cpu[10][2]), float(cpu[10][3])
        print(f"\nThe jq paths are bound by the machine's two cores: with 10 sessions the whole machine")
        print(f"(broker, forwarder, workers) spends {a:.1f} µs of CPU per record with attribute filters,")
        print(f"{j:.1f} µs with jq comparisons and {w:.1f} µs with whole programs. libjq 1.6 takes about")
        print("0.8 µs per run of such a program, so ten whole programs cost about 8 µs per record;")
        print("the rest of a record's cost in the worker is its document (built from the tape, the")
        print("body copied in once) and the socket.")
    print("\n## The cost of `payload_decoded`\n")
    print("The same records encoded as protobuf (bench/tenant.proto: tenant, order, items, a 900-byte")
    print("pad), routed by `.payload_decoded.tenant == \"tK\"` with `payload_protobuf`, against the JSON")
    print("records routed by `.payload | fromjson | .tenant == \"tK\"`, both through qsplit's route")
    print("table and jq worker, taking turns in one run; both route every record alike. The extra")
    print("cost per record is the difference of the two times per record. Median of 3 runs.\n")
    print("| sessions | records | protobuf records/s | JSON records/s | ratio | payload_decoded costs per record |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in sorted(decoding):
        p = statistics.median(r[0] for r in decoding[n])
        j = statistics.median(r[1] for r in decoding[n])
        extra = statistics.median(1e6 / r[0] - 1e6 / r[1] for r in decoding[n])
        print(f"| {n} | {decoding[n][0][2]} | {p:.0f} | {j:.0f} | {p / j:.2f} | {extra:+.1f} µs |")
    print("\nA record is decoded once per schema, however many sessions read `payload_decoded`;")
    print("a negative cost means decoding was cheaper than parsing the same content as JSON.")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "build-bench (Release)")
