import Foundation
import Testing
@testable import IncidentCore

/// Writes `bytes` as case.json in a fresh folder and expects `load()` to throw `expected`; the file
/// must be byte-for-byte and mtime unchanged, and nothing else created in the folder.
private func expectRejected(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation,
                            _ expected: (String) -> CaseStoreError) throws {
    let dir = try TempDir("reject")
    let store = CaseStore(folder: dir.url)
    try dir.write("case.json", bytes)
    let before = try FileManager.default.attributesOfItem(atPath: store.fileURL.path)[.modificationDate] as? Date
    #expect(throws: expected(store.fileURL.path), sourceLocation: sourceLocation) { try store.load() }
    #expect(throws: expected(store.fileURL.path), sourceLocation: sourceLocation) { try store.loadCurrent() }
    #expect(try dir.bytes("case.json") == bytes, "a failed load changed the file", sourceLocation: sourceLocation)
    #expect(try FileManager.default.attributesOfItem(atPath: store.fileURL.path)[.modificationDate] as? Date == before, sourceLocation: sourceLocation)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["case.json"], sourceLocation: sourceLocation)
}

/// A schema-1 case as the first release wrote it, with keys no version knows at every level.
let versionOneWithUnknownKeys = """
{
  "audit" : [
    { "action" : "case.created", "after" : "n", "at" : "2021-03-05T09:00:00.000Z", "by" : "alice", "signature" : "audit-x" }
  ],
  "caseId" : "x",
  "checklists" : { "EXCH01" : { "patch" : { "at" : "2021-03-05T10:00:00.000Z", "by" : "alice", "state" : "done", "ticket" : "CHG-1" } } },
  "created" : "2021-03-05T09:00:00.000Z",
  "customer" : { "name" : "Contoso", "contract" : 42 },
  "evidence" : [
    { "addedAt" : "2021-03-05T09:01:00.000Z", "addedBy" : "alice", "path" : "evidence/EXCH01/a.log", "server" : "EXCH01",
      "sha256" : "\(String(repeating: "ab", count: 32))", "sizeBytes" : 10, "tapeLabel" : "T-7" }
  ],
  "name" : "n",
  "schemaVersion" : 1,
  "servers" : [ { "name" : "EXCH01", "rack" : "B4" }, { "name" : "EXCH02" } ],
  "settings" : { "exposureWindowStart" : "2021-01-01T00:00:00.000Z", "rescanIntervalSeconds" : 2, "theme" : "night" },
  "triage" : [ { "at" : "2021-03-05T11:00:00.000Z", "by" : "bob", "decision" : "confirmed", "hitId" : "0123456789abcdef", "note" : "", "ticket" : "IR-9" } ]
}

"""

@Suite("Case file safety")
struct CaseFileSafetyTests {
    // MARK: Schema, migration, unknown keys

    @Test func olderSchemaLoadsInMemoryButIsNotWrittenUntilMigrated() throws {
        let dir = try TempDir("v1")
        try dir.write("case.json", versionOneWithUnknownKeys)
        let store = CaseStore(folder: dir.url)
        let original = try dir.bytes("case.json")
        #expect(store.schemaVersionOnDisk() == 1)
        // Read-only use migrates in memory only.
        let loaded = try store.load()
        #expect(loaded.schemaVersion == 2)
        #expect(loaded.checklists["EXCH01"]?["patch"]?.state == .done)
        #expect(throws: CaseStoreError.olderSchema(path: store.fileURL.path, found: 1, current: 2)) { try store.loadCurrent() }
        #expect(try dir.bytes("case.json") == original)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["case.json"])

        // Confirmed: migrated, old file kept, audited, unknown keys kept.
        #expect(try store.migrate(by: "carol", now: date("2021-03-06T08:00:00.000Z")) == 1)
        #expect(try dir.bytes("case.json.schema1.bak") == original)
        let migrated = try store.loadCurrent()
        #expect(migrated.schemaVersion == 2)
        let entry = try #require(migrated.audit.last)
        #expect(entry == AuditEntry(at: date("2021-03-06T08:00:00.000Z"), by: "carol", action: "case.migrated", field: "schemaVersion", before: "1", after: "2"))
        let tree = try #require(try JSONSerialization.jsonObject(with: Data(dir.bytes("case.json"))) as? [String: Any])
        #expect(tree["schemaVersion"] as? Int == 2)
        #expect((tree["customer"] as? [String: Any])?["contract"] as? Int == 42)
        #expect(try store.migrate() == nil)
    }

