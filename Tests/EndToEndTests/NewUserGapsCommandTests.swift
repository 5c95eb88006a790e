import Foundation
import Testing

/// The first things a new responder runs into, run as they would run them.
@Suite("Command line: new-user gaps")
struct NewUserGapsCommandTests {
    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("triage set refuses a hit id no scan of the evidence gives, naming it, and saves nothing (also with --from)")
    func triageRefusesUnknownHit() throws {
        let root = temporaryFolder("triage-unknown")
        let dir = root.appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["demo", "--dir", dir.path, "--no-open"]).status == 0)
        let scan = try run(incidentBinary.path, ["scan", dir.path, "--read-only", "--format", "json"])
        #expect(scan.status == 1)
        let hits = try #require(try json(scan.stdout)["hits"] as? [[String: Any]])
        let ids = hits.compactMap { $0["id"] as? String }
        #expect(ids.count == 74)
        let known = try #require(ids.first)
        let unknown = "0123456789abcdef"
        try #require(!ids.contains(unknown))
        let caseFile = dir.appendingPathComponent("case.json")
        let before = try Data(contentsOf: caseFile)

        let r = try run(incidentBinary.path, ["triage", "set", dir.path, unknown, "--decision", "false-positive"])
        #expect(r.status == 2)
        #expect(r.stdout == "")
        #expect(r.stderr == "incident: edit 1 of 1 (0123456789abcdef false-positive): no hit with id 0123456789abcdef in this case: a read-only scan of its evidence finds 74 hit(s), none with this id (hit ids: incident scan CASE --read-only --format json); nothing was saved\n")
        #expect(try Data(contentsOf: caseFile) == before)

        // Batch mode: every line is checked before the first is saved.
        let edits = root.appendingPathComponent("triage.txt")
        try Data("\(known) confirmed seen in the proxy log\n# a comment\n\(unknown) needs-review typo\n".utf8).write(to: edits)
        let batch = try run(incidentBinary.path, ["triage", "set", dir.path, "--from", edits.path])
        #expect(batch.status == 2)
        #expect(batch.stdout == "")
        #expect(batch.stderr.hasPrefix("incident: edit 2 of 2 (0123456789abcdef needs-review): no hit with id 0123456789abcdef in this case"))
        #expect(batch.stderr.hasSuffix("; nothing was saved\n"))
        #expect(try Data(contentsOf: caseFile) == before)

        // A hit the evidence gives is saved, by itself or from a file.
        let one = try run(incidentBinary.path, ["triage", "set", dir.path, known, "--decision", "confirmed", "--note", "real"])
        #expect(one.status == 0, "\(one.stderr)")
        #expect(one.stdout == "saved \(known) confirmed\n")
        try Data("\(ids[1]) needs-review\n\(ids[2]) false-positive our scanner\n".utf8).write(to: edits)
        let ok = try run(incidentBinary.path, ["triage", "set", dir.path, "--from", edits.path])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout == "saved \(ids[1]) needs-review\nsaved \(ids[2]) false-positive\n")
        let object = try json(String(decoding: try Data(contentsOf: caseFile), as: UTF8.self))
        let triage = try #require(object["triage"] as? [[String: Any]])
        #expect(triage.map { "\($0["hitId"] as? String ?? "") \($0["decision"] as? String ?? "")" }
                == ["\(known) confirmed", "\(ids[1]) needs-review", "\(ids[2]) false-positive"])
    }

    @Test("an empty server folder is a server (not assessed); a FIFO is skipped, never opened; a garbled log says how it was read")
    func emptyFolderFifoAndGarbledLog() throws {
        let dir = temporaryFolder("new-user-scan").appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["new", dir.path, "--name", "Gaps"]).status == 0)
        let evidence = dir.appendingPathComponent("evidence")
        try FileManager.default.createDirectory(at: evidence.appendingPathComponent("EXCH04"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: evidence.appendingPathComponent("EXCH01"), withIntermediateDirectories: true)
        try (Data("#Software: Microsoft Exch".utf8) + Data([0, 0, 0xFF, 0x13]) + Data("\r\n2021-03-03T06:44:21.437Z,,,10\r\n".utf8))
            .write(to: evidence.appendingPathComponent("EXCH01/MSGTRK20210303-1.LOG"))
        #expect(mkfifo(evidence.appendingPathComponent("EXCH01/pipe").path, 0o600) == 0)

        // `timeout`: a scan that opened the FIFO would wait for a writer forever.
        let text = try run("timeout", ["60", incidentBinary.path, "scan", dir.path])
        #expect(text.status == 2, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("warning: ") } == [
            "warning: evidence/EXCH01/MSGTRK20210303-1.LOG: format not recognised: read as a collected file (content signatures only)",
            "warning: evidence/EXCH01/pipe: not a regular file (a FIFO): never opened, not checked",
        ])
        #expect(lines.contains { $0.hasPrefix("server EXCH04: not-assessed, 0 hit(s), 0/0 evidence file(s) checked, checklist 0/") })
        #expect(lines.contains("server EXCH04: patch unknown (no build recorded (set it with b in the console or incident server set --build)), compromise unknown (verdict not-assessed: evidence does not show the server clean), not done"), "\(text.stdout)")
        #expect(text.stderr == "incident: results incomplete: 0 registered evidence file(s) missing, 1 item(s) in evidence/ not read (see the warnings)\n")

        let r = try run("timeout", ["60", incidentBinary.path, "scan", dir.path, "--format", "json"])
        #expect(r.status == 2)
        let object = try json(r.stdout)
        let servers = try #require(object["servers"] as? [[String: Any]])
        #expect(servers.map { $0["name"] as? String } == ["EXCH01", "EXCH04"])
        let exch04 = try #require(servers.last)
        #expect(exch04["verdict"] as? String == "not-assessed")
        #expect(exch04["evidenceFiles"] as? Int == 0)
        #expect(exch04["checkedFiles"] as? Int == 0)
        #expect(exch04["hits"] as? Int == 0)
        #expect(exch04["compromiseState"] as? String == "unknown")
        let files = try #require(object["files"] as? [[String: Any]])
        #expect(files.map { "\($0["path"] as? String ?? "") \($0["format"] as? String ?? "null") skipped=\($0["skipped"] as? Bool ?? false)" } == [
            "evidence/EXCH01/MSGTRK20210303-1.LOG collected-file skipped=false",
            "evidence/EXCH01/pipe null skipped=true",
        ])
        // Saved: the server stays when the folder is looked at again, and the FIFO is no evidence.
        let saved = try json(String(decoding: try Data(contentsOf: dir.appendingPathComponent("case.json")), as: UTF8.self))
        #expect((saved["servers"] as? [[String: Any]])?.map { $0["name"] as? String } == ["EXCH01", "EXCH04"])
        #expect((saved["evidence"] as? [[String: Any]])?.map { $0["path"] as? String } == ["evidence/EXCH01/MSGTRK20210303-1.LOG"])
    }

    @Test("check reports every problem in one run: case file, playbook, each broken pack, each broken YARA rule file")
    func checkReportsEveryProblem() throws {
        let root = temporaryFolder("check-every")
        let dir = root.appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["new", dir.path, "--name", "C"]).status == 0)
        for name in ["ips", "more"] {
            let list = root.appendingPathComponent("\(name).txt")
            try Data("5.2.69.\(name.count)\n".utf8).write(to: list)
            #expect(try run(incidentBinary.path, ["indicators", "import", dir.path, list.path, "--name", name]).status == 0)
        }
        try Data(#"{"remove": ["nope"], "steps": [{"id": "x"}]}"#.utf8).write(to: dir.appendingPathComponent("playbook.json"))
        try Data("{ broken".utf8).write(to: dir.appendingPathComponent("indicators/ips.json"))
        try Data("[1,".utf8).write(to: dir.appendingPathComponent("indicators/more.json"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("rules/team"), withIntermediateDirectories: true)
        try Data("rule Bad {\n  strings: $a = \"x\"\n  condition: $b\n}\n".utf8).write(to: dir.appendingPathComponent("rules/bad.yar"))
        try Data("rule Worse {\n  condition:\n".utf8).write(to: dir.appendingPathComponent("rules/team/worse.yara"))
        try Data("rule Fine { condition: true }\n".utf8).write(to: dir.appendingPathComponent("rules/fine.yar"))
        // A hand edit that broke the case file.
        let file = dir.appendingPathComponent("case.json")
        var text = try String(contentsOf: file, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"name\" : \"C\"", with: "\"name\" : \"C\",,")
        try Data(text.utf8).write(to: file)
        let nameLine = try #require(text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("\"name\" : \"C\",,") }) + 1

        let r = try run(incidentBinary.path, ["check", dir.path])
        #expect(r.status == 2)
        let p = dir.path
        #expect(r.stdout.split(separator: "\n").map(String.init) == [
            "\(p)/case.json:\(nameLine):16: error: expected a quoted key",
            "\(p)/playbook.json:1:32: error: missing key \"title\" at .steps[0]",
            "\(p)/indicators/ips.json:1:3: error: expected a quoted key (to open the case without it: incident indicators disable CASE ips)",
            "\(p)/indicators/more.json:1:4: error: unexpected end of file (to open the case without it: incident indicators disable CASE more)",
            "\(p)/rules/bad.yar:4:1: error: YARA rule file not used: undefined string \"$b\"",
            "\(p)/rules/team/worse.yara:1:1: error: YARA rule file not used: syntax error",
            "the previous good version \(p)/case.json.bak loads: incident restore \(p)",
        ], "\(r.stdout)")
        #expect(r.stderr == "incident: 6 error(s), 0 warning(s)\n")

        // The case file fixed: its playbook problems past the shape are all listed too.
        #expect(try run(incidentBinary.path, ["restore", dir.path]).status == 0)
        try Data(#"{"remove": ["nope", "gone"]}"#.utf8).write(to: dir.appendingPathComponent("playbook.json"))
        let again = try run(incidentBinary.path, ["check", dir.path])
        #expect(again.status == 2)
        // The restored case (the backup from before the second import) enables only the first pack.
        #expect(again.stdout.split(separator: "\n").map(String.init) == [
            "\(p)/playbook.json:1:13: error: remove: no built-in step \"nope\"",
            "\(p)/playbook.json:1:21: error: remove: no built-in step \"gone\"",
            "\(p)/indicators/ips.json:1:3: error: expected a quoted key (to open the case without it: incident indicators disable CASE ips)",
            "\(p)/rules/bad.yar:4:1: error: YARA rule file not used: undefined string \"$b\"",
            "\(p)/rules/team/worse.yara:1:1: error: YARA rule file not used: syntax error",
        ], "\(again.stdout)")
        #expect(again.stderr == "incident: 5 error(s), 0 warning(s)\n")
    }
}
