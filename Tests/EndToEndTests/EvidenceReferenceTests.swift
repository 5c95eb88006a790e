import Foundation
import Testing

@Suite("Evidence registered by reference")
struct EvidenceReferenceTests {
    @Test("evidence add registers an outside file; scans read it where it is; a change is flagged; removal is reported")
    func addScanAlterRemove() throws {
        let root = temporaryFolder("evidence-ref")
        let dir = root.appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["new", dir.path, "--name", "Refs"]).status == 0)
        let outside = root.appendingPathComponent("collection/EXCH09")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        let log = outside.appendingPathComponent("u_ex210303.log")
        let text = """
        #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken
        2021-03-03 07:02:13 10.0.0.5 POST /aspnet_client/discover.aspx - 443 - 5.254.43.18 antSword/v2.1 - 200 0 0 15

        """
        try Data(text.utf8).write(to: log)
        let before = try Data(contentsOf: log)
        let mtime = try FileManager.default.attributesOfItem(atPath: log.path)[.modificationDate] as? Date

        let add = try run(incidentBinary.path, ["evidence", "add", dir.path, "EXCH09", log.path])
        #expect(add.status == 0, "\(add.stderr)")
        let real = log.resolvingSymlinksInPath().path
        #expect(add.stdout.hasPrefix("registered \(real) for EXCH09: \(before.count) bytes, sha256 "))
        // Registering it again changes nothing.
        let again = try run(incidentBinary.path, ["evidence", "add", dir.path, "EXCH09", log.path])
        #expect(again.stdout.hasPrefix("already registered: \(real)"))

        let caseJSON = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("case.json"))) as? [String: Any])
        let record = try #require((caseJSON["evidence"] as? [[String: Any]])?.first)
        #expect(record["path"] as? String == real)
        #expect(record["server"] as? String == "EXCH09")
        #expect(record["sizeBytes"] as? Int == before.count)
        #expect((record["sha256"] as? String)?.count == 64)
        #expect(record["addedFrom"] as? String != nil)
        let audit = try #require(caseJSON["audit"] as? [[String: Any]])
        #expect(audit.contains { $0["action"] as? String == "evidence.added" && ($0["after"] as? String)?.contains("by reference") == true })

        // A case with a reference passes the check.
        let check = try run(incidentBinary.path, ["check", dir.path])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

        // The scan reads the file where it is and finds the web shell request.
        let scan = try run(incidentBinary.path, ["scan", dir.path, "--format", "json"])
        #expect(scan.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(scan.stdout.utf8)) as? [String: Any])
        let hits = try #require(object["hits"] as? [[String: Any]])
        #expect(hits.contains { $0["indicator"] as? String == "IIS-063" && $0["evidence"] as? String == real && $0["server"] as? String == "EXCH09" })
        // Never modified.
        #expect(try Data(contentsOf: log) == before)
        #expect(try FileManager.default.attributesOfItem(atPath: log.path)[.modificationDate] as? Date == mtime)

        // A change in the middle is flagged as altered.
        try Data(text.replacingOccurrences(of: "5.254.43.18", with: "5.254.43.19").utf8).write(to: log)
        let altered = try run(incidentBinary.path, ["scan", dir.path, "--format", "json"])
        let alteredObject = try #require(try JSONSerialization.jsonObject(with: Data(altered.stdout.utf8)) as? [String: Any])
        let files = try #require(alteredObject["files"] as? [[String: Any]])
        #expect(files.contains { $0["path"] as? String == real && $0["altered"] != nil && !($0["altered"] is NSNull) })

        // A file that disappears is reported missing, and the results are incomplete.
        try FileManager.default.removeItem(at: log)
        let gone = try run(incidentBinary.path, ["scan", dir.path, "--format", "json"])
        let goneObject = try #require(try JSONSerialization.jsonObject(with: Data(gone.stdout.utf8)) as? [String: Any])
        let missing = try #require(goneObject["missingEvidence"] as? [[String: Any]])
        #expect(missing.contains { $0["path"] as? String == real })
        #expect(gone.status == 2)
    }

    @Test("files inside the case folder, folders and bad server names are refused")
    func refusals() throws {
        let root = temporaryFolder("evidence-ref-bad")
        let dir = root.appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["new", dir.path, "--name", "Refs"]).status == 0)
        let inside = dir.appendingPathComponent("evidence/EXCH01/x.log")
        try FileManager.default.createDirectory(at: inside.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("x\n".utf8).write(to: inside)
        let r1 = try run(incidentBinary.path, ["evidence", "add", dir.path, "EXCH01", inside.path])
        #expect(r1.status == 2)
        #expect(r1.stderr.contains("is under the case's evidence/ folder"))
        let r2 = try run(incidentBinary.path, ["evidence", "add", dir.path, "EXCH01", root.path])
        #expect(r2.status == 2)
        #expect(r2.stderr.contains("not a regular file"))
        let outside = root.appendingPathComponent("y.log")
        try Data("y\n".utf8).write(to: outside)
        let r3 = try run(incidentBinary.path, ["evidence", "add", dir.path, "../etc", outside.path])
        #expect(r3.status == 2)
        #expect(r3.stderr.contains("is not a usable server name"))
        let r4 = try run(incidentBinary.path, ["evidence", "add", dir.path, "EXCH01", root.appendingPathComponent("nope.log").path])
        #expect(r4.status == 2)
        #expect(r4.stderr.contains("No such file or directory"))
    }
}
