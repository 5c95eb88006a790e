import Foundation
import Testing
@testable import IncidentCore

func date(_ s: String) -> Date { Timestamps.parse(s)! }

/// A case with every part filled in and millisecond dates.
func sampleCase() -> CaseFile {
    CaseFile(
        caseId: "4f1c2a8e-0000-4000-8000-000000000001", name: "Contoso Exchange, March 2021",
        created: date("2021-03-05T09:00:00.123Z"),
        settings: CaseSettings(rescanIntervalSeconds: 2.5, exposureWindowStart: date("2021-01-01T00:00:00.000Z")),
        servers: [Server(name: "EXCH01", fqdn: "exch01.corp.example", role: "Mailbox", exchangeBuild: "15.1.2106.2", internetFacing: true),
                  Server(name: "EXCH02")],
        evidence: [EvidenceRecord(path: "evidence/EXCH01/IIS/u_ex210303.log", server: "EXCH01", sizeBytes: 5724,
                                  sha256: String(repeating: "ab", count: 32), addedAt: date("2021-03-05T09:01:02.345Z"),
                                  addedBy: "alice via 203.0.113.7", updatedAt: date("2021-03-05T09:11:02.999Z"))],
        triage: [TriageDecision(hitId: "0123456789abcdef", decision: .falsePositive, note: "scanner", by: "alice",
                                at: date("2021-03-05T10:00:00.001Z"))],
        checklists: ["EXCH01": ["patch": ChecklistEntry(state: .inProgress, by: "alice", at: date("2021-03-05T10:05:00.500Z"), note: "KB5000871")]],
        audit: [AuditEntry(at: date("2021-03-05T09:00:00.123Z"), by: "alice", action: "case.created", after: "Contoso")])
}

