import Foundation
import Testing
@testable import IncidentCore

/// The known false positives and pitfalls of `../shared/knowledge/proxylogon.md` §5, each with a
/// fixture and the outcome a responder needs. Pitfalls 1–4, 9, 13, 16, 17, 22 and 30 are in
/// FormatTests/FixtureTests, 7 and 14 in CoverageTests, 31 and 32 in RuleEngineTests; the build
/// and mitigation pitfalls 23, 24, 26 and 29 in PitfallPatchTests.swift.
@Suite("proxylogon.md §5 pitfalls")
struct PitfallTests {
    static func session(_ dir: TempDir, build: String? = nil) throws -> CaseSession {
        let store = CaseStore(folder: dir.url)
        try store.create(CaseFile(name: "pitfalls", created: date("2021-03-20T09:00:00.000Z"),
                                  servers: [Server(name: "EXCH09", exchangeBuild: build), Server(name: "EXCH10")]))
        return CaseSession(store: store, caseFile: try store.load(), engine: try builtInEngine(), playbook: try Playbook.builtIn(),
                           responder: "tester", readOnly: false)
    }

    static func fixture(_ dir: TempDir, _ name: String, as rel: String) throws {
        try dir.write(rel, [UInt8](try Data(contentsOf: try fixturesURL().appendingPathComponent(name))))
    }

    static func crlf(_ lines: [String]) -> String { lines.joined(separator: "\r\n") + "\r\n" }

    /// #5 (issues/312): autodiscover-only SSRF rows are shown as a failed attempt, not hidden.
    @Test func p05AutodiscoverOnlyIsAFailedAttempt() throws {
        let dir = try TempDir("p05")
        _ = try dir.write("evidence/EXCH09/HttpProxy/Autodiscover/h.LOG",
                          Self.crlf(HttpProxyLog.lines(["AnchorMailbox": "ServerInfo~a]@exch09:444/autodiscover/autodiscover.xml?#",
                                                        "ClientIpAddress": "198.51.100.23"])))
        let snap = try Self.session(dir).scanOnce()
        #expect(snap.hits.map(\.indicator) == ["PL-002"])
        let s = try #require(snap.summaries.first)
        #expect(s.verdict == .probed)
        #expect(s.chain.map(\.stage) == [.attempt])
        #expect(s.chain.first?.clientIPs == ["198.51.100.23"])
    }

    /// #6 (issues/310): the console runs its own matchers on raw logs, including the BackEndCookie test
    /// Test-ProxyLogon dropped.
    @Test func p06BackEndCookieOnRawLogs() throws {
        let dir = try TempDir("p06")
        _ = try dir.write("evidence/EXCH09/HttpProxy/Ews/h.LOG",
                          Self.crlf(HttpProxyLog.lines(["BackEndCookie": "Server~exch09.corp.example/ews/exchange.asmx~1942062522"])))
        let snap = try Self.session(dir).scanOnce()
        #expect(snap.hits.map(\.indicator) == ["PL-005"])
        #expect(snap.summaries.first?.verdict == .exploited)
    }

    /// #8 (issues/102), #10 (issues/96, 99), #27 (collected Application.evtx missing): tool outputs
    /// without the 27065 file, servers without outputs, and no event log are never read as clean.
    @Test func p08p10p27MissingOutputsAreNotClean() throws {
        let dir = try TempDir("p08")
        try Self.fixture(dir, "EXCH09-Cve-2021-26855.csv", as: "evidence/EXCH09/Test-ProxyLogonLogs/EXCH09-Cve-2021-26855.csv")
        try Self.fixture(dir, "EXCH09-LogAgeDays.csv", as: "evidence/EXCH09/Test-ProxyLogonLogs/EXCH09-LogAgeDays.csv")
        let snap = try Self.session(dir).scanOnce()
        let exch09 = try #require(snap.summaries.first { $0.name == "EXCH09" })
        #expect(exch09.verdict == .exploited)
        let status = Dictionary(uniqueKeysWithValues: exch09.coverage.map { ($0.check, $0.status) })
        #expect(status[.cve202127065] == .notChecked)
        #expect(status[.cve202126857] == .notChecked)
        #expect(status[.cve202126858] == .notChecked)
        // The other server has no output at all (WinRM failed there): not assessed.
        #expect(snap.summaries.first { $0.name == "EXCH10" }?.verdict == .notAssessed)
    }

