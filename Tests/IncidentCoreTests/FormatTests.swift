import Foundation
import Testing
@testable import IncidentCore

/// Tool outputs and inventory variants, each recognised by content (the files are stored under
/// names that say nothing about their format) and matched with exact hits per line.
@Suite("Tool-output and inventory formats")
struct FormatTests {
    /// Scans fixture files, each stored as `evidence/EXCH09/f<n>.dat` so names cannot give the format away.
    static func scan(_ names: [String], builds: [String: String] = [:], extra: [(String, String)] = []) throws
        -> (EvidenceScanner, TempDir, [String: String]) {
        let dir = try TempDir("formats")
        var stored: [String: String] = [:]
        for (n, name) in names.enumerated() {
            let rel = "evidence/EXCH09/f\(n).dat"
            try dir.write(rel, [UInt8](try Data(contentsOf: try fixturesURL().appendingPathComponent(name))))
            stored[name] = rel
        }
        for (rel, text) in extra { _ = try dir.write(rel, text) }
        let scanner = EvidenceScanner(engine: try builtInEngine())
        scanner.serverBuilds = builds
        scanner.scan(caseFolder: dir.url)
        return (scanner, dir, stored)
    }

    static func lineIDs(_ scanner: EvidenceScanner, _ path: String) -> [Int: Set<String>] {
        var out: [Int: Set<String>] = [:]
        for hit in scanner.hits where hit.evidence == path { out[hit.line, default: []].insert(hit.indicator) }
        return out
    }

    /// Pitfalls 1 and 2 (CSS-Exchange issues/311, 328): archives in `-other.csv` are review-only
    /// (low), culture-formatted dates stay text; pitfall 30: the `#TYPE` line is skipped.
    @Test func testProxyLogonOtherCsv() throws {
        let (scanner, _, stored) = try Self.scan(["EXCH09-other.csv"])
        let path = try #require(stored["EXCH09-other.csv"])
        let status = try #require(scanner.statuses.first { $0.path == path })
        #expect(status.format == .testProxyLogon)
        #expect(status.records == 3)
        #expect(status.firstEvent == nil)
        #expect(Self.lineIDs(scanner, path) == [3: ["TPL-002"], 4: ["TPL-002"], 5: ["TPL-001"]])
        let archive = try #require(scanner.hits.first { $0.line == 4 })
        #expect(archive.severity == .low)
        #expect(archive.value == "C:\\ProgramData\\AppRecovery\\InstallerCache\\Agent\\configuration.zip")
    }

    /// Pitfall 2: "other" alone ≠ compromise; the archive-only server is `probed` at most, never compromised.
    @Test func archiveOnlyIsNotACompromise() throws {
        let hits = [Hit(indicator: try #require(try builtInEngine().pack.indicators.first { $0.id == "TPL-002" }), server: "EXCH09",
                        evidence: "evidence/EXCH09/o.csv", line: 3, time: nil, field: "Path", value: "x.zip", clientIP: nil, rawLine: "")]
        #expect(Verdicts.verdict(checkedFiles: 1, hits: hits) == .probed)
    }

    /// Pitfalls 3 and 4 (issues/251, 179): comma decimals and empty cells; older column spelling `Oabgen`.
    @Test func logAgeDays() throws {
        let (scanner, _, stored) = try Self.scan(["EXCH09-LogAgeDays.csv", "EXCH09-LogAgeDays-empty.csv"])
        let a = try #require(scanner.statuses.first { $0.path == stored["EXCH09-LogAgeDays.csv"] })
        #expect(a.format == .testProxyLogon)
        #expect(a.warnings == ["Test-ProxyLogon log age in days: OabGen 30.3, Ecp 29.8, AutoDProxy 30.0, EcpProxy 29.9, EwsProxy 30.1, MapiProxy 30.2, OwaProxy 30.0, PowershellProxy 12.5, RpcHttpProxy 30.0; empty: EasProxy, OabProxy, OwaCalendarProxy (folder empty, or not reported on this host)"])
        let b = try #require(scanner.statuses.first { $0.path == stored["EXCH09-LogAgeDays-empty.csv"] })
        #expect(b.format == .testProxyLogon)
        #expect(b.warnings == ["Test-ProxyLogon log age in days: none reported; empty: Oabgen, Ecp, AutodProxy, EasProxy, EcpProxy, EwsProxy, MapiProxy, OabProxy, OwaProxy, OwaCalendarProxy, PowershellProxy, RpcHttpProxy (folder empty, or not reported on this host)"])
        #expect(scanner.hits.isEmpty)
    }