@Suite("CaseStore")
struct CaseStoreTests {
    @Test func createLoadRoundTripKeepsMilliseconds() throws {
        let dir = try TempDir("store")
        let store = CaseStore(folder: dir.url.appendingPathComponent("case"))
        let original = sampleCase()
        try store.create(original)
        #expect(store.exists)
        var isDir: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: store.folder.appendingPathComponent("evidence").path, isDirectory: &isDir) && isDir.boolValue)
        let loaded = try store.load()
        #expect(loaded == original)
        #expect(Timestamps.iso8601(loaded.created) == "2021-03-05T09:00:00.123Z")
        #expect(Timestamps.iso8601(loaded.evidence[0].updatedAt!) == "2021-03-05T09:11:02.999Z")
        #expect(Timestamps.iso8601(loaded.triage[0].at) == "2021-03-05T10:00:00.001Z")
        let text = String(decoding: try Data(contentsOf: store.fileURL), as: UTF8.self)
        #expect(text.contains("\"created\" : \"2021-03-05T09:00:00.123Z\""))
        #expect(text.contains("\"schemaVersion\" : 2"))
        #expect(text.hasSuffix("}\n"))
        // Saving what was loaded writes the same bytes.
        let first = try Data(contentsOf: store.fileURL)
        try store.save(loaded)
        #expect(try Data(contentsOf: store.fileURL) == first)
        // The store can be addressed by the case.json path too.
        #expect(try CaseStore(path: store.fileURL.path).load() == original)
        #expect(CaseStore(path: store.fileURL.path).folder.path == store.folder.path)
    }

    @Test func createRefusesAnExistingCaseAndLoadReportsAMissingOne() throws {
        let dir = try TempDir("exists")
        let store = CaseStore(folder: dir.url)
        #expect(throws: CaseStoreError.notFound(path: store.fileURL.path)) { try store.load() }
        try store.create(sampleCase())
        #expect(throws: CaseStoreError.alreadyExists(path: store.fileURL.path)) { try store.create(sampleCase()) }
    }

    @Test func saveIsAtomicAndLeavesNoTemporaryFiles() throws {
        let dir = try TempDir("atomic")
        let store = CaseStore(folder: dir.url)
        try store.create(sampleCase())
        var c = try store.load()
        for i in 0..<5 {
            c.name = "rename \(i)"
            try store.save(c)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted()
        // Only the case and the previous version (the backup), no temporary files.
        #expect(names == ["case.json", "case.json.bak", "evidence"])
        #expect(try store.load().name == "rename 4")
        #expect(try CaseStore.decode(Data(contentsOf: store.backupURL), path: "bak").name == "rename 3")
        let mode = try FileManager.default.attributesOfItem(atPath: store.fileURL.path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
    }

    static let wellFormed = """
    {
      "audit" : [],
      "caseId" : "x",
      "checklists" : {},
      "created" : "2021-03-05T09:00:00.000Z",
      "evidence" : [],
      "name" : "n",
      "schemaVersion" : 1,
      "servers" : [
        { "name" : "EXCH01" },
        { "name" : "EXCH02", "internetFacing" : "yes" }
      ],
      "settings" : { "exposureWindowStart" : "2021-01-01T00:00:00.000Z", "rescanIntervalSeconds" : 2 },
      "triage" : []
    }

    """

    /// Writes `bytes` as case.json, expects `load()` to throw `expected`, and checks the file was not touched.
    func expectLoadFails(_ bytes: [UInt8], _ expected: (String) -> CaseStoreError) throws {
        let dir = try TempDir("bad")
        let store = CaseStore(folder: dir.url)
        try dir.write("case.json", bytes)
        let before = try FileManager.default.attributesOfItem(atPath: store.fileURL.path)[.modificationDate] as? Date
        #expect(throws: expected(store.fileURL.path)) { try store.load() }
        #expect(try dir.bytes("case.json") == bytes, "a failed load changed the file")
        #expect(try FileManager.default.attributesOfItem(atPath: store.fileURL.path)[.modificationDate] as? Date == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["case.json"])
    }

    @Test func wellFormedFixtureLoadsExceptForTheDeliberateTypo() throws {
        let dir = try TempDir("ok")
        try dir.write("case.json", Self.wellFormed.replacingOccurrences(of: "\"yes\"", with: "true"))
        let c = try CaseStore(folder: dir.url).load()
        #expect(c.servers.map(\.name) == ["EXCH01", "EXCH02"])
        #expect(c.servers[1].internetFacing == true)
    }

    /// A case.json saved by an editor that writes a UTF-8 byte-order mark (Windows Notepad).
    @Test func byteOrderMarkIsAccepted() throws {
        let dir = try TempDir("bom")
        let good = Self.wellFormed.replacingOccurrences(of: "\"yes\"", with: "false")
        try dir.write("case.json", [0xEF, 0xBB, 0xBF] + Array(good.utf8))
        let c = try CaseStore(folder: dir.url).load()
        #expect(c.servers.map(\.name) == ["EXCH01", "EXCH02"])
    }

    @Test func truncatedJSON() throws {
        // Cut right after a comma: the next key never comes.
        let cut = "{\n  \"audit\" : [],\n  \"caseId\" : \"x\",\n"
        try expectLoadFails(Array(cut.utf8)) { .malformed(path: $0, line: 4, column: 1, message: "expected a quoted key") }
        // Cut inside a string.
        let inString = "{\n  \"audit\" : [],\n  \"caseId\" : \"4f1c2a8e-00"
        try expectLoadFails(Array(inString.utf8)) { .malformed(path: $0, line: 3, column: 14, message: "string is not closed") }
        // Cut inside an array.
        let inArray = "{\n  \"servers\" : [\n    { \"name\" : \"EXCH01\" }"
        try expectLoadFails(Array(inArray.utf8)) { .malformed(path: $0, line: 3, column: 26, message: "unexpected end of file in an array") }
        try expectLoadFails([]) { .malformed(path: $0, line: 1, column: 1, message: "unexpected end of file") }
    }

    @Test func wrongTypePointsAtTheValue() throws {
        let serversFive = Self.wellFormed.replacingOccurrences(
            of: "\"servers\" : [\n    { \"name\" : \"EXCH01\" },\n    { \"name\" : \"EXCH02\", \"internetFacing\" : \"yes\" }\n  ],",
            with: "\"servers\" : 5,")
        #expect(serversFive.contains("\"servers\" : 5,"))
        try expectLoadFails(Array(serversFive.utf8)) { .malformed(path: $0, line: 9, column: 15, message: "expected an array at .servers") }
        // Nested: servers[1].internetFacing is a string, not a Boolean.
        try expectLoadFails(Array(Self.wellFormed.utf8)) {
            .malformed(path: $0, line: 11, column: 45, message: "expected true or false at .servers[1].internetFacing")
        }
        // A date that is not ISO-8601.
        let badDate = Self.wellFormed.replacingOccurrences(of: "2021-03-05T09:00:00.000Z", with: "05/03/2021 09:00")
        do {
            _ = try CaseStore.decode(Data(badDate.utf8), path: "case.json")
            Issue.record("a culture-formatted date must not load")
        } catch let CaseStoreError.malformed(path, line, column, message) {
            #expect(path == "case.json")
            #expect(line == 5 && column == 15)
            #expect(message.contains("expected an ISO-8601 UTC date"))
        }
        // A missing key.
        let noID = Self.wellFormed.replacingOccurrences(of: "  \"caseId\" : \"x\",\n", with: "")
        try expectLoadFails(Array(noID.utf8)) { .malformed(path: $0, line: 1, column: 1, message: "missing key \"caseId\"") }
    }

    @Test func invalidUTF8() throws {
        var bytes = Array(Self.wellFormed.utf8)
        let needle = Array("\"n\"".utf8)
        let start = try #require((0...(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle })
        let offset = start + 1
        bytes[offset] = 0xFF // "name" : "\xFF"
        try expectLoadFails(bytes) { .malformed(path: $0, line: 7, column: 13, message: "invalid UTF-8") }
        // A truncated multi-byte sequence at the very end.
        try expectLoadFails(Array(Array("{\n\"name\": \"\u{E9}".utf8).dropLast())) { .malformed(path: $0, line: 2, column: 10, message: "invalid UTF-8") }
    }

    @Test func newerSchemaVersion() throws {
        let newer = Self.wellFormed.replacingOccurrences(of: "\"schemaVersion\" : 1", with: "\"schemaVersion\" : 3")
        try expectLoadFails(Array(newer.utf8)) { .newerSchema(path: $0, found: 3, supported: 2) }
        // Even when the rest of the shape is unknown to this build.
        try expectLoadFails(Array("{\"schemaVersion\": 7, \"cases\": []}".utf8)) { .newerSchema(path: $0, found: 7, supported: 2) }
    }
}

/// The case as it is written to disk (dates at millisecond precision).
func encoded(_ c: CaseFile) throws -> Data { try JSONCoding.encoder().encode(c) }

/// Thread-safe box for snapshots delivered on the session's queue.
final class SnapshotBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: CaseSnapshot?
    let semaphore = DispatchSemaphore(value: 0)
    func put(_ s: CaseSnapshot) {
        lock.lock(); value = s; lock.unlock()
        semaphore.signal()
    }
    var last: CaseSnapshot? { lock.lock(); defer { lock.unlock() }; return value }
}

