import Foundation
import Testing
@testable import IncidentCore

/// Windows event logs: the event XML parser, the EVTX indicators, and EVTX files read through libevtx.
@Suite("EVTX")
struct EvtxTests {
    let engine: RuleEngine
    init() throws { engine = try builtInEngine() }

    func event(_ name: String) throws -> LogRecord {
        let url = try fixturesURL().appendingPathComponent("EVTX/events/\(name).xml")
        var parser = EvtxEventParser()
        let record = try #require(parser.parse(try String(contentsOf: url, encoding: .utf8), line: 1))
        #expect(parser.warnings.isEmpty)
        return record
    }

    func matches(_ name: String) throws -> [String] {
        engine.match(try event(name), format: .windowsEvtx).map(\.id).sorted()
    }

    @Test func sysmonFieldsAndAliases() throws {
        let r = try event("sysmon1-w3wp-msexchange-chopper")
        #expect(r.value("EventID") == "1")
        #expect(r.value("Provider") == "Microsoft-Windows-Sysmon")
        #expect(r.value("Channel") == "Microsoft-Windows-Sysmon/Operational")
        #expect(r.value("Computer") == "EXCH01.contoso.local")
        #expect(r.value("EventRecordID") == "5601")
        #expect(r.value("Image") == "C:\\Windows\\System32\\cmd.exe")
        #expect(r.value("process-image") == "C:\\Windows\\System32\\cmd.exe")
        #expect(r.value("parent-image") == "c:\\windows\\system32\\inetsrv\\w3wp.exe")
        #expect(r.value("command-line") == "cmd /c cd /d C:\\inetpub\\wwwroot\\aspnet_client&whoami&echo [S]&cd&echo [E]")
        #expect(r.value("User") == "NT AUTHORITY\\SYSTEM")
        #expect(r.time == Timestamps.parse("2021-03-03T04:22:18.125Z"))
        #expect(r.raw.hasPrefix("Provider=Microsoft-Windows-Sysmon  ProviderName=Microsoft-Windows-Sysmon  EventID=1  Level=4  TimeCreated=2021-03-03T04:22:18.125000000Z"))
        #expect(r.displayName("commandline") == "CommandLine")
    }

    @Test func classicProviderDataBecomesMessage() throws {
        let r = try event("um-26857-invalidcast")
        #expect(r.value("EventID") == "1051")
        #expect(r.value("Source") == "MSExchange Unified Messaging")
        #expect(r.value("Level") == "2")
        #expect(r.value("Data1") == "UM worker process")
        #expect(r.value("Message")?.hasPrefix("UM worker process\nSystem.InvalidCastException: Unable to cast object") == true)
    }

    @Test(arguments: [
        ("um-26857-invalidcast", ["EV-017"]),
        ("um-benign-error", []),
        ("um-watson-gadget", ["EV-018"]),
        ("sysmon1-umworker-cmd", ["PR-020", "PR-026"]),
        ("sysmon1-umworker-werfault", []),
        ("sysmon1-w3wp-msexchange-chopper", ["PR-028", "PR-032", "PR-072"]),
        ("sysmon1-w3wp-csc-benign", []),
        ("sysmon11-w3wp-aspx-drop", ["FW-073"]),
        ("security-4720", ["AC-071"]),
        ("security-4732-administrators", ["AC-074"]),
        ("security-4728-orgmgmt", ["AC-075"]),
        ("security-4732-printops-benign", []),
        ("cmdlet-oab-externalurl", ["EV-014"]),
        ("cmdlet-oab-externalurl-benign", []),
    ])
    func indicatorsOnEvents(_ name: String, _ expected: [String]) throws {
        #expect(try matches(name) == expected)
    }

