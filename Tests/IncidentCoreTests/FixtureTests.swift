import Foundation
import Testing
@testable import IncidentCore

/// Small evidence files kept in `Fixtures/`, scanned as a case's evidence.
@Suite("Fixture evidence files")
struct FixtureTests {
    static let files = ["ECPServer20210303-27065.LOG", "OABGeneratorLog-26858.LOG", "HttpProxy-directives-first.LOG",
                         "EXCH09-Cve-2021-26855.csv"]

    func scanFixtures() throws -> (EvidenceScanner, TempDir) {
        let dir = try TempDir("fixtures")
        for name in Self.files {
            let bytes = [UInt8](try Data(contentsOf: try fixturesURL().appendingPathComponent(name)))
            try dir.write("evidence/EXCH09/collected/\(name)", bytes)
        }
        let scanner = EvidenceScanner(engine: try builtInEngine())
        scanner.scan(caseFolder: dir.url)
        return (scanner, dir)
    }

    func lineIDs(_ scanner: EvidenceScanner, _ name: String) -> [Int: Set<String>] {
        var out: [Int: Set<String>] = [:]
        for hit in scanner.hits where hit.evidence == "evidence/EXCH09/collected/\(name)" {
            out[hit.line, default: []].insert(hit.indicator)
        }
        return out
    }

    @Test func fixturesAreBundled() throws {
        for name in Self.files {
            let lines = try fixtureLines(name)
            #expect(lines.first?.hasPrefix("#") == true, "\(name)")
        }
    }

    @Test func ecpServerLog() throws {
        let (scanner, _) = try scanFixtures()
        let status = try #require(scanner.statuses.first { $0.path.hasSuffix("ECPServer20210303-27065.LOG") })
        #expect(status.format == .ecpServer && status.lines == 9 && status.records == 4)
        #expect(lineIDs(scanner, "ECPServer20210303-27065.LOG") == [6: ["PL-013"], 8: ["PL-011", "PL-012", "PL-013", "PL-014"], 9: ["PL-013"]])
        let hit = try #require(scanner.hits.first { $0.indicator == "PL-011" })
        #expect(hit.field == "S:CMD")
        #expect(hit.value.hasPrefix("Set-OabVirtualDirectory.ExternalUrl=''http://f/<script language=\"JScript\""))
        #expect(hit.time == Timestamps.parse("2021-03-03T06:44:34.917Z"))
    }

    @Test func oabGeneratorLog() throws {
        let (scanner, _) = try scanFixtures()
        let status = try #require(scanner.statuses.first { $0.path.hasSuffix("OABGeneratorLog-26858.LOG") })
        #expect(status.format == .oabGenerator && status.lines == 9 && status.records == 4)
        #expect(lineIDs(scanner, "OABGeneratorLog-26858.LOG") == [8: ["PL-015", "PL-016"], 9: ["PL-015"]])
        let hit = try #require(scanner.hits.first { $0.indicator == "PL-016" })
        #expect(hit.field == "DownloadPath")
        #expect(hit.value == "'\\\\127.0.0.1\\c$\\inetpub\\wwwroot\\aspnet_client\\shell.aspx'")
    }

    @Test func httpProxyWithDirectivesFirstAndLowercaseHeader() throws {
        let (scanner, _) = try scanFixtures()
        let status = try #require(scanner.statuses.first { $0.path.hasSuffix("HttpProxy-directives-first.LOG") })
        #expect(status.format == .httpProxy && status.lines == 8 && status.records == 3)
        #expect(status.warnings.isEmpty)
        #expect(lineIDs(scanner, "HttpProxy-directives-first.LOG") == [7: ["PL-001", "PL-008", "UA-057", "IP-054"], 8: ["PL-003"]])
        let hit = try #require(scanner.hits.first { $0.indicator == "PL-008" && $0.evidence.hasSuffix("HttpProxy-directives-first.LOG") })
        #expect(hit.field == "anchormailbox")
        #expect(hit.clientIP == "104.140.114.110")
    }

    /// Test-ProxyLogon's `<CN>-Cve-2021-26855.csv` as Windows PowerShell 5.1 writes it (`#TYPE`
    /// line, every value quoted, ASCII): read as HttpProxy rows, so the console re-checks them.
    @Test func testProxyLogonOutputCSV() throws {
        let (scanner, _) = try scanFixtures()
        let status = try #require(scanner.statuses.first { $0.path.hasSuffix("EXCH09-Cve-2021-26855.csv") })
        #expect(status.format == .httpProxy && status.lines == 5 && status.records == 3)
        #expect(!status.warnings.contains { $0.hasPrefix("Test-ProxyLogon output of computer") }, "filed under its own server")
        #expect(lineIDs(scanner, "EXCH09-Cve-2021-26855.csv") == [
            3: ["PL-001", "UA-057", "IP-054"],
            4: ["PL-001", "PL-008", "UA-057", "IP-054"],
            5: ["PL-001", "PL-007", "UA-057", "IP-054"],
        ])
    }

    @Test func scanFileOutsideACaseFolder() throws {
        let dir = try TempDir("single")
        let url = try dir.write("kept-elsewhere/u_ex210303.log", ScanFixture.text([ScanFixture.ssrf]))
        let scanner = EvidenceScanner(engine: try builtInEngine())
        #expect(scanner.scanFile(url, relativePath: "evidence/EXCH04/IIS/u_ex210303.log", server: "EXCH04"))
        #expect(Set(scanner.hits.map(\.indicator)) == ScanFixture.ssrfIDs)
        #expect(scanner.hits.allSatisfy { $0.server == "EXCH04" && $0.evidence == "evidence/EXCH04/IIS/u_ex210303.log" && $0.line == 5 })
        #expect(!scanner.scanFile(url, relativePath: "evidence/EXCH04/IIS/u_ex210303.log", server: "EXCH04"))
    }
}