@Suite("CaseSession")
struct CaseSessionTests {
    static let responder = "tester via 203.0.113.7"

    func makeSession(_ dir: TempDir, readOnly: Bool = false) throws -> CaseSession {
        let store = CaseStore(folder: dir.url)
        if !store.exists {
            try store.create(CaseFile(name: "session test", created: date("2021-03-05T09:00:00.000Z"), servers: [Server(name: "EXCH01")]))
        }
        return CaseSession(store: store, caseFile: try store.load(), engine: try builtInEngine(), playbook: try Playbook.builtIn(),
                           responder: Self.responder, readOnly: readOnly)
    }

    @Test func advanceStepIsVisibleAuditedAndSaved() throws {
        let dir = try TempDir("session")
        let session = try makeSession(dir)
        session.perform(.advanceStep(server: "EXCH01", step: "patch"))
        let snap = session.currentSnapshot()
        #expect(snap.caseFile.stepState(server: "EXCH01", step: "patch") == .inProgress)
        let entry = try #require(snap.caseFile.audit.last)
        #expect(entry.action == "checklist.step")
        #expect(entry.field == "EXCH01/patch")
        #expect(entry.before == "todo")
        #expect(entry.after == "in-progress")
        #expect(entry.by == Self.responder)
        #expect(snap.caseFile.checklists["EXCH01"]?["patch"]?.by == Self.responder)
        #expect(snap.saveError == nil)

        let onDisk = try CaseStore(folder: dir.url).load()
        #expect(onDisk.stepState(server: "EXCH01", step: "patch") == .inProgress)
        #expect(onDisk.audit.last?.field == "EXCH01/patch")
        #expect(onDisk.audit.last?.before == "todo" && onDisk.audit.last?.after == "in-progress")

        session.perform(.advanceStep(server: "EXCH01", step: "patch"))
        session.perform(.setStep(server: "EXCH01", step: "interim-mitigation", state: .notApplicable, note: "patched"))
        let snap2 = session.currentSnapshot()
        #expect(snap2.caseFile.stepState(server: "EXCH01", step: "patch") == .done)
        #expect(snap2.caseFile.checklists["EXCH01"]?["interim-mitigation"]?.note == "patched")
        #expect(snap2.caseFile.audit.suffix(2).map(\.after) == ["done", "not-applicable"])
        #expect(snap2.summaries.first?.stepsDone == 2)
        #expect(try encoded(CaseStore(folder: dir.url).load()) == encoded(snap2.caseFile))
    }

