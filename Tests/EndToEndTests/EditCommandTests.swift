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
}
