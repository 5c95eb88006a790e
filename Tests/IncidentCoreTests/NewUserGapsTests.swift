import Foundation
import Testing
@testable import IncidentCore

/// What a responder new to the console runs into first: server folders made before the logs
/// arrive, FIFOs under evidence/, logs whose format is not recognised, and `incident check`
/// finding every problem in one run.
@Suite("New-user gaps")
struct NewUserGapsTests {
    static let unrecognisedLog = "format not recognised: read as a collected file (content signatures only)"

    func session(_ dir: TempDir, readOnly: Bool = false) throws -> CaseSession {
        let store = CaseStore(folder: dir.url)
        return CaseSession(store: store, caseFile: try store.load(), engine: try builtInEngine(), playbook: try Playbook.builtIn(),
                           responder: "tester", readOnly: readOnly, origin: "local")
    }

    /// Runs one scan pass on another thread and gives up after a minute: opening a FIFO would
    /// block the pass until a writer came.
    func scanWithoutBlocking(_ session: CaseSession) throws -> CaseSnapshot {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: CaseSnapshot?
        Thread.detachNewThread {
            result = session.scanOnce()
            done.signal()
        }
        try #require(done.wait(timeout: .now() + 60) == .success, "the scan pass blocked (a FIFO opened?)")
        return try #require(result)
    }

    // MARK: Empty server folders

    @Test func emptyServerFolderIsAServerNotAssessed() throws {
        let dir = try TempDir("empty-server")
        try CaseStore(folder: dir.url).create(CaseFile(name: "gaps"))
        try dir.write(ScanFixture.path, ScanFixture.text([ScanFixture.benign]))
        try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("evidence/EXCH04"), withIntermediateDirectories: true)
        #expect(EvidenceWalker.list(dir.url).servers == ["EXCH01", "EXCH04"])

