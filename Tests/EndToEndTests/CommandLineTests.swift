import Foundation
import Testing

/// The headless commands, run as a user would.
@Suite("Command line")
struct CommandLineTests {
    @Test("scan of the demo: JSON shape, verdicts, exit code 1")
    func scanDemo() throws {
        let dir = temporaryFolder("scan").appendingPathComponent("case")
        let demo = try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"])
        #expect(demo.status == 0)
        let r = try run(incidentBinary.path, ["scan", dir.path, "--format", "json"])
        #expect(r.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let servers = try #require(object["servers"] as? [[String: Any]])
        let verdicts = Dictionary(uniqueKeysWithValues: servers.map { ($0["name"] as! String, $0["verdict"] as! String) })
        #expect(verdicts == ["EXCH01": "compromised", "EXCH02": "probed", "EXCH03": "insufficient-coverage"])
        // Coverage and chain per server.
        let exch03 = try #require(servers.first { $0["name"] as? String == "EXCH03" })
        let coverage = try #require(exch03["coverage"] as? [[String: Any]])
        #expect(coverage.map { $0["check"] as! String } == ["cve-2021-26855", "cve-2021-26857", "cve-2021-26858", "cve-2021-27065", "iis-requests", "files-on-disk"])
        #expect(coverage.map { $0["status"] as! String } == ["insufficient-coverage", "not-checked", "not-checked", "not-checked", "insufficient-coverage", "insufficient-coverage"])
        #expect(coverage[0]["from"] as? String == "2021-03-05T09:00:00.377Z")
        let exch01 = try #require(servers.first { $0["name"] as? String == "EXCH01" })
        let chain = try #require(exch01["chain"] as? [[String: Any]])
        #expect(chain.map { $0["stage"] as! String } == ["attempt", "entry", "file-write", "web-shell-on-disk", "web-shell-requested"])
        let hits = try #require(object["hits"] as? [[String: Any]])
        let first = try #require(hits.first { $0["indicator"] as? String == "PL-008" })
        #expect(first["severity"] as? String == "critical")
        #expect(first["server"] as? String == "EXCH01")
        #expect(first["evidence"] as? String == "evidence/EXCH01/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG")
        #expect(first["line"] as? Int == 11)
        #expect(first["time"] as? String == "2021-03-03T06:44:25.117Z")
        #expect(first["field"] as? String == "AnchorMailbox")
        #expect(first["value"] as? String == "ServerInfo~a]@exch01.corp.example:444/ecp/proxyLogon.ecp?#")
        #expect((first["id"] as? String)?.count == 16)
        // The scan registered every evidence file in the case, with its hash.
        let caseJSON = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("case.json"))) as? [String: Any])
        let evidence = try #require(caseJSON["evidence"] as? [[String: Any]])
        #expect(evidence.count == 12)
        #expect(evidence.allSatisfy { ($0["sha256"] as? String)?.count == 64 })
    }

    @Test("scan exit codes follow --fail-on; an empty case exits 0")
    func exitCodes() throws {
        let dir = temporaryFolder("codes").appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["new", dir.path, "--name", "Empty"]).status == 0)
        let empty = try run(incidentBinary.path, ["scan", dir.path, "--format", "json"])
        #expect(empty.status == 0)
        #expect(empty.stdout.contains("\"hits\" : [\n\n  ]") || empty.stdout.contains("\"hits\" : []"))
        // Only a low-severity probe: exit 0 at the default --fail-on high, 1 at --fail-on low.
        let logs = dir.appendingPathComponent("evidence/EXCH05")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let header = "DateTime,RequestId,AnchorMailbox,RoutingHint,HttpStatus,UrlStem,ClientIpAddress,UserAgent\n"
        try Data((header + "2021-03-04T10:17:26.551Z,abc,ServerInfo~localhost/ecp/default.flt?,X-AnonResource-Backend-Cookie,500,/owa/auth/x.js,203.0.113.50,nmap\n").utf8)
            .write(to: logs.appendingPathComponent("HttpProxy_2021030410-1.LOG"))
        #expect(try run(incidentBinary.path, ["scan", dir.path]).status == 0)
        #expect(try run(incidentBinary.path, ["scan", dir.path, "--fail-on", "low"]).status == 1)
        let text = try run(incidentBinary.path, ["scan", dir.path, "--format", "text"])
        #expect(text.stdout.contains("server EXCH05: probed, 1 hit(s)"))
        #expect(text.stdout.contains("LOW PL-003 EXCH05"))
        // Usage errors exit 2.
        #expect(try run(incidentBinary.path, ["scan", dir.path, "--fail-on", "severe"]).status == 2)
    }

    @Test("a malformed case file is reported with line and column and left unchanged")
    func malformedCase() throws {
        let dir = temporaryFolder("bad")
        let bad = "{\n  \"schemaVersion\": 1,\n  \"name\": \"x\",\n  \"servers\": 5\n"
        try Data(bad.utf8).write(to: dir.appendingPathComponent("case.json"))
        for command in [["scan", dir.path], ["open", dir.path]] {
            let r = try run(incidentBinary.path, command)
            #expect(r.status == 2)
            #expect(r.stderr.contains("case.json:5:1: unexpected end of file in an object"), "stderr was: \(r.stderr)")
        }
        #expect(try String(contentsOf: dir.appendingPathComponent("case.json"), encoding: .utf8) == bad)
        let typed = "{\"schemaVersion\":1,\"caseId\":\"a\",\"name\":\"x\",\"created\":\"2021-03-03T00:00:00Z\",\n\"settings\":{\"rescanIntervalSeconds\":2,\"exposureWindowStart\":\"2021-01-01T00:00:00Z\"},\n\"servers\": 5,\"evidence\":[],\"triage\":[],\"checklists\":{},\"audit\":[]}\n"
        try Data(typed.utf8).write(to: dir.appendingPathComponent("case.json"))
        let r = try run(incidentBinary.path, ["scan", dir.path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("case.json:3:12: expected an array at .servers"), "stderr was: \(r.stderr)")
    }

    @Test("new refuses to overwrite a case; demo refuses a non-empty folder")
    func noOverwrite() throws {
        let dir = temporaryFolder("exists")
        #expect(try run(incidentBinary.path, ["new", dir.path, "--name", "A"]).status == 0)
        let before = try Data(contentsOf: dir.appendingPathComponent("case.json"))
        let again = try run(incidentBinary.path, ["new", dir.path, "--name", "B"])
        #expect(again.status == 2)
        #expect(again.stderr.contains("a case already exists here"))
        #expect(try Data(contentsOf: dir.appendingPathComponent("case.json")) == before)
        let demo = try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"])
        #expect(demo.status == 2)
        #expect(try Data(contentsOf: dir.appendingPathComponent("case.json")) == before)
    }

    @Test("the console refuses to run without a terminal, pointing at scan")
    func notATerminal() throws {
        let dir = temporaryFolder("notty").appendingPathComponent("case")
        _ = try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"])
        let r = try run(incidentBinary.path, ["open", dir.path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("must be a terminal"))
    }
}