    @Test func hostileXMLFallsBackToText() {
        var parser = EvtxEventParser()
        let xml = "<Event><System><Provider Name=\"MSExchange Unified Messaging\"/><EventID>1051</EventID><Level>2</Level></System><EventData><Data>System.InvalidCastException &undefined; \u{1B}[2J</Data></EventData>"
        let r = parser.parse(xml, line: 7)
        #expect(r?.value("EventID") == "1051")
        #expect(r?.value("Provider") == "MSExchange Unified Messaging")
        #expect(r?.value("Message") == "1051 2 System.InvalidCastException &undefined; \u{1B}[2J")
        #expect(parser.warnings == ["1 event(s) with XML that could not be parsed were checked on their text only",
                                    "1 event(s) without a valid TimeCreated"])
        #expect(parser.parse("", line: 8) == nil)
    }

    @Test func signatureByContentNotName() {
        #expect(EvtxFile.hasSignature(Array("ElfFile\u{0}rest".utf8)))
        #expect(!EvtxFile.hasSignature(Array("ElfFile".utf8)))
        #expect(!EvtxFile.hasSignature(Array("ElfFilX\u{0}".utf8)))
        #expect(!EvtxFile.hasSignature([UInt8]()))
    }

    // MARK: EVTX files

    func scanBytes(_ bytes: [UInt8], name: String = "Application.log") throws -> (EvidenceScanner, TempDir) {
        let dir = try TempDir("evtx")
        try dir.write("evidence/EXCH01/\(name)", bytes)
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        return (scanner, dir)
    }

    func fixtureBytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: try fixturesURL().appendingPathComponent("EVTX/\(name)")))
    }

    @Test func realExchangeCmdletLogRecords() throws {
        // Named .log on purpose: recognised by its signature, not its extension.
        let (scanner, _) = try scanBytes(try fixtureBytes("ID6-transport-agent-install-failed.evtx"))
        let status = try #require(scanner.statuses.first)
        #expect(status.format == .windowsEvtx)
        #expect(status.records == 4)
        #expect(status.lines == 4)
        #expect(status.warnings == ["71 fragment(s) of older records in free space were too damaged to read (usual for a log that wrapped)"])
        #expect(status.firstEvent == Timestamps.parse("2021-06-04T08:41:47.982128100Z"))
        #expect(status.lastEvent == Timestamps.parse("2021-06-04T08:43:08.546589200Z"))
        #expect(status.sizeBytes == 69632)
        #expect(scanner.hits.isEmpty)
        #expect(status.checked)
    }

    @Test func activeMonitoringNoiseGivesNoHits() throws {
        let (scanner, _) = try scanBytes(try fixtureBytes("ID11-transport-config-modified.evtx"), name: "sysmon.evtx")
        let status = try #require(scanner.statuses.first)
        #expect(status.format == .windowsEvtx)
        #expect(status.records == 1)
        #expect(scanner.hits.isEmpty)
    }

    @Test func truncatedInsideAChunkReadsWhatIsThere() throws {
        let whole = try fixtureBytes("ID6-transport-agent-install-failed.evtx")
        let (scanner, _) = try scanBytes(Array(whole.prefix(20_000)))
        let status = try #require(scanner.statuses.first)
        #expect(status.format == .windowsEvtx)
        #expect(status.records == 4)
        #expect(status.warnings.first == "the file ends inside a 64 KiB chunk (truncated, or copied while being written): the records of the partial chunk were read as far as they go")
    }

    @Test func headerOnlyJunkAndEmpty() throws {
        let whole = try fixtureBytes("ID6-transport-agent-install-failed.evtx")
        let (headerOnly, _) = try scanBytes(Array(whole.prefix(4096)))
        let h = try #require(headerOnly.statuses.first)
        #expect(h.format == nil)
        #expect(h.warnings.first == "Windows event log with no event records that could be read; not checked")

        // A signature and nothing else: libevtx cannot read a header.
        let (shortJunk, _) = try scanBytes(Array("ElfFile\u{0}junk".utf8))
        let j = try #require(shortJunk.statuses.first)
        #expect(j.format == nil)
        #expect(j.warnings.count == 1)
        #expect(j.warnings[0].hasPrefix("EVTX signature, but not a readable Windows event log (libevtx: "))
        #expect(j.warnings[0].hasSuffix("; not checked"))
        #expect(shortJunk.hits.isEmpty)

        // A signature followed by binary junk: a header of sorts, no records.
        let (junkScan, _) = try scanBytes(Array("ElfFile\u{0}".utf8) + randomBytes(count: 9000, seed: 3))
        let k = try #require(junkScan.statuses.first)
        #expect(k.format == nil)
        #expect(k.warnings.first == "Windows event log with no event records that could be read; not checked")
        #expect(junkScan.hits.isEmpty)

        let (empty, _) = try scanBytes([])
        let e = try #require(empty.statuses.first)
        #expect(e.format == nil)
        #expect(e.warnings == ["empty file; not checked"])
    }

    @Test func unchangedEventLogIsNotReadAgainAndChangedOneIs() throws {
        let whole = try fixtureBytes("ID6-transport-agent-install-failed.evtx")
        let (scanner, dir) = try scanBytes(whole)
        #expect(scanner.scan(caseFolder: dir.url).isEmpty)
        try dir.write("evidence/EXCH01/Application.log", Array(whole.prefix(20_000)))
        #expect(scanner.scan(caseFolder: dir.url) == ["evidence/EXCH01/Application.log"])
        #expect(scanner.statuses.first?.records == 4)
        #expect(scanner.statuses.first?.sizeBytes == 20_000)
    }
}