    /// Pitfall 9 (pull/386) and 13 (issues/495): a legitimate OAB temp path is no hit, on any drive.
    @Test func testProxyLogonPathLists() throws {
        let (scanner, _, stored) = try Self.scan(["EXCH09-Cve-2021-27065.log", "EXCH09-Cve-2021-26858-DownloadPaths.log"])
        let ecp = try #require(stored["EXCH09-Cve-2021-27065.log"])
        let dl = try #require(stored["EXCH09-Cve-2021-26858-DownloadPaths.log"])
        #expect(scanner.statuses.filter { $0.format == .testProxyLogon }.count == 2)
        #expect(Self.lineIDs(scanner, ecp) == [1: ["TPL-003"], 2: ["TPL-003"]])
        #expect(Self.lineIDs(scanner, dl) == [2: ["TPL-004"]])
    }

    /// MSERT: result lines only; the summary that repeats detections and the banners are boilerplate.
    @Test func msertLog() throws {
        let (scanner, _, stored) = try Self.scan(["msert.log"])
        let path = try #require(stored["msert.log"])
        let status = try #require(scanner.statuses.first { $0.path == path })
        #expect(status.format == .msertLog)
        #expect(status.records == 5) // 2 detections, 2 resources, 1 "No infection found."
        #expect(Self.lineIDs(scanner, path) == [12: ["CF-069"], 14: ["CF-069"]])
        #expect(scanner.hits.map(\.value).sorted() == ["Backdoor:ASP/SecChecker.A", "Exploit:Script/Exmann.A!dha"])
        var p = MSERTLogParser()
        let parsed = p.parse("Threat Detected: Backdoor:ASP/SecChecker.A and Removed!", line: 1)
        let r = try #require(parsed)
        #expect(r.value("Action") == "Removed")
        let parsedResource = p.parse("  file://C:\\inetpub\\wwwroot\\aspnet_client\\x.aspx", line: 2)
        let res = try #require(parsedResource)
        #expect(res.value("DetectedThreat") == "Backdoor:ASP/SecChecker.A")
        #expect(res.value("Resource") == "file://C:\\inetpub\\wwwroot\\aspnet_client\\x.aspx")
    }

    /// Pitfall 22 (issues/498, 582): an EOMT failure is reported, and never moves a verdict.
    @Test func eomtLog() throws {
        let (scanner, _, stored) = try Self.scan(["EOMT.log"])
        let path = try #require(stored["EOMT.log"])
        let status = try #require(scanner.statuses.first { $0.path == path })
        #expect(status.format == .eomtLog)
        #expect(status.records == 5)
        #expect(Self.lineIDs(scanner, path) == [4: ["EOMT-001"]])
        #expect(scanner.hits.first?.severity == .info)
        #expect(scanner.hits.first?.value == "Unable to download the IIS URL Rewrite Module: The remote server returned an error: (404) Not Found.")
    }

    @Test func velociraptorJSONL() throws {
        let (scanner, _, stored) = try Self.scan(["velociraptor-hunt.jsonl"])
        let path = try #require(stored["velociraptor-hunt.jsonl"])
        let status = try #require(scanner.statuses.first { $0.path == path })
        #expect(status.format == .fileInventory)
        #expect(status.records == 3)
        #expect(status.warnings == ["1 JSON line(s) without a FullPath or OSPath, or not valid JSON, were not checked"])
        // FullPath with nested Hash.SHA256: hash and path hits; OSPath: the ProgramData archive.
        #expect(Self.lineIDs(scanner, path) == [1: ["FH-044", "FH-045", "FP-033", "FP-037"], 3: ["FP-040", "FP-041"]])
    }

