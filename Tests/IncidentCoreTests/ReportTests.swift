import Foundation
import Testing
@testable import IncidentCore

@Suite struct ReportTests {
    func demoReport() throws -> (CaseReport, TempDir) {
        let (snapshot, dir) = try DemoCaseTests.scanDemo()
        let report = CaseReport(snapshot: snapshot, playbook: try Playbook.builtIn(), indicators: try builtInEngine().pack.indicators,
                                now: Date(timeIntervalSince1970: 1_615_000_000))
        return (report, dir)
    }

    @Test func summaryOfTheDemo() throws {
        let (r, _) = try demoReport()
        #expect(r.servers.map(\.server.name) == ["EXCH01", "EXCH02", "EXCH03"])
        #expect(r.verdictCounts.map { "\($0.0.rawValue) \($0.1)" } == ["compromised 1", "exploited 0", "probed 1", "no-findings 0", "insufficient-coverage 1", "not-assessed 0"])
        #expect(r.patchCounts.first { $0.0 == .vulnerable }?.1 == 3)
        #expect(r.serversDone == 0)
        #expect(r.timeline.count == 74)
        #expect(r.falsePositives == 0)
        #expect(r.servers[0].summary.hits == 69)
        // Timeline: oldest first, hits without a time (inventories) last.
        let timed = r.timeline.compactMap(\.time)
        #expect(timed == timed.sorted())
        #expect(r.timeline.last?.time == nil)
        // Findings: grouped per indicator, most severe first, with evidence references and hashes.
        let exch01 = r.servers[0]
        #expect(exch01.findings.first?.severity == .critical)
        let pl001 = try #require(exch01.findings.first { $0.indicator == "PL-001" })
        #expect(pl001.count == 5)
        #expect(pl001.clientIPs == ["104.140.114.110"])
        #expect(pl001.references.count == 5)
        #expect(pl001.references[0].path == "evidence/EXCH01/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG")
        #expect(pl001.references[0].line == 10)
        #expect(pl001.references[0].sha256.count == 64)
        #expect(Timestamps.iso8601(pl001.firstSeen!) == "2021-03-03T06:44:22.904Z")
        // ED 21-02 row: recorded facts, and "not recorded" (nil) where the case holds none.
        let row = r.ed2102[0]
        #expect(row.instance == "exch01.corp.example")
        #expect(row.exchangeVersion == "15.1.2106.2")
        #expect(row.internetAccessible == true)
        #expect(row.updated == false)
        #expect(row.ipAddress == nil)
        #expect(row.observedIOCs.hasPrefix("FH-044 ×2, FH-045 ×1"))
        #expect(r.ed2102[2].observedIOCs == "none (verdict insufficient-coverage)")
    }

    @Test func falsePositivesAreLeftOutAndCounted() throws {
        var (snapshot, _) = try DemoCaseTests.scanDemo()
        let hit = try #require(snapshot.hits.first { $0.indicator == "PL-003" })
        snapshot.caseFile.triage.append(TriageDecision(hitId: hit.id, decision: .falsePositive, note: "scanner", by: "t", at: Date()))
        let r = CaseReport(snapshot: snapshot, playbook: try Playbook.builtIn(), indicators: [])
        #expect(r.falsePositives == 1)
        #expect(!r.timeline.contains { $0.id == hit.id })
    }

    @Test func formatsHoldTheSections() throws {
        let (r, _) = try demoReport()
        let md = ReportRenderer.markdown(r)
        for heading in ["# Incident report: Demo: Contoso Exchange, March 2021", "## Executive summary", "## Findings per server", "### EXCH01",
                        "#### Checklist", "## Timeline of hits", "## CISA ED 21-02 status (template v1 columns)"] {
            #expect(md.contains("\n" + heading + "\n") || md.hasPrefix(heading + "\n"), "missing \(heading)")
        }
        #expect(md.contains("| Servers done (patched, and investigated clean or remediated) | 0 of 3 |"))
        // Each server's coverage and chain explain its verdict.
        #expect(md.components(separatedBy: "\n#### Coverage\n").count == 4)
        #expect(md.contains("\n#### Attack chain\n"))
        #expect(md.contains("| cve-2021-26857 | not-checked | no | — | — | 0 | no evidence for this check: collect the Application event log (EVTX) |"))


        let csv = ReportRenderer.csv(r)
        let lines = csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("\"Server\",\"Instance\",\"IP address\",\"Host OS version\",\"Exchange version\""))
        #expect(lines[3] == "\"EXCH03\",\"exch03.corp.example\",\"not recorded\",\"not recorded\",\"15.1.2106.2\",\"no\",\"not recorded\",\"not recorded\",\"not recorded\",\"not recorded\",\"no\",\"not recorded\",\"none (verdict insufficient-coverage)\",\"insufficient-coverage\",\"vulnerable\",\"unknown\",\"0\",\"12\",\"0\",\"no\"")

