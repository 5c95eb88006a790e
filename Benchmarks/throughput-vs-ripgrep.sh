#!/usr/bin/env bash
# Detection speed and memory against ripgrep, on generated logs.
#
# Writes SIZE_MB (default 1024) of Exchange HttpProxy and IIS W3C logs into FILES files (default
# 16) of a fresh case, with about one hitting line per thousand, then reports in one run:
#   - `incident bench scan` single-threaded (INCIDENT_SCAN_THREADS=1) and on all cores: MiB/s with
#     the full built-in catalog, and peak RSS (GNU time);
#   - `rg -F -i -f` with the catalog's literal strings on the same files, single-threaded (-j1)
#     and on all cores;
#   - the rescan time of 10,000 unchanged files (a second case of small IIS logs).
# The machine may be shared: wall-clock MiB/s then depends on the load, so CPU time (user+system)
# and MiB per CPU-second are printed next to it for both tools.
# Targets (issue 3): single-threaded throughput at least half of ripgrep's, all cores used with
# several files, peak RSS under 150 MB, rescan of 10,000 unchanged files under 100 ms.
# Also: the same scan single-threaded with --no-prefilter (every line parsed), and SHA-256 alone over
# the same bytes (the scan hashes every byte for the chain of custody; ripgrep does not).
# Needs: python3, openssl, ripgrep (`apt-get install -y ripgrep`), GNU time (/usr/bin/time).
# Usage: Benchmarks/throughput-vs-ripgrep.sh [SIZE_MB] [FILES]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${1:-1024}
FILES=${2:-16}
command -v rg >/dev/null || { echo "ripgrep (rg) is needed: apt-get install -y ripgrep" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed: apt-get install -y time" >&2; exit 2; }
swift build -c release --product incident >/dev/null
BIN=$PWD/.build/release/incident
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$BIN" new "$WORK/case" --name "benchmark" >/dev/null
"$BIN" new "$WORK/small" --name "rescan benchmark" >/dev/null

python3 - "$WORK/case/evidence/EXCH01" "$SIZE_MB" "$FILES" "$WORK/small/evidence/EXCH02" <<'PY'
import os, random, sys
root, size_mb, files, small = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
random.seed(7)
per_file = size_mb * 1048576 // files
os.makedirs(f"{root}/HttpProxy/Owa", exist_ok=True)
os.makedirs(f"{root}/IIS/W3SVC1", exist_ok=True)
fields = ("DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,"
          "ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,"
          "ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingType,"
          "RoutingHint,BackEndCookie,UrlQuery,GenericInfo")
def proxy_block(n):
    out = []
    for i in range(n):
        t = f"2021-03-03T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z"
        if i % 1000 == 999:
            anchor, ip, ua, stem, hint = "ServerInfo~a]@exch01.corp.example:444/mapi/emsmdb/?#", "104.140.114.110", "ExchangeServicesClient/0.0.0.0", "/ecp/y.js", "X-BEResource-Cookie"
        else:
            anchor, ip, ua, stem, hint = f"Smtp~user{i % 500}@corp.example", f"10.1.{i % 250}.{i % 200}", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML  like Gecko) Chrome/88.0.4324.190 Safari/537.36", "/owa/service.svc", "Mailbox-Cookie"
        out.append(f"{t},{random.randrange(1 << 60):016x}-{i:08d},15,1,2106,2,,Owa,mail.corp.example,{stem},GetItem,Negotiate,true,CORP\\user{i % 500},,{anchor},{ua},{ip},EXCH01,200,200,,POST,Proxy,exch01.corp.example,Version 15.1 (Build 2106.2),DatabaseGuid,{hint},Database~{random.randrange(1 << 60):x},?action=GetItem&UA=owa,BeginRequest={t};CorrelationID=<empty>;\r\n")
    return "".join(out)
def iis_block(n):
    out = []
    for i in range(n):
        t = f"{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
        if i % 1000 == 499:
            out.append(f"2021-03-03 {t} 10.0.0.5 POST /ecp/y.js &CorrelationID=<empty>;&cafeReqId={random.randrange(1 << 60):x}; 443 - 104.140.114.110 ExchangeServicesClient/0.0.0.0 - 200 0 0 15\r\n")
        elif i % 1000 == 999:
            out.append(f"2021-03-03 {t} 10.0.0.5 POST /aspnet_client/discover.aspx - 443 - 5.254.43.18 antSword/v2.1 - 200 0 0 31\r\n")
        else:
            out.append(f"2021-03-03 {t} 10.0.0.5 GET /owa/service.svc action=GetItem&CorrelationID=<empty>;&cafeReqId={random.randrange(1 << 60):x}; 443 CORP\\user{i % 500} 10.1.{i % 250}.{i % 200} Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/88.0.4324.190+Safari/537.36 - 200 0 0 {i % 900}\r\n")
    return "".join(out)