    @Test func knownKeysClearedByTheModelStayCleared() throws {
        let dir = try TempDir("cleared")
        try dir.write("case.json", versionOneWithUnknownKeys)
        let store = CaseStore(folder: dir.url)
        try store.migrate(by: "carol")
        var c = try store.load()
        c.evidence[0].altered = EvidenceAlteration(detectedAt: date("2021-03-06T09:00:00.000Z"), sizeBytes: 1, sha256: String(repeating: "a", count: 64), reason: "shrank")
        c.checklists["EXCH01", default: [:]]["patch"]?.note = "to be cleared"
        try store.save(c)
        // Now the evidence matches again, the note is cleared and a checklist entry is dropped.
        c = try store.load()
        #expect(c.evidence[0].altered != nil)
        c.evidence[0].altered = nil
        c.checklists["EXCH01"]?["patch"]?.note = nil
        c.checklists["EXCH01"]?["inventory"] = ChecklistEntry(state: .done, by: "dave", at: date("2021-03-06T09:00:00.000Z"))
        try store.save(c)
        c.checklists["EXCH01"]?["inventory"] = nil
        try store.save(c)

        let tree = try #require(try JSONSerialization.jsonObject(with: Data(dir.bytes("case.json"))) as? [String: Any])
        let evidence = try #require(tree["evidence"] as? [[String: Any]])
        #expect(evidence[0]["altered"] == nil)
        #expect(evidence[0]["tapeLabel"] as? String == "T-7")
        let exch01 = try #require((tree["checklists"] as? [String: Any])?["EXCH01"] as? [String: Any])
        let patch = try #require(exch01["patch"] as? [String: Any])
        #expect(patch["note"] == nil)
        #expect(patch["ticket"] as? String == "CHG-1")
        #expect(exch01["inventory"] == nil)
        let reloaded = try store.load()
        #expect(reloaded.evidence[0].altered == nil)
        #expect(reloaded.checklists["EXCH01"]?["patch"]?.note == nil)
    }

    @Test func unknownKeysAtEveryLevelSurviveEdits() throws {
        let dir = try TempDir("unknown")
        try dir.write("case.json", versionOneWithUnknownKeys)
        let store = CaseStore(folder: dir.url)
        try store.migrate(by: "carol")
        var c = try store.load()
        c.apply(.setStep(server: "EXCH01", step: "patch", state: .blocked, note: "reboot window"), by: "dave", at: date("2021-03-06T09:00:00.000Z"))
        c.apply(.triage(hitId: "fedcba9876543210", decision: .falsePositive, note: "scanner"), by: "dave", at: date("2021-03-06T09:01:00.000Z"))
        c.servers.insert(Server(name: "EXCH00"), at: 0) // elements move: matched by name, not index
        c.evidence[0].updatedAt = date("2021-03-06T09:02:00.000Z")
        try store.save(c)

        let tree = try #require(try JSONSerialization.jsonObject(with: Data(dir.bytes("case.json"))) as? [String: Any])
        #expect((tree["customer"] as? [String: Any])?["name"] as? String == "Contoso")
        #expect((tree["settings"] as? [String: Any])?["theme"] as? String == "night")
        let servers = try #require(tree["servers"] as? [[String: Any]])
        #expect(servers.map { $0["name"] as? String } == ["EXCH00", "EXCH01", "EXCH02"])
        #expect(servers[0]["rack"] == nil)
        #expect(servers[1]["rack"] as? String == "B4")
        let evidence = try #require(tree["evidence"] as? [[String: Any]])
        #expect(evidence[0]["tapeLabel"] as? String == "T-7")
        #expect(evidence[0]["updatedAt"] as? String == "2021-03-06T09:02:00.000Z")
        let patch = try #require(((tree["checklists"] as? [String: Any])?["EXCH01"] as? [String: Any])?["patch"] as? [String: Any])
        // The known fields are the new ones; the unknown one stays.
        #expect(patch["state"] as? String == "blocked")
        #expect(patch["by"] as? String == "dave")
        #expect(patch["ticket"] as? String == "CHG-1")
        let triage = try #require(tree["triage"] as? [[String: Any]])
        #expect(triage.count == 2)
        #expect(triage[0]["ticket"] as? String == "IR-9")
        #expect(triage[1]["ticket"] == nil)
        let audit = try #require(tree["audit"] as? [[String: Any]])
        #expect(audit.count == 4)
        #expect(audit[0]["signature"] as? String == "audit-x")
        #expect(audit[2]["note"] as? String == "reboot window")
        // A second store (another console) keeps them too.
        let other = CaseStore(folder: dir.url)
        var d = try other.load()
        d.name = "renamed"
        try other.save(d)
        let again = try #require(try JSONSerialization.jsonObject(with: Data(dir.bytes("case.json"))) as? [String: Any])
        #expect((again["customer"] as? [String: Any])?["contract"] as? Int == 42)
        #expect(again["name"] as? String == "renamed")
    }