        let session = try session(dir)
        let snap = session.scanOnce()
        #expect(snap.caseFile.servers.map(\.name) == ["EXCH01", "EXCH04"])
        let exch04 = try #require(snap.summaries.first { $0.name == "EXCH04" })
        #expect(exch04.verdict == .notAssessed)
        #expect(exch04.hits == 0 && exch04.evidenceFiles == 0 && exch04.checkedFiles == 0)
        #expect(exch04.compromiseState == .unknown)
        #expect(exch04.compromiseReason == "verdict not-assessed: evidence does not show the server clean")
        #expect(exch04.coverage.map(\.status) == Array(repeating: .notChecked, count: 6))
        #expect(snap.caseFile.audit.filter { $0.action == "server.added" }.map { "\($0.field ?? "") \($0.after ?? "")" }
                == ["EXCH01 created from evidence/EXCH01/", "EXCH04 created from evidence/EXCH04/"])
        // Saved at once, with no evidence record for the empty folder.
        let saved = try CaseStore(folder: dir.url).load()
        #expect(saved.servers.map(\.name) == ["EXCH01", "EXCH04"])
        #expect(saved.evidence.map(\.path) == [ScanFixture.path])

        // The logs arrive: the same server, now with its file.
        try dir.write("evidence/EXCH04/IIS/W3SVC1/u_ex210303.log", ScanFixture.text([ScanFixture.benign]))
        let later = session.scanOnce()
        #expect(later.caseFile.servers.map(\.name) == ["EXCH01", "EXCH04"])
        #expect(later.summaries.first { $0.name == "EXCH04" }?.evidenceFiles == 1)
        #expect(later.caseFile.audit.filter { $0.action == "server.added" }.count == 2)
    }

    @Test func emptyServerFolderShowsInReadOnlyReviewWithoutWriting() throws {
        let dir = try TempDir("empty-server-ro")
        try CaseStore(folder: dir.url).create(CaseFile(name: "gaps"))
        try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("evidence/EXCH04"), withIntermediateDirectories: true)
        let before = try dir.bytes("case.json")
        let snap = try session(dir, readOnly: true).scanOnce()
        #expect(snap.summaries.map { "\($0.name) \($0.verdict.rawValue) \($0.evidenceFiles)" } == ["EXCH04 not-assessed 0"])
        #expect(try dir.bytes("case.json") == before)
    }

    // MARK: FIFOs and other special files

    @Test func fifoUnderEvidenceIsSkippedAndNeverOpened() throws {
        let dir = try TempDir("fifo")
        try CaseStore(folder: dir.url).create(CaseFile(name: "gaps"))
        try dir.write(ScanFixture.path, ScanFixture.text([ScanFixture.benign]))
        #expect(mkfifo(dir.url.appendingPathComponent("evidence/EXCH01/pipe.log").path, 0o600) == 0)
        #expect(mkfifo(dir.url.appendingPathComponent("evidence/loose-pipe").path, 0o600) == 0)
        try FileManager.default.createSymbolicLink(atPath: dir.url.appendingPathComponent("evidence/EXCH01/link-to-pipe").path,
                                                   withDestinationPath: "pipe.log")

        let listing = EvidenceWalker.list(dir.url)
        #expect(listing.found.map(\.relativePath) == [ScanFixture.path])
        #expect(listing.skipped.map { "\($0.relativePath) [\($0.server)] \($0.reason)" } == [
            "evidence/EXCH01/link-to-pipe [EXCH01] symbolic link to a FIFO: not a regular file, never opened, not checked",
            "evidence/EXCH01/pipe.log [EXCH01] not a regular file (a FIFO): never opened, not checked",
            "evidence/loose-pipe [] not a regular file (a FIFO): never opened; not in a server folder: evidence goes in evidence/<server-name>/",
        ])

        let snap = try scanWithoutBlocking(try session(dir))
        let pipe = try #require(snap.statuses.first { $0.path == "evidence/EXCH01/pipe.log" })
        #expect(pipe.skipped && pipe.format == nil && pipe.sha256 == "")
        #expect(pipe.warnings == ["not a regular file (a FIFO): never opened, not checked"])
        #expect(snap.statuses.filter(\.skipped).map(\.path) == ["evidence/EXCH01/link-to-pipe", "evidence/EXCH01/pipe.log", "evidence/loose-pipe"])
        // Skipped entries are not registered as evidence.
        #expect(snap.caseFile.evidence.map(\.path) == [ScanFixture.path])
    }

    @Test func fileReplacedByAFIFOAfterListingIsNotOpened() throws {
        let dir = try TempDir("fifo-race")
        let file = try dir.write("evidence/EXCH01/u.log", ScanFixture.text([ScanFixture.benign]))
        let scanner = EvidenceScanner(engine: try builtInEngine())
        scanner.scan(caseFolder: dir.url)
        try FileManager.default.removeItem(at: file)
        #expect(mkfifo(file.path, 0o600) == 0)
        // As if the walk had listed it just before it was replaced.
        #expect(scanner.scanFile(file, relativePath: "evidence/EXCH01/u.log", server: "EXCH01") == false)
        #expect(scanner.statuses.first?.warnings == ["not a regular file (a FIFO): never opened, not checked"])
    }

    // MARK: Logs whose format is not recognised

    @Test func looksLikeLogByNameOrFolder() {
        let cases: [(String, Bool)] = [
            ("evidence/EXCH01/MSGTRK20210303-1.LOG", true),
            ("evidence/EXCH01/msert.old.log", true),
            ("evidence/EXCH01/TransportRoles/Logs/MessageTracking/MSGTRK20210303-1.bak", true),
            ("evidence/EXCH01/MessageTracking/MSGTRK20210303-1", true),
            ("evidence/EXCH01/V15/Logging/HttpProxy/Owa/HttpProxy_2021030306-1.txt", true),
            ("evidence/EXCH01/inetpub/logs/LogFiles/W3SVC1/u_ex210303.log.gz", true),
            ("evidence/EXCH01/W3SVC2/u_ex210303.zip", true),
            ("evidence/EXCH01/notes.txt", false),
            ("evidence/EXCH01/FrontEnd/HttpProxy/owa/auth/shell.aspx", false),
            ("evidence/EXCH01/W3SVCx/page.aspx", false),
            ("evidence/EXCH01/catalog.logx", false),
            // The server folder's own name does not count.
            ("evidence/Logging/page.aspx", false),
            ("/mnt/collect/EXCH05/u_ex210303.LOG", true),
            ("/mnt/collect/Logging/page.aspx", false),
        ]
        for (path, expected) in cases { #expect(LogNaming.looksLikeLog(path) == expected, "\(path)") }
    }

    @Test func garbledMessageTrackingLogSaysItWasReadAsACollectedFile() throws {
        let dir = try TempDir("msgtrk")
        let fields = "#Fields: date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id"
        let complete = "#Software: Microsoft Exchange Server\r\n#Version: 15.01.2176.002\r\n#Log-type: Message Tracking Log\r\n"
            + "#Date: 2021-03-03T00:00:01.011Z\r\n\(fields)\r\n2021-03-03T06:44:21.437Z,,,10.0.0.5,EXCH01,,,SMTP,RECEIVE\r\n"
        try dir.write("evidence/EXCH01/MessageTracking/MSGTRK20210302-1.LOG", complete)
        // Header cut mid-line and garbled by a broken copy.
        try dir.write("evidence/EXCH01/MSGTRK20210303-1.LOG", Array("#Software: Microsoft Exch".utf8) + [0, 0, 0xFF, 0xFE, 0x13] + Array("\r\n2021-03-03T06:44:21.437Z,,,10\r\n".utf8))
        try dir.write("evidence/EXCH01/TransportRoles/Logs/MessageTracking/MSGTRK20210304-1", "#Softw\r\n")
        // A web shell saved under a .log name still hits: content signatures apply.
        try dir.write("evidence/EXCH01/Logging/shell.log", "<%@ Page Language=\"Jscript\"%><%eval(Request.Item[\"zk\"],\"unsafe\");%>\n")
        try dir.write("evidence/EXCH01/notes.txt", "called the hoster at 10:00\n")
        try dir.write(ScanFixture.path, ScanFixture.text([ScanFixture.benign]))
        let scanner = EvidenceScanner(engine: try builtInEngine())
        scanner.scan(caseFolder: dir.url)
        #expect(scanner.statuses.map { "\($0.path) \($0.format?.rawValue ?? "-") \($0.warnings)" } == [
            "evidence/EXCH01/IIS/W3SVC1/u_ex210303.log iis-w3c []",
            "evidence/EXCH01/Logging/shell.log collected-file [\"\(Self.unrecognisedLog)\"]",
            "evidence/EXCH01/MSGTRK20210303-1.LOG collected-file [\"\(Self.unrecognisedLog)\"]",
            "evidence/EXCH01/MessageTracking/MSGTRK20210302-1.LOG collected-file [\"\(Self.unrecognisedLog)\"]",
            "evidence/EXCH01/TransportRoles/Logs/MessageTracking/MSGTRK20210304-1 collected-file [\"\(Self.unrecognisedLog)\"]",
            "evidence/EXCH01/notes.txt collected-file []",
        ])
        #expect(scanner.hits.map { "\($0.evidence) \($0.indicator)" } == ["evidence/EXCH01/Logging/shell.log YARA:ChinaChopper_Eval_Unsafe"])
        // A log-named file read as a collected file never assesses a server on its own.
        let msgtrk = try #require(scanner.statuses.first { $0.path.hasSuffix("MSGTRK20210303-1.LOG") })
        #expect(!msgtrk.checked)
        // Scanned again unchanged: the warning stays.
        #expect(scanner.scan(caseFolder: dir.url) == [])
        #expect(scanner.statuses.first { $0.path.hasSuffix("MSGTRK20210303-1.LOG") }?.warnings == [Self.unrecognisedLog])
    }

    // MARK: incident check: every problem in one run

    static let stepJSON = #"{"id": "extra", "title": "Extra", "guidance": "g", "commands": [], "doneWhen": "d", "appliesWhen": "always", "dependsOn": ["ghost", "patch", "phantom"], "sources": []}"#

    @Test func playbookReportsEveryProblemPastItsShape() throws {
        let text = "{\"remove\": [\"nope\", \"patch\", \"gone\"],\n \"steps\": [\(Self.stepJSON),\n \(Self.stepJSON)]}"
        let (playbook, problems) = try Playbook.builtIn().applyingAll(Array(text.utf8), name: "playbook.json")
        #expect(problems.map(\.description) == [
            "playbook.json:1:13: remove: no built-in step \"nope\"",
            "playbook.json:1:30: remove: no built-in step \"gone\"",
            "playbook.json:3:9: step id \"extra\" is empty or used twice",
            "playbook.json:2:135: step \"extra\" depends on unknown step \"ghost\"",
            // Removed by this same file.
            "playbook.json:2:144: step \"extra\" depends on unknown step \"patch\"",
            "playbook.json:2:153: step \"extra\" depends on unknown step \"phantom\"",
        ])
        #expect(playbook.steps.filter { $0.id == "extra" }.count == 1)
        #expect(!playbook.steps.contains { $0.id == "patch" })
        // The loader still stops at the first.
        #expect(throws: IndicatorPackError.malformed(file: "playbook.json", line: 1, column: 13, message: "remove: no built-in step \"nope\"")) {
            try Playbook.builtIn().applying(Array(text.utf8), name: "playbook.json")
        }
    }

    @Test func checkReportsEveryBrokenFileWhenTheCaseFileIsNotJSON() throws {
        let dir = try TempDir("check-all")
        let store = CaseStore(folder: dir.url)
        try dir.write("case.json", "{\n  \"schemaVersion\": 2,\n  \"name\": \"x\",,\n}\n")
        try dir.write("playbook.json", "{\"remove\": [\"nope\"],\n \"steps\": [\(Self.stepJSON)]}")
        try dir.write("indicators/ips.json", "{ broken")
        try dir.write("indicators/mstic.json", "{\"id\": \"mstic\",\n \"iocs\": [1, 2]\n")
        try dir.write("rules/bad.yar", "rule Bad {\n  strings: $a = \"x\"\n  condition: $b\n}\n")
        try dir.write("rules/more/worse.yara", "rule Worse {\n  condition:\n")
        try dir.write("rules/good.yar", "rule Good { strings: $a = \"XK-DROP\" condition: $a }\n")
        let path = dir.url.path
        let reports = CaseCheck.checkCase(try Data(contentsOf: store.fileURL), store: store)
        #expect(reports.map(\.description) == [
            "\(path)/case.json:3:15: error: expected a quoted key",
            "\(path)/playbook.json:1:13: error: remove: no built-in step \"nope\"",
            "\(path)/playbook.json:2:135: error: step \"extra\" depends on unknown step \"ghost\"",
            "\(path)/playbook.json:2:153: error: step \"extra\" depends on unknown step \"phantom\"",
            "\(path)/indicators/ips.json:1:3: error: expected a quoted key (to open the case without it: incident indicators disable CASE ips)",
            "\(path)/indicators/mstic.json:3:1: error: unexpected end of file in an object (to open the case without it: incident indicators disable CASE mstic)",
            "\(path)/rules/bad.yar:4:1: error: YARA rule file not used: undefined string \"$b\"",
            "\(path)/rules/more/worse.yara:1:1: error: YARA rule file not used: syntax error",
        ])
    }

    @Test func checkReportsEveryDuplicateAndEachEnabledBrokenPack() throws {
        let dir = try TempDir("check-dups")
        let store = CaseStore(folder: dir.url)
        let now = Date(timeIntervalSince1970: 1_614_756_000)
        var caseFile = CaseFile(name: "dups", servers: [Server(name: "EXCH01"), Server(name: "EXCH02"), Server(name: "exch01"), Server(name: "EXCH02")])
        caseFile.indicatorPacks = ["a", "b", "c"].map { id in
            IndicatorPackRecord(id: id, name: id, file: "indicators/\(id).json", format: .text, sourceSHA256: String(repeating: "0", count: 64),
                                importedAt: now, importedBy: "tester", indicatorCount: 1, enabled: id != "b")
        }
        try store.create(caseFile)
        for id in ["a", "b", "c"] { try dir.write("indicators/\(id).json", "[") }
        let reports = CaseCheck.checkCase(try Data(contentsOf: store.fileURL), store: store)
        let file = store.fileURL.path
        let exch01 = try line(of: "\"exch01\"", in: store)
        let exch02 = try line(of: "\"EXCH02\"", in: store, occurrence: 2)
        #expect(reports.map { $0.description.replacingOccurrences(of: dir.url.path + "/", with: "") } == [
            "case.json:\(exch01): error: duplicate server name \"exch01\" (also servers[0])",
            "case.json:\(exch02): error: duplicate server name \"EXCH02\" (also servers[1])",
            "indicators/a.json:1:2: error: unexpected end of file (to open the case without it: incident indicators disable CASE a)",
            "indicators/c.json:1:2: error: unexpected end of file (to open the case without it: incident indicators disable CASE c)",
        ])
        #expect(reports.allSatisfy { $0.isError })
        #expect(reports.first?.file == file)
    }

    /// `line:column` of the value `quoted` (its `occurrence`-th appearance) in the saved case file.
    func line(of quoted: String, in store: CaseStore, occurrence: Int = 1) throws -> String {
        let text = try String(contentsOf: store.fileURL, encoding: .utf8)
        var found = 0
        for (i, row) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let r = row.range(of: quoted) else { continue }
            found += 1
            if found == occurrence { return "\(i + 1):\(row.distance(from: row.startIndex, to: r.lowerBound) + 1)" }
        }
        throw CocoaError(.fileReadCorruptFile)
    }
}
