import Foundation
import Testing
@testable import IncidentCore

/// A case folder with a case file, for import tests.
func makeCase(_ label: String) throws -> (TempDir, CaseStore) {
    let dir = try TempDir(label)
    let store = CaseStore(folder: dir.url)
    try store.create(CaseFile(name: "import test"))
    return (dir, store)
}

@Suite struct IndicatorFormatTests {
    @Test func detectsFormatsFromContent() {
        func d(_ s: String) -> IndicatorSourceFormat? { IndicatorImporter.detect(Data(s.utf8)) }
        #expect(d(#"{"type": "bundle", "id": "bundle--1", "objects": []}"#) == .stix)
        // "type" after a long "objects" array (our own export sorts keys): the id and objects show it.
        let long = #"{"id": "bundle--9", "objects": ["# + String(repeating: #"{"type": "indicator", "spec_version": "2.1", "pattern": "[ipv4-addr:value = '1.2.3.4']"},"#, count: 2000) + #"{}], "type": "bundle"}"#
        #expect(long.utf8.count > 64 * 1024)
        #expect(d(long) == .stix)
        #expect(d(#"{"Event": {"info": "x", "Attribute": []}}"#) == .misp)
        #expect(d("DateAdded,FirstSeen,Indicator,IndicatorType,TLP\n2021-03-10,,abc,sha256,White\n") == .msticCSV)
        #expect(d("---\nname: x\nioc_type: network\nindicator:\n  ips: |\n    1.2.3.4\n") == .chirpYAML)
        #expect(d("# c\n\\\\inetpub\\\\x\\.aspx;90\n\\\\y\\.exe;50;(?i)sysinternals\n") == .signatureBaseFilenames)
        #expect(d("# h\nb75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0;HAFNIUM\n") == .signatureBaseHashes)
        #expect(d("# c2\n1.2.3.4\nevil.example\n") == .signatureBaseC2)
        #expect(d("type,value,description\nipv4,1.2.3.4,scanner\n") == .csv)
        #expect(d("hxxp://evil[.]example/x\nb75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0\nC:\\x\\shell.aspx\n") == .text)
        #expect(d("just some prose, not indicators at all\nanother line of words\n") == nil)
        #expect(d("\u{0}\u{1}\u{2}binary") == nil)
    }

    @Test func valueKinds() {
        #expect(IndicatorImporter.inferType("b75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0") == .sha256)
        #expect(IndicatorImporter.inferType("da39a3ee5e6b4b0d3255bfef95601890afd80709") == .sha1)
        #expect(IndicatorImporter.inferType("d41d8cd98f00b204e9800998ecf8427e") == .md5)
        #expect(IndicatorImporter.inferType("103.77.192.219") == .ipv4)
        #expect(IndicatorImporter.inferType("256.1.1.1") == nil)
        #expect(IndicatorImporter.inferType("2001:db8::1") == .ipv6)
        #expect(IndicatorImporter.inferType("evil[.]krebsonsecurity[.]top") == .domain)
        #expect(IndicatorImporter.inferType("supp0rt.aspx") == .fileName)
        #expect(IndicatorImporter.inferType("hxxps://evil.example/owa/x") == .url)
        #expect(IndicatorImporter.inferType("C:\\inetpub\\wwwroot\\aspnet_client\\shell.aspx") == .filePath)
        #expect(IndicatorImporter.inferType("hello") == nil)
    }

