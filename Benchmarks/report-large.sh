#!/usr/bin/env bash
# Report speed on a large case: SERVERS servers (default 1000), each with an IIS log of
# HITS_PER_SERVER requests (default 100) from a listed HAFNIUM address, i.e. 100,000 hits.
# Prints the seconds and peak memory of `incident report` in each format (scan included).
# Usage: Benchmarks/report-large.sh [SERVERS] [HITS_PER_SERVER]
set -euo pipefail
cd "$(dirname "$0")/.."
servers=${1:-1000}
per=${2:-100}
swift build -c release --product incident >/dev/null
bin=.build/release/incident
work=$(mktemp -d /tmp/incident-report-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$bin" new "$work/case" --name "report benchmark" >/dev/null
python3 - "$work/case" "$servers" "$per" <<'PY'
import os, sys
case, servers, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
header = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n"
for s in range(servers):
    d = os.path.join(case, "evidence", f"EXCH{s:04d}", "IIS")
    os.makedirs(d)
    with open(os.path.join(d, "u_ex210303.log"), "w") as f:
        f.write(header)
        for i in range(per):
            f.write(f"2021-03-03 06:{i // 60 % 60:02d}:{i % 60:02d} 10.0.0.5 GET /owa/auth/logon.aspx - 443 - 104.140.114.110 Mozilla/5.0 - 200 0 0 15\n")
PY
echo "case: $servers servers, $((servers * per)) requests from a listed address; cores: $(nproc)"
"$bin" scan "$work/case" --format json >/dev/null || true   # registers the evidence once
for fmt in json csv markdown html; do
    out="$work/report.$fmt"
    /usr/bin/time -f "%e s  %M KiB peak" -o "$work/time" "$bin" report "$work/case" --format "$fmt" -o "$out"
    printf '%-9s %s  (%s bytes)\n' "$fmt" "$(cat "$work/time")" "$(stat -c %s "$out")"
done
