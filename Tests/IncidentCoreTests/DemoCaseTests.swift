import Foundation
import Testing
@testable import IncidentCore

/// The test oracle `Sources/incident/DemoCase/EVIDENCE.md`, read at test time so the test and
/// the oracle cannot drift apart.
struct EvidenceOracle {
    enum Expectation: Equatable, CustomStringConvertible {
        case header
        case clean
        case noFlag
        case flag(Severity)
        case range(Severity?, Severity)

        var description: String {
            switch self {
            case .header: "HDR"
            case .clean: "CLEAN"
            case .noFlag: "NO-FLAG"
            case let .flag(s): "FLAG ≥ \(s.rawValue)"
            case let .range(a, b): "RANGE \(a?.rawValue ?? "none")…\(b.rawValue)"
            }
        }
    }

    struct File {
        var path: String // under evidence/
        var server: String
        var bytes: Int
        var lines: Int
        var expectations: [Int: Expectation] = [:]
    }

    var files: [File]

    static func severity(_ s: String) -> Severity? {
        s == "none" ? nil : Severity(rawValue: s)
    }

    static func cells(_ row: String) -> [String] {
        // `\|` is an escaped pipe inside a cell (e.g. "Get-FileHash \| Export-Csv").
        row.replacingOccurrences(of: "\\|", with: "\u{1}").split(separator: "|", omittingEmptySubsequences: false)
            .dropFirst().dropLast()
            .map { $0.replacingOccurrences(of: "\u{1}", with: "|").trimmingCharacters(in: .whitespaces) }
    }

    static func lineRange(_ s: String) -> ClosedRange<Int>? {
        let parts = s.split(whereSeparator: { $0 == "–" || $0 == "-" }).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        if parts.count == 1, let a = parts[0] { return a...a }
        if parts.count == 2, let a = parts[0], let b = parts[1], a <= b { return a...b }
        return nil
    }

    static func expectation(_ s: String) -> Expectation? {
        if s == "HDR" { return .header }
        if s == "CLEAN" { return .clean }
        if s == "NO-FLAG" { return .noFlag }
        if s.hasPrefix("FLAG ≥ ") { return severity(String(s.dropFirst(7))).map(Expectation.flag) }
        if s.hasPrefix("RANGE ") {
            let bounds = s.dropFirst(6).components(separatedBy: "…")
            guard bounds.count == 2, let upper = severity(bounds[1]) else { return nil }
            if bounds[0] == "none" { return .range(nil, upper) }
            guard let lower = severity(bounds[0]) else { return nil }
            return .range(lower, upper)
        }
        return nil
    }

    init(markdown: String) throws {
        var files: [File] = []
        var current: Int?
        var inFileTable = false
        for raw in markdown.components(separatedBy: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("## ") { inFileTable = line == "## Files"; current = nil; continue }
            if line.hasPrefix("### `") {
                let name = line.dropFirst(5).prefix { $0 != "`" }
                current = files.firstIndex { $0.path == name }
                try #require(current != nil, "EVIDENCE.md section for a file missing from the Files table: \(name)")
                continue
            }
            guard line.hasPrefix("|") else { continue }
            let c = Self.cells(line)
            if inFileTable, c.count >= 7, c[1].hasPrefix("`"), let bytes = Int(c[5]), let lines = Int(c[6]) {
                files.append(File(path: c[1].trimmingCharacters(in: CharacterSet(charactersIn: "`")), server: c[2], bytes: bytes, lines: lines))
                continue
            }
            if let i = current, c.count >= 2, let range = Self.lineRange(c[0]) {
                let e = try #require(Self.expectation(c[1]), "unknown expectation class \(c[1])")
                for n in range {
                    #expect(files[i].expectations[n] == nil, "\(files[i].path) line \(n) listed twice")
                    files[i].expectations[n] = e
                }
            }
        }
        self.files = files
    }
}

@Suite("Demo case against EVIDENCE.md")
struct DemoCaseTests {
    /// Copies the demo case to a temporary folder and scans it once, read-only.
    static func scanDemo() throws -> (CaseSnapshot, TempDir) {
        let dir = try TempDir("demo")
        let copy = dir.url.appendingPathComponent("DemoCase")
        try FileManager.default.copyItem(at: Paths.demoCase, to: copy)
        let store = CaseStore(folder: copy)
        let session = CaseSession(store: store, caseFile: try store.load(), engine: try builtInEngine(),
                                  playbook: try Playbook.builtIn(), responder: "tester", readOnly: true)
        return (session.scanOnce(), dir)
    }