    @Test func stixPatterns() throws {
        func c(_ p: String) -> [String]? {
            if case let .success(list) = STIXPattern.comparisons(p) { return list.map { "\($0.0)=\($0.1)" } }
            return nil
        }
        #expect(c("[file:hashes.'SHA-256' = 'abc']") == ["file:hashes.'SHA-256'=abc"])
        #expect(c("[ipv4-addr:value = '1.2.3.4' OR ipv4-addr:value = '5.6.7.8'] OR [domain-name:value = 'x.example']")
                == ["ipv4-addr:value=1.2.3.4", "ipv4-addr:value=5.6.7.8", "domain-name:value=x.example"])
        #expect(c("[file:parent_directory_ref.path = 'C:\\\\inetpub\\\\wwwroot\\\\aspnet_client' AND file:name = 'x.aspx']")
                == ["x-incident:file-path=C:\\inetpub\\wwwroot\\aspnet_client\\x.aspx"])
        #expect(c("[file:name = 'it\\'s.aspx']") == ["file:name=it's.aspx"])
        #expect(c("[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'x.example']") == nil)
        #expect(c("[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS") == nil)
        #expect(c("[ipv4-addr:value != '1.2.3.4']") == nil)
        #expect(c("[file:name = 'unterminated]") == nil)
    }

    @Test func stixBundleWithGoodAndBadIndicators() throws {
        let bundle = """
        {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [
          {"type": "identity", "id": "identity--1", "name": "someone"},
          {"type": "indicator", "id": "indicator--a", "name": "China Chopper", "pattern_type": "stix",
           "pattern": "[file:hashes.'SHA-256' = 'B75F163CA9B9240BF4B37AD92BC7556B40A17E27C2B8ED5C8991385FE07D17D0']"},
          {"type": "indicator", "id": "indicator--b", "pattern_type": "stix",
           "pattern": "[ipv4-addr:value = '103.77.192.219'] OR [ipv6-addr:value = '2001:db8::7']"},
          {"type": "indicator", "id": "indicator--c", "pattern_type": "stix",
           "pattern": "[network-traffic:dst_port = '443']"},
          {"type": "indicator", "id": "indicator--d", "pattern_type": "sigma", "pattern": "title: x"},
          {"type": "indicator", "id": "indicator--e", "pattern_type": "stix", "pattern": "[url:value = 'https://evil.example/owa/auth/x.aspx']"}
        ]}
        """
        let r = try IndicatorImporter.parse(Data(bundle.utf8), format: .stix, fileName: "b.json")
        #expect(r.iocs.map { "\($0.type.rawValue) \($0.value)" } == [
            "sha256 b75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0",
            "ipv4 103.77.192.219", "ipv6 2001:db8::7", "url https://evil.example/owa/auth/x.aspx",
        ])
        #expect(r.iocs[0].description == "China Chopper")
        #expect(r.problems.map(\.message) == [
            "indicator indicator--c: network-traffic:dst_port is not a supported object path",
            "indicator indicator--d: pattern_type sigma is not imported",
        ])
    }

    @Test func malformedJSONAndYAMLGivePositions() {
        #expect(throws: IndicatorImportError.malformed(file: "b.json", line: 2, column: 14, message: "unexpected character")) {
            try IndicatorImporter.parse(Data("{\"type\": \"bundle\",\n  \"objects\": ]}".utf8), format: .stix, fileName: "b.json")
        }
        do {
            _ = try IndicatorImporter.parse(Data("---\nname: x\nindicator: [1, 2\nioc_type: network\n".utf8), format: .chirpYAML, fileName: "c.yaml")
            Issue.record("expected an error")
        } catch let IndicatorImportError.malformed(file, line, _, _) {
            #expect(file == "c.yaml")
            #expect(line >= 2)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func mispEventWithObjectsAndCompositeTypes() throws {
        let event = """
        {"response": [{"Event": {"info": "HAFNIUM web shells", "Attribute": [
          {"type": "sha256", "value": "097549cf7d0f76f0d99edf8b2d91c60977fd6a96e4b8c3c94b0b1733dc026d3e", "to_ids": true, "comment": "China Chopper"},
          {"type": "ip-dst|port", "value": "5.2.69.14|443", "to_ids": true},
          {"type": "domain", "value": "Brian.KrebsOnSecurity.top"},
          {"type": "vulnerability", "value": "CVE-2021-26855"},
          {"type": "sha256", "value": "not-a-hash"},
          {"type": "sha256", "value": "097549cf7d0f76f0d99edf8b2d91c60977fd6a96e4b8c3c94b0b1733dc026d3e", "deleted": true}
        ], "Object": [{"name": "file", "Attribute": [
          {"type": "filename|sha256", "value": "supp0rt.aspx|2b6f1ebb2208e93ade4a6424555d6a8341fd6d9f60c25e44afe11008f5c1aad1"}
        ]}]}}]}
        """
        let r = try IndicatorImporter.parse(Data(event.utf8), format: .misp, fileName: "e.json")
        #expect(r.suggestedName == "HAFNIUM web shells")
        #expect(r.iocs.map { "\($0.type.rawValue) \($0.value)" } == [
            "sha256 097549cf7d0f76f0d99edf8b2d91c60977fd6a96e4b8c3c94b0b1733dc026d3e", "ipv4 5.2.69.14",
            "domain brian.krebsonsecurity.top", "file-name supp0rt.aspx",
            "sha256 2b6f1ebb2208e93ade4a6424555d6a8341fd6d9f60c25e44afe11008f5c1aad1",
        ])
        #expect(r.iocs[0].description == "China Chopper")
        #expect(r.iocs[0].score == 75)
        #expect(r.iocs[2].description == "HAFNIUM web shells")
        #expect(r.problems.count == 2)
        #expect(r.problems[0].message.contains("vulnerability"))
        #expect(r.problems[1].message.contains("is not a sha256 hash"))
    }

    @Test func textAndCSVListsReportBadLinesByNumber() throws {
        let text = "# sharing group list\nhxxp://evil[.]example/owa/auth/x.aspx\n\n5.2.69.14  # seen 2021-03-03\nnot an indicator\nb75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0\n"
        let r = try IndicatorImporter.parse(Data(text.utf8), format: .text, fileName: "l.txt")
        #expect(r.iocs.map { "\($0.type.rawValue) \($0.value) \($0.line ?? 0)" } == [
            "url http://evil.example/owa/auth/x.aspx 2", "ipv4 5.2.69.14 4",
            "sha256 b75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0 6",
        ])
        #expect(r.iocs[1].description == "seen 2021-03-03")
        #expect(r.problems == [ImportProblem(line: 5, message: "\"not an indicator\" is not a hash, IP address, domain, URL or path")])

        let csv = "type,value,description\nipv4,5.2.69.14,Volexity\nsha256,xyz,bad\nuser-agent,\"ExchangeServicesClient/0.0.0.0\",ECP exploit\nwhatever,1,odd\n"
        let c = try IndicatorImporter.parse(Data(csv.utf8), format: .csv, fileName: "l.csv")
        #expect(c.iocs.map { "\($0.type.rawValue) \($0.value)" } == ["ipv4 5.2.69.14", "user-agent ExchangeServicesClient/0.0.0.0"])
        #expect(c.problems.map(\.line) == [3, 5])
    }

    @Test func emptyAndUTF16Files() throws {
        #expect(throws: IndicatorImportError.self) {
            try IndicatorImporter.parse(Data("# nothing here\n".utf8), format: .text, fileName: "e.txt")
        }
        let r = try IndicatorImporter.parse(Data(utf16LE("5.2.69.14\r\n91.192.103.43\r\n", bom: true)), format: .signatureBaseC2, fileName: "u.txt")
        #expect(r.iocs.map(\.value) == ["5.2.69.14", "91.192.103.43"])
    }

    @Test func signatureBaseLineSplitting() {
        #expect(IndicatorImporter.splitSignatureBase("\\\\x\\.exe;80")! == ("\\\\x\\.exe", 80, nil))
        #expect(IndicatorImporter.splitSignatureBase("(?i)\\\\procdump(64)?\\.(exe|zip);50;(?i)(SysInternals\\\\)")!
                == ("(?i)\\\\procdump(64)?\\.(exe|zip)", 50, "(?i)(SysInternals\\\\)"))
        #expect(IndicatorImporter.splitSignatureBase("no score here") == nil)
    }

    @Test func regexLiteralsAndRegexSet() throws {
        #expect(RegexSet.requiredLiteral("\\\\inetpub\\\\wwwroot\\\\aspnet_client\\\\[^\\\\\"]{1,20}\\.aspx") == "\\inetpub\\wwwroot\\aspnet_client\\")
        #expect(RegexSet.requiredLiteral("(?i)\\\\procdump(64)?\\.(exe|zip)") == "\\procdump")
        #expect(RegexSet.requiredLiteral("\\\\Windows\\\\Temp\\\\cw\\.exe$") == "\\windows\\temp\\cw.exe")
        #expect(RegexSet.requiredLiteral("a|b") == "")
        #expect(RegexSet.requiredLiteral("abcd?") == "abc")
        let set = try RegexSet([
            PatternEntry(pattern: "\\\\inetpub\\\\wwwroot\\\\aspnet_client\\\\[^\\\\\"]{1,20}\\.aspx"),
            PatternEntry(pattern: "(?i)\\\\procdump(64)?\\.(exe|zip)", exclude: "(?i)(SysInternals\\\\)"),
            PatternEntry(pattern: "^x.$"),
        ])
        #expect(set.matches("c:\\inetpub\\wwwroot\\aspnet_client\\discover.aspx"))
        #expect(!set.matches("c:\\inetpub\\wwwroot\\aspnet_client\\system_web\\4_0_30319\\ok.js"))
        #expect(set.matches("c:\\temp\\procdump64.exe"))
        #expect(!set.matches("c:\\tools\\sysinternals\\procdump64.exe"))
        #expect(set.matches("xy"))
        #expect(!set.matches(""))
    }

    @Test func domainListMatchesHostsAndSubdomains() throws {
        let pack = IndicatorPack(name: "d", version: "1", lists: ["bad": ["krebsonsecurity.top"]], indicators: [
            Indicator(id: "D", title: "d", description: "", severity: .medium, stage: .attempt, cve: nil, formats: [.iisW3C],
                      field: "cs-host", all: [Condition(field: "cs-host", op: .domainInList, values: ["bad"])], sources: [],
                      falsePositives: nil, suppressedBy: nil),
        ])
        let engine = try RuleEngine(pack: pack)
        let schema = FieldSchema(names: ["cs-host"])
        func hit(_ host: String) -> Bool {
            !engine.match(LogRecord(line: 1, raw: host, schema: schema, columns: [host]), format: .iisW3C).isEmpty
        }
        #expect(hit("krebsonsecurity.top"))
        #expect(hit("Brian.KrebsOnSecurity.top"))
        #expect(hit("jennifer.krebsonsecurity.top:443"))
        #expect(hit("krebsonsecurity.top."))
        #expect(!hit("notkrebsonsecurity.top"))
        #expect(!hit("krebsonsecurity.top.example.com"))
    }

    @Test func servedURLsOfWebFolders() {
        #expect(ImportedPackCompiler.servedURL("C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\x.aspx") == "/aspnet_client/system_web/x.aspx")
        #expect(ImportedPackCompiler.servedURL("C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\OutlookEN.aspx") == "/owa/auth/outlooken.aspx")
        #expect(ImportedPackCompiler.servedURL("C:\\users\\public\\opera\\x.exe") == nil)
    }

    @Test func packIDs() {
        #expect(IndicatorPackStore.makeID("MSTICIoCs-ExchangeServerVulnerabilitiesDisclosedMarch2021", taken: []) == "msticiocs-exchangeserver")
        #expect(IndicatorPackStore.makeID("CISA AA21-062A", taken: ["cisa-aa21-062a"]) == "cisa-aa21-062a-2")
        #expect(IndicatorPackStore.makeID("∆∆", taken: []) == "pack")
    }
}