    @Test func plainAndHeaderlessPathSha256() throws {
        let (scanner, _, stored) = try Self.scan(["webfiles-plain.csv", "webfiles-headerless.csv"])
        let plain = try #require(stored["webfiles-plain.csv"])
        let bare = try #require(stored["webfiles-headerless.csv"])
        #expect(scanner.statuses.allSatisfy { $0.format == .fileInventory })
        #expect(Self.lineIDs(scanner, plain) == [2: ["FH-044", "FP-036", "FP-077"]])
        #expect(Self.lineIDs(scanner, bare) == [2: ["FH-044", "FP-033", "FP-036", "FP-037"]])
    }

    static let baselineRows = [
        "\u{FEFF}78BCEB48460A5F3439ADBED724D5568063094EC951B4835EE727B0433BC837F2,15.0.1497.2,owa\\auth\\error.aspx",
        "EE4FBE88F0F02018CC659BF95368FFDA5DB5E7749D07AFE3D7250A20E9390B1A,15.0.1497.2,owa\\auth\\error2.aspx",
    ]

    static func inventory(_ rows: [(String, String)]) -> String {
        ([Inventory.typeLine, Inventory.header] + rows.map { Inventory.row(hash: $0.0, path: $0.1) }).joined(separator: "\r\n") + "\r\n"
    }