    // MARK: Rejected files are left alone

    @Test func truncatedJSON() throws {
        let text = Array(versionOneWithUnknownKeys.utf8.prefix(200))
        try expectRejected(text) { .malformed(path: $0, line: 6, column: 33, message: "string is not closed") }
    }

    @Test func wrongTypes() throws {
        let text = versionOneWithUnknownKeys.replacingOccurrences(of: "\"sizeBytes\" : 10", with: "\"sizeBytes\" : \"ten\"")
        try expectRejected(Array(text.utf8)) { .malformed(path: $0, line: 11, column: 100, message: "expected an integer at .evidence[0].sizeBytes") }
    }

    @Test func duplicateIds() throws {
        let servers = versionOneWithUnknownKeys.replacingOccurrences(of: "{ \"name\" : \"EXCH02\" }", with: "{ \"name\" : \"exch01\" }")
        try expectRejected(Array(servers.utf8)) { .malformed(path: $0, line: 15, column: 66, message: "duplicate server name \"exch01\" (also servers[0])") }
        let record = """
            { "addedAt" : "2021-03-05T09:01:00.000Z", "addedBy" : "alice", "path" : "evidence/EXCH01/a.log", "server" : "EXCH01", "sha256" : "\(String(repeating: "ab", count: 32))", "sizeBytes" : 10 }
        """
        let evidence = versionOneWithUnknownKeys.replacingOccurrences(of: "  ],\n  \"name\"", with: "  ,\n\(record)\n  ],\n  \"name\"")
        try expectRejected(Array(evidence.utf8)) { .malformed(path: $0, line: 13, column: 77, message: "duplicate evidence path \"evidence/EXCH01/a.log\" (also evidence[0])") }
    }

    @Test func fiftyMegabyteString() throws {
        let big = String(repeating: "A", count: 50 * 1_048_576)
        let text = versionOneWithUnknownKeys.replacingOccurrences(of: "\"name\" : \"n\"", with: "\"name\" : \"\(big)\"")
        try expectRejected(Array(text.utf8)) { .malformed(path: $0, line: 13, column: 12, message: "a string of 52428800 bytes is longer than the limit of 1048576 bytes") }
    }

    @Test func invalidUTF8() throws {
        var bytes = Array(versionOneWithUnknownKeys.utf8)
        let i = try #require(bytes.firstIndex(of: UInt8(ascii: "C")))  // the C of "EXCH01" in checklists
        bytes[i] = 0xC3 // a lead byte followed by an ASCII byte
        try expectRejected(bytes) { .malformed(path: $0, line: 6, column: 23, message: "invalid UTF-8") }
    }