pblock, iblock = proxy_block(20000).encode(), iis_block(20000).encode()
for n in range(files):
    if n % 2 == 0:
        path, head, block = f"{root}/HttpProxy/Owa/HttpProxy_20210303{n:02d}-1.LOG", (fields + "\r\n#Software: Microsoft Exchange Server\r\n#Version: 15.01.2106.002\r\n#Log-type: HttpProxy Logs\r\n#Date: 2021-03-03T00:00:00.000Z\r\n#Fields: " + fields + "\r\n").encode(), pblock
    else:
        path, head, block = f"{root}/IIS/W3SVC1/u_ex2103{n:02d}.log", b"#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: 2021-03-03 00:00:00\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n", iblock
    with open(path, "wb") as f:
        f.write(head)
        written = len(head)
        while written + len(block) <= per_file:
            f.write(block)
            written += len(block)
# 10,000 small IIS logs for the rescan figure.
for d in range(100):
    os.makedirs(f"{small}/IIS/W3SVC{d}", exist_ok=True)
    for k in range(100):
        with open(f"{small}/IIS/W3SVC{d}/u_ex{k:06d}.log", "w") as f:
            f.write("#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n")
            f.write(f"2021-03-03 06:00:{k % 60:02d} 10.0.0.5 GET /owa/ - 443 - 10.1.0.{k % 200} Mozilla/5.0 - 200 0 0 12\n")
PY

# The catalog's literal strings: every textual operand and list value (the longest literal run
# of wildcard patterns), lowercased; regex and predicate conditions have no literal and are skipped.
python3 - Sources/IncidentCore/Resources/indicators.json > "$WORK/patterns.txt" <<'PY'
import json, re, sys
pack = json.load(open(sys.argv[1]))
out = set()
for values in pack["lists"].values():
    out.update(v.lower() for v in values)
for ind in pack["indicators"]:
    for c in ind["all"]:
        for op, v in c.items():
            if op in ("field", "regex", "predicate", "empty", "inList", "notInList", "userAgentInList") or op.startswith("not"):
                continue
            for s in (v if isinstance(v, list) else [v]):
                s = max(re.split(r"[*?]", s), key=len) if op.startswith("like") else s
                if len(s) >= 3:
                    out.add(s.lower())
print("\n".join(sorted(out)))
PY

BYTES=$(du -cb "$WORK/case/evidence" | tail -1 | cut -f1)
cat "$WORK"/case/evidence/EXCH01/*/*/* > /dev/null   # warm the page cache for both tools
echo "machine: $(nproc) core(s); evidence: $FILES files, $((BYTES / 1048576)) MiB; catalog literals for rg: $(wc -l < "$WORK/patterns.txt")"

ours() {  # threads label [extra flag]
    local out
    out=$(INCIDENT_SCAN_THREADS=$1 /usr/bin/time -f "peak RSS %M KiB" "$BIN" bench scan "$WORK/case" --rescans 0 ${3:-} 2>&1)
    echo "incident ($2): $(echo "$out" | grep '^first pass' | sed 's/^first pass: //'); $(echo "$out" | grep 'peak RSS')"
}
sha() {  # the ceiling set by hashing every byte (chain of custody); ripgrep does not hash
    local k
    k=$(openssl speed -seconds 2 -bytes 262144 -evp sha256 2>/dev/null | awk '/^sha256/ {print $2}' | tr -d k)
    python3 -c "import sys; r=float(sys.argv[1])*1000/1048576; print(f'SHA-256 alone (openssl speed, 1 thread, 256 KiB blocks): {r:.1f} MiB/s')" "$k"
}
rgrun() {  # threads label
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -f "%U %S" -o "$WORK/rg.time" rg -F -i -c -j "$1" -f "$WORK/patterns.txt" "$WORK/case/evidence" > /dev/null || true
    end=$(date +%s.%N)
    python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); u,k=map(float,open(sys.argv[5]).read().split()[-2:]); b=int(sys.argv[4])/1048576; print(f'rg -F -f ({sys.argv[3]}): {s:.2f} s, {b/s:.1f} MiB/s; CPU {u+k:.2f} s (user+system), {b/max(u+k,1e-9):.1f} MiB per CPU-second')" "$start" "$end" "$2" "$BYTES" "$WORK/rg.time"
}
"$BIN" bench scan "$WORK/case" --rescans 0 | grep '^prefilter'
ours 1 "1 thread"
rgrun 1 "1 thread"
ours 1 "1 thread, --no-prefilter" --no-prefilter
sha
ours "$(nproc)" "$(nproc) threads"
rgrun "$(nproc)" "$(nproc) threads"
echo "rescan: $(INCIDENT_SCAN_THREADS=$(nproc) "$BIN" bench scan "$WORK/small" --rescans 5 | grep '^rescan')"