    /// Known-good baseline as an allow-list; pitfall 16 (issues/320, 345): OAB temp files are not compared;
    /// pitfall 17 (issues/313): no baseline for the build → no comparison, no noise.
    @Test func knownGoodBaselineAllowList() throws {
        let web = Inventory.exchangeWeb
        let inv = Self.inventory([
            ("78BCEB48460A5F3439ADBED724D5568063094EC951B4835EE727B0433BC837F2", web + "owa\\auth\\error.aspx"),
            ("ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB", web + "owa\\auth\\logon.aspx"),
            ("CDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCD", "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\ClientAccess\\OAB\\Temp\\LZXc2f3lst0.1js"),
            ("EFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEFEF", web + "owa\\auth\\readme.txt"),
        ])
        let extra = [("evidence/EXCH09/baseline.dat", Self.baselineRows.joined(separator: "\n") + "\n"), ("evidence/EXCH09/inv.dat", inv)]
        // Build unknown: every baseline in the server's evidence applies.
        let (scanner, _, _) = try Self.scan([], extra: extra)
        let base = try #require(scanner.statuses.first { $0.path == "evidence/EXCH09/baseline.dat" })
        #expect(base.format == .hashBaseline)
        #expect(base.records == 2)
        #expect(scanner.hits.map(\.indicator) == ["BL-001"])
        #expect(scanner.hits.first?.line == 4)
        #expect(scanner.hits.first?.value == "abababababababababababababababababababababababababababababababab")
        // The recorded build matches: same result. Another build: the baseline is not used, with a warning.
        let (same, _, _) = try Self.scan([], builds: ["exch09": "15.0.1497.2"], extra: extra)
        #expect(same.hits.map(\.line) == [4])
        let (other, _, _) = try Self.scan([], builds: ["exch09": "15.1.2106.2"], extra: extra)
        #expect(other.hits.isEmpty)
        #expect(other.statuses.first { $0.path == "evidence/EXCH09/baseline.dat" }?.warnings ==
                ["baseline for build 15.0.1497.2, but EXCH09 is recorded as build 15.1.2106.2: not used for this server"])
        // No baseline at all: nothing is compared.
        let (none, _, _) = try Self.scan([], extra: [("evidence/EXCH09/inv.dat", inv)])
        #expect(none.hits.isEmpty)
    }

    /// Under inetpub\\wwwroot only pages are compared with an Exchange baseline: IIS's own
    /// iisstart.htm and ASP.NET's client scripts are in none, and used to give BL-001 on every server.
    @Test func baselineComparesOnlyPagesUnderWwwroot() throws {
        let inv = Self.inventory([
            ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "C:\\inetpub\\wwwroot\\iisstart.htm"),
            ("ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB", "C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\4_0_30319\\WebUIValidation.js"),
            ("CDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCD", "C:\\inetpub\\wwwroot\\aspnet_client\\x.aspx"),
        ])
        let extra = [("evidence/EXCH09/baseline.dat", Self.baselineRows.joined(separator: "\n") + "\n"), ("evidence/EXCH09/inv.dat", inv)]
        let (scanner, _, _) = try Self.scan([], extra: extra)
        #expect(scanner.hits.filter { $0.indicator == "BL-001" }.map(\.line) == [5])
        #expect(FileCursor.isBaselinedWebFile("C:\\inetpub\\wwwroot\\iisstart.htm") == false)
        #expect(FileCursor.isBaselinedWebFile("C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\logon.css"))
    }

    @Test func detectionByContent() {
        #expect(FormatDetector.detect(["#TYPE System.Management.Automation.PSCustomObject", "\"ComputerName\",\"Type\",\"Path\",\"Name\",\"LastWrite\""]) == .recognised(.testProxyLogon))
        #expect(FormatDetector.detect(["OabGen,Ecp,AutoDProxy,EasProxy,EcpProxy", "30.0,29.8,,,"]) == .recognised(.testProxyLogon))
        #expect(FormatDetector.detect(["Microsoft Safety Scanner v1.333, (build 1.333.1050.0)"]) == .recognised(.msertLog))
        #expect(FormatDetector.detect(["2021-03-16 09:12:44 Info: Starting EOMT.ps1"]) == .recognised(.eomtLog))
        // The same line shape without any EOMT or MSERT mention is not taken for an EOMT log.
        #expect(FormatDetector.detect(["2021-03-16 09:12:44 Info: service started"]) == .unrecognised("format not recognised from its first lines; not checked"))
        #expect(FormatDetector.detect(["{\"OSPath\":\"C:\\\\x.aspx\"}"]) == .recognised(.fileInventory))
        #expect(FormatDetector.detect(["{\"Name\":\"x\"}"]) == .unrecognised("format not recognised from its first lines; not checked"))
        #expect(FormatDetector.detect(["path,sha256"]) == .recognised(.fileInventory))
        #expect(FormatDetector.detect([Self.baselineRows[1]]) == .recognised(.hashBaseline))
        // A plain list of paths that are not Test-ProxyLogon's is not recognised.
        #expect(FormatDetector.detect(["C:\\Users\\alice\\notes.txt"]) == .unrecognised("format not recognised from its first lines; not checked"))
    }
}

/// IIS quirks from the real corpus not covered elsewhere.
@Suite("IIS corpus quirks", .enabled(if: corpusAvailable, "../shared/corpus not present: real-evidence tests skipped"))
struct IISQuirkCorpusTests {
    func scan(_ relative: String) throws -> (EvidenceScanner, TempDir) {
        let dir = try TempDir("iis-quirk")
        try dir.write("evidence/CORPUS/log.dat", [UInt8](try Data(contentsOf: Paths.corpusFile(relative))))
        let scanner = EvidenceScanner(engine: try builtInEngine())
        scanner.scan(caseFolder: dir.url)
        return (scanner, dir)
    }

    /// IPv6 zone ids (`::1%0`) stay part of the address and the line is read.
    @Test func ipv6ZoneIDs() throws {
        let (scanner, _) = try scan("elastic-beats/test-ipv6zone.log")
        let s = try #require(scanner.statuses.first)
        #expect(s.format == .iisW3C && s.records == 1 && s.warnings.isEmpty)
        #expect(s.firstEvent == date("2018-01-01T10:11:12Z"))
        #expect(scanner.hits.isEmpty)
        var p = W3CParser()
        let lines = try String(contentsOf: Paths.corpusFile("elastic-beats/test-ipv6zone.log"), encoding: .utf8).split(separator: "\n").map(String.init)
        let r = try #require(lines.enumerated().compactMap { p.parse($0.element, line: $0.offset + 1) }.first)
        #expect(r.clientIP == "::1%0")
    }