    static func oracle() throws -> EvidenceOracle {
        let text = try String(contentsOf: Paths.demoCase.appendingPathComponent("EVIDENCE.md"), encoding: .utf8)
        return try EvidenceOracle(markdown: text)
    }

    @Test func oracleIsComplete() throws {
        let oracle = try Self.oracle()
        #expect(oracle.files.count == 12)
        for f in oracle.files {
            #expect(Set(f.expectations.keys) == Set(1...f.lines), "\(f.path): lines without an expectation")
        }
    }

    @Test func verdicts() throws {
        let (snap, _) = try Self.scanDemo()
        let verdicts = Dictionary(uniqueKeysWithValues: snap.summaries.map { ($0.name, $0.verdict) })
        // EXCH03 has no finding, but its logs start 2021-03-05 and it has no ECP or OAB logs: not clean.
        #expect(verdicts == ["EXCH01": .compromised, "EXCH02": .probed, "EXCH03": .insufficientCoverage])
        #expect(snap.summaries.map(\.evidenceFiles) == [6, 3, 3])
        #expect(snap.summaries.map(\.checkedFiles) == [6, 3, 3])
        // EXCH02: highest finding is high, nothing is critical. EXCH03: no finding at all.
        let exch02 = snap.hits.filter { $0.server == "EXCH02" }
        #expect(exch02.map(\.severity).max() == .high)
        #expect(snap.hits.filter { $0.server == "EXCH03" }.isEmpty)
        #expect(snap.hits.contains { $0.server == "EXCH01" && $0.severity == .critical })
    }

    @Test func everyFileIsReadWhole() throws {
        let (snap, dir) = try Self.scanDemo()
        let oracle = try Self.oracle()
        let statuses = Dictionary(uniqueKeysWithValues: snap.statuses.map { ($0.path, $0) })
        #expect(statuses.count == oracle.files.count)
        for f in oracle.files {
            let path = "evidence/" + f.path
            let status = try #require(statuses[path], "not scanned: \(path)")
            #expect(status.server == f.server)
            #expect(status.checked, "\(path): \(status.warnings)")
            #expect(status.sizeBytes == Int64(f.bytes), "\(path)")
            #expect(status.lines == f.lines, "\(path)")
            let headers = f.expectations.values.filter { $0 == .header }.count
            #expect(status.records == f.lines - headers, "\(path): header lines read as records, or records dropped")
            #expect(status.sha256 == SHA256Hex.digest(try dir.bytes("DemoCase/" + path)))
        }
    }

    @Test func perLineExpectations() throws {
        let (snap, _) = try Self.scanDemo()
        let oracle = try Self.oracle()
        var disagreements: [String] = []
        for f in oracle.files {
            let path = "evidence/" + f.path
            let fileHits = snap.hits.filter { $0.evidence == path }
            for (n, e) in f.expectations.sorted(by: { $0.key < $1.key }) {
                let hits = fileHits.filter { $0.line == n }
                let top = hits.map(\.severity).max()
                let ok: Bool
                switch e {
                case .header, .clean: ok = hits.isEmpty
                case .noFlag: ok = top.map { $0 <= .low } ?? true
                case let .flag(min): ok = top.map { $0 >= min } ?? false
                case let .range(lower, upper):
                    ok = (top.map { $0 <= upper } ?? true) && (lower.map { l in top.map { $0 >= l } ?? false } ?? true)
                }
                if !ok {
                    let got = hits.sorted { $0.indicator < $1.indicator }.map { "\($0.indicator)(\($0.severity.rawValue))" }
                    disagreements.append("\(f.path):\(n) expected \(e), got \(got.isEmpty ? "nothing" : got.joined(separator: " "))")
                }
            }
        }
        #expect(disagreements.isEmpty, "detector vs EVIDENCE.md:\n\(disagreements.joined(separator: "\n"))")
    }

