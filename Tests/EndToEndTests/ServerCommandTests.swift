import Foundation
import Testing

/// `incident server set|add` and the patch and compromise states in `incident scan`.
@Suite("Server command")
struct ServerCommandTests {
    func servers(_ dir: URL) throws -> [String: [String: Any]] {
        let r = try run(incidentBinary.path, ["scan", dir.path, "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let list = try #require(object["servers"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: list.map { ($0["name"] as! String, $0) })
    }

    @Test("setting a fixed build patches EXCH01 and completes its patch step, but it stays compromised")
    func setBuild() throws {
        let dir = temporaryFolder("server").appendingPathComponent("case")
        _ = try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"])
        var s = try servers(dir)
        #expect(s["EXCH01"]?["patchState"] as? String == "vulnerable")
        #expect(s["EXCH01"]?["compromiseState"] as? String == "compromised")
        #expect(s["EXCH01"]?["stepsDone"] as? Int == 0)
        #expect(s["EXCH01"]?["stepsApplicable"] as? Int == 14)
        #expect(s["EXCH03"]?["compromiseState"] as? String == "unknown")

        let r = try run(incidentBinary.path, ["server", "set", dir.path, "EXCH01", "--build", "15.01.2106.013", "--patched-on", "2021-03-06"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("EXCH01: patch state patched (build 15.1.2106.13 ≥ fixed 15.1.2106.13)"))
        #expect(r.stdout.contains("EXCH01: patch step done, by incident (build 15.1.2106.13 ≥ fixed 15.1.2106.13)"))
        s = try servers(dir)
        #expect(s["EXCH01"]?["patchState"] as? String == "patched")
        #expect(s["EXCH01"]?["compromiseState"] as? String == "compromised")
        #expect(s["EXCH01"]?["done"] as? Bool == false)
        #expect(s["EXCH01"]?["stepsDone"] as? Int == 1)
        #expect(s["EXCH01"]?["stepsApplicable"] as? Int == 13)

        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("case.json"))) as? [String: Any])
        let server = try #require((json["servers"] as? [[String: Any]])?.first { $0["name"] as? String == "EXCH01" })
        #expect(server["exchangeBuild"] as? String == "15.1.2106.13")
        #expect(server["patchedOn"] as? String == "2021-03-06T00:00:00.000Z")
        let mitigated = try run(incidentBinary.path, ["server", "set", dir.path, "EXCH02", "--mitigated-on", "2021-03-08T09:00:00Z"])
        #expect(mitigated.status == 0, "\(mitigated.stderr)")
        #expect(mitigated.stdout.contains("EXCH02: exposure window from 2021-01-01T00:00:00.000Z, until 2021-03-08T09:00:00.000Z"))
        let audit = try #require(json["audit"] as? [[String: Any]])
        #expect(audit.contains { $0["action"] as? String == "server.set" && $0["field"] as? String == "EXCH01.exchangeBuild" && $0["after"] as? String == "15.1.2106.13" })
        #expect(audit.contains { $0["field"] as? String == "EXCH01/patch" && $0["by"] as? String == "incident (build 15.1.2106.13 ≥ fixed 15.1.2106.13)" })
    }

    @Test("bad builds, dates and names exit 2 and change nothing")
    func errors() throws {
        let dir = temporaryFolder("server-bad").appendingPathComponent("case")
        _ = try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"])
        let before = try Data(contentsOf: dir.appendingPathComponent("case.json"))
        let badBuild = try run(incidentBinary.path, ["server", "set", dir.path, "EXCH01", "--build", "15.1.2106"])
        #expect(badBuild.status == 2)
        #expect(badBuild.stderr.contains("\"15.1.2106\" is not an Exchange build"))
        let badDate = try run(incidentBinary.path, ["server", "set", dir.path, "EXCH01", "--first-exposure", "March"])
        #expect(badDate.status == 2)
        #expect(badDate.stderr.contains("--first-exposure: \"March\" is not a date"))
        let unknown = try run(incidentBinary.path, ["server", "set", dir.path, "EXCH09", "--role", "Mailbox"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no server named \"EXCH09\""))
        let nothing = try run(incidentBinary.path, ["server", "set", dir.path, "EXCH01"])
        #expect(nothing.status == 2)
        let badName = try run(incidentBinary.path, ["server", "add", dir.path, "../EXCH9"])
        #expect(badName.status == 2)
        let inverted = try run(incidentBinary.path, ["server", "set", dir.path, "EXCH01", "--first-exposure", "2021-03-10", "--mitigated-on", "2021-03-05"])
        #expect(inverted.status == 2)
        #expect(inverted.stderr.contains("the exposure window would end 2021-03-05T00:00:00.000Z (patch or mitigation) before it starts 2021-03-10T00:00:00.000Z"))
        #expect(try Data(contentsOf: dir.appendingPathComponent("case.json")) == before)
    }

    @Test("server add records a server before its evidence; a case playbook.json error names file, line and column")
    func addAndPlaybook() throws {
        let dir = temporaryFolder("server-add").appendingPathComponent("case")
        _ = try run(incidentBinary.path, ["new", dir.path, "--name", "Add"])
        let r = try run(incidentBinary.path, ["server", "add", dir.path, "EXCH04", "--build", "15.2.858.5", "--first-exposure", "2021-02-15"])
        #expect(r.status == 0, "\(r.stderr)")
        let s = try servers(dir)
        #expect(s["EXCH04"]?["patchState"] as? String == "patched")
        #expect(s["EXCH04"]?["compromiseState"] as? String == "unknown")
        #expect(s["EXCH04"]?["exposureWindowStart"] as? String == "2021-02-15T00:00:00.000Z")
        try Data("{\n  \"remove\": [\"nope\"]\n}\n".utf8).write(to: dir.appendingPathComponent("playbook.json"))
        let bad = try run(incidentBinary.path, ["scan", dir.path])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("playbook.json:2:14: remove: no built-in step \"nope\""), "\(bad.stderr)")
    }
}
