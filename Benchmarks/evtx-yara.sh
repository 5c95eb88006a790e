#!/usr/bin/env bash
# Throughput of the whole-file readers: EVTX through libevtx and collected files through YARA.
# Builds a scratch case under a temporary folder, times one `incident scan`, prints MB/s.
# Usage: Benchmarks/evtx-yara.sh [COPIES]   (COPIES of each corpus EVTX file, default 50;
#        the collected-file set is 200 web pages of ~500 KB each, one in ten a web shell)
set -euo pipefail
cd "$(dirname "$0")/.."
copies=${1:-50}
corpus=../shared/corpus/evtx-attack-samples
[ -d "$corpus" ] || { echo "skipped: $corpus not present"; exit 0; }
swift build -c release >/dev/null
bin=.build/release/incident
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" new "$work/evtx" --name bench >/dev/null
mkdir -p "$work/evtx/evidence/WEB01"
for i in $(seq 1 "$copies"); do
    for f in "$corpus"/*.evtx; do cp "$f" "$work/evtx/evidence/WEB01/$i-$(basename "$f")"; done
done
bytes=$(du -sb "$work/evtx/evidence" | cut -f1)
start=$(date +%s.%N); "$bin" scan "$work/evtx" --format json >/dev/null || true; end=$(date +%s.%N)
echo "EVTX: $(ls "$work/evtx/evidence/WEB01" | wc -l) files, $bytes bytes in $(echo "$end - $start" | bc) s: $(echo "scale=1; $bytes / 1048576 / ($end - $start)" | bc) MB/s"

"$bin" new "$work/yara" --name bench >/dev/null
mkdir -p "$work/yara/evidence/WEB01"
python3 - "$work/yara/evidence/WEB01" <<'PY'
import os, random, sys
random.seed(1)
words = ["<div class=\"x\">", "Request.QueryString[\"a\"]", "<%= Server.HtmlEncode(x) %>", "function f(){}", "</div>\n"]
for i in range(200):
    body = "".join(random.choice(words) for _ in range(25000))
    if i % 10 == 0:
        body += "<%@ Page Language=\"Jscript\"%><%eval(Request.Item[\"k\"],\"unsafe\");%>\n"
    open(os.path.join(sys.argv[1], f"page{i}.aspx"), "w").write(body)
PY
bytes=$(du -sb "$work/yara/evidence" | cut -f1)
start=$(date +%s.%N); "$bin" scan "$work/yara" --format json > "$work/yara.json" || true; end=$(date +%s.%N)
hits=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['hits']))" "$work/yara.json")
echo "YARA: 200 files, $bytes bytes, $hits hits in $(echo "$end - $start" | bc) s: $(echo "scale=1; $bytes / 1048576 / ($end - $start)" | bc) MB/s"
echo "cores: $(nproc)"
