import Foundation
import Testing

/// `incident scan` on collected files (YARA) and case rules, run as a user would.
@Suite("Command line: collected files and case rules")
struct CollectedEvidenceCommandTests {
    @Test("a web-shell copy hits a built-in rule; a broken case rule is reported and makes the scan exit 2")
    func webShellAndBrokenRule() throws {
        let dir = temporaryFolder("yara").appendingPathComponent("case")
        #expect(try run(incidentBinary.path, ["new", dir.path, "--name", "Collected"]).status == 0)
        let shells = dir.appendingPathComponent("evidence/EXCH07/aspnet_client")
        try FileManager.default.createDirectory(at: shells, withIntermediateDirectories: true)
        try Data("<%@ Page Language=\"Jscript\"%><%eval(Request.Item[\"zk\"],\"unsafe\");%>".utf8)
            .write(to: shells.appendingPathComponent("s.aspx"))

        let r = try run(incidentBinary.path, ["scan", dir.path, "--format", "json"])
        #expect(r.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let hits = try #require(object["hits"] as? [[String: Any]])
        #expect(hits.map { $0["indicator"] as? String } == ["YARA:ChinaChopper_Eval_Unsafe"])
        #expect(hits.first?["evidence"] as? String == "evidence/EXCH07/aspnet_client/s.aspx")
        #expect(hits.first?["severity"] as? String == "critical")
        #expect(hits.first?["line"] as? Int == 1)
        let servers = try #require(object["servers"] as? [[String: Any]])
        #expect(servers.first?["verdict"] as? String == "compromised")
        let files = try #require(object["files"] as? [[String: Any]])
        #expect(files.first?["format"] as? String == "collected-file")

        // A clean copy only: not assessed, never "no-findings".
        try Data("<%@ Page Language=\"C#\" %><html><body>OK</body></html>".utf8).write(to: shells.appendingPathComponent("s.aspx"))
        let rules = dir.appendingPathComponent("rules")
        try FileManager.default.createDirectory(at: rules, withIntermediateDirectories: true)
        try Data("rule Bad {\n  strings: $a = \"x\"\n  condition: $b\n}\n".utf8).write(to: rules.appendingPathComponent("bad.yar"))
        let clean = try run(incidentBinary.path, ["scan", dir.path, "--format", "json"])
        #expect(clean.status == 2)
        let cleanObject = try #require(try JSONSerialization.jsonObject(with: Data(clean.stdout.utf8)) as? [String: Any])
        let cleanServers = try #require(cleanObject["servers"] as? [[String: Any]])
        #expect(cleanServers.first?["verdict"] as? String == "not-assessed")
        let ruleEntry = try #require((cleanObject["files"] as? [[String: Any]])?.first { $0["path"] as? String == "rules/bad.yar" })
        let warnings = try #require(ruleEntry["warnings"] as? [String])
        #expect(warnings == ["YARA rule file not used: rules/bad.yar:4: undefined string \"$b\"", "the other rules still apply"])
    }
}
