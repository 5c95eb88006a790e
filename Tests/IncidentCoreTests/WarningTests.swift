import Foundation
import Testing
@testable import IncidentCore

/// Problems with a file are reported on that file, never swallowed.
@Suite("File warnings")
struct WarningTests {
    @Test func invalidBytesAreCountedAndTheLineStillHits() throws {
        let dir = try TempDir("invalid")
        var bytes = Array(ScanFixture.text([]).utf8)
        bytes += Array(ScanFixture.ssrf.utf8) + [0x20, 0xFF, 0xC3, 0x0D, 0x0A]
        try dir.write(ScanFixture.path, bytes)
        let scanner = EvidenceScanner(engine: try RuleEngine.builtIn())
        scanner.scan(caseFolder: dir.url)
        let status = try #require(scanner.statuses.first)
        #expect(status.warnings.contains("1 line(s) with bytes that are not valid text, shown as \u{FFFD}"))
        #expect(Set(scanner.hits.map(\.indicator)).contains("IIS-060"))
    }

    @Test func anUnterminatedLastLineIsReportedUntilItEnds() throws {
        let dir = try TempDir("tail")
        let url = try dir.write(ScanFixture.path, ScanFixture.text([]) + ScanFixture.ssrf)
        let scanner = EvidenceScanner(engine: try RuleEngine.builtIn())
        scanner.scan(caseFolder: dir.url)
        #expect(scanner.statuses.first?.warnings == ["the last line has no line end (cut off, or still being written); it is checked again when the file grows"])
        #expect(Set(scanner.hits.map(\.indicator)) == ScanFixture.ssrfIDs)
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\r\n".utf8))
        try handle.close()
        scanner.scan(caseFolder: dir.url)
        #expect(scanner.statuses.first?.warnings == [])
        #expect(scanner.hits.count == ScanFixture.ssrfIDs.count)
    }

    @Test func registeredEvidenceThatDisappearsIsReported() throws {
        let dir = try TempDir("gone")
        let store = CaseStore(folder: dir.url)
        try store.create(CaseFile(name: "gone"))
        let url = try dir.write(ScanFixture.path, ScanFixture.text([ScanFixture.ssrf]))
        let first = CaseSession(store: store, caseFile: try store.load(), engine: try RuleEngine.builtIn(),
                                playbook: try Playbook.builtIn(), responder: "t").scanOnce()
        #expect(first.missingEvidence.isEmpty)
        try FileManager.default.removeItem(at: url)
        let second = CaseSession(store: store, caseFile: try store.load(), engine: try RuleEngine.builtIn(),
                                 playbook: try Playbook.builtIn(), responder: "t").scanOnce()
        #expect(second.missingEvidence.map(\.path) == [ScanFixture.path])
        #expect(second.summaries.first?.verdict == .notAssessed)
    }

    @Test func aFileTruncatedUnderTheScannerSaysItsHitsAreGone() throws {
        let dir = try TempDir("shrink")
        let url = try dir.write(ScanFixture.path, ScanFixture.text([ScanFixture.ssrf]))
        let scanner = EvidenceScanner(engine: try RuleEngine.builtIn())
        scanner.scan(caseFolder: dir.url)
        #expect(scanner.hits.count == 3)
        try Data(ScanFixture.text([]).utf8).write(to: url)
        #expect(scanner.scan(caseFolder: dir.url) == [ScanFixture.path])
        #expect(scanner.hits.isEmpty)
        let warning = try #require(scanner.statuses.first?.warnings.first)
        #expect(warning.hasPrefix("changed on disk at "))
        #expect(warning.hasSuffix("read again from the start; 3 hit(s) from its earlier content are gone (see the audit trail for its earlier hash)"))
    }

    @Test func aCROnlyFileEndingInCRIsCompleteAndWarningFree() throws {
        let dir = try TempDir("cr")
        let text = (ScanFixture.text([ScanFixture.ssrf])).replacingOccurrences(of: "\r\n", with: "\r")
        try dir.write(ScanFixture.path, text)
        let scanner = EvidenceScanner(engine: try RuleEngine.builtIn())
        scanner.scan(caseFolder: dir.url)
        let status = try #require(scanner.statuses.first)
        #expect(status.warnings == [])
        #expect(status.records == 1)
        #expect(Set(scanner.hits.map(\.indicator)) == ScanFixture.ssrfIDs)
    }
}

@Suite("Start-up")
struct StartupTests {
    final class Collector: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [CaseSnapshot] = []
        func add(_ s: CaseSnapshot) { lock.lock(); items.append(s); lock.unlock() }
        var all: [CaseSnapshot] { lock.lock(); defer { lock.unlock() }; return items }
    }

    @Test func newServerFoldersShowBeforeTheFirstPassEnds() throws {
        let dir = try TempDir("startup")
        let store = CaseStore(folder: dir.url)
        try store.create(CaseFile(name: "startup"))
        try dir.write("evidence/EXCH05/IIS/u.log", ScanFixture.text([ScanFixture.ssrf]))
        let session = CaseSession(store: store, caseFile: try store.load(), engine: try RuleEngine.builtIn(),
                                  playbook: try Playbook.builtIn(), responder: "t")
        let collector = Collector()
        session.start(interval: 60) { collector.add($0) }
        let deadline = Date().addingTimeInterval(10)
        while !collector.all.contains(where: { $0.scanPasses > 0 }) && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        session.stop()
        let early = collector.all.filter { $0.scanPasses == 0 }
        #expect(early.contains { $0.summaries.map(\.name) == ["EXCH05"] }, "no snapshot listed the new server before the first pass")
        let scanned = try #require(collector.all.first { $0.scanPasses > 0 })
        #expect(scanned.summaries.map(\.name) == ["EXCH05"])
        #expect(scanned.summaries.first?.verdict == .probed)
    }
}