    @Test func scanOnceRegistersEvidenceAndNewServers() throws {
        let dir = try TempDir("intake")
        let session = try makeSession(dir)
        let one = "evidence/EXCH01/IIS/W3SVC1/u_ex210303.log"
        let five = "evidence/EXCH05/IIS/W3SVC1/u_ex210303.log"
        try dir.write(one, ScanFixture.text([ScanFixture.benign, ScanFixture.ssrf]))
        try dir.write(five, ScanFixture.text([ScanFixture.benign]))
        let snap = session.scanOnce()
        #expect(snap.scanPasses == 1)
        #expect(snap.lastScan != nil)
        #expect(snap.caseFile.servers.map(\.name) == ["EXCH01", "EXCH05"])
        #expect(snap.caseFile.evidence.map(\.path) == [one, five])
        for record in snap.caseFile.evidence {
            let bytes = try dir.bytes(record.path)
            #expect(record.sha256 == SHA256Hex.digest(bytes))
            #expect(record.sizeBytes == Int64(bytes.count))
            #expect(record.addedBy == Self.responder)
            #expect(record.updatedAt == nil)
        }
        #expect(snap.caseFile.evidence.map(\.server) == ["EXCH01", "EXCH05"])
        let serverAdded = try #require(snap.caseFile.audit.first { $0.action == "server.added" })
        #expect(serverAdded.field == "EXCH05")
        #expect(serverAdded.after == "created from evidence/EXCH05/")
        #expect(snap.caseFile.audit.filter { $0.action == "evidence.added" }.map(\.field) == [one, five])
        // IIS logs alone do not cover the required checks: never "no-findings".
        #expect(snap.summaries.map(\.verdict) == [.probed, .insufficientCoverage])
        #expect(Set(snap.hits.map(\.indicator)) == ScanFixture.ssrfIDs)
        #expect(try encoded(CaseStore(folder: dir.url).load()) == encoded(snap.caseFile))

        // Nothing changed: nothing registered twice.
        let again = session.scanOnce()
        #expect(again.caseFile == snap.caseFile)
        #expect(again.scanPasses == 2)

        // The file grows: the record follows, with an audit entry.
        try dir.append(one, ScanFixture.shell + "\r\n")
        let grown = session.scanOnce()
        let record = try #require(grown.caseFile.evidence.first { $0.path == one })
        let bytes = try dir.bytes(one)
        #expect(record.sha256 == SHA256Hex.digest(bytes))
        #expect(record.sizeBytes == Int64(bytes.count))
        #expect(record.updatedAt != nil)
        let grew = try #require(grown.caseFile.audit.last)
        #expect(grew.action == "evidence.grew")
        #expect(grew.field == one)
        #expect(grew.before == "\(snap.caseFile.evidence[0].sizeBytes) bytes sha256 \(snap.caseFile.evidence[0].sha256)")
        #expect(grew.after == "\(bytes.count) bytes sha256 \(SHA256Hex.digest(bytes))")
        #expect(grown.summaries.first?.verdict == .compromised)
    }

    @Test func triageEditChangesTheVerdict() throws {
        let dir = try TempDir("triage")
        let session = try makeSession(dir)
        try dir.write("evidence/EXCH01/IIS/u.log", ScanFixture.text([ScanFixture.shell]))
        let snap = session.scanOnce()
        #expect(snap.summaries.first?.verdict == .compromised)
        for hit in snap.hits { session.perform(.triage(hitId: hit.id, decision: .falsePositive, note: "red-team exercise")) }
        let after = session.currentSnapshot()
        #expect(after.summaries.first?.verdict == .insufficientCoverage)
        #expect(after.summaries.first?.hits == 0)
        let last = try #require(after.caseFile.audit.last)
        #expect(last.action == "triage" && last.before == nil && last.after == "false-positive")
        #expect(try CaseStore(folder: dir.url).load().triage.count == 3)
    }

