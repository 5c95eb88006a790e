import Foundation
import Testing

@Suite("incident indicators list and bench scan")
struct IndicatorsListTests {
    @Test("the catalog lists every built-in indicator, as text and JSON")
    func listCatalog() throws {
        let json = try run(incidentBinary.path, ["indicators", "list", "--format", "json"])
        #expect(json.status == 0)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 87)
        let pl001 = try #require(rows.first { $0["id"] as? String == "PL-001" })
        #expect(pl001["kind"] as? String == "log-pattern")
        #expect(pl001["stage"] as? String == "exploitation")
        #expect(pl001["cve"] as? String == "CVE-2021-26855")
        #expect(pl001["field"] as? String == "AnchorMailbox")
        #expect(pl001["rule"] as? String == "AnchorMailbox like 'ServerInfo~*/*' AND AnchorMailbox notLike 'ServerInfo~*/autodiscover*' AND AnchorMailbox notLike 'ServerInfo~localhost*/*'")
        #expect((pl001["sources"] as? [String])?.first == "https://github.com/microsoft/CSS-Exchange/blob/main/Security/src/Test-ProxyLogon.ps1")
        #expect(rows.allSatisfy { ($0["sources"] as? [String])?.isEmpty == false })
        let text = try run(incidentBinary.path, ["indicators", "list"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("PL-001  critical  exploitation  CVE-2021-26855  log-pattern\n"))
        #expect(text.stdout.hasSuffix("87 indicator(s), pack builtin 2026.11.30\n"))
    }

    @Test("bench scan reads the demo and times rescans without writing the case")
    func benchScan() throws {
        let dir = temporaryFolder("bench").appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"]).status == 0)
        let before = try Data(contentsOf: dir.appendingPathComponent("case.json"))
        let r = try run(incidentBinary.path, ["bench", "scan", dir.path, "--rescans", "2"])
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("files: 12, bytes: "))
        #expect(r.stdout.contains(" hit(s); CPU "))
        #expect(r.stdout.contains("rescan of 12 unchanged file(s): min "))
        #expect(try Data(contentsOf: dir.appendingPathComponent("case.json")) == before)
    }
}