/// The public attack samples (GPL-3.0, not copied into the repository): skipped without the corpus.
@Suite("EVTX corpus", .enabled(if: corpusAvailable, "../shared/corpus not present: EVTX corpus tests skipped"))
struct EvtxCorpusTests {
    let engine: RuleEngine
    init() throws { engine = try builtInEngine() }

    func scan(_ relative: String) throws -> (EvidenceScanner, TempDir) {
        let dir = try TempDir("evtx-corpus")
        let name = (relative as NSString).lastPathComponent
        try dir.write("evidence/WEB01/\(name)", [UInt8](try Data(contentsOf: Paths.corpusFile(relative))))
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        return (scanner, dir)
    }

    @Test func iisWebShellProcessTree() throws {
        // w3wp.exe (DefaultAppPool) → cmd.exe /c net user → net.exe → net1.exe, plus a Sysmon 10 record.
        let (scanner, _) = try scan("evtx-attack-samples/LM_typical_IIS_webshell_sysmon_1_10_traces.evtx")
        let status = try #require(scanner.statuses.first)
        #expect(status.format == .windowsEvtx)
        #expect(status.records == 4)
        let hits = scanner.hits
        #expect(hits.map(\.indicator) == ["PR-075"])
        let hit = try #require(hits.first)
        #expect(hit.line == 1)
        #expect(hit.stage == .webShell && hit.severity == .high)
        #expect(hit.field == "Image")
        #expect(hit.value == "C:\\Windows\\System32\\cmd.exe")
        #expect(hit.time == Timestamps.parse("2019-05-24T01:33:53.112486600Z"))
        #expect(hit.rawLine.contains("ParentImage=C:\\Windows\\System32\\inetsrv\\w3wp.exe"))
        #expect(hit.rawLine.contains("CommandLine=\"c:\\windows\\system32\\cmd.exe\" /c net user"))
        #expect(Verdicts.verdict(checkedFiles: 1, hits: hits) == .compromised)
    }

    @Test func appPoolCredentialDiscovery() throws {
        // powershell.exe started by w3wp.exe, then appcmd listing vdir/apppool credentials.
        let (scanner, _) = try scan("evtx-attack-samples/discovery_sysmon_1_iis_pwd_and_config_discovery_appcmd.evtx")
        let status = try #require(scanner.statuses.first)
        #expect(status.records == 40)
        let hits = scanner.hits
        let shell = hits.filter { $0.indicator == "PR-075" }
        #expect(shell.count == 1)
        #expect(shell.first?.value == "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe")
        let creds = hits.filter { $0.indicator == "PR-076" }
        #expect(creds.count == 36)
        #expect(creds.allSatisfy { $0.value.contains("appcmd.exe") && ($0.value.lowercased().contains("password") || $0.value.lowercased().contains("username")) })
        #expect(hits.count == 37)
    }

    @Test func privExchangeLogonsAreNotIndicators() throws {
        let (scanner, _) = try scan("evtx-attack-samples/privexchange_dirkjan.evtx")
        #expect(scanner.statuses.first?.records == 8)
        #expect(scanner.hits.isEmpty)
    }

    @Test func activeMonitoringResponderRecordsGiveNoHits() throws {
        for file in ["evtx-to-mitre-attack/ID11-Exchange transport config modified.evtx",
                     "evtx-to-mitre-attack/ID6-Failed to install an Exchange transport agent.evtx"] {
            let (scanner, _) = try scan(file)
            #expect(scanner.statuses.first?.format == .windowsEvtx)
            #expect(scanner.hits.isEmpty, "\(file)")
        }
    }
}
