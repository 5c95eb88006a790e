import Foundation
import Testing
@testable import IncidentCore

/// YARA rules aimed at files that arrive with an imported pack (CHIRP) are run on collected files.
@Suite("Imported YARA rules for collected files")
struct ImportedYaraTests {
    static let chirp = """
    ---
    name: "Test web shell rule"
    description: "A rule for this test"
    ioc_type: "yara"
    indicator:
      files: "\\\\**"
      rule: |
        rule test_marker_shell
        {
          meta:
            description = "test marker"
          strings:
            $a = "incident-console-test-marker-7f3a"
          condition:
            $a
        }
    ---
    name: "Broken rule"
    ioc_type: "yara"
    indicator:
      files: "\\\\**"
      rule: |
        rule broken_rule { condition: nonsense_identifier }
    ---
    name: "Reads a local file"
    ioc_type: "yara"
    indicator:
      files: "\\\\**"
      rule: |
        include "/etc/hostname"
        rule reads_local { condition: true }
    ---
    name: "Same name as a built-in rule"
    ioc_type: "yara"
    indicator:
      files: "\\\\**"
      rule: |
        rule reGeorg_Tunnel_Variant { strings: $a = "zz-never-zz" condition: $a }

    """

    func scan(_ dir: TempDir, _ store: CaseStore) throws -> EvidenceScanner {
        let engine = try RuleEngine.forCase(folder: dir.url, caseFile: try store.load())
        let scanner = EvidenceScanner(engine: engine)
        scanner.threads = 1
        scanner.scan(caseFolder: dir.url)
        return scanner
    }

    @Test("a CHIRP file rule hits a collected file; a broken rule is listed and the others still apply")
    func chirpRulesRun() throws {
        let (dir, store) = try makeCase("imported-yara")
        try dir.write("evidence/EXCH01/collected/shell.aspx", Array("<%@ Page %> incident-console-test-marker-7f3a\n".utf8))
        try dir.write("evidence/EXCH01/collected/benign.aspx", Array("<%@ Page %> nothing here\n".utf8))
        let before = try scan(dir, store)
        #expect(!before.hits.contains { $0.indicator.hasSuffix("test_marker_shell") })

        let source = try dir.write("../\(dir.url.lastPathComponent)-src/chirp.yaml", Self.chirp)
        defer { try? FileManager.default.removeItem(at: source.deletingLastPathComponent()) }
        let pack = try IndicatorPackStore.importFile(source, into: store, name: "chirp", responder: "alice")
        #expect(pack.iocs.filter { $0.type == .yaraRule }.count == 4)

        let after = try scan(dir, store)
        // Imported rules' hits carry the pack id: never the id (or triage) of a built-in rule.
        let hits = after.hits.filter { $0.indicator == "YARA:chirp/test_marker_shell" }
        #expect(hits.map(\.evidence) == ["evidence/EXCH01/collected/shell.aspx"])
        #expect(after.contentRules.titles["YARA:chirp/test_marker_shell"] == "test marker")
        #expect(after.contentRules.titles["YARA:chirp/reGeorg_Tunnel_Variant"] != nil && after.contentRules.titles["YARA:reGeorg_Tunnel_Variant"] != nil)
        let listed = after.statuses.filter { $0.path.hasPrefix("indicators/chirp: ") }.map(\.path).sorted()
        // Each source is its own YARA namespace: a rule named like a built-in one is accepted.
        // An include is refused (feeds must not read this machine's files).
        #expect(listed == ["indicators/chirp: Broken rule", "indicators/chirp: Reads a local file"])
        #expect(after.statuses.first { $0.path == "indicators/chirp: Broken rule" }?.warnings.first?.hasPrefix("YARA rule file not used: indicators/chirp: Broken rule:") == true)
        // The built-in rules still apply next to the imported ones.
        #expect(after.contentRules.titles["YARA:reGeorg_Tunnel_Variant"] != nil)

        // Disabled: the rule no longer runs.
        _ = try IndicatorPackStore.setEnabled("chirp", false, in: store, responder: "alice")
        #expect(try scan(dir, store).hits.allSatisfy { !$0.indicator.hasSuffix("test_marker_shell") })
    }