        let json = try #require(try JSONSerialization.jsonObject(with: try ReportRenderer.json(r)) as? [String: Any])
        #expect((json["timeline"] as? [Any])?.count == 74)
        #expect((json["summary"] as? [String: Any])?["serversDone"] as? Int == 0)
        let servers = try #require(json["servers"] as? [[String: Any]])
        #expect(servers.map { $0["compromiseState"] as? String } == ["compromised", "unknown", "unknown"])
        let coverage3 = try #require(servers[2]["coverage"] as? [[String: Any]])
        #expect(coverage3.map { $0["status"] as? String } == ["insufficient-coverage", "not-checked", "not-checked", "not-checked", "insufficient-coverage", "insufficient-coverage"])
        #expect(coverage3[0]["from"] as? String == "2021-03-05T09:00:00.377Z")
        let chain1 = try #require(servers[0]["chain"] as? [[String: Any]])
        #expect(chain1.map { $0["stage"] as? String } == ["attempt", "entry", "file-write", "web-shell-on-disk", "web-shell-requested"])

        let html = ReportRenderer.html(r)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        // One self-contained file: no scripts, no external stylesheets, images or fonts.
        for banned in ["<script", "<link", "src=", "url(", "@import", "http-equiv"] { #expect(!html.contains(banned), "\(banned)") }
        #expect(html.contains("<section id=\"ed2102\">"))
        #expect(html.components(separatedBy: "<h3>Coverage</h3>").count == 4)
        #expect(html.contains("<h3>Attack chain</h3>"))
        #expect(html.contains("@media print"))
    }

    @Test func jsonStringsRoundTrip() throws {
        for s in ["plain", "q\"uote\\back", "\u{0}\u{1B}[2J\n\r\t", "\u{2028}\u{2029}", "ünï😀\u{202E}", ""] {
            let data = Data(("[" + ReportRenderer.jsonString(s) + "]").utf8)
            let back = try #require(try JSONSerialization.jsonObject(with: data) as? [String])
            #expect(back == [s])
        }
    }

    @Test func hostileEvidenceTextIsEscapedInEveryFormat() {
        #expect(ReportText.clean("a\u{1B}[31mred\u{202E}gpj.exe\u{0}") == "a\\u{001B}[31mred\\u{202E}gpj.exe\\u{0000}")
        #expect(ReportRenderer.h("<script>alert('x')</script>&") == "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;")
        #expect(ReportRenderer.md("a|b<i>*x*") == "a\\|b&lt;i&gt;\\*x\\*")
        #expect(ReportRenderer.csvField("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        #expect(ReportRenderer.csvField("-2+3") == "\"'-2+3\"")
    }

    @Test func hostileUserAgentInTheDemoReportHTML() throws {
        var (snapshot, _) = try DemoCaseTests.scanDemo()
        var hit = try #require(snapshot.hits.first)
        hit.value = "<img src=x onerror=alert(1)>\u{1B}]0;pwned\u{7}\u{202E}"
        snapshot.hits = [hit]
        let html = ReportRenderer.html(CaseReport(snapshot: snapshot, playbook: try Playbook.builtIn(), indicators: []))
        #expect(!html.contains("<img"))
        #expect(!html.contains("\u{1B}"))
        #expect(!html.contains("\u{202E}"))
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;\\u{001B}]0;pwned\\u{0007}\\u{202E}"))
    }
}
