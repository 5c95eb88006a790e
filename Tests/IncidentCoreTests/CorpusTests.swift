import Foundation
import Testing
@testable import IncidentCore

/// Real evidence from `../shared/corpus` (files nobody on this project wrote). The suite is
/// skipped, with the reason shown, when the corpus is not checked out next to the repository.
@Suite("Real corpus", .enabled(if: corpusAvailable, "../shared/corpus not present: real-evidence tests skipped"))
struct CorpusTests {
    let engine: RuleEngine
    init() throws { engine = try builtInEngine() }

    func lines(_ relative: String) throws -> [String] {
        let bytes = [UInt8](try Data(contentsOf: Paths.corpusFile(relative)))
        let (encoding, bom) = TextEncoding.detect(bytes[...])
        let body = Array(bytes.dropFirst(bom))
        return body.withUnsafeBufferPointer { LineSplitter.split($0, encoding: encoding, atEOF: true).lines.map(\.text) }
    }

    /// Scans one corpus file as `evidence/CORPUS/<name>` of a temporary case.
    func scan(_ relative: String) throws -> (EvidenceScanner, TempDir) {
        let dir = try TempDir("corpus")
        let name = (relative as NSString).lastPathComponent
        try dir.write("evidence/CORPUS/\(name)", [UInt8](try Data(contentsOf: Paths.corpusFile(relative))))
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        return (scanner, dir)
    }

    @Test func velociraptorIISLog() throws {
        let text = try lines("velociraptor/iis.log")
        try #require(text.count == 8)
        // Line 7 is the ProxyShell request (checked here, not assumed).
        #expect(text[6].contains("/autodiscover/autodiscover.json @evil.corp/"))
        #expect(text[4].contains("AMProbe/Local/ClientAccess") && text[5].contains("AMProbe/Local/ClientAccess"))
        #expect(text[7].contains("extractvalue(xmltype("))

        let (scanner, _) = try scan("velociraptor/iis.log")
        let status = try #require(scanner.statuses.first)
        #expect(status.format == .iisW3C)
        #expect(status.lines == 7) // no final newline: line 8 is read provisionally
        let hits = scanner.hits
        #expect(hits.filter { $0.indicator == "PS-001" }.map(\.line) == [7])
        #expect(hitIDs(hits, line: 5).isEmpty)
        #expect(hitIDs(hits, line: 6).isEmpty)
        #expect(hitIDs(hits, line: 7) == ["PS-001"])
        #expect(hitIDs(hits, line: 8) == ["WEB-001"])
        let web = try #require(hits.first { $0.line == 8 })
        #expect(web.severity == .low)
        #expect(web.field == "cs(User-Agent)")
        #expect(web.value.hasPrefix("(select+extractvalue(xmltype('<?xml+version=\"1.0\""))
        let ps = try #require(hits.first { $0.line == 7 })
        #expect(ps.severity == .critical && ps.field == "cs-uri-query" && ps.clientIP == "1.1.1.1")
        #expect(ps.time == Timestamps.parse("2021-10-09 02:24:04"))
        #expect(hits.count == 2)
    }

    @Test func aptSimulatorHeaderlessLine() throws {
        let (scanner, _) = try scan("aptsimulator/hafnium-dummy.log")
        let status = try #require(scanner.statuses.first)
        #expect(status.format == .iisW3C)
        #expect(status.warnings == ["no #Fields header: 1 line(s) read with the IIS default field layout"])
        let hits = scanner.hits
        #expect(hits.map(\.indicator) == ["PS-001"])
        #expect(hits.first?.line == 1)
        #expect(hits.first?.value.hasPrefix("@a.a/powershell/?&Email=autodiscover/autodiscover.json%3F@a.a&X-Rps-CAT=") == true)
        #expect(hits.first?.clientIP == "10.255.249.78")
    }

