#!/usr/bin/env bash
# Console speed (issue 6, "cheap over slow links"): builds the release binary, then
#  1. bytes written to a 120×40 pseudo-terminal per keystroke that moves the selection one row
#     (Benchmarks/tty-bytes.py on a fresh copy of the demo case; target ≤ 200 bytes), and
#  2. milliseconds per frame rendered into the cell grid with 10,000 servers and 1,000,000 hits
#     (`incident bench render`; target < 5 ms).
# Usage: Benchmarks/console.sh [SERVERS] [HITS]   (default 10000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
SERVERS=${1:-10000}
HITS=${2:-1000000}
swift build -c release --product incident >/dev/null
BIN=.build/release/incident
echo "== bytes per keystroke through a pty (120x40, TERM=xterm-256color)"
python3 Benchmarks/tty-bytes.py --binary "$BIN" --cols 120 --rows 40 --repeat 20 || true
echo "== render time into the cell grid ($SERVERS servers, $HITS hits, 120x40)"
"$BIN" bench render --servers "$SERVERS" --hits "$HITS" --frames 500
