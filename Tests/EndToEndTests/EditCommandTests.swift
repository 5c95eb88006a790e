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