    /// Header-less lines that are not IIS's default layout: the console says it could not read them.
    @Test func headerlessExtendedLayoutIsNotGuessed() throws {
        let (scanner, _) = try scan("elastic-beats/test-x-forward-for-extended.log")
        let s = try #require(scanner.statuses.first)
        #expect(s.format == .iisW3C)
        #expect(s.records == 0)
        #expect(s.warnings == ["\(s.lines) line(s) not read: no #Fields header and not the IIS default layout"])
        #expect(s.lines == 6)
        // The IIS check of that server then has no coverage.
        let c = Coverage.evaluate(files: [s], hits: [], exposureStart: CaseSettings.defaultExposureStart)
        #expect(c.first { $0.check == .iisRequests }?.status == .insufficientCoverage)
    }
}

/// The new parsers take hostile input without crashing: junk, replacement characters, a 10 MB line.
@Suite("Tool-output parsers under hostile input")
struct ToolParserRobustnessTests {
    @Test(arguments: [EvidenceFormat.testProxyLogon, .msertLog, .eomtLog, .hashBaseline, .fileInventory, .webConfig])
    func junkAndHugeLines(_ format: EvidenceFormat) throws {
        let huge = String(repeating: "A", count: 10 * 1024 * 1024)
        let junk = String(decoding: randomBytes(count: 4096, seed: 11), as: UTF8.self)
        let heads: [EvidenceFormat: [String]] = [
            .testProxyLogon: ["\"ComputerName\",\"Type\",\"Path\",\"Name\",\"LastWrite\""],
            .msertLog: ["Microsoft Safety Scanner v1.333, (build 1.333.1050.0)"],
            .eomtLog: ["2021-03-16 09:12:44 Info: Starting EOMT.ps1"],
            .hashBaseline: [FormatTests.baselineRows[1]],
            .fileInventory: [Inventory.header],
            .webConfig: ["<configuration><system.webServer><rewrite><rules><rule name=\"x\"><conditions>", "<add input=\"{HTTP_COOKIE}\" pattern=\"" + String(repeating: "<", count: 100_000)],
        ]
        let lines = (heads[format] ?? []) + [junk, "{" + huge, "Threat Detected: " + huge, "2021-03-16 09:12:44 Error: " + huge,
                                             "\"EXCH01\",\"LsassDump\",\"" + huge + "\",\"x\",\"y\"", "\u{FFFD}\u{FFFD}", ""]
        let records = parseAll(lines, format: format)
        let engine = try builtInEngine()
        for r in records { _ = engine.match(r, format: format) }
        #expect(records.count <= lines.count)
    }
}

@Suite("HttpProxy duplicate column names")
struct HttpProxyDuplicateColumnTests {
    /// A header naming a column twice: columns keep their positions, the first of the two is read,
    /// and the file gets a warning.
    @Test func firstOfDuplicateColumnsIsRead() throws {
        let fields = HttpProxyLog.fields + ["AnchorMailbox"]
        let header = fields.joined(separator: ",")
        let row = HttpProxyLog.row(["AnchorMailbox": "ServerInfo~a]@exch/mapi/emsmdb/?#"], fields: HttpProxyLog.fields) + ",Smtp~bob@corp.example"
        var p = HttpProxyParser()
        #expect(p.parse(header, line: 1) == nil)
        let parsed = p.parse(row, line: 2)
        let r = try #require(parsed)
        #expect(r.value("AnchorMailbox") == "ServerInfo~a]@exch/mapi/emsmdb/?#")
        #expect(p.warnings == ["header names a column more than once (AnchorMailbox): the first of each is read"])
        #expect(ids(try builtInEngine().match(r, format: .httpProxy)) == ["PL-001"])
    }
}