/// End to end through the case: import, store, enable/disable, hits, export, round trip.
@Suite struct IndicatorPackCaseTests {
    let iis = """
    #Software: Microsoft Internet Information Services 10.0
    #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken cs-host
    2021-03-03 06:10:11 10.0.0.5 GET /owa/auth/logon.aspx - 443 - 198.51.100.77 Mozilla/5.0 - 200 0 0 15 mail.contoso.com
    2021-03-03 06:12:40 10.0.0.5 GET /aspnet_client/discover.aspx - 443 - 198.51.100.77 Mozilla/5.0 - 200 0 0 15 mail.contoso.com
    2021-03-03 06:13:00 10.0.0.5 GET /owa/ - 443 - 203.0.113.9 Mozilla/5.0 - 200 0 0 15 relay.sharing-bad.example
    2021-03-03 06:14:00 10.0.0.5 GET /aspnet_client/discover.aspx - 443 - 203.0.113.10 Mozilla/5.0 - 404 0 2 15 mail.contoso.com

    """
    let inventory = """
    "Algorithm","Hash","Path"
    "SHA256","AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","C:\\inetpub\\wwwroot\\aspnet_client\\discover.aspx"
    "SHA256","1111111111111111111111111111111111111111111111111111111111111111","C:\\Windows\\Temp\\tools\\cw.exe"
    "SHA256","2222222222222222222222222222222222222222222222222222222222222222","C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\4_0_30319\\ok.js"

    """
    let list = """
    # sharing group: HAFNIUM follow-up
    198.51.100.77
    sharing-bad.example
    aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
    C:\\inetpub\\wwwroot\\aspnet_client\\discover.aspx
    this line is junk

    """

