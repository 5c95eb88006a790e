import Foundation
import Testing
@testable import IncidentCore

/// The case folder's own files are never evidence: only `evidence/<server>/` is walked.
@Suite("Case folder scope")
struct CaseFolderScopeTests {
    @Test func onlyEvidenceIsScanned() throws {
        let dir = try TempDir("scope")
        let store = CaseStore(folder: dir.url)
        try store.create(CaseFile(name: "scope", servers: [Server(name: "EXCH01")]))
        // Files that look like evidence (and hit) but belong to the case, its exports, rules and packs.
        let shellLine = ScanFixture.text([ScanFixture.shell])
        for rel in ["exports/report-EXCH01.log", "packs/pack.log", "reports/u_ex210303.log",
                    "case.json.bak", "backups/case-2021-03-05.json", "EXCH01/u_ex210303.log"] {
            _ = try dir.write(rel, shellLine)
        }
        _ = try dir.write("evidence/EXCH01/IIS/u_ex210303.log", shellLine)
        let session = CaseSession(store: store, caseFile: try store.load(), engine: try builtInEngine(), playbook: try Playbook.builtIn(),
                                  responder: "tester", readOnly: false)
        let snap = session.scanOnce()
        #expect(snap.statuses.map(\.path) == ["evidence/EXCH01/IIS/u_ex210303.log"])
        #expect(Set(snap.hits.map(\.evidence)) == ["evidence/EXCH01/IIS/u_ex210303.log"])
        #expect(snap.caseFile.evidence.map(\.path) == ["evidence/EXCH01/IIS/u_ex210303.log"])
        // A second pass after the save (case.json and its lock rewritten) reads nothing new.
        let again = session.scanOnce()
        #expect(again.statuses.map(\.path) == ["evidence/EXCH01/IIS/u_ex210303.log"])
        #expect(FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("case.json").path))
    }
}

@Suite("Parallel scan")
struct ParallelScanTests {
    /// Several files read on several threads give exactly the hits and statuses of one thread.
    @Test func parallelEqualsSingleThreaded() throws {
        let dir = try TempDir("parallel")
        for n in 0..<12 {
            let lines = IISLog.header + (0..<200).map { i in
                i % 50 == 7 ? IISLog.line("POST", "/ecp/y.js", ip: RuleCases.volexityIP) : IISLog.line("GET", "/owa/", ip: "10.0.\(n).\(i % 250)")
            }
            _ = try dir.write("evidence/EXCH0\(n % 3)/IIS/u_ex2103\(String(format: "%02d", n)).log", lines.joined(separator: "\r\n") + "\r\n")
        }
        let one = EvidenceScanner(engine: try builtInEngine())
        one.threads = 1
        one.scan(caseFolder: dir.url)
        let many = EvidenceScanner(engine: try builtInEngine())
        many.threads = 4
        let changed = many.scan(caseFolder: dir.url)
        #expect(changed.count == 12)
        #expect(Set(many.hits.map(\.id)) == Set(one.hits.map(\.id)))
        #expect(many.hits.count == 12 * 4 * 2) // 4 hitting lines per file, IIS-060 and IP-054 each
        #expect(many.statuses == one.statuses)
        // An unchanged rescan reads nothing, on any number of threads.
        #expect(many.scan(caseFolder: dir.url).isEmpty)
    }
}