    /// Every row of Microsoft's known-good baseline, as a Windows PowerShell 5.1 Get-FileHash export.
    @Test func knownGoodBaselineHasNoHits() throws {
        let rows = try lines("css-exchange/baseline_15.0.1497.2.csv").filter { !$0.isEmpty }
        #expect(rows.count == 9406)
        var out = Inventory.typeLine + "\r\n" + Inventory.header + "\r\n"
        for row in rows {
            let f = CSVLine.fields(row)
            try #require(f.count == 3, "baseline row: \(row)")
            #expect(f[1] == "15.0.1497.2")
            out += Inventory.row(hash: f[0], path: Inventory.exchangeWeb + f[2]) + "\r\n"
        }
        let dir = try TempDir("baseline")
        let path = "evidence/EXCH03/FileHashes/EXCH03-webfiles.csv"
        try dir.write(path, out)
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        let status = try #require(scanner.statuses.first)
        #expect(status.format == .fileInventory)
        #expect(status.records == 9406)
        #expect(status.lines == 9408)
        #expect(status.warnings.isEmpty)
        #expect(scanner.hits.isEmpty, "first hits: \(scanner.hits.prefix(5).map { "\($0.indicator) line \($0.line) \($0.value)" })")
    }

    @Test func msticFeedIsCoveredByThePack() throws {
        let rows = try lines("azure-sentinel/MSTICIoCs-ExchangeServerVulnerabilitiesDisclosedMarch2021.csv").filter { !$0.isEmpty }
        #expect(rows.first == "DateAdded,FirstSeen,Indicator,IndicatorType,TLP")
        let records = rows.dropFirst().map { CSVLine.fields($0) }
        let sha = records.filter { $0[3] == "sha256" }.map { $0[2] }
        let paths = records.filter { $0[3] == "filepath" }.map { $0[2] }
        #expect(sha.count == 45)
        #expect(paths.count == 104)
        let pack = try BuiltInData.indicatorPack()
        let listed = Set(try #require(pack.lists["mstic-sha256"]).map { $0.lowercased() })
        for hash in sha {
            #expect(listed.contains(hash.lowercased()), "MSTIC hash missing from mstic-sha256: \(hash)")
            let got = try matchIDs(engine, Inventory.lines(hash: hash.uppercased(), path: "C:\\Windows\\Temp\\sample.bin"), .fileInventory)
            #expect(got.contains("FH-045"), "\(hash)")
        }
        for path in paths {
            let got = try matchIDs(engine, Inventory.lines(path: path), .fileInventory)
            #expect(got.contains("FP-037"), "MSTIC path not flagged by FP-037: \(path)")
            #expect(got.allSatisfy { !$0.hasPrefix("FH-") })
        }
    }

    /// Real IIS log with an analyst's comment after #Fields, a CR-only blank line and a second
    /// header block at line 2601 (service restart).
    @Test func tunnaIISLogParsesCleanly() throws {
        let (scanner, _) = try scan("evtx-attack-samples/Tunna_rdp_tunnel_IIS.log")
        let status = try #require(scanner.statuses.first)
        #expect(status.format == .iisW3C)
        #expect(status.lines == 4308)
        #expect(status.records == 4298)
        #expect(status.warnings.isEmpty)
        #expect(status.firstEvent == Timestamps.parse("2019-09-03 10:13:36"))
    }

    /// Three header blocks with 15, 19 and 22 fields, then two lines in the 15-field layout.
    @Test func elasticBeatsFieldsChange() throws {
        let records = parseAll(try lines("elastic-beats/test.log"), format: .iisW3C)
        #expect(records.map(\.line) == [5, 10, 15, 16, 17])
        #expect(records[0].value("c-ip") == "81.2.69.143")
        #expect(records[1].value("s-sitename") == "W3SVC1")
        #expect(records[1].value("cs-host") == "example.com")
        #expect(records[2].value("s-computername") == "MACHINE-NAME")
        #expect(records[2].value("cs-version") == "HTTP/1.1")
        #expect(records[3].value("cs-uri-stem") == "/")
        #expect(records[3].value("cs-uri-query")?.hasPrefix("redirect:${%23req%3d%23context.get(") == true)
        #expect(records[3].value("s-ip") == "10.44.0.136")
        var parser = W3CParser()
        for (i, line) in try lines("elastic-beats/test.log").enumerated() { _ = parser.parse(line, line: i + 1) }
        #expect(parser.warnings == ["2 line(s) whose field count differs from #Fields"])
    }
}