    func scan(_ dir: TempDir, _ store: CaseStore) throws -> [Hit] {
        let engine = try RuleEngine.forCase(folder: dir.url, caseFile: try store.load())
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        return scanner.hits
    }

    @Test func importedListDrivesHitsNamedAfterThePack() throws {
        let (dir, store) = try makeCase("pack")
        try dir.write("evidence/EXCH01/u_ex210303.log", iis)
        try dir.write("evidence/EXCH01/inventory.csv", inventory)
        let source = try dir.write("../\(dir.url.lastPathComponent)-src/sharing.txt", list)
        defer { try? FileManager.default.removeItem(at: source.deletingLastPathComponent()) }

        let before = try scan(dir, store).filter { $0.indicator.hasPrefix("sharing/") }
        #expect(before.isEmpty)

        let pack = try IndicatorPackStore.importFile(source, into: store, name: "sharing", responder: "alice",
                                                     now: Date(timeIntervalSince1970: 1_615_000_000))
        #expect(pack.id == "sharing")
        #expect(pack.iocs.count == 4)
        #expect(pack.problems == [ImportProblem(line: 6, message: "\"this line is junk\" is not a hash, IP address, domain, URL or path")])
        let caseFile = try store.load()
        #expect(caseFile.indicatorPacks?.map(\.id) == ["sharing"])
        #expect(caseFile.indicatorPacks?.first?.enabled == true)
        #expect(caseFile.indicatorPacks?.first?.sourceSHA256 == SHA256Hex.digest(Array(list.utf8)))
        #expect(caseFile.audit.last?.action == "indicators.imported")
        #expect(caseFile.audit.last?.by == "alice")
        // The stored pack is private to the case.
        var st = stat()
        #expect(stat(dir.url.appendingPathComponent("indicators/sharing.json").path, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)

        let hits = try scan(dir, store).filter { $0.indicator.hasPrefix("sharing/") }
        let summary = Set(hits.map { "\($0.indicator) \($0.evidence.split(separator: "/").last!):\($0.line) \($0.value)" })
        #expect(summary == [
            "sharing/ipv4 u_ex210303.log:3 198.51.100.77",
            "sharing/ipv4 u_ex210303.log:4 198.51.100.77",
            "sharing/file-path/url u_ex210303.log:4 /aspnet_client/discover.aspx",
            "sharing/file-path/url-failed u_ex210303.log:6 /aspnet_client/discover.aspx",
            "sharing/domain/iis u_ex210303.log:5 relay.sharing-bad.example",
            "sharing/sha256 inventory.csv:2 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "sharing/file-path inventory.csv:2 C:\\inetpub\\wwwroot\\aspnet_client\\discover.aspx",
        ])
        #expect(hits.first { $0.indicator == "sharing/sha256" }?.severity == .high)
        #expect(hits.first { $0.indicator == "sharing/sha256" }?.stage == .postExploitation)
        #expect(hits.first { $0.indicator == "sharing/file-path" }?.stage == .webShell)
        // A request that was not served is a probe for the name, not a web shell.
        #expect(hits.first { $0.indicator == "sharing/file-path/url-failed" }?.stage == .attempt)
        #expect(hits.first { $0.indicator == "sharing/file-path/url-failed" }?.severity == .medium)

        // Importing the same bytes again is refused; disabling stops the hits; enabling restores them.
        #expect(throws: IndicatorPackStoreError.self) { try IndicatorPackStore.importFile(source, into: store, responder: "bob") }
        #expect(try IndicatorPackStore.setEnabled("sharing", false, in: store, responder: "bob"))
        #expect(try IndicatorPackStore.setEnabled("sharing", false, in: store, responder: "bob") == false)
        #expect(try scan(dir, store).filter { $0.indicator.hasPrefix("sharing/") }.isEmpty)
        #expect(try store.load().audit.last?.action == "indicators.disabled")
        #expect(try IndicatorPackStore.setEnabled("sharing", true, in: store, responder: "bob"))
        #expect(try scan(dir, store).filter { $0.indicator.hasPrefix("sharing/") }.count == 7)
        #expect(throws: IndicatorPackStoreError.unknownPack("nope")) { try IndicatorPackStore.setEnabled("nope", true, in: store, responder: "bob") }
    }

    @Test func brokenStoredPackIsReportedWithItsPositionAndCanBeDisabled() throws {
        let (dir, store) = try makeCase("broken")
        let source = try dir.write("src.txt", "5.2.69.14\n")
        _ = try IndicatorPackStore.importFile(source, into: store, name: "p", responder: "alice")
        let packFile = dir.url.appendingPathComponent("indicators/p.json")
        var text = try String(contentsOf: packFile, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"iocs\" : [", with: "\"iocs\" : [,")
        try Data(text.utf8).write(to: packFile)
        let caseFile = try store.load()
        do {
            _ = try RuleEngine.forCase(folder: dir.url, caseFile: caseFile)
            Issue.record("expected an error")
        } catch let IndicatorPackStoreError.malformed(file, line, column, _) {
            #expect(file == packFile.path)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let expectedLine = lines.firstIndex { $0.contains("\"iocs\" : [,") }! + 1
            #expect(line == expectedLine)
            #expect(column == lines[expectedLine - 1].count)
        }
        // The broken pack is the user's file: never rewritten.
        #expect(try String(contentsOf: packFile, encoding: .utf8) == text)
        try IndicatorPackStore.setEnabled("p", false, in: store, responder: "alice")
        _ = try RuleEngine.forCase(folder: dir.url, caseFile: try store.load())
    }

    @Test func exportThenImportRoundTripsWithoutLoss() throws {
        let (dir, store) = try makeCase("roundtrip")
        let mixed = """
        type,value,description
        sha256,b75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0,China Chopper
        md5,d41d8cd98f00b204e9800998ecf8427e,
        file-path,C:\\inetpub\\wwwroot\\aspnet_client\\it's.aspx,quote in name
        file-name,supp0rt.aspx,ESET
        ipv6,2001:db8::7,
        domain,brian.krebsonsecurity.top,MSTIC
        url,https://evil.example/owa/auth/x.aspx,
        user-agent,DuckDuckBot/1.0;+(+http://duckduckgo.com/duckduckbot.html),crawler
        file-path-regex,"\\\\inetpub\\\\wwwroot\\\\aspnet_client\\\\[^\\\\]{1,20}\\.aspx",signature-base

        """
        let source = try dir.write("src.csv", mixed)
        var pack = try IndicatorPackStore.importFile(source, into: store, name: "mixed", responder: "alice")
        #expect(pack.iocs.count == 9, "\(pack.problems)")
        // A CHIRP pack adds scoped log strings and regexes and a YARA rule.
        let chirp = """
        ---
        name: "ECP"
        confidence: 8
        ioc_type: "yara"
        indicator:
          files: "C:\\\\Program Files\\\\Microsoft\\\\Exchange Server\\\\V15\\\\Logging\\\\ECP\\\\Server\\\\*.LOG"
          rule: |
            rule x
            {
              strings:
                $a = "S:CMD=Set-OabVirtualDirectory.ExternalUrl='"
                $b = /POST \\/ecp\\/\\b\\w{1}\\b.js/
              condition:
                any of them
            }
        ---
        name: "shell"
        ioc_type: "yara"
        indicator:
          files: "\\\\**"
          rule: |
            rule shell { strings: $a = "eval(Request" condition: $a }

        """
        let chirpSource = try dir.write("chirp.yaml", chirp)
        pack = try IndicatorPackStore.importFile(chirpSource, into: store, responder: "alice")
        #expect(pack.iocs.map(\.type) == [.logString, .logRegex, .yaraRule])
        #expect(pack.iocs[0].scope == .ecpServer)
        #expect(pack.iocs[0].score == 80)

        let original = try IndicatorExporter.caseIndicators(folder: dir.url, caseFile: try store.load(), includeBuiltIn: false)
        #expect(original.count == 12)
        for format in ["stix", "json"] {
            let data = format == "stix"
                ? try IndicatorExporter.stixBundle(original, name: "c", now: Date(timeIntervalSince1970: 1_615_000_000))
                : try IndicatorExporter.ownJSON(original, name: "c", now: Date(timeIntervalSince1970: 1_615_000_000))
            let (dir2, store2) = try makeCase("roundtrip-\(format)")
            let file = try dir2.write("export.\(format)", [UInt8](data))
            _ = try IndicatorPackStore.importFile(file, into: store2, responder: "bob")
            let back = try IndicatorExporter.caseIndicators(folder: dir2.url, caseFile: try store2.load(), includeBuiltIn: false)
            // Everything but the source line numbers comes back.
            func strip(_ x: [ImportedIOC]) -> [ImportedIOC] { x.map { var c = $0; c.line = nil; return c } }
            #expect(strip(back) == strip(original), "round trip through \(format)")
        }
        // Without our private property, the standard STIX patterns alone still carry the atomic kinds.
        let data = try IndicatorExporter.stixBundle(original, name: "c", now: Date())
        var object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        object["objects"] = (object["objects"] as! [[String: Any]]).map { var o = $0; o.removeValue(forKey: "x_incident_ioc"); return o }
        let plain = try IndicatorImporter.parse(try JSONSerialization.data(withJSONObject: object), format: .stix, fileName: "p.json")
        let standard = original.filter { STIXPattern.pattern(for: $0) != nil || $0.type == .yaraRule }
        #expect(Set(plain.iocs.map(\.key)) == Set(standard.map(\.key)))
        // The deterministic ids make exports comparable.
        #expect(IndicatorExporter.uuid("x") == IndicatorExporter.uuid("x"))
        #expect(IndicatorExporter.uuid("x").count == 36)
        #expect(Array(IndicatorExporter.uuid("x"))[14] == "4")
    }

    @Test func mispExportLeavesOutWhatMISPCannotTypeAndImportsBack() throws {
        let iocs = [
            ImportedIOC(type: .sha256, value: "b75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0", description: "China Chopper"),
            ImportedIOC(type: .filePath, value: "C:\\inetpub\\wwwroot\\aspnet_client\\x.aspx"),
            ImportedIOC(type: .ipv4, value: "5.2.69.14"),
            ImportedIOC(type: .logString, value: "POST /ecp/y.js", scope: .iisW3C),
        ]
        let (data, skipped) = try IndicatorExporter.mispEvent(iocs, info: "t", now: Date())
        #expect(skipped == 1)
        let back = try IndicatorImporter.parse(data, format: .misp, fileName: "m.json")
        #expect(back.iocs.map(\.key) == iocs.prefix(3).map(\.key))
    }
}