    /// The brief's weaker reading of the oracle: flagged lines at their minimum severity, and no
    /// line outside the flagged ones reported above `low`.
    @Test func nothingAboveLowOutsideFlaggedLines() throws {
        let (snap, _) = try Self.scanDemo()
        let oracle = try Self.oracle()
        for f in oracle.files {
            for hit in snap.hits where hit.evidence == "evidence/" + f.path && hit.severity > .low {
                switch f.expectations[hit.line] {
                case .flag?, .range?: break
                default: Issue.record("\(f.path):\(hit.line) \(hit.indicator) (\(hit.severity.rawValue)) on a line EVIDENCE.md marks \(f.expectations[hit.line].map(\.description) ?? "unlisted")")
                }
            }
        }
    }

    @Test func hostileUserAgentLineStillHits() throws {
        let (snap, _) = try Self.scanDemo()
        let hits = snap.hits.filter { $0.evidence == "evidence/EXCH01/IIS/W3SVC1/u_ex210303.log" && $0.line == 24 }
        #expect(Set(hits.map(\.indicator)) == ["IIS-063", "IP-054"])
        let raw = try #require(hits.first?.rawLine)
        #expect(raw.contains("\u{1B}[31m") && raw.contains("\u{1B}]0;pwned\u{07}") && raw.contains("\u{202E}"))
    }

    /// EVIDENCE.md, EXCH01 HttpProxy line 9: the autodiscover step of a chain that goes on is
    /// "NOT a PL-002 'attempt only' row either (PL-001 rows from the same IP follow)", as in the
    /// catalog (§6 PL-002: "and no PL-001 row from same ClientIpAddress"). The pack's PL-002 has no
    /// such condition and fires. Severity and verdict are unaffected (the line is high anyway).
    @Test func autodiscoverStepOfAFullChainIsNotAnAttemptOnlyRow() throws {
        let (snap, _) = try Self.scanDemo()
        let line9 = snap.hits.filter { $0.evidence == "evidence/EXCH01/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG" && $0.line == 9 }
        #expect(Set(line9.map(\.indicator)) == ["UA-057", "IP-054"])
    }

    @Test func chainOfEXCH01() throws {
        let (snap, _) = try Self.scanDemo()
        func ids(_ file: String, _ line: Int) -> Set<String> {
            hitIDs(snap.hits.filter { $0.evidence == "evidence/" + file }, line: line)
        }
        let proxy = "EXCH01/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG"
        // Step 1 (autodiscover): high through UA-057 and IP-054; no PL-001.
        #expect(ids(proxy, 9).isSuperset(of: ["UA-057", "IP-054"]) && !ids(proxy, 9).contains("PL-001"))
        #expect(ids(proxy, 10) == ["PL-001", "UA-057", "IP-054"])
        #expect(ids(proxy, 11) == ["PL-001", "PL-008", "UA-057", "IP-054"])
        #expect(ids(proxy, 12) == ["PL-001", "UA-057", "IP-054"])
        #expect(ids(proxy, 13) == ["PL-001", "PL-009", "UA-057", "IP-054"])
        #expect(ids(proxy, 14) == ["PL-001", "PL-007", "UA-057", "IP-054"])
        let ecp = "EXCH01/Logging/ECP/Server/ECPServer20210303-1.LOG"
        #expect(ids(ecp, 9) == ["PL-011", "PL-012", "PL-013", "PL-014"])
        #expect(ids(ecp, 12) == ["PL-013"])
        #expect(ids("EXCH01/Logging/ECP/Server/ECPServer20210302-1.LOG", 7) == ["PL-013"])
        let inventory = "EXCH01/FileHashes/EXCH01-webfiles.csv"
        #expect(ids(inventory, 43) == ["FH-044", "FH-045", "FP-037", "FP-033"])
        #expect(ids(inventory, 44) == ["FH-044", "FP-037", "FP-033"])
        #expect(ids("EXCH01/IIS/W3SVC1/u_ex210823.log", 1) == ["PS-001"])
        let exch02 = "EXCH02/HttpProxy/Owa/HttpProxy_2021030410-1.LOG"
        #expect(ids(exch02, 11) == ["PL-003"])
        #expect(ids(exch02, 12) == ["PL-002"])
    }
}
