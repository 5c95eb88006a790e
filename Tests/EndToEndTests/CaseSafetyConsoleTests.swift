import Foundation
import IncidentCore
import Testing

/// The console side of issue 4, driven in tmux: prompts before migrating or restoring, notices
/// of values changed by someone else, altered evidence, read-only review.
@Suite("Case file safety in the console", .serialized, .enabled(if: tmuxAvailable, "tmux is not installed (apt-get install tmux)"))
struct CaseSafetyConsoleTests {
    private func demoCase(_ name: String) throws -> URL {
        let dir = temporaryFolder(name).appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"]).status == 0)
        return dir
    }

    @Test("an older case asks before migrating (default No leaves it byte-for-byte unchanged); y migrates")
    func migrationPrompt() throws {
        let dir = try demoCase("mig")
        let file = dir.appendingPathComponent("case.json")
        let v1 = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: "\"schemaVersion\" : 2", with: "\"schemaVersion\" : 1")
        try v1.write(to: file, atomically: true, encoding: .utf8)
        let original = try Data(contentsOf: file)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        do {
            let tmux = try TmuxSession("\(incidentBinary.path) open \(dir.path)")
            #expect(tmux.waitFor("[y/N]"), "screen was:\n\(tmux.capture())")
            #expect(tmux.capture().contains("Migrate it to schemaVersion 2?"))
            tmux.send("Enter")
            #expect(tmux.waitFor("EXIT=2"))
            #expect(tmux.capture().contains("not migrated"))
            #expect(try Data(contentsOf: file) == original)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == names)
        }
        let tmux = try TmuxSession("\(incidentBinary.path) open \(dir.path)")
        #expect(tmux.waitFor("[y/N]"))
        tmux.send("y", "Enter")
        #expect(tmux.waitForServer("EXCH01", "compromised"), "screen was:\n\(tmux.capture())")
        tmux.send("q")
        #expect(tmux.waitFor("EXIT=0"))
        #expect(try Data(contentsOf: dir.appendingPathComponent("case.json.schema1.bak")) == original)
        let c = try CaseStore(folder: dir).loadCurrent()
        #expect(c.audit.contains { $0.action == "case.migrated" && $0.before == "1" && $0.after == "2" })
    }

    @Test("a broken case offers its backup (default No); y restores it and keeps the broken file")
    func restorePrompt() throws {
        let dir = try demoCase("rest")
        #expect(try run(incidentBinary.path, ["step", "set", dir.path, "EXCH01", "patch", "--state", "done"]).status == 0)
        let file = dir.appendingPathComponent("case.json")
        try Data("{\"schemaVersion\": 2, \"name\": \"x\",".utf8).write(to: file)
        do {
            let tmux = try TmuxSession("\(incidentBinary.path) open \(dir.path)")
            #expect(tmux.waitFor("[y/N]"), "screen was:\n\(tmux.capture())")
            #expect(tmux.capture().contains("Restore it?"))
            tmux.send("n", "Enter")
            #expect(tmux.waitFor("EXIT=2"))
            #expect(try String(contentsOf: file, encoding: .utf8) == "{\"schemaVersion\": 2, \"name\": \"x\",")
        }
        let tmux = try TmuxSession("\(incidentBinary.path) open \(dir.path)")
        #expect(tmux.waitFor("[y/N]"))
        tmux.send("y", "Enter")
        #expect(tmux.waitForServer("EXCH01", "compromised"), "screen was:\n\(tmux.capture())")
        tmux.send("q")
        #expect(tmux.waitFor("EXIT=0"))
        let kept = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("case.json.broken-") }
        #expect(kept.count == 1)
        #expect(try CaseStore(folder: dir).load().name == "Demo: Contoso Exchange, March 2021")
    }

    @Test("a step set by another responder shows in the console with a notice; the audit view lists both")
    func changedUnderYou() throws {
        let dir = try demoCase("under")
        let tmux = try TmuxSession("\(incidentBinary.path) open \(dir.path) --interval 0.5", cols: 140, rows: 30)
        #expect(tmux.waitForServer("EXCH01", "compromised"))
        let r = try run(incidentBinary.path, ["step", "set", dir.path, "EXCH01", "inventory", "--state", "done", "--note", "from the jump host"])
        #expect(r.status == 0)
        let user = Responder.current()
        #expect(tmux.waitFor("changed elsewhere: EXCH01/inventory: todo → done by \(user)"), "screen was:\n\(tmux.capture())")
        #expect(tmux.waitFor("[x]  1 Inventory the server"))
        tmux.send("A")
        #expect(tmux.waitFor("Audit trail:"))
        #expect(tmux.capture().contains("checklist.step  EXCH01/inventory  todo → done  note: from the jump host"))
        tmux.send("/")
        tmux.send("-l", "inventory")
        tmux.send("Enter")
        #expect(tmux.waitFor("Audit trail: 1 of"))
        tmux.send("Escape")
        #expect(tmux.waitUntil { !$0.contains("Audit trail:") })
        tmux.send("q")
        #expect(tmux.waitFor("EXIT=0"))
    }

    @Test("evidence altered after intake is flagged on screen")
    func alteredOnScreen() throws {
        let dir = try demoCase("alt")
        #expect(try run(incidentBinary.path, ["scan", dir.path]).status == 1)
        let url = dir.appendingPathComponent("evidence/EXCH01/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG")
        var bytes = [UInt8](try Data(contentsOf: url))
        bytes.removeLast(10) // shrank: not a pure append
        try Data(bytes).write(to: url)
        let tmux = try TmuxSession("\(incidentBinary.path) open \(dir.path)", cols: 120, rows: 30)
        #expect(tmux.waitFor("1 ALTERED"), "screen was:\n\(tmux.capture())")
        // Its hits (the PL- rows of the HttpProxy log) are marked in the hits list.
        #expect(tmux.waitUntil { $0.split(separator: "\n").contains { $0.contains("PL-0") && $0.contains("ALTERED ") } },
                "screen was:\n\(tmux.capture())")
        tmux.send("q")
        #expect(tmux.waitFor("EXIT=0"))
    }

    @Test("open --read-only says READ-ONLY, refuses write keys and writes nothing, not even the lock file")
    func readOnlyConsole() throws {
        let dir = try demoCase("ro")
        func listing() throws -> [String] {
            try FileManager.default.subpathsOfDirectory(atPath: dir.path).sorted().map { p -> String in
                var st = stat()
                lstat(dir.appendingPathComponent(p).path, &st)
                return "\(p) \(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
            }
        }
        let before = try listing()
        let caseBytes = try Data(contentsOf: dir.appendingPathComponent("case.json"))
        let tmux = try TmuxSession("\(incidentBinary.path) open \(dir.path) --read-only", cols: 120, rows: 30)
        #expect(tmux.waitForServer("EXCH01", "compromised"))
        #expect(tmux.capture().contains("READ-ONLY"))
        tmux.send("BTab", "Space")
        #expect(tmux.waitFor("read-only review: this key is not available"))
        tmux.send("q")
        #expect(tmux.waitFor("EXIT=0"))
        #expect(try listing() == before)
        #expect(try Data(contentsOf: dir.appendingPathComponent("case.json")) == caseBytes)
    }
}