/// The real feeds in `../shared/corpus` import and drive hits.
@Suite("Real indicator feeds", .enabled(if: corpusAvailable, "../shared/corpus not present: real-feed import tests skipped"))
struct CorpusIndicatorImportTests {
    func importCorpus(_ relative: String, into store: CaseStore) throws -> ImportedPack {
        try IndicatorPackStore.importFile(Paths.corpusFile(relative), into: store, responder: "tester")
    }

    @Test func msticFeed() throws {
        let (dir, store) = try makeCase("mstic")
        defer { withExtendedLifetime(dir) {} }
        let pack = try importCorpus("azure-sentinel/MSTICIoCs-ExchangeServerVulnerabilitiesDisclosedMarch2021.csv", into: store)
        #expect(pack.format == .msticCSV)
        #expect(pack.problems.isEmpty)
        // 104 path rows, 99 distinct when compared case-insensitively (`auth\\Current` and `auth\\current`).
        #expect(pack.countsByType == [.sha256: 45, .filePath: 99, .domain: 3])
    }

    @Test func chirpAA21062A() throws {
        let (dir, store) = try makeCase("chirp")
        defer { withExtendedLifetime(dir) {} }
        let pack = try importCorpus("chirp/AA21062A.yaml", into: store)
        #expect(pack.format == .chirpYAML)
        let c = pack.countsByType
        #expect(c[.ipv4] == 15)
        #expect(c[.yaraRule] == 4)
        #expect((c[.logString] ?? 0) > 15)
        #expect(c[.logRegex] == 1)
        // The two event-log queries are reported, not silently dropped.
        #expect(pack.problems.filter { $0.message.contains("event-log queries") }.count == 2)
        #expect(pack.problems.allSatisfy { $0.line > 0 })
        #expect(pack.iocs.contains { $0.type == .logString && $0.value == "S:CMD=Set-OabVirtualDirectory.ExternalUrl='" && $0.scope == .ecpServer })
        #expect(pack.iocs.contains { $0.type == .logString && $0.value == "Download failed and temporary file" && $0.scope == .oabGenerator })
    }