    @Test func readOnlySessionNeverWrites() throws {
        let dir = try TempDir("readonly")
        _ = try makeSession(dir) // creates the case
        let before = try dir.bytes("case.json")
        let session = try makeSession(dir, readOnly: true)
        try dir.write("evidence/EXCH07/IIS/u.log", ScanFixture.text([ScanFixture.ssrf]))
        let snap = session.scanOnce()
        session.perform(.advanceStep(server: "EXCH01", step: "patch"))
        #expect(session.currentSnapshot().caseFile.stepState(server: "EXCH01", step: "patch") == .inProgress)
        #expect(snap.caseFile.servers.map(\.name) == ["EXCH01", "EXCH07"])
        #expect(try dir.bytes("case.json") == before)
    }

    @Test func backgroundRescansPublishSnapshots() throws {
        let dir = try TempDir("timer")
        let session = try makeSession(dir)
        try dir.write("evidence/EXCH01/IIS/u.log", ScanFixture.text([ScanFixture.ssrf]))
        let box = SnapshotBox()
        session.start(interval: 0.1) { box.put($0) }
        // The first snapshot comes at once, before any scan; wait for a scanned one.
        let deadline = Date().addingTimeInterval(10)
        while (box.last?.scanPasses ?? 0) < 1 && Date() < deadline {
            _ = box.semaphore.wait(timeout: .now() + 1)
        }
        session.stop()
        let snap = try #require(box.last)
        #expect(snap.scanPasses >= 1)
        #expect(Set(snap.hits.map(\.indicator)) == ScanFixture.ssrfIDs)
    }
}

@Suite("Two sessions on one case")
struct TwoSessionTests {
    func session(_ dir: TempDir, _ who: String) throws -> CaseSession {
        let store = CaseStore(folder: dir.url)
        if !store.exists {
            try store.create(CaseFile(name: "shared", created: Date(timeIntervalSince1970: 1_614_934_800), servers: [Server(name: "EXCH01")]))
        }
        return CaseSession(store: store, caseFile: try store.load(), engine: try RuleEngine.builtIn(), playbook: try Playbook.builtIn(),
                           responder: who)
    }

    @Test func editsFromTwoConsolesAreBothKept() throws {
        let dir = try TempDir("two")
        let a = try session(dir, "alice")
        let b = try session(dir, "bob")
        a.perform(.advanceStep(server: "EXCH01", step: "inventory"))
        _ = a.currentSnapshot()
        b.perform(.advanceStep(server: "EXCH01", step: "patch"))
        _ = b.currentSnapshot()
        a.perform(.setStep(server: "EXCH01", step: "msert", state: .blocked, note: "no internet"))
        _ = a.currentSnapshot()
        let onDisk = try CaseStore(folder: dir.url).load()
        #expect(onDisk.stepState(server: "EXCH01", step: "inventory") == .inProgress)
        #expect(onDisk.stepState(server: "EXCH01", step: "patch") == .inProgress)
        #expect(onDisk.stepState(server: "EXCH01", step: "msert") == .blocked)
        let steps = onDisk.audit.filter { $0.action == "checklist.step" }
        #expect(steps.map(\.by) == ["alice", "bob", "alice"])
        #expect(steps.map(\.field) == ["EXCH01/inventory", "EXCH01/patch", "EXCH01/msert"])
    }

    @Test func aBrokenCaseFileOnDiskIsNotOverwrittenAndTheEditIsKept() throws {
        let dir = try TempDir("broken")
        let a = try session(dir, "alice")
        let broken = Data("{\"broken\": ".utf8)
        try broken.write(to: dir.url.appendingPathComponent("case.json"))
        a.perform(.advanceStep(server: "EXCH01", step: "inventory"))
        let snap = a.currentSnapshot()
        #expect(try Data(contentsOf: dir.url.appendingPathComponent("case.json")) == broken)
        let error = try #require(snap.saveError)
        #expect(error.contains("case.json:1:12: unexpected end of file"))
        #expect(error.contains("1 change(s) are kept"))
        #expect(snap.caseFile.stepState(server: "EXCH01", step: "inventory") == .inProgress)
        // Once the file is repaired, the kept edit is saved on top of it.
        try CaseStore(folder: dir.url).save(CaseFile(name: "repaired", created: Date(timeIntervalSince1970: 1_614_934_800), servers: [Server(name: "EXCH01")]))
        a.perform(.advanceStep(server: "EXCH01", step: "patch"))
        let after = a.currentSnapshot()
        #expect(after.saveError == nil)
        let onDisk = try CaseStore(folder: dir.url).load()
        #expect(onDisk.name == "repaired")
        #expect(onDisk.stepState(server: "EXCH01", step: "inventory") == .inProgress)
        #expect(onDisk.stepState(server: "EXCH01", step: "patch") == .inProgress)
    }
}
