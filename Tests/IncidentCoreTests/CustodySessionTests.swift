import Foundation
import Testing
@testable import IncidentCore

/// Names, sizes, modes, modification times and bytes of every file under a folder.
func folderFingerprint(_ url: URL) throws -> [String] {
    var out: [String] = []
    let fm = FileManager.default
    guard let e = fm.enumerator(atPath: url.path) else { return [] }
    for case let relative as String in e {
        let path = url.appendingPathComponent(relative).path
        var st = stat()
        lstat(path, &st)
        var line = "\(relative) mode=\(String(st.st_mode, radix: 8)) size=\(st.st_size) mtime=\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
        if st.st_mode & S_IFMT == S_IFREG { line += " sha256=" + SHA256Hex.digest([UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))) }
        out.append(line)
    }
    return out.sorted()
}

@Suite("Chain of custody and several writers")
struct CustodySessionTests {
    func session(_ dir: TempDir, responder: String = "tester", readOnly: Bool = false) throws -> CaseSession {
        let store = CaseStore(folder: dir.url)
        if !store.exists {
            try store.create(CaseFile(name: "custody", created: date("2021-03-05T09:00:00.000Z"), servers: [Server(name: "EXCH01")]))
        }
        return CaseSession(store: store, caseFile: try store.load(), engine: try builtInEngine(), playbook: try Playbook.builtIn(),
                           responder: responder, readOnly: readOnly, origin: "jump01 via 203.0.113.7")
    }

    @Test func intakeRecordsModificationTimeAndOriginAndNeverTouchesEvidence() throws {
        let dir = try TempDir("intake")
        let s = try session(dir)
        let url = try dir.write(ScanFixture.path, ScanFixture.text([ScanFixture.benign, ScanFixture.ssrf]))
        try FileManager.default.setAttributes([.modificationDate: date("2021-03-04T01:02:03.000Z")], ofItemAtPath: url.path)
        let before = try folderFingerprint(dir.url.appendingPathComponent("evidence"))
        _ = s.scanOnce()
        let snap = s.scanOnce()
        let record = try #require(snap.caseFile.evidence.first)
        #expect(record.modifiedAt == date("2021-03-04T01:02:03.000Z"))
        #expect(record.addedFrom == "jump01 via 203.0.113.7")
        #expect(record.addedBy == "tester")
        #expect(record.altered == nil)
        // Scans read evidence only: bytes, size, mode and mtime unchanged.
        #expect(try folderFingerprint(dir.url.appendingPathComponent("evidence")) == before)
    }

    @Test func appendIsNotAlteredButAnyOtherChangeIs() throws {
        let dir = try TempDir("altered")
        let s = try session(dir)
        try dir.write(ScanFixture.path, ScanFixture.text([ScanFixture.benign, ScanFixture.ssrf]))
        let first = s.scanOnce()
        let intake = try #require(first.caseFile.evidence.first)
        #expect(first.alteredEvidence.isEmpty)

        // A log still being written: a pure append extends the record.
        try dir.append(ScanFixture.path, ScanFixture.benign + "\r\n")
        let grown = s.scanOnce()
        let record = try #require(grown.caseFile.evidence.first)
        #expect(record.altered == nil)
        #expect(record.sizeBytes == Int64(try dir.bytes(ScanFixture.path).count))
        #expect(grown.caseFile.audit.last?.action == "evidence.grew")

        // One byte changed inside what was recorded, and more appended: altered.
        var bytes = try dir.bytes(ScanFixture.path)
        let i = try #require(bytes.lastIndex(of: UInt8(ascii: "e")))
        bytes[i] = UInt8(ascii: "E")
        bytes += Array((ScanFixture.benign + "\r\n").utf8)
        try Data(bytes).write(to: dir.url.appendingPathComponent(ScanFixture.path))
        let altered = s.scanOnce()
        let flagged = try #require(altered.caseFile.evidence.first)
        let change = try #require(flagged.altered)
        #expect(change.sizeBytes == Int64(bytes.count))
        #expect(change.sha256 == SHA256Hex.digest(bytes))
        #expect(change.reason == "the first \(record.sizeBytes) bytes changed: recorded sha256 \(record.sha256)")
        // The record keeps the hash it was given at intake (and by the append).
        #expect(flagged.sha256 == record.sha256 && flagged.sizeBytes == record.sizeBytes)
        #expect(altered.alteredEvidence == [ScanFixture.path])
        #expect(altered.hits.allSatisfy { altered.alteredEvidence.contains($0.evidence) })
        let entry = try #require(altered.caseFile.audit.last)
        #expect(entry.action == "evidence.altered")
        #expect(entry.field == ScanFixture.path)
        #expect(entry.before == "\(record.sizeBytes) bytes sha256 \(record.sha256)")
        // Saved, and still flagged by the next session.
        let reopened = try session(dir, responder: "other")
        let again = reopened.scanOnce()
        let kept = try #require(again.caseFile.evidence.first?.altered)
        #expect(kept.sha256 == change.sha256 && kept.sizeBytes == change.sizeBytes && kept.reason == change.reason)
        #expect(Timestamps.iso8601(kept.detectedAt) == Timestamps.iso8601(change.detectedAt))
        #expect(again.caseFile.audit.filter { $0.action == "evidence.altered" }.count == 1)

        // A file that shrinks is altered too.
        let dir2 = try TempDir("shrink")
        let s2 = try session(dir2)
        try dir2.write(ScanFixture.path, ScanFixture.text([ScanFixture.benign, ScanFixture.ssrf]))
        _ = s2.scanOnce()
        let short = ScanFixture.text([ScanFixture.benign])
        try dir2.write(ScanFixture.path, short)
        let shrunk = s2.scanOnce()
        #expect(shrunk.caseFile.evidence.first?.altered?.reason == "shrank from \(intake.sizeBytes) to \(short.utf8.count) bytes")
    }