    @Test func signatureBaseLists() throws {
        let (dir, store) = try makeCase("sigbase")
        let names = try importCorpus("signature-base/filename-iocs.txt", into: store)
        #expect(names.format == .signatureBaseFilenames)
        // 3,828 data lines hold 3,711 distinct regexes: each is imported or reported.
        #expect(names.iocs.count + names.problems.count == 3711)
        #expect(names.iocs.count > 3700)
        #expect(names.problems.allSatisfy { $0.line > 0 })
        let hashes = try importCorpus("signature-base/hash-iocs.txt", into: store)
        #expect(hashes.format == .signatureBaseHashes)
        #expect(hashes.iocs.contains { $0.value == "b75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0" && $0.description?.hasPrefix("HAFNIUM Webshells") == true })
        let c2 = try importCorpus("signature-base/c2-iocs.txt", into: store)
        #expect(c2.format == .signatureBaseC2)
        #expect(c2.iocs.allSatisfy { [.ipv4, .ipv6, .domain].contains($0.type) })
        #expect(c2.iocs.count > 1700)

        // They drive hits on a matching inventory.
        try dir.write("evidence/EXCH01/inventory.csv", """
        "Algorithm","Hash","Path"
        "SHA256","B75F163CA9B9240BF4B37AD92BC7556B40A17E27C2B8ED5C8991385FE07D17D0","C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\supp0rt.aspx"
        "SHA256","3333333333333333333333333333333333333333333333333333333333333333","C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\Current\\themes\\resources\\logon.css"

        """)
        let engine = try RuleEngine.forCase(folder: dir.url, caseFile: try store.load())
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        let hits = Set(scanner.hits.map { "\($0.indicator.split(separator: "/").first!) \($0.line)" })
        #expect(hits.contains("filename-iocs 2"))
        #expect(hits.contains("hash-iocs 2"))
        #expect(!hits.contains("filename-iocs 3"))
    }

    @Test func chirpStringsHitOnRealShapedLogs() throws {
        let (dir, store) = try makeCase("chirp-hits")
        _ = try importCorpus("chirp/AA21062A.yaml", into: store)
        try dir.write("evidence/EXCH01/u_ex210303.log", """
        #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken
        2021-03-03 06:10:11 10.0.0.5 POST /owa/auth/Current/themes/resources/logon.css - 443 - 103.77.192.219 python-requests/2.25.1 - 200 0 0 15
        2021-03-03 06:10:12 10.0.0.5 GET /owa/auth/Current/themes/resources/logon.css - 443 - 10.1.1.1 Mozilla/5.0 - 200 0 0 15

        """)
        let engine = try RuleEngine.forCase(folder: dir.url, caseFile: try store.load())
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        let pack = scanner.hits.filter { $0.indicator.hasPrefix("aa21062a/") }
        #expect(Set(pack.map(\.line)) == [2])
        #expect(Set(pack.map { $0.indicator.split(separator: "/")[1].split(separator: "-").prefix(2).joined(separator: "-") }).isSuperset(of: ["ipv4", "log-string"]))
    }
}
