import Foundation
import Testing

@Suite("Headless edits")
struct EditCommandTests {
    @Test("step set --from checks every line before saving any: a bad line leaves the case unchanged")
    func allOrNothing() throws {
        let dir = temporaryFolder("edits-all").appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"]).status == 0)
        let caseFile = dir.appendingPathComponent("case.json")
        let before = try Data(contentsOf: caseFile)
        let edits = dir.deletingLastPathComponent().appendingPathComponent("edits.txt")
        try Data("EXCH01 harden done hardened\nEXCH02 bogus done\nEXCH01 report in-progress\n".utf8).write(to: edits)
        let r = try run(incidentBinary.path, ["step", "set", dir.path, "--from", edits.path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("edit 2 of 3 (EXCH02/bogus done): unknown step \"bogus\""))
        #expect(r.stderr.contains("nothing was saved"))
        #expect(r.stdout.isEmpty)
        #expect(try Data(contentsOf: caseFile) == before)
        // Fixed, the same file applies every line.
        try Data("EXCH01 harden done hardened\nEXCH02 report done\nEXCH01 report in-progress\n".utf8).write(to: edits)
        let ok = try run(incidentBinary.path, ["step", "set", dir.path, "--from", edits.path])
        #expect(ok.status == 0)
        #expect(ok.stdout.split(separator: "\n").count == 3)
    }

    /// The edits files of the line-end tests, written with each line end in turn.
    static let lineEnds: [(name: String, end: String)] = [("LF", "\n"), ("CRLF", "\r\n"), ("CR", "\r")]

    func caseObject(_ dir: URL) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("case.json"))) as? [String: Any])
    }

    @Test("step set --from reads LF, CRLF and CR-only files line by line; notes never hold a line end; a bad last line is still checked")
    func stepFromLineEnds() throws {
        for (name, end) in Self.lineEnds {
            let root = temporaryFolder("edits-eol-\(name)")
            let dir = root.appendingPathComponent("case")
            #expect(try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"]).status == 0)
            let before = try Data(contentsOf: dir.appendingPathComponent("case.json"))
            let edits = root.appendingPathComponent("edits.txt")
            // A bad step on the last line must be found, not glued into the first line's note.
            try Data(["EXCH01 harden done hardened by ops", "# comment", "", "EXCH02 bogus done"].joined(separator: end).appending(end).utf8).write(to: edits)
            let bad = try run(incidentBinary.path, ["step", "set", dir.path, "--from", edits.path])
            #expect(bad.status == 2, "\(name)")
            #expect(bad.stdout == "", "\(name)")
            #expect(bad.stderr.hasPrefix("incident: edit 2 of 2 (EXCH02/bogus done): unknown step \"bogus\""), "\(name): \(bad.stderr)")
            #expect(try Data(contentsOf: dir.appendingPathComponent("case.json")) == before, "\(name)")

            try Data(["EXCH01 harden done hardened by ops", "EXCH02 report in-progress", "EXCH01 report blocked  waiting for legal  "].joined(separator: end).utf8).write(to: edits)
            let ok = try run(incidentBinary.path, ["step", "set", dir.path, "--from", edits.path])
            #expect(ok.status == 0, "\(name): \(ok.stderr)")
            #expect(ok.stdout == "saved EXCH01/harden done\nsaved EXCH02/report in-progress\nsaved EXCH01/report blocked\n", "\(name)")
            let checklists = try #require(try caseObject(dir)["checklists"] as? [String: [String: [String: Any]]])
            #expect(checklists["EXCH01"]?["harden"]?["state"] as? String == "done", "\(name)")
            #expect(checklists["EXCH01"]?["harden"]?["note"] as? String == "hardened by ops", "\(name)")
            #expect(checklists["EXCH02"]?["report"]?["state"] as? String == "in-progress", "\(name)")
            #expect(checklists["EXCH02"]?["report"]?["note"] == nil, "\(name)")
            #expect(checklists["EXCH01"]?["report"]?["state"] as? String == "blocked", "\(name)")
            #expect(checklists["EXCH01"]?["report"]?["note"] as? String == "waiting for legal", "\(name)")
        }
    }

    @Test("triage set --from reads LF, CRLF and CR-only files line by line: every id is checked, notes hold no line end")
    func triageFromLineEnds() throws {
        let root = temporaryFolder("triage-eol")
        let demo = root.appendingPathComponent("demo")
        #expect(try run(incidentBinary.path, ["demo", "--dir", demo.path, "--no-open"]).status == 0)
        let scan = try run(incidentBinary.path, ["scan", demo.path, "--read-only", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(scan.stdout.utf8)) as? [String: Any])
        let ids = try #require((object["hits"] as? [[String: Any]])?.compactMap { $0["id"] as? String })
        try #require(ids.count >= 3)
        let unknown = "0123456789abcdef"
        try #require(!ids.contains(unknown))
        for (name, end) in Self.lineEnds {
            let dir = root.appendingPathComponent("case-\(name)")
            try FileManager.default.copyItem(at: demo, to: dir)
            let before = try Data(contentsOf: dir.appendingPathComponent("case.json"))
            let edits = root.appendingPathComponent("triage-\(name).txt")
            try Data(["\(ids[0]) confirmed seen in the proxy log", "\(unknown) needs-review typo", "\(ids[1]) false-positive"].joined(separator: end).appending(end).utf8).write(to: edits)
            let bad = try run(incidentBinary.path, ["triage", "set", dir.path, "--from", edits.path])
            #expect(bad.status == 2, "\(name)")
            #expect(bad.stdout == "", "\(name)")
            #expect(bad.stderr.hasPrefix("incident: edit 2 of 3 (0123456789abcdef needs-review): no hit with id 0123456789abcdef in this case"), "\(name): \(bad.stderr)")
            #expect(try Data(contentsOf: dir.appendingPathComponent("case.json")) == before, "\(name)")

            try Data(["\(ids[0]) confirmed seen in the proxy log", "\(ids[1]) false-positive", "\(ids[2]) needs-review ask Bob"].joined(separator: end).appending(end).utf8).write(to: edits)
            let ok = try run(incidentBinary.path, ["triage", "set", dir.path, "--from", edits.path])
            #expect(ok.status == 0, "\(name): \(ok.stderr)")
            #expect(ok.stdout == "saved \(ids[0]) confirmed\nsaved \(ids[1]) false-positive\nsaved \(ids[2]) needs-review\n", "\(name)")
            let triage = try #require(try caseObject(dir)["triage"] as? [[String: Any]])
            #expect(triage.map { "\($0["hitId"] as? String ?? "")|\($0["decision"] as? String ?? "")|\($0["note"] as? String ?? "")" } == [
                "\(ids[0])|confirmed|seen in the proxy log", "\(ids[1])|false-positive|", "\(ids[2])|needs-review|ask Bob",
            ], "\(name)")
        }
    }

    @Test("check also loads the case's playbook and indicator packs, and reports them broken")
    func checkCompanions() throws {
        let root = temporaryFolder("check-companions")
        let dir = root.appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["new", dir.path, "--name", "C"]).status == 0)
        try Data(#"{"name":"x","version":"1","steps":[{"id":"newstep"}]}"#.utf8).write(to: dir.appendingPathComponent("playbook.json"))
        let r = try run(incidentBinary.path, ["check", dir.path])
        #expect(r.status == 2)
        #expect(r.stdout.contains("\(dir.path)/playbook.json:1:36: error: missing key \"title\" at .steps[0]"), "\(r.stdout)")
        try FileManager.default.removeItem(at: dir.appendingPathComponent("playbook.json"))
        #expect(try run(incidentBinary.path, ["check", dir.path]).status == 0)

        let list = root.appendingPathComponent("ips.txt")
        try Data("5.2.69.14\n".utf8).write(to: list)
        #expect(try run(incidentBinary.path, ["indicators", "import", dir.path, list.path, "--name", "ips"]).status == 0)
        try Data("{ broken".utf8).write(to: dir.appendingPathComponent("indicators/ips.json"))
        let p = try run(incidentBinary.path, ["check", dir.path])
        #expect(p.status == 2)
        #expect(p.stdout.contains("indicators/ips.json:1:3:"), "\(p.stdout)")
        #expect(p.stdout.contains("incident indicators disable CASE ips"))
    }

    @Test("server set works on a server whose evidence folder exists before any scan")
    func serverSetBeforeScan() throws {
        let dir = temporaryFolder("set-before-scan").appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["new", dir.path, "--name", "S"]).status == 0)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("evidence/EX2010"), withIntermediateDirectories: true)
        let r = try run(incidentBinary.path, ["server", "set", dir.path, "EX2010", "--build", "14.3.513.0"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("EX2010: patch state patched"))
        let other = try run(incidentBinary.path, ["server", "set", dir.path, "NOPE", "--build", "14.3.513.0"])
        #expect(other.status == 2)
        #expect(other.stderr.contains("no server named \"NOPE\""))
    }

    @Test("the demo case is private like a new case: folders 0700, files 0600")
    func demoIsPrivate() throws {
        let dir = temporaryFolder("demo-modes").appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"]).status == 0)
        func mode(_ p: String) -> mode_t { var st = stat(); _ = stat(p, &st); return st.st_mode & 0o7777 }
        #expect(mode(dir.path) == 0o700)
        #expect(mode(dir.appendingPathComponent("case.json").path) == 0o600)
        #expect(mode(dir.appendingPathComponent("evidence/EXCH01").path) == 0o700)
        let files = FileManager.default.enumerator(atPath: dir.appendingPathComponent("evidence").path)?.allObjects as? [String] ?? []
        #expect(!files.isEmpty)
        for f in files { #expect([0o600, 0o700].contains(mode(dir.appendingPathComponent("evidence/" + f).path)), "\(f)") }
    }
}