    @Test func checkReportsDanglingReferencesWithPositions() throws {
        let text = versionOneWithUnknownKeys
            .replacingOccurrences(of: "\"EXCH01\" : { \"patch\"", with: "\"EXCH09\" : { \"pach\"")
        let reports = CaseCheck.check(Data(text.utf8), file: "case.json", playbook: try Playbook.builtIn())
        #expect(reports.map(\.description) == [
            "case.json:14:21: warning: schemaVersion 1 is older than 2: run incident migrate to upgrade it",
            "case.json:6:31: warning: checklist for server \"EXCH09\", which is not in \"servers\"",
            "case.json:6:42: warning: unknown checklist step id \"pach\" (not in the playbook)",
        ])
        let bad = CaseCheck.check(Data("{\"schemaVersion\": 2,\n \"name\": [}".utf8), file: "c.json", playbook: try Playbook.builtIn())
        #expect(bad.count == 1 && bad[0].isError && bad[0].line == 2 && bad[0].column == 11)
        let newer = CaseCheck.check(Data("{\n  \"schemaVersion\": 9}".utf8), file: "c.json", playbook: try Playbook.builtIn())
        #expect(newer.map(\.description) == ["c.json:2:20: error: schemaVersion 9 is newer than this console supports (2); upgrade the console"])
    }

    // MARK: Backup and restore

    @Test func everySaveKeepsThePreviousVersionAndRestoreKeepsTheBrokenFile() throws {
        let dir = try TempDir("backup")
        let store = CaseStore(folder: dir.url.appendingPathComponent("case"))
        try store.create(sampleCase())
        var c = try store.load()
        c.name = "second"
        try store.save(c)
        let good = try Data(contentsOf: store.fileURL)
        c.name = "third"
        try store.save(c)
        #expect(try Data(contentsOf: store.backupURL) == good)
        // The case file breaks (a bad hand edit).
        let broken = Data("{\"schemaVersion\": 2, \"name\": ".utf8)
        try broken.write(to: store.fileURL)
        #expect(throws: CaseStoreError.self) { try store.load() }
        let kept = try #require(try store.restoreBackup(now: date("2021-03-07T10:11:12.000Z")))
        #expect(kept.lastPathComponent == "case.json.broken-20210307T101112.000Z")
        #expect(try Data(contentsOf: kept) == broken)
        #expect(try store.load().name == "second")
        // A backup that does not load is not restored, and nothing changes.
        let dir2 = try TempDir("badbackup")
        try dir2.write("case.json", "{")
        try dir2.write("case.json.bak", "[")
        #expect(throws: CaseStoreError.self) { try CaseStore(folder: dir2.url).restoreBackup() }
        #expect(try dir2.bytes("case.json") == Array("{".utf8))
    }

    // MARK: Permissions

    private func mode(_ url: URL) -> Int {
        var st = stat()
        _ = stat(url.path, &st)
        return Int(st.st_mode) & 0o7777
    }

    @Test func newCasesArePrivateAndSavesKeepTheMode() throws {
        let dir = try TempDir("modes")
        let old = umask(0o022)
        defer { umask(old) }
        let store = CaseStore(folder: dir.url.appendingPathComponent("case"))
        try store.create(sampleCase())
        try store.withLock { try store.save(try store.load()) }
        #expect(mode(store.folder) == 0o700)
        #expect(mode(store.folder.appendingPathComponent("evidence")) == 0o700)
        #expect(mode(store.fileURL) == 0o600)
        #expect(mode(store.backupURL) == 0o600)
        #expect(mode(store.lockURL) == 0o600)
        chmod(store.fileURL.path, 0o640)
        try store.save(try store.load())
        #expect(mode(store.fileURL) == 0o640)
    }

    @Test func sharedCasesAreGroupReadableAndWritable() throws {
        let dir = try TempDir("shared")
        let old = umask(0o022)
        defer { umask(old) }
        let gid = getgid()
        let group = String(cString: try #require(getgrgid(gid)).pointee.gr_name)
        let store = CaseStore(folder: dir.url.appendingPathComponent("case"))
        try store.create(sampleCase(), sharedGroup: group)
        try store.withLock { try store.save(try store.load()) }
        #expect(mode(store.folder) == 0o2770)
        #expect(mode(store.folder.appendingPathComponent("evidence")) == 0o2770)
        #expect(mode(store.fileURL) == 0o660)
        #expect(mode(store.lockURL) == 0o660)
        var st = stat()
        stat(store.fileURL.path, &st)
        #expect(st.st_gid == gid)
        #expect(throws: CaseStoreError.self) { try CaseStore(folder: dir.url.appendingPathComponent("c2")).create(sampleCase(), sharedGroup: "no-such-group-x") }
    }
}
