import Foundation

/// A synthetic case of a chosen size, for benchmarks (`incident bench render`): never written to
/// disk and never shown as evidence.
public enum SyntheticCase {
    /// A scanned-looking snapshot with `servers` servers (`EXCH00001` …) and `hits` hits spread
    /// evenly over them, cycling through the indicator pack, one IIS log per server, times from
    /// 2021-03-03T00:00:00Z one second apart, every 97th hit triaged as a false positive.
    /// Deterministic: the same sizes give the same snapshot.
    public static func snapshot(servers: Int, hits: Int, pack: IndicatorPack, playbook: Playbook) -> CaseSnapshot {
        let serverCount = max(1, servers)
        var caseFile = CaseFile(caseId: "synthetic", name: "Synthetic: \(serverCount) servers, \(hits) hits",
                                created: Date(timeIntervalSince1970: 1_614_729_600))
        let names = (0..<serverCount).map { String(format: "EXCH%05d", $0 + 1) }
        caseFile.servers = names.map { Server(name: $0) }
        let statuses = names.map { name in
            FileStatus(path: "evidence/\(name)/u_ex210303.log", server: name, format: .iisW3C, encoding: .utf8,
                       sizeBytes: 1_000_000, sha256: String(repeating: "0", count: 64), modified: caseFile.created,
                       lines: hits / serverCount + 4, records: hits / serverCount, firstEvent: nil, lastEvent: nil, warnings: [])
        }
        let indicators = pack.indicators
        var all: [Hit] = []
        all.reserveCapacity(hits)
        let start = Date(timeIntervalSince1970: 1_614_729_600)
        for i in 0..<max(0, hits) {
            let server = names[i % serverCount]
            let indicator = indicators[(i / serverCount) % indicators.count]
            let line = i / serverCount + 5
            let raw = "2021-03-03 00:00:00 10.0.0.5 POST /owa/auth/x\(i).aspx - 443 - 203.0.113.\(i % 250) Mozilla/5.0+(synthetic) - 200 0 0 \(i % 1000)"
            var hit = Hit(indicator: indicator, server: server, evidence: "evidence/\(server)/u_ex210303.log", line: line,
                          time: start.addingTimeInterval(Double(i)), field: "cs-uri-stem", value: "/owa/auth/x\(i).aspx",
                          clientIP: "203.0.113.\(i % 250)", rawLine: raw)
            hit.id = String(format: "%016x", i)
            all.append(hit)
            if i % 97 == 0 {
                caseFile.triage.append(TriageDecision(hitId: hit.id, decision: .falsePositive, note: "synthetic", by: "bench", at: start))
            }
        }
        let summaries = Verdicts.summarize(caseFile: caseFile, statuses: statuses, hits: all, playbook: playbook)
        return CaseSnapshot(caseFile: caseFile, hits: all, statuses: statuses, summaries: summaries,
                            lastScan: start, scanPasses: 1, saveError: nil, hitsVersion: 1)
    }
}
