#!/usr/bin/env bash
# Single-threaded scan speed on everyday Exchange traffic, one request type at a time.
#
# The ripgrep comparison (throughput-vs-ripgrep.sh) uses one benign request shape; real IIS logs
# are mostly EWS, Autodiscover, OWA static resources, ECP and OAB requests, whose paths share
# literals with indicators (/ews/, /owa/auth/, /autodiscover/autodiscover.json). For each type this
# writes LINES IIS lines with no hits (default 300000) into a fresh case and prints
# `incident bench scan` with the prefilter and with --no-prefilter.
# Usage: Benchmarks/everyday-traffic.sh [LINES]
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-300000}
swift build -c release --product incident >/dev/null
BIN=$PWD/.build/release/incident
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
TYPES="owa-service ews autodiscover owa-static ecp oab mapi"
for t in $TYPES; do "$BIN" new "$WORK/$t" --name "$t" >/dev/null; done
python3 - "$WORK" "$LINES" <<'PY'
import os, sys
work, lines = sys.argv[1], int(sys.argv[2])
kinds = {
    "owa-service": ("POST", "/owa/service.svc", "action=GetItem&UA=0"),
    "ews": ("POST", "/EWS/Exchange.asmx", "-"),
    "autodiscover": ("GET", "/autodiscover/autodiscover.json", "Email=alice%40corp.example&Protocol=ActiveSync&RedirectCount=1"),
    "owa-static": ("GET", "/owa/auth/15.1.2106/themes/resources/segoeui-regular.ttf", "-"),
    "ecp": ("POST", "/ecp/DDI/DDIService.svc/GetList", "schema=MessageCategory&msExchEcpCanary=x"),
    "oab": ("GET", "/OAB/2a9e6a47-3f4b-4e5c-9f0e-1c2d3e4f5a6b/oab.xml", "-"),
    "mapi": ("POST", "/mapi/emsmdb/", "mailboxId=1f2e3d4c@corp.example"),
}
ua = "Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.5095;+Pro)"
for kind, (method, stem, query) in kinds.items():
    folder = f"{work}/{kind}/evidence/EXCH01/W3SVC1"
    os.makedirs(folder)
    with open(f"{folder}/u_ex210303.log", "w", newline="") as f:
        f.write("#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: 2021-03-03 00:00:00\r\n")
        f.write("#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n")
        for i in range(lines):
            f.write(f"2021-03-03 {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d} 10.0.0.5 {method} {stem} {query} 443 CORP\\user{i % 500} "
                    f"10.1.{i % 250}.{i % 200} {ua} - 200 0 0 {i % 900}\r\n")
PY
echo "machine: $(nproc) core(s); $LINES lines per request type; 1 thread"
for t in $TYPES; do
    on=$(INCIDENT_SCAN_THREADS=1 "$BIN" bench scan "$WORK/$t" --rescans 0 | grep '^first pass' | sed 's/^first pass: //')
    off=$(INCIDENT_SCAN_THREADS=1 "$BIN" bench scan "$WORK/$t" --rescans 0 --no-prefilter | grep '^first pass' | sed 's/^first pass: //')
    echo "$t: prefilter: $on | --no-prefilter: $off"
done
