#!/usr/bin/env bash
# Scan throughput: builds the release binary, writes a synthetic case with LINES IIS log lines
# and LINES HttpProxy rows (mostly benign, 1 in 1000 hitting), and times one `incident scan`
# (intake hashing + format detection + parsing + every indicator on every record).
# Usage: Benchmarks/scan-throughput.sh [LINES]   (default 500000)
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-500000}
swift build -c release --product incident >/dev/null
BIN=.build/release/incident
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$BIN" new "$WORK/case" --name "benchmark" >/dev/null
mkdir -p "$WORK/case/evidence/EXCH01/iis" "$WORK/case/evidence/EXCH01/httpproxy"
python3 - "$WORK/case/evidence/EXCH01" "$LINES" <<'PY'
import sys, random
root, n = sys.argv[1], int(sys.argv[2])
random.seed(7)
with open(f"{root}/iis/u_ex210303.log", "w", newline="\r\n") as f:
    f.write("#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n#Date: 2021-03-03 00:00:00\n")
    f.write("#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n")
    for i in range(n):
        t = f"{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
        if i % 1000 == 999:
            f.write(f"2021-03-03 {t} 10.0.0.5 POST /ecp/y.js &CorrelationID=<empty>;&cafeReqId=x; 443 - 104.140.114.110 ExchangeServicesClient/0.0.0.0 - 200 0 0 15\n")
        else:
            f.write(f"2021-03-03 {t} 10.0.0.5 GET /owa/service.svc action=GetItem&CorrelationID=<empty>;&cafeReqId={random.randrange(1<<60):x}; 443 CORP\\user{i % 500} 10.1.{i % 250}.{i % 200} Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/88.0.4324.190+Safari/537.36 - 200 0 0 {i % 900}\n")
fields = "DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingType,RoutingHint,BackEndCookie"
with open(f"{root}/httpproxy/HttpProxy_2021030300-1.LOG", "w", newline="\r\n") as f:
    f.write(fields + "\n#Software: Microsoft Exchange Server\n#Version: 15.01.2106.002\n#Log-type: HttpProxy Logs\n#Date: 2021-03-03T00:00:00.000Z\n#Fields: " + fields + "\n")
    for i in range(n):
        anchor = "ServerInfo~a]@exch01:444/mapi/emsmdb/?#" if i % 1000 == 999 else f"Smtp~user{i % 500}@corp.example"
        f.write(f"2021-03-03T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.000Z,{random.randrange(1<<60):x},15,1,2106,2,,Owa,mail.corp.example,/owa/service.svc,GetItem,Negotiate,true,CORP\\user{i % 500},,{anchor},Mozilla/5.0 (Windows NT 10.0)  like Gecko,10.1.{i % 250}.{i % 200},EXCH01,200,200,,POST,Proxy,exch01.corp.example,Version 15.1 (Build 2106.2),DatabaseGuid,Mailbox-Cookie,\n")
PY
BYTES=$(du -cb "$WORK/case/evidence" | tail -1 | cut -f1)
echo "evidence: $((2 * LINES)) lines, $((BYTES / 1048576)) MiB"
run() {
    if [ -x /usr/bin/time ]; then /usr/bin/time -f "max RSS %M KiB" "$@"; else "$@"; fi
}
start=$(python3 -c 'import time; print(time.time())')
run "$BIN" scan "$WORK/case" --format text --fail-on critical > "$WORK/out.txt" 2> "$WORK/time.txt" || true
python3 - "$start" "$BYTES" "$(tail -1 "$WORK/out.txt")" "$(tail -1 "$WORK/time.txt")" <<'PY'
import sys, time
start, size = float(sys.argv[1]), int(sys.argv[2])
secs = time.time() - start
print(f"full scan: {secs:.2f} s, {size / 1048576 / secs:.1f} MiB/s; {sys.argv[3]}; {sys.argv[4]}")
PY