    @Test func aValueChangedByAnotherWriterIsReportedAndTheLaterWriterWins() throws {
        let dir = try TempDir("under")
        let mine = try session(dir, responder: "bob")
        mine.perform(.setStep(server: "EXCH01", step: "patch", state: .done, note: nil))
        _ = mine.currentSnapshot()
        // Alice, in another console, sets the same step.
        let store = CaseStore(folder: dir.url)
        try store.withLock {
            var c = try store.load()
            c.apply(.setStep(server: "EXCH01", step: "patch", state: .blocked, note: "no reboot before Friday"), by: "alice", at: Date())
            try store.save(c)
        }
        let seen = mine.scanOnce()
        #expect(seen.changedUnderYou == ["EXCH01/patch: done → blocked by alice"])
        #expect(seen.noticeSerial == 1)
        #expect(seen.caseFile.stepState(server: "EXCH01", step: "patch") == .blocked)
        // Bob sets it again: later writer wins; both changes stay in the audit trail.
        mine.perform(.setStep(server: "EXCH01", step: "patch", state: .done, note: nil))
        _ = mine.currentSnapshot() // waits for the edit to be saved
        let final = try store.load()
        #expect(final.stepState(server: "EXCH01", step: "patch") == .done)
        let steps = final.audit.filter { $0.action == "checklist.step" }
        #expect(steps.map { "\($0.by) \($0.before ?? "-") \($0.after ?? "-")" } == ["bob todo done", "alice done blocked", "bob blocked done"])
        // Reading without writing back: a quiet rescan does not rewrite the file.
        let signature = store.signature()
        _ = mine.scanOnce()
        #expect(store.signature() == signature)
    }

    @Test func anUndoIsRefusedWhenAnotherWriterChangedTheValueFirst() throws {
        let dir = try TempDir("undo-race")
        let mine = try session(dir, responder: "bob")
        mine.perform(.setStep(server: "EXCH01", step: "patch", state: .done, note: nil))
        _ = mine.currentSnapshot()
        // Alice blocks the step; bob's console has not read it yet when he undoes his change.
        let store = CaseStore(folder: dir.url)
        try store.withLock {
            var c = try store.load()
            c.apply(.setStep(server: "EXCH01", step: "patch", state: .blocked, note: "no reboot"), by: "alice", at: Date())
            try store.save(c)
        }
        mine.perform(.revert(.setStep(server: "EXCH01", step: "patch", state: .todo, note: "undo"),
                             ifStill: .step(server: "EXCH01", step: "patch", state: .done)))
        let seen = mine.currentSnapshot()
        #expect(seen.changedUnderYou == ["EXCH01/patch: done → blocked by alice",
                                         "undo not applied: EXCH01/patch is now blocked (set by alice)"])
        let final = try store.load()
        #expect(final.stepState(server: "EXCH01", step: "patch") == .blocked)
        #expect(final.audit.filter { $0.action == "checklist.step" }.map(\.by) == ["bob", "alice"])
        // Undone when nobody else changed it.
        mine.perform(.setStep(server: "EXCH01", step: "patch", state: .done, note: nil))
        mine.perform(.revert(.setStep(server: "EXCH01", step: "patch", state: .blocked, note: "undo"),
                             ifStill: .step(server: "EXCH01", step: "patch", state: .done)))
        _ = mine.currentSnapshot()
        #expect(try store.load().stepState(server: "EXCH01", step: "patch") == .blocked)
        #expect(try store.load().audit.filter { $0.action == "checklist.step" }.map(\.by) == ["bob", "alice", "bob", "bob"])
    }

    @Test func ownSavedChangesAreNotReportedAsSomeoneElses() throws {
        let dir = try TempDir("own")
        let mine = try session(dir, responder: "bob")
        mine.perform(.setStep(server: "EXCH01", step: "patch", state: .done, note: "n"))
        mine.perform(.triage(hitId: "0123456789abcdef", decision: .confirmed, note: ""))
        _ = mine.currentSnapshot()
        let store = CaseStore(folder: dir.url)
        try store.withLock {
            var c = try store.load()
            c.apply(.setStep(server: "EXCH01", step: "inventory", state: .inProgress, note: nil), by: "alice", at: Date())
            c.apply(.triage(hitId: "fedcba9876543210", decision: .falsePositive, note: ""), by: "alice", at: Date())
            try store.save(c)
        }
        let seen = mine.scanOnce()
        #expect(seen.changedUnderYou == ["EXCH01/inventory: todo → in-progress by alice", "hit fedcba9876543210: untriaged → false-positive by alice"])
        #expect(seen.caseFile.stepState(server: "EXCH01", step: "patch") == .done)
    }

    @Test func readOnlySessionWritesNothing() throws {
        let dir = try TempDir("ro")
        let store = CaseStore(folder: dir.url)
        try store.create(CaseFile(name: "ro", servers: [Server(name: "EXCH01")]))
        try dir.write(ScanFixture.path, ScanFixture.text([ScanFixture.ssrf]))
        try? FileManager.default.removeItem(at: store.lockURL)
        let before = try folderFingerprint(dir.url)
        let s = try session(dir, readOnly: true)
        let snap = s.scanOnce()
        s.perform(.setStep(server: "EXCH01", step: "patch", state: .done, note: nil))
        _ = s.currentSnapshot()
        s.stop()
        #expect(snap.hits.count == 3)
        #expect(try folderFingerprint(dir.url) == before)
        #expect(!FileManager.default.fileExists(atPath: store.lockURL.path))
    }
}
