#!/usr/bin/env bash
# Peak memory and time with very long lines (issue 3: peak memory under 150 MB whatever the logs).
#
# Writes IIS logs that each hold one enormous line between ordinary ones, and reports the wall time
# and peak RSS (GNU time) of one `incident scan --read-only` on all cores, for:
#   - FILES files with a line just under the 12 MiB cut-off (read whole), candidate for the
#     indicators (it holds `/ecp/`, so it is parsed in full, not only counted);
#   - FILES files with a 31 MiB line (cut at 12 MiB, the rest skipped);
# and, for comparison, a case with ordinary lines only (the program's base memory).
# Every scan thread may want to hold such a line; only one at a time does (a process-wide permit),
# so the peak stays about one long line above the base whatever the number of files or cores.
# Needs: python3, GNU time (/usr/bin/time).
# Usage: Benchmarks/long-lines.sh [FILES]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${1:-3}
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed: apt-get install -y time" >&2; exit 2; }
swift build -c release --product incident >/dev/null
BIN=$PWD/.build/release/incident
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
for name in base under over; do "$BIN" new "$WORK/$name" --name "long lines: $name" >/dev/null; done
python3 - "$WORK" "$FILES" <<'PY'
import os, sys
work, files = sys.argv[1], int(sys.argv[2])
head = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n"
ok = "2021-03-03 06:00:00 10.0.0.5 GET /owa/ - 443 - 10.1.0.1 Mozilla/5.0 - 200 0 0 12\n"
def write(case, n, long_bytes):
    for k in range(n):
        d = f"{work}/{case}/evidence/EXCH{k:02d}/IIS/W3SVC1"
        os.makedirs(d, exist_ok=True)
        with open(f"{d}/u_ex2103{k:02d}.log", "w") as f:
            f.write(head + ok * 100)
            if long_bytes:
                f.write("2021-03-03 06:00:01 10.0.0.5 POST /ecp/y.js q=" + "A" * long_bytes + " 443 - 10.1.0.1 x - 200 0 0 1\n")
            f.write(ok * 100)
write("base", files, 0)
write("under", files, 12 * 1048576 - 4096)
write("over", files, 31 * 1048576)
PY
echo "machine: $(nproc) core(s); $FILES file(s) per case"
for name in base under over; do
    out=$( { env ${BENCH_ENV:-} /usr/bin/time -f "%e s, peak RSS %M KiB" "$BIN" scan "$WORK/$name" --read-only > /dev/null || true; } 2>&1 | tail -1)  # exit 1: hits found
    case $name in
        base) label="ordinary lines only";;
        under) label="one line of 12 MiB - 4 KiB per file (read whole, parsed)";;
        over) label="one line of 31 MiB per file (cut at 12 MiB)";;
    esac
    echo "$label: $out"
done
