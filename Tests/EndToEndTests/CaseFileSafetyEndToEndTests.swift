import Foundation
import IncidentCore
import Testing

/// Starts `incident` with stdout to a file, kills it with SIGKILL after `delay` seconds (if it
/// is still running), and returns what it had printed.
private func runAndKill(_ arguments: [String], after delay: Double, stdoutFile: URL) throws -> String {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdoutFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv = ([incidentBinary.path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, incidentBinary.path, &actions, nil, argv, environ)
    guard rc == 0 else { throw SpawnError.failed(String(cString: strerror(rc))) }
    Thread.sleep(forTimeInterval: delay)
    kill(pid, SIGKILL)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? ""
}

private func caseObject(_ dir: URL) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("case.json"))) as? [String: Any])
}

private func mode(_ path: String) -> Int {
    var st = stat()
    _ = stat(path, &st)
    return Int(st.st_mode) & 0o7777
}

/// Names, sizes, modes, modification times and hashes of every file under a folder.
private func fingerprint(_ url: URL) throws -> [String] {
    var out: [String] = []
    guard let e = FileManager.default.enumerator(atPath: url.path) else { return [] }
    for case let relative as String in e {
        let path = url.appendingPathComponent(relative).path
        var st = stat()
        lstat(path, &st)
        var line = "\(relative) \(String(st.st_mode, radix: 8)) \(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
        if st.st_mode & S_IFMT == S_IFREG { line += " " + SHA256Hex.digest([UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))) }
        out.append(line)
    }
    return out.sorted()
}

