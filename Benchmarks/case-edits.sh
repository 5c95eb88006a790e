#!/usr/bin/env bash
# Edit throughput of the case file: two writers at once, each applying EDITS checklist/triage
# edits with `incident step set --from` / `incident triage set --from` (every edit its own locked
# load → apply → save, so the file and its audit trail grow to 2×EDITS entries), then checks that
# all 2×EDITS audit entries are in the file.
# Usage: Benchmarks/case-edits.sh [EDITS] [BINARY]   (defaults: 500, the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
EDITS=${1:-500}
BIN=${2:-}
if [[ -z "$BIN" ]]; then
    swift build -c release --product incident >/dev/null
    BIN=.build/release/incident
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$BIN" demo --dir "$WORK/case" --no-open >/dev/null
python3 - "$WORK" "$EDITS" <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
steps = ["inventory", "preserve", "log-coverage", "patch", "credentials"]
with open(f"{work}/a.txt", "w") as f:
    for i in range(n): f.write(f"EXCH0{1 + i % 2} {steps[i % 5]} {['in-progress', 'done', 'blocked'][i % 3]} a-{i}\n")
with open(f"{work}/b.txt", "w") as f:
    for i in range(n): f.write(f"{0xabc000 + i:016x} {'confirmed' if i % 2 == 0 else 'false-positive'} b-{i}\n")
PY
start=$(date +%s.%N)
"$BIN" step set "$WORK/case" --from "$WORK/a.txt" >/dev/null &
a=$!
"$BIN" triage set "$WORK/case" --from "$WORK/b.txt" >/dev/null &
b=$!
wait $a
wait $b
end=$(date +%s.%N)
python3 - "$WORK/case/case.json" "$EDITS" "$start" "$end" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); n = int(sys.argv[2]); secs = float(sys.argv[4]) - float(sys.argv[3])
steps = [a for a in c["audit"] if a["action"] == "checklist.step"]
triage = [a for a in c["audit"] if a["action"] == "triage"]
ok = len(steps) == n and len(triage) == n
print(f"{2 * n} edits by 2 writers in {secs:.2f} s ({2 * n / secs:.0f} edits/s, {secs / (2 * n) * 1000:.1f} ms each); "
      f"case.json {len(open(sys.argv[1], 'rb').read()) // 1024} KiB; all edits present: {ok}")
sys.exit(0 if ok else 1)
PY