    /// #11, #12 (issues/108…321, 241): on Exchange 2010 only the 26857 event check applies; a run that
    /// skipped it is not clean.
    @Test func p11p12Exchange2010NeedsTheEventLogCheck() throws {
        let dir = try TempDir("p11")
        _ = try dir.write("evidence/EXCH09/IIS/u_ex201220.log",
                          Self.crlf(IISLog.header + [IISLog.line("GET", "/owa/", time: "2020-12-20 08:00:00")]))
        let s = try #require(try Self.session(dir, build: "14.3.513.0").scanOnce().summaries.first)
        #expect(s.verdict == .insufficientCoverage)
        #expect(s.coverage.filter(\.required).map(\.check) == [.cve202126857])
        #expect(s.coverage.first { $0.check == .cve202126857 }?.status == .notChecked)
    }

    /// #15 (issues/109): MSERT clean while Test-ProxyLogon is positive: both results are kept.
    @Test func p15MSERTCleanAndTestProxyLogonPositive() throws {
        let dir = try TempDir("p15")
        try Self.fixture(dir, "EXCH09-Cve-2021-26855.csv", as: "evidence/EXCH09/tpl.csv")
        _ = try dir.write("evidence/EXCH09/debug/msert.log", Self.crlf([
            "Microsoft Safety Scanner v1.333, (build 1.333.1238.0)", "Started On Mon Mar 15 08:00:02 2021",
            "Quick Scan Results:", "-------------------", "No infection found.", "Return code: 0 (0x0)"]))
        let snap = try Self.session(dir).scanOnce()
        let msert = try #require(snap.statuses.first { $0.path == "evidence/EXCH09/debug/msert.log" })
        #expect(msert.format == .msertLog && msert.records == 1)
        #expect(snap.hits.filter { $0.evidence == "evidence/EXCH09/tpl.csv" }.count == 11)
        #expect(snap.hits.filter { $0.evidence == "evidence/EXCH09/debug/msert.log" }.isEmpty)
        #expect(snap.summaries.first?.verdict == .exploited)
    }

    /// #18, #19 (issues/107, GossiTheDog/scanning#6): remote probe output proves nothing: not read as
    /// evidence, so a server with only that is not assessed.
    @Test func p18p19RemoteProbeOutputIsNotEvidence() throws {
        let dir = try TempDir("p18")
        try Self.fixture(dir, "nmap-http-vuln-cve2021-26855.txt", as: "evidence/EXCH09/nmap.txt")
        let snap = try Self.session(dir).scanOnce()
        // Not a log: only scanned as a collected file (YARA), which alone never assesses a server.
        #expect(snap.statuses.first?.format == .collectedFile)
        #expect(snap.hits.isEmpty)
        #expect(snap.summaries.first?.verdict == .notAssessed)
    }

    /// #20 (issues/278): ECP answering 503 after the app-pool mitigation is expected, no hit.
    @Test func p20ECP503AfterMitigationIsNoHit() throws {
        let engine = try builtInEngine()
        #expect(try matchIDs(engine, IISLog.lines("GET", "/ecp/", query: "ExchClientVer=15", user: "CORP\\admin", status: "503"), .iisW3C).isEmpty)
    }

    /// #21 (issues/101) and #25 (issues/1279): mitigation transcripts and EOMTSummary.txt are not
    /// evidence of mitigation (web.config is); they are listed as not checked and raise nothing.
    @Test func p21p25MitigationTextIsNotReadAsMitigation() throws {
        let dir = try TempDir("p21")
        try Self.fixture(dir, "BackendCookieMitigation-transcript.txt", as: "evidence/EXCH09/transcript.txt")
        try Self.fixture(dir, "EOMTSummary.txt", as: "evidence/EXCH09/EOMTSummary.txt")
        let snap = try Self.session(dir).scanOnce()
        #expect(snap.statuses.map(\.format) == [.collectedFile, .collectedFile])
        #expect(snap.hits.isEmpty)
        #expect(snap.summaries.first?.verdict == .notAssessed)
    }

    /// #28 (EOMT culture list `zn-CN`): a cosmetic line, parsed and not a finding.
    @Test func p28EOMTCultureLineIsNotAFinding() throws {
        let engine = try builtInEngine()
        #expect(try matchIDs(engine, ["2021-03-16 09:12:50 Info: Culture zn-CN: downloading the en-US IIS URL Rewrite MSI (EOMT)"], .eomtLog).isEmpty)
    }

    /// #30: Test-ProxyLogon's `ClientIpAddress` column (the script asks for `ClientIPAddress`) is
    /// bound case-insensitively and the `#TYPE` line skipped: hits carry the client address.
    @Test func p30ClientIPAddressCasing() throws {
        let dir = try TempDir("p30")
        try Self.fixture(dir, "EXCH09-Cve-2021-26855.csv", as: "evidence/EXCH09/tpl.csv")
        let snap = try Self.session(dir).scanOnce()
        #expect(Set(snap.hits.compactMap(\.clientIP)) == ["104.140.114.110"])
        #expect(snap.statuses.first?.records == 3)
    }
}