    @Test("the real CHIRP AA21-062A file: its three web-shell rules and the LSASS dump rule are compiled in",
          .enabled(if: corpusAvailable, "../shared/corpus not present: skipped"))
    func realChirp() throws {
        let (dir, store) = try makeCase("imported-yara-real")
        _ = try IndicatorPackStore.importFile(Paths.corpusFile("chirp/AA21062A.yaml"), into: store, name: "chirp", responder: "alice")
        let engine = try RuleEngine.forCase(folder: dir.url, caseFile: try store.load())
        #expect(engine.importedContentRules.count == 4)
        let rules = ContentRules.load(caseFolder: dir.url, imported: engine.importedContentRules)
        #expect(rules.errors.isEmpty, "\(rules.errors)")
        let titles = rules.titles
        for id in ["webshell_aspx_simpleseesharp", "webshell_aspx_reGeorgTunnel", "webshell_aspx_sportsball", "lsass_process_memory_dump"] {
            #expect(titles["YARA:chirp/" + id] != nil, "\(id) not compiled in")
        }
        // A collected script holding the procdump command line: a post-exploitation hit, not a web shell.
        try dir.write("evidence/EXCH01/collected/dump.bat", "procdump64.exe -accepteula -ma lsass.exe C:\\windows\\temp\\lsass\r\n")
        let hits = try scan(dir, store).hits.filter { $0.indicator.hasPrefix("YARA:chirp/") }
        #expect(hits.map(\.indicator) == ["YARA:chirp/lsass_process_memory_dump"])
        #expect(hits.map(\.stage) == [.postExploitation])
    }

    @Test("a rule without stage metadata gets its stage from its names",
          arguments: [("webshell_aspx_sportsball", "", [String: String](), Stage.webShell),
                      ("lsass_process_memory_dump", "indicators/chirp: Detection for the use of procdump to dump LSASS process memory.", [:], .postExploitation),
                      ("rule_7", "indicators/feed: Dumps credentials with a web shell", [:], .webShell),
                      ("x", "rules/a.yar", ["description": "Mimikatz sekurlsa module strings"], .postExploitation),
                      ("ChinaChopper_Eval", "webshells.yar", [:], .webShell),
                      ("procdump_use", "rules/a.yar", ["stage": "exploitation"], .exploitation)])
    func stageFromNames(rule: String, source: String, meta: [String: String], stage: Stage) {
        let match = YaraMatch(rule: rule, source: source, meta: meta, offset: 0, matched: [])
        #expect(ContentRules.indicator(for: match).stage == stage)
    }
}

extension ImportedYaraTests {
    @Test("incident check warns about an imported YARA rule that does not compile, naming the pack file")
    func checkWarns() throws {
        let (dir, store) = try makeCase("imported-yara-check")
        let source = try dir.write("../\(dir.url.lastPathComponent)-src/chirp.yaml", Self.chirp)
        defer { try? FileManager.default.removeItem(at: source.deletingLastPathComponent()) }
        _ = try IndicatorPackStore.importFile(source, into: store, name: "chirp", responder: "alice")
        let data = try Data(contentsOf: store.fileURL)
        let reports = CaseCheck.checkCase(data, store: store).filter { $0.message.hasPrefix("YARA rule not used") }
        #expect(reports.count >= 1)
        #expect(reports.allSatisfy { !$0.isError && $0.file.hasSuffix("indicators/chirp.json") })
        #expect(reports.first?.message.hasPrefix("YARA rule not used: Broken rule, rule line ") == true)
    }
}

@Suite("Script-named files that read as logs are scanned with YARA too")
struct ScriptNamedFileTests {
    @Test("a web shell opening with a log header or a <configuration> element still hits; a plain web.config does not",
          arguments: ["#Software: Microsoft Internet Information Services 10.0\n#Fields: date time s-ip cs-method cs-uri-stem\n",
                      "<configuration></configuration>\n", "path,sha256\n", "#Fields: TimeStamp,ServerName,EventId,EventData\n"])
    func disguisedShell(header: String) throws {
        let dir = try TempDir("script-named")
        let shell = try Data(contentsOf: try fixturesURL().appendingPathComponent("Collected/chopper-oneliner.aspx"))
        try dir.write("evidence/S1/collected/x.aspx", Array(header.utf8) + [UInt8](shell))
        try dir.write("evidence/S1/collected/x.log", Array(header.utf8) + [UInt8](shell))
        try dir.write("evidence/S1/inetpub/wwwroot/web.config", #"""
        <?xml version="1.0" encoding="UTF-8"?>
        <configuration>
          <system.webServer><httpRedirect enabled="false" /></system.webServer>
        </configuration>

        """#)
        let scanner = EvidenceScanner(engine: try RuleEngine.builtIn())
        scanner.threads = 1
        scanner.scan(caseFolder: dir.url)
        let yara = scanner.hits.filter { $0.indicator.hasPrefix("YARA:") }
        #expect(Set(yara.map(\.evidence)) == ["evidence/S1/collected/x.aspx"], "\(yara.map { ($0.evidence, $0.indicator) })")
        #expect(yara.contains { $0.indicator == "YARA:ChinaChopper_Eval_Unsafe" })
        // The file is still read as the format its content has.
        #expect(scanner.statuses.first { $0.path == "evidence/S1/collected/x.aspx" }?.format != .collectedFile)
    }
}