@Suite("Case file safety (command line)")
struct CaseFileSafetyEndToEndTests {
    @Test("two processes making 500 edits each on one case end with all 1,000 edits in the file")
    func twoWriters() throws {
        let root = temporaryFolder("writers")
        let dir = root.appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"]).status == 0)
        let steps = ["inventory", "preserve", "log-coverage", "patch", "credentials"]
        let states = ["in-progress", "done", "blocked"]
        // Triage takes only ids of hits the evidence gives: the demo's, each decided several times.
        let scan = try run(incidentBinary.path, ["scan", dir.path, "--read-only", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(scan.stdout.utf8)) as? [String: Any])
        let hitIDs = try #require(object["hits"] as? [[String: Any]]).compactMap { $0["id"] as? String }
        try #require(hitIDs.count > 10)
        func hitID(_ i: Int) -> String { hitIDs[i % hitIDs.count] }
        // Writer A: checklist steps on EXCH01 and EXCH02; writer B: triage decisions. Both at once.
        var a = "", b = ""
        for i in 0..<500 {
            a += "EXCH0\(1 + i % 2) \(steps[i % steps.count]) \(states[i % states.count]) a-\(i)\n"
            b += hitID(i) + " \(i % 2 == 0 ? "confirmed" : "false-positive") b-\(i)\n"
        }
        try a.write(to: root.appendingPathComponent("a.txt"), atomically: true, encoding: .utf8)
        try b.write(to: root.appendingPathComponent("b.txt"), atomically: true, encoding: .utf8)
        let commands = [["step", "set", dir.path, "--from", root.appendingPathComponent("a.txt").path],
                        ["triage", "set", dir.path, "--from", root.appendingPathComponent("b.txt").path]]
        nonisolated(unsafe) var results: [(status: Int32, stdout: String, stderr: String)?] = [nil, nil]
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            let r = try? run(incidentBinary.path, commands[i])
            lock.lock(); results[i] = r; lock.unlock()
        }
        for r in results {
            let r = try #require(r)
            #expect(r.status == 0, "stderr: \(r.stderr)")
            #expect(r.stdout.split(separator: "\n").count == 500)
        }
        let c = try CaseStore(folder: dir).loadCurrent()
        let stepNotes = c.audit.filter { $0.action == "checklist.step" }.compactMap(\.note)
        #expect(stepNotes == (0..<500).map { "a-\($0)" })
        let triageNotes = c.audit.filter { $0.action == "triage" }.compactMap(\.note)
        #expect(triageNotes == (0..<500).map { "b-\($0)" })
        #expect(c.triage.map(\.note) == (0..<500).map { "b-\($0)" })
        #expect(c.triage.map(\.hitId) == (0..<500).map(hitID))
        // The last value set for each step is the value in the file.
        var last: [String: Int] = [:]
        for i in 0..<500 { last["EXCH0\(1 + i % 2)/\(steps[i % steps.count])"] = i }
        #expect(last.count == 10)
        for (key, i) in last {
            let parts = key.split(separator: "/").map(String.init)
            let entry = try #require(c.checklists[parts[0]]?[parts[1]])
            #expect(entry.state.rawValue == states[i % states.count])
            #expect(entry.note == "a-\(i)")
        }
    }

    @Test("200 runs that kill -9 a saving process at random moments all leave a loadable case with every acknowledged edit")
    func killNineSoak() throws {
        let root = temporaryFolder("kill9")
        let template = root.appendingPathComponent("template")
        #expect(try run(incidentBinary.path, ["demo", "--dir", template.path, "--no-open"]).status == 0)
        let ids = ["inventory", "preserve", "log-coverage", "test-proxylogon", "msert", "web-shells", "patch", "credentials"]
        // Calibrate: how long does an uninterrupted run of 40 edits take on this machine? Kills
        // are then spread over that time (and a little after), wherever the saves fall.
        let calibration = root.appendingPathComponent("calibration")
        try FileManager.default.copyItem(at: template, to: calibration)
        let calibrationEdits = root.appendingPathComponent("calibration.txt")
        try (0..<40).map { "EXCH01 \(ids[$0 % ids.count]) done c-\($0)" }.joined(separator: "\n").write(to: calibrationEdits, atomically: true, encoding: .utf8)
        let started = Date()
        #expect(try run(incidentBinary.path, ["step", "set", calibration.path, "--from", calibrationEdits.path]).status == 0)
        let fullRun = max(0.05, Date().timeIntervalSince(started))
        var generator = SystemRandomNumberGenerator()
        var acknowledgedTotal = 0
        var killedMidway = 0
        for run in 0..<200 {
            let dir = root.appendingPathComponent("run\(run)")
            try FileManager.default.copyItem(at: template, to: dir)
            let lines = (0..<40).map { "EXCH01 \(ids[$0 % ids.count]) \($0 % 2 == 0 ? "done" : "blocked") r\(run)-\($0)" }
            let edits = root.appendingPathComponent("edits\(run).txt")
            try lines.joined(separator: "\n").write(to: edits, atomically: true, encoding: .utf8)
            let delay = Double.random(in: 0..<(fullRun * 1.1), using: &generator)
            let out = try runAndKill(["step", "set", dir.path, "--from", edits.path], after: delay,
                                     stdoutFile: root.appendingPathComponent("out\(run).txt"))
            let acknowledged = out.split(separator: "\n", omittingEmptySubsequences: true).filter { $0.hasPrefix("saved ") && out.contains($0 + "\n") }.count
            acknowledgedTotal += acknowledged
            if acknowledged > 0 && acknowledged < lines.count { killedMidway += 1 }
            // The case loads, and holds every acknowledged edit, in order (and at most one more:
            // saved, but killed before it could say so).
            let store = CaseStore(folder: dir)
            let c: CaseFile
            do { c = try store.loadCurrent() } catch {
                Issue.record("run \(run) (killed after \(delay) s): the case does not load: \(error)")
                continue
            }
            let notes = c.audit.filter { $0.action == "checklist.step" }.compactMap(\.note)
            let expected = lines.prefix(acknowledged).map { String($0.split(separator: " ").last!) }
            #expect(Array(notes.prefix(acknowledged)) == expected, "run \(run): \(acknowledged) acknowledged")
            #expect(notes.count == acknowledged || notes.count == acknowledged + 1, "run \(run): \(notes.count) saved, \(acknowledged) acknowledged")
            if FileManager.default.fileExists(atPath: store.backupURL.path) {
                #expect(throws: Never.self) { _ = try CaseStore.decode(Data(contentsOf: store.backupURL), path: "bak") }
            }
            try? FileManager.default.removeItem(at: dir)
        }
        // The soak really interrupted saving processes.
        #expect(killedMidway >= 20, "only \(killedMidway) runs were killed between two saves")
        #expect(acknowledgedTotal > 0)
    }

    @Test("a case of an older schema is refused by writers, byte-for-byte unchanged, until `incident migrate`")
    func olderSchema() throws {
        let dir = temporaryFolder("v1").appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"]).status == 0)
        var object = try caseObject(dir)
        object["schemaVersion"] = 1
        object["ticketSystem"] = ["id": "IR-2021-17"]
        let file = dir.appendingPathComponent("case.json")
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]).write(to: file)
        let original = try Data(contentsOf: file)
        let before = try fingerprint(dir)

        let step = try run(incidentBinary.path, ["step", "set", dir.path, "EXCH01", "patch", "--state", "done"])
        #expect(step.status == 2)
        #expect(step.stderr.contains("schemaVersion 1 is older than this console's (2)"))
        #expect(step.stderr.contains("incident migrate \(dir.path)"))
        #expect(try run(incidentBinary.path, ["scan", dir.path]).status == 2)
        let check = try run(incidentBinary.path, ["check", dir.path])
        #expect(check.status == 1)
        #expect(check.stdout.contains("\(file.path):"), "\(check.stdout)")
        #expect(check.stdout.contains("warning: schemaVersion 1 is older than 2"))
        // Read-only review needs no migration.
        #expect(try run(incidentBinary.path, ["scan", dir.path, "--read-only"]).status == 1)
        #expect(try fingerprint(dir) == before)
        #expect(try Data(contentsOf: file) == original)

        let migrate = try run(incidentBinary.path, ["migrate", dir.path])
        #expect(migrate.status == 0, "\(migrate.stderr)")
        #expect(migrate.stdout.contains("migrated \(file.path) from schemaVersion 1 to 2"))
        #expect(try Data(contentsOf: dir.appendingPathComponent("case.json.schema1.bak")) == original)
        let migrated = try caseObject(dir)
        #expect(migrated["schemaVersion"] as? Int == 2)
        #expect((migrated["ticketSystem"] as? [String: Any])?["id"] as? String == "IR-2021-17")
        #expect(try run(incidentBinary.path, ["step", "set", dir.path, "EXCH01", "patch", "--state", "done"]).stdout == "saved EXCH01/patch done\n")
        #expect((try caseObject(dir)["ticketSystem"] as? [String: Any])?["id"] as? String == "IR-2021-17")
    }

    @Test("a case that no longer loads names its backup; `incident restore` restores it and keeps the broken file")
    func brokenCaseAndRestore() throws {
        let dir = temporaryFolder("restore").appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"]).status == 0)
        #expect(try run(incidentBinary.path, ["step", "set", dir.path, "EXCH01", "patch", "--state", "done", "--note", "first"]).status == 0)
        #expect(try run(incidentBinary.path, ["step", "set", dir.path, "EXCH01", "patch", "--state", "blocked", "--note", "second"]).status == 0)
        let file = dir.appendingPathComponent("case.json")
        // The disk filled up mid-copy: a truncated file.
        let whole = try Data(contentsOf: file)
        let broken = whole.prefix(whole.count / 2)
        try broken.write(to: file)
        let r = try run(incidentBinary.path, ["step", "set", dir.path, "EXCH01", "patch", "--state", "done"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("\(file.path):"))
        #expect(r.stderr.contains("the previous good version is kept as \(dir.path)/case.json.bak"))
        #expect(r.stderr.contains("incident restore \(dir.path)"))
        #expect(try Data(contentsOf: file) == broken)
        let check = try run(incidentBinary.path, ["check", dir.path])
        #expect(check.status == 2)
        #expect(check.stdout.hasPrefix("\(file.path):"))
        #expect(check.stdout.contains(": error: "))

        let restore = try run(incidentBinary.path, ["restore", dir.path])
        #expect(restore.status == 0, "\(restore.stderr)")
        let kept = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("case.json.broken-") }
        #expect(kept.count == 1)
        #expect(try Data(contentsOf: dir.appendingPathComponent(kept[0])) == broken)
        let c = try CaseStore(folder: dir).loadCurrent()
        #expect(c.checklists["EXCH01"]?["patch"]?.note == "first")
        #expect(try run(incidentBinary.path, ["check", dir.path]).status == 0)
    }

    @Test("`incident new` makes a private case (0700/0600) unless shared with a group (2770/0660)")
    func permissions() throws {
        let root = temporaryFolder("modes")
        let own = root.appendingPathComponent("own")
        #expect(try run(incidentBinary.path, ["new", own.path, "--name", "Private"]).status == 0)
        // A save takes the lock: the lock file is private too.
        #expect(try run(incidentBinary.path, ["server", "add", own.path, "EXCH01"]).status == 0)
        #expect(mode(own.path) == 0o700)
        #expect(mode(own.appendingPathComponent("evidence").path) == 0o700)
        #expect(mode(own.appendingPathComponent("case.json").path) == 0o600)
        #expect(mode(own.appendingPathComponent(".case.lock").path) == 0o600)
        let group = String(cString: try #require(getgrgid(getgid())).pointee.gr_name)
        let shared = root.appendingPathComponent("shared")
        #expect(try run(incidentBinary.path, ["new", shared.path, "--name", "Shared", "--shared-group", group]).status == 0)
        #expect(mode(shared.path) == 0o2770)
        #expect(mode(shared.appendingPathComponent("case.json").path) == 0o660)
        let bad = try run(incidentBinary.path, ["new", root.appendingPathComponent("x").path, "--name", "X", "--shared-group", "no-such-group-x"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("no Unix group named \"no-such-group-x\""))
    }

    @Test("`scan --read-only` writes nothing at all: no lock file, no evidence registration")
    func readOnlyScan() throws {
        let dir = temporaryFolder("roscan").appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"]).status == 0)
        let before = try fingerprint(dir)
        let r = try run(incidentBinary.path, ["scan", dir.path, "--read-only", "--format", "json"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("\"PL-008\""))
        #expect(try fingerprint(dir) == before)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(".case.lock").path))
    }

    @Test("an evidence file altered after intake is flagged in scan output (text and JSON), with its hits")
    func alteredEvidenceInScan() throws {
        let dir = temporaryFolder("altered").appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"]).status == 0)
        #expect(try run(incidentBinary.path, ["scan", dir.path]).status == 1)
        let relative = "evidence/EXCH01/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG"
        let url = dir.appendingPathComponent(relative)
        var bytes = [UInt8](try Data(contentsOf: url))
        let intakeSize = bytes.count
        let i = try #require(bytes.firstIndex(of: UInt8(ascii: "7")))
        bytes[i] = UInt8(ascii: "8") // one digit of a timestamp
        try Data(bytes).write(to: url)
        let json = try run(incidentBinary.path, ["scan", dir.path, "--format", "json"])
        #expect(json.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let files = try #require(object["files"] as? [[String: Any]])
        let file = try #require(files.first { $0["path"] as? String == relative })
        let altered = try #require(file["altered"] as? [String: Any])
        #expect(altered["reason"] as? String == "content changed (same size): recorded sha256 \((try CaseStore(folder: dir).load()).evidence.first { $0.path == relative }!.sha256)")
        #expect(altered["sizeBytes"] as? Int == intakeSize)
        #expect(altered["sha256"] as? String == SHA256Hex.digest(bytes))
        #expect(files.filter { !($0["altered"] is NSNull) }.count == 1)
        let hits = try #require(object["hits"] as? [[String: Any]])
        let fromFile = hits.filter { $0["evidence"] as? String == relative }
        #expect(!fromFile.isEmpty)
        #expect(fromFile.allSatisfy { $0["alteredEvidence"] as? Bool == true })
        #expect(hits.filter { $0["evidence"] as? String != relative }.allSatisfy { $0["alteredEvidence"] as? Bool == false })
        let text = try run(incidentBinary.path, ["scan", dir.path])
        #expect(text.stdout.contains("ALTERED: \(relative): changed after intake (content changed (same size)"))
        #expect(text.stdout.contains("[altered evidence] CRITICAL PL-008 EXCH01"))
        // The intake record is kept, with one audit entry for the change.
        let c = try CaseStore(folder: dir).load()
        #expect(c.audit.filter { $0.action == "evidence.altered" }.map(\.field) == [relative])
        #expect(c.evidence.first { $0.path == relative }?.sizeBytes == Int64(intakeSize))
    }
}
