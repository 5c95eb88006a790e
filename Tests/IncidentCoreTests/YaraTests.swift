import Foundation
import Testing
@testable import IncidentCore

/// Collected files scanned with YARA: built-in web-shell rules, case rules under `CASE/rules/`.
@Suite("YARA")
struct YaraTests {
    let engine: RuleEngine
    init() throws { engine = try builtInEngine() }

    /// A case holding every file of `Fixtures/Collected` under `evidence/EXCH01/collected/`.
    func collectedCase() throws -> TempDir {
        let dir = try TempDir("yara")
        let folder = try fixturesURL().appendingPathComponent("Collected")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            try dir.write("evidence/EXCH01/collected/\(name)", [UInt8](try Data(contentsOf: folder.appendingPathComponent(name))))
        }
        return dir
    }

    func hitsByFile(_ scanner: EvidenceScanner) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for hit in scanner.hits {
            out[(hit.evidence as NSString).lastPathComponent, default: []].append(hit.indicator)
        }
        return out.mapValues { $0.sorted() }
    }

    @Test func builtInRulesCompile() {
        let rules = ContentRules.builtIn
        #expect(rules.errors == [])
        #expect(rules.rules != nil)
        #expect(rules.titles.count == 11)
        #expect(rules.titles["YARA:ChinaChopper_Eval_Unsafe"] == "China Chopper web shell: eval(Request[...], \"unsafe\")")
    }

    @Test func webShellsHitAndLookAlikesDoNot() throws {
        let dir = try collectedCase()
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        #expect(hitsByFile(scanner) == [
            "chopper-oneliner.aspx": ["YARA:ChinaChopper_Eval_Unsafe"],
            "oab-vd-dump.aspx": ["YARA:ChinaChopper_Eval_Unsafe", "YARA:ExternalUrl_JScript_Payload", "YARA:OAB_VirtualDirectory_Dump_WebShell"],
            "base64-eval.aspx": ["YARA:WebShell_Base64_Eval"],
            "cmd-exec.aspx": ["YARA:WebShell_ASPX_Process_Start"],
            "eval-request.aspx": ["YARA:WebShell_Eval_Request"],
        ])
        // Benign look-alikes were scanned, and hit nothing.
        let statuses = Dictionary(uniqueKeysWithValues: scanner.statuses.map { (($0.path as NSString).lastPathComponent, $0) })
        for name in ["owa-logon-benign.aspx", "oab-vd-settings-benign.txt", "admin-script-benign.ps1"] {
            let s = try #require(statuses[name])
            #expect(s.format == .collectedFile)
            #expect(!s.checked)
            #expect(s.warnings == [])
            #expect(s.contentHits == 0)
        }

        let chopper = try #require(scanner.hits.first { $0.evidence.hasSuffix("chopper-oneliner.aspx") })
        #expect(chopper.severity == .critical && chopper.stage == .webShell && chopper.cve == "HAFNIUM")
        #expect(chopper.line == 1)
        #expect(statuses["chopper-oneliner.aspx"]?.contentHits == 1)
        #expect(statuses["chopper-oneliner.aspx"]?.checked == true)
        #expect(statuses["oab-vd-dump.aspx"]?.contentHits == 3)
        #expect(chopper.field == "content")
        #expect(chopper.value == "eval(Request.Item[")
        #expect(chopper.rawLine == "<%@ Page Language=\"Jscript\"%><%eval(Request.Item[\"p4ssw0rd\"],\"unsafe\");%>")
        let dump = try #require(scanner.hits.first { $0.indicator == "YARA:ExternalUrl_JScript_Payload" })
        #expect(dump.line == 17)
        #expect(dump.cve == "CVE-2021-27065")
        #expect(dump.value == "http://f/<script language=\"JScript\" runat=\"server")
        let process = try #require(scanner.hits.first { $0.indicator == "YARA:WebShell_ASPX_Process_Start" })
        #expect(process.severity == .high)

        // Collected files alone: the hits make the server compromised although no log was read.
        let summary = Verdicts.verdict(checkedFiles: scanner.statuses.filter(\.checked).count, hits: scanner.hits)
        #expect(summary == .compromised)
    }

    @Test func benignCollectedFilesAloneLeaveServerNotAssessed() throws {
        let dir = try TempDir("yara-benign")
        let folder = try fixturesURL().appendingPathComponent("Collected")
        try dir.write("evidence/EXCH02/owa/logon.aspx", [UInt8](try Data(contentsOf: folder.appendingPathComponent("owa-logon-benign.aspx"))))
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        #expect(scanner.hits.isEmpty)
        #expect(Verdicts.verdict(checkedFiles: scanner.statuses.filter(\.checked).count, hits: []) == .notAssessed)
    }

    @Test func caseRulesApplyAndABrokenOneIsReported() throws {
        let dir = try collectedCase()
        let rules = try fixturesURL().appendingPathComponent("Rules")
        try dir.write("rules/case-marker.yar", [UInt8](try Data(contentsOf: rules.appendingPathComponent("case-marker.yar"))))
        try dir.write("rules/sub/broken.yara", [UInt8](try Data(contentsOf: rules.appendingPathComponent("broken.yar"))))
        try dir.write("rules/notes.txt", "XK-DROP-7f3a91 is the marker\n")
        try dir.write("evidence/EXCH01/collected/drop.bin", [0x4D, 0x5A, 0x90, 0x00] + Array("..XK-DROP-7f3a91..".utf8))
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)

        let marker = scanner.hits.filter { $0.indicator == "YARA:Case_Dropper_Marker" }
        #expect(marker.map(\.evidence) == ["evidence/EXCH01/collected/drop.bin"])
        #expect(marker.first?.severity == .critical)
        #expect(marker.first?.stage == .postExploitation)
        #expect(marker.first?.value == "XK-DROP-7f3a91")
        // The built-in rules still apply next to the case's.
        #expect(hitsByFile(scanner)["chopper-oneliner.aspx"] == ["YARA:ChinaChopper_Eval_Unsafe"])
        // The broken file is reported with file and line; rules/ is never scanned as evidence.
        let broken = try #require(scanner.statuses.first { $0.path == "rules/sub/broken.yara" })
        #expect(broken.skipped)
        #expect(broken.warnings == ["YARA rule file not used: rules/sub/broken.yara:5: syntax error", "the other rules still apply"])
        #expect(!scanner.statuses.contains { $0.path.hasPrefix("rules/") && $0.path != "rules/sub/broken.yara" })
        #expect(!scanner.hits.contains { $0.evidence.hasPrefix("rules/") })
        #expect(scanner.contentRules.caseFiles == ["rules/case-marker.yar"])
    }

    @Test func ruleChangesRescanCollectedFiles() throws {
        let dir = try TempDir("yara-reload")
        try dir.write("evidence/EXCH01/x.bin", Array("zz XK-DROP-7f3a91 zz".utf8))
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        #expect(scanner.hits.isEmpty)
        #expect(scanner.scan(caseFolder: dir.url).isEmpty) // unchanged: not read again
        let rules = try fixturesURL().appendingPathComponent("Rules")
        try dir.write("rules/case-marker.yar", [UInt8](try Data(contentsOf: rules.appendingPathComponent("case-marker.yar"))))
        #expect(scanner.scan(caseFolder: dir.url) == ["evidence/EXCH01/x.bin"])
        #expect(scanner.hits.map(\.indicator) == ["YARA:Case_Dropper_Marker"])
        try FileManager.default.removeItem(at: dir.url.appendingPathComponent("rules/case-marker.yar"))
        #expect(scanner.scan(caseFolder: dir.url) == ["evidence/EXCH01/x.bin"])
        #expect(scanner.hits.isEmpty)
    }

    @Test func tenMegabyteLineAndBinaryJunk() throws {
        let dir = try TempDir("yara-hostile")
        // SPORTSBALL's marker has no size limit (the China Chopper rules stop at 2 MB).
        let line = [UInt8](repeating: 0x41, count: 10 * 1_048_576) + Array("ZN2aDAB4rXsszEvCLrzgcvQ4oi5J1TuiRULlQbYwldE=\n".utf8)
        try dir.write("evidence/EXCH01/long.aspx", Array("first\n".utf8) + line)
        try dir.write("evidence/EXCH01/junk.bin", randomBytes(count: 3 * 1_048_576, seed: 9))
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        let hit = try #require(scanner.hits.first)
        #expect(scanner.hits.map(\.indicator) == ["YARA:SPORTSBALL_WebShell"])
        #expect(hit.line == 2)
        #expect(hit.value == "ZN2aDAB4rXsszEvCLrzgcvQ4oi5J1TuiRULlQbYwldE=")
        #expect(hit.rawLine.utf8.count == 32_768 + 44)
        #expect(hit.rawLine.hasSuffix("AAAAZN2aDAB4rXsszEvCLrzgcvQ4oi5J1TuiRULlQbYwldE="))
        #expect(scanner.statuses.map(\.format) == [.collectedFile, .collectedFile])
    }

    @Test func utf16WebShellCopy() throws {
        let dir = try TempDir("yara-utf16")
        let text = "<%@ Page Language=\"Jscript\"%><%eval(Request.Item[\"k\"],\"unsafe\");%>"
        try dir.write("evidence/EXCH01/shell.aspx", [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        #expect(scanner.hits.map(\.indicator) == ["YARA:ChinaChopper_Eval_Unsafe"])
        #expect(scanner.hits.first?.value == "eval(Request.Item[")
    }
}
