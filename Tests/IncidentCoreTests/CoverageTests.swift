import Foundation
import Testing
@testable import IncidentCore

/// Coverage and chains, end to end through a real scan of a case folder.
@Suite("Coverage and chains")
struct CoverageTests {
    static func session(_ dir: TempDir, exposure: Date = CaseSettings.defaultExposureStart) throws -> CaseSession {
        let store = CaseStore(folder: dir.url)
        try store.create(CaseFile(name: "coverage", created: date("2021-03-05T09:00:00.000Z"),
                                  settings: CaseSettings(exposureWindowStart: exposure), servers: [Server(name: "EXCH01")]))
        return try reopen(store)
    }

    /// A fresh session on a case already on disk.
    static func reopen(_ store: CaseStore) throws -> CaseSession {
        CaseSession(store: store, caseFile: try store.load(), engine: try builtInEngine(), playbook: try Playbook.builtIn(),
                           responder: "tester", readOnly: false)
    }

    /// Benign evidence for every required check, logs starting `start` (ISO-8601).
    static let otherProxyFolders = ["Autodiscover", "Ews", "Mapi", "Oab", "Owa"]

    /// Days (`yyyy-MM-dd`) from the day of `first` to 2021-03-04, one a day.
    static func days(from first: String) -> [String] {
        var out: [String] = []
        var day = Date(timeIntervalSince1970: (date(String(first.prefix(10)) + "T00:00:00.000Z").timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
        while day <= date("2021-03-04T00:00:00.000Z") {
            out.append(String(Timestamps.iso8601(day).prefix(10)))
            day += 86_400
        }
        return out
    }

    /// Logs with a record every day from before the exposure window to after its end.
    /// HttpProxy logs go to Ecp (starting `httpProxyStart`) and to the other folders Managed
    /// Availability probes (a record a day from 2020-12-30).
    static func writeBenign(_ dir: TempDir, httpProxyStart: String = "2020-12-30T10:00:00.000Z") throws {
        _ = try dir.write("evidence/EXCH01/HttpProxy/Ecp/HttpProxy_2020123010-1.LOG",
                          ([HttpProxyLog.headerLine] + HttpProxyLog.directives + [HttpProxyLog.row(["DateTime": httpProxyStart])]
                           + days(from: httpProxyStart).dropFirst().map { HttpProxyLog.row(["DateTime": "\($0)T10:00:00.000Z"]) })
                          .joined(separator: "\r\n") + "\r\n")
        for folder in otherProxyFolders {
            _ = try dir.write("evidence/EXCH01/HttpProxy/\(folder)/HttpProxy_2020123009-1.LOG",
                              ([HttpProxyLog.headerLine] + HttpProxyLog.directives + days(from: "2020-12-30").map { HttpProxyLog.row(["DateTime": "\($0)T09:00:00.000Z"]) })
                              .joined(separator: "\r\n") + "\r\n")
        }
        _ = try dir.write("evidence/EXCH01/Logging/ECP/Server/ECPServer20201231-1.LOG",
                          (ECPLog.header + days(from: "2020-12-31").map { ECPLog.row(eventData: ECPLog.eventData(cmd: ECPLog.readCmd), time: "\($0)T08:00:00.000Z") })
                          .joined(separator: "\r\n") + "\r\n")
        _ = try dir.write("evidence/EXCH01/Logging/OABGeneratorLog/OABGen20201220.LOG",
                          (OABLog.header + days(from: "2020-12-20").map { "\($0)T01:00:00.000Z,4812,77,Info,\"OAB generation started\"" })
                          .joined(separator: "\r\n") + "\r\n")
        _ = try dir.write("evidence/EXCH01/FileHashes/web.csv",
                          (Inventory.lines(path: Inventory.exchangeWeb + "owa\\auth\\error.aspx")
                           + [Inventory.row(hash: Inventory.benignHash, path: "C:\\inetpub\\wwwroot\\iisstart.htm")]).joined(separator: "\r\n") + "\r\n")
    }

    /// Two records, one before the window and one after it, do not cover the days between.
    @Test func gapInsideTheWindowIsInsufficient() throws {
        /// The benign case with no HttpProxy record from 2021-01-20 to `lastMissing`.
        func caseWithGap(_ label: String, lastMissing: String) throws -> TempDir {
            let dir = try TempDir(label)
            try Self.writeBenign(dir)
            _ = try dir.write("evidence/EXCH01/HttpProxy/Ecp/HttpProxy_2020123010-1.LOG",
                              ([HttpProxyLog.headerLine] + HttpProxyLog.directives
                               + Self.days(from: "2020-12-30").filter { !($0 >= "2021-01-20" && $0 <= lastMissing) }.map { HttpProxyLog.row(["DateTime": "\($0)T10:00:00.000Z"]) })
                              .joined(separator: "\r\n") + "\r\n")
            return dir
        }
        let dir = try caseWithGap("cov-gap", lastMissing: "2021-01-23")
        let s = try #require(try Self.session(dir).scanOnce().summaries.first)
        #expect(s.coverage[0].status == .insufficientCoverage)
        #expect(s.coverage[0].reason == "HttpProxy\\Ecp no record from 2021-01-20 to 2021-01-23 (4 days): logs missing for that time: no hit, but that does not show the server is clean")
        #expect(s.verdict == .insufficientCoverage)
        // Three days without a record are allowed in HttpProxy logs (a long weekend).
        let dir2 = try caseWithGap("cov-gap-3", lastMissing: "2021-01-22")
        let again = try #require(try Self.session(dir2).scanOnce().summaries.first)
        #expect(again.coverage[0].status == .noFindings)
        #expect(again.verdict == .noFindings)
        // The gap arithmetic: runs of days from several files, clipped to the window.
        let d = { (s: String) in FileCursor.day(date(s + "T00:00:00.000Z")) }
        let gap = Coverage.longestGap([[[d("2020-12-01"), d("2021-01-05")]], [[d("2021-01-03"), d("2021-01-10")], [d("2021-02-01"), d("2021-03-10")]]],
                                      from: date("2021-01-01T00:00:00.000Z"), to: date("2021-03-03T00:00:00.000Z"))
        #expect(gap.map { [Int($0.first), Int($0.last), $0.days] } == [Int(d("2021-01-11")), Int(d("2021-01-31")), 21])
        #expect(Coverage.longestGap([[[d("2021-01-01"), d("2021-03-03")]]], from: date("2021-01-01T00:00:00.000Z"), to: date("2021-03-03T10:00:00.000Z")) == nil)
        let tail = Coverage.longestGap([[[d("2020-12-01"), d("2021-02-27")]]], from: date("2021-01-01T00:00:00.000Z"), to: date("2021-03-03T00:00:00.000Z"))
        #expect(tail?.days == 4)
    }

    /// HttpProxy protocol folders that Managed Availability probes are judged one by one: a late
    /// Owa folder is short even when the Ecp folder covers the window; other folders are not.
    @Test func eachProbedHttpProxyFolderMustCoverTheWindow() throws {
        func rows(from first: String) -> String {
            ([HttpProxyLog.headerLine] + HttpProxyLog.directives + Self.days(from: first).map { HttpProxyLog.row(["DateTime": "\($0)T11:00:00.000Z"]) })
                .joined(separator: "\r\n") + "\r\n"
        }
        let dir = try TempDir("cov-protocols")
        try Self.writeBenign(dir)
        _ = try dir.write("evidence/EXCH01/HttpProxy/PushNotifications/HttpProxy_2021022011-1.LOG", rows(from: "2021-02-20"))
        let session = try Self.session(dir)
        var s = try #require(try session.scanOnce().summaries.first)
        #expect(s.coverage[0].status == .noFindings, "a folder no probe writes to may start late: \(s.coverage[0].reason)")
        try FileManager.default.removeItem(at: dir.url.appendingPathComponent("evidence/EXCH01/HttpProxy/Owa/HttpProxy_2020123009-1.LOG"))
        _ = try dir.write("evidence/EXCH01/HttpProxy/Owa/HttpProxy_2021022011-1.LOG", rows(from: "2021-02-20"))
        s = try #require(try Self.reopen(session.store).scanOnce().summaries.first)
        #expect(s.coverage[0].status == .insufficientCoverage)
        #expect(s.coverage[0].reason == "HttpProxy\\Owa logs start 2021-02-20T11:00:00.000Z, after the exposure window start 2021-01-01T00:00:00.000Z: no hit, but that does not show the server is clean")
        #expect(s.coverage[0].from == date("2020-12-30T09:00:00.000Z"), "the check's range is still that of all its files")
        // A folder never collected is not covered either.
        try FileManager.default.removeItem(at: dir.url.appendingPathComponent("evidence/EXCH01/HttpProxy/Owa"))
        try FileManager.default.removeItem(at: dir.url.appendingPathComponent("evidence/EXCH01/HttpProxy/Mapi"))
        s = try #require(try Self.reopen(session.store).scanOnce().summaries.first)
        #expect(s.coverage[0].reason == "no HttpProxy\\Mapi, no HttpProxy\\Owa logs: requests through those protocols are not covered; collect all of Logging\\HttpProxy: no hit, but that does not show the server is clean")
        // Files taken out of their protocol folders cannot be judged per protocol.
        let flat = try TempDir("cov-flat")
        try Self.writeBenign(flat)
        for folder in ["Ecp"] + Self.otherProxyFolders {
            let from = flat.url.appendingPathComponent("evidence/EXCH01/HttpProxy/\(folder)")
            for name in try FileManager.default.contentsOfDirectory(atPath: from.path) {
                try FileManager.default.moveItem(at: from.appendingPathComponent(name), to: flat.url.appendingPathComponent("evidence/EXCH01/\(folder)_\(name)"))
            }
        }
        let f = try #require(try Self.session(flat).scanOnce().summaries.first)
        #expect(f.coverage[0].reason == "the HttpProxy logs are not in their protocol folders (Logging\\HttpProxy\\<protocol>\\), so each protocol cannot be shown covered: keep that layout when collecting: no hit, but that does not show the server is clean")
        #expect(Coverage.httpProxyFolders([makeStatus("E", "HttpProxy/owa/a.LOG", format: .httpProxy), makeStatus("E", "HttpProxy/Ecp/b.LOG", format: .httpProxy),
                                           makeStatus("E", "HttpProxy/c.LOG", format: .httpProxy), makeStatus("E", "HttpProxy/Rest/d.LOG", format: .httpProxy)])
                    .map { [$0.0] + $0.1.map(\.path) } == [["Ecp", "evidence/E/HttpProxy/Ecp/b.LOG"], ["owa", "evidence/E/HttpProxy/owa/a.LOG"]])
    }

    /// A record dated after the scan (a wrong clock, a forged line) does not make the logs reach
    /// the end of the exposure window. (IIS logs: HttpProxy logs are also judged per folder.)
    @Test func futureRecordDoesNotExtendTheLogs() {
        let d = { (s: String) in FileCursor.day(date(s + "T00:00:00.000Z")) }
        var f = FileStatus(path: "evidence/E/IIS/u_ex1.log", server: "E", format: .iisW3C, encoding: .utf8, sizeBytes: 10, sha256: "",
                           modified: Date(timeIntervalSince1970: 0), lines: 70, records: 62, warnings: [])
        f.firstEvent = date("2020-12-30T10:00:00.000Z")
        f.lastEvent = date("9999-12-31T10:00:00.000Z")
        f.recordDays = [[d("2020-12-30"), d("2021-02-28")], [d("9999-12-31"), d("9999-12-31")]]
        let now = date("2026-11-29T12:00:00.000Z")
        let c = Coverage.evaluate(files: [f], hits: [], exposureStart: CaseSettings.defaultExposureStart, now: now)[4]
        #expect(c.status == .insufficientCoverage)
        #expect(c.to == date("2021-02-28T00:00:00.000Z"))
        #expect(c.reason == "logs end 2021-02-28T00:00:00.000Z, before 2021-03-03T00:00:00.000Z (no patch or mitigation date recorded: logs must at least reach the start of mass exploitation): no hit, but that does not show the server is clean (records dated after 2026-11-30 were left out)")
        // Records up to the day after the scan still count (time zones, a slightly fast clock).
        f.lastEvent = date("2026-11-30T23:00:00.000Z")
        f.recordDays = [[d("2020-12-30"), d("2021-03-05")], [d("2026-11-30"), d("2026-11-30")]]
        let kept = Coverage.evaluate(files: [f], hits: [], exposureStart: CaseSettings.defaultExposureStart, now: now)[4]
        #expect(kept.status == .noFindings)
        #expect(kept.to == date("2026-11-30T23:00:00.000Z"))
    }

    @Test func fullCoverageWithoutHitsIsNoFindings() throws {
        let dir = try TempDir("cov-full")
        try Self.writeBenign(dir)
        let snap = try Self.session(dir).scanOnce()
        let s = try #require(snap.summaries.first)
        #expect(s.verdict == .noFindings)
        #expect(s.coverage.map(\.check) == CoverageCheck.allCases)
        #expect(s.coverage.map(\.status) == [.noFindings, .notChecked, .noFindings, .noFindings, .notChecked, .noFindings])
        let proxy = s.coverage[0]
        #expect(proxy.evidence == ["evidence/EXCH01/HttpProxy/Autodiscover/HttpProxy_2020123009-1.LOG", "evidence/EXCH01/HttpProxy/Ecp/HttpProxy_2020123010-1.LOG",
                                   "evidence/EXCH01/HttpProxy/Ews/HttpProxy_2020123009-1.LOG", "evidence/EXCH01/HttpProxy/Mapi/HttpProxy_2020123009-1.LOG",
                                   "evidence/EXCH01/HttpProxy/Oab/HttpProxy_2020123009-1.LOG", "evidence/EXCH01/HttpProxy/Owa/HttpProxy_2020123009-1.LOG"])
        #expect(proxy.from == date("2020-12-30T09:00:00.000Z"))
        #expect(proxy.to == date("2021-03-04T10:00:00.000Z"))
        #expect(proxy.reason == "logs run from 2020-12-30T09:00:00.000Z (before 2021-01-01T00:00:00.000Z) to 2021-03-04T10:00:00.000Z; no hit")
        #expect(s.coverage[5].reason == "2 row(s) read; no hit (no known-good baseline in the evidence: web files were not compared by hash, so a changed Exchange page is not found)")
        #expect(s.coverage[1].reason == "no evidence for this check: collect the Application event log (EVTX)")
        #expect(s.chain.isEmpty)
    }

    /// Pitfall 14 (CSS-Exchange issues/98): hosters keep logs for days; a short log is never "clean".
    @Test func logsStartingAfterTheWindowAreInsufficient() throws {
        let dir = try TempDir("cov-short")
        try Self.writeBenign(dir, httpProxyStart: "2021-03-01T00:00:00.000Z")
        let snap = try Self.session(dir).scanOnce()
        let s = try #require(snap.summaries.first)
        #expect(s.verdict == .insufficientCoverage)
        #expect(s.coverage[0].status == .insufficientCoverage)
        #expect(s.coverage[0].reason == "HttpProxy\\Ecp logs start 2021-03-01T00:00:00.000Z, after the exposure window start 2021-01-01T00:00:00.000Z: no hit, but that does not show the server is clean")
        // Logs that begin during the window's first day reach back to it; the next day they do not.
        let sameDay = try TempDir("cov-same-day")
        try Self.writeBenign(sameDay, httpProxyStart: "2021-01-01T02:36:00.123Z")
        let first = try #require(try Self.session(sameDay).scanOnce().summaries.first)
        #expect(first.coverage[0].status == .noFindings)
        // A window that starts at a recorded time needs logs from that time.
        let f = FileStatus(path: "evidence/E/IIS/u_ex1.log", server: "E", format: .iisW3C, encoding: .utf8, sizeBytes: 10, sha256: "",
                           modified: Date(timeIntervalSince1970: 0), lines: 3, records: 2, warnings: [])
        var g = f
        g.firstEvent = date("2021-01-01T18:22:00.000Z")
        g.lastEvent = date("2021-03-04T10:00:00.000Z")
        g.recordDays = [[FileCursor.day(g.firstEvent!), FileCursor.day(g.lastEvent!)]]
        #expect(Coverage.evaluate(files: [g], hits: [], exposureStart: date("2021-01-01T06:00:00.000Z"))[4].reason
                == "logs start 2021-01-01T18:22:00.000Z, after the exposure window start 2021-01-01T06:00:00.000Z: no hit, but that does not show the server is clean")
        #expect(Coverage.evaluate(files: [g], hits: [], exposureStart: date("2021-01-01T00:00:00.000Z"))[4].reason
                == "logs run from 2021-01-01T18:22:00.000Z (the first day of the window, which starts 2021-01-01T00:00:00.000Z) to 2021-03-04T10:00:00.000Z; no hit")
        let nextDay = try TempDir("cov-next-day")
        try Self.writeBenign(nextDay, httpProxyStart: "2021-01-02T00:00:00.000Z")
        #expect(try Self.session(nextDay).scanOnce().summaries.first?.coverage[0].reason.hasPrefix("HttpProxy\\Ecp logs start 2021-01-02T00:00:00.000Z, after") == true)
        // A later exposure window start (the case setting) makes the same logs sufficient.
        let dir2 = try TempDir("cov-short2")
        try Self.writeBenign(dir2, httpProxyStart: "2021-03-01T00:00:00.000Z")
        let later = try Self.session(dir2, exposure: date("2021-03-01T00:00:00.000Z")).scanOnce()
        #expect(later.summaries.first?.verdict == .noFindings)
    }

    /// Logs that start early enough but stop before the exposure window ends cover nothing of
    /// the campaign: never clean. The end is the patch or mitigation date, else 2021-03-03.
    @Test func logsEndingBeforeTheWindowEndsAreInsufficient() throws {
        let dir = try TempDir("cov-end")
        try Self.writeBenign(dir)
        _ = try dir.write("evidence/EXCH01/HttpProxy/Ecp/HttpProxy_2020123010-1.LOG",
                          ([HttpProxyLog.headerLine] + HttpProxyLog.directives
                           + [HttpProxyLog.row(["DateTime": "2019-02-02T09:16:52.000Z"]), HttpProxyLog.row(["DateTime": "2019-02-02T09:17:27.000Z"])])
                          .joined(separator: "\r\n") + "\r\n")
        let s = try #require(try Self.session(dir).scanOnce().summaries.first)
        #expect(s.verdict == .insufficientCoverage)
        #expect(s.coverage[0].status == .insufficientCoverage)
        #expect(s.coverage[0].reason == "HttpProxy\\Ecp logs end 2019-02-02T09:17:27.000Z, before 2021-03-03T00:00:00.000Z (no patch or mitigation date recorded: logs must at least reach the start of mass exploitation): no hit, but that does not show the server is clean")
        #expect(s.compromiseState == .unknown)
    }

    /// Test-ProxyLogon's 26855 CSV holds only the rows it matched: its hits count, its dates
    /// cover nothing.
    @Test func testProxyLogonExportGivesHitsButNoCoverage() throws {
        let dir = try TempDir("cov-tpl")
        let csv = try Data(contentsOf: fixturesURL().appendingPathComponent("EXCH09-Cve-2021-26855.csv"))
        try dir.write("evidence/EXCH01/EXCH09-Cve-2021-26855.csv", [UInt8](csv))
        let snapshot = try Self.session(dir).scanOnce()
        let s = try #require(snapshot.summaries.first)
        #expect(s.verdict >= .exploited)
        #expect(s.coverage[0].status == .notChecked)
        #expect(s.coverage[0].evidence.isEmpty)
        // The file names another computer than the folder's server: said so.
        let warnings = snapshot.statuses.first { $0.path.hasSuffix("EXCH09-Cve-2021-26855.csv") }?.warnings ?? []
        #expect(warnings.contains("Test-ProxyLogon output of computer EXCH09, filed under server EXCH01: its hits count for EXCH01; move it to evidence/EXCH09/ if it is that server's"))
        #expect(FileCursor.testProxyLogonComputer(fileName: "EXCH09-other.csv") == "EXCH09")
        #expect(FileCursor.testProxyLogonComputer(fileName: "MAIL-01-Cve-2021-26858-DownloadPaths.log") == "MAIL-01")
        #expect(FileCursor.testProxyLogonComputer(fileName: "-other.csv") == nil)
        #expect(FileCursor.testProxyLogonComputer(fileName: "HttpProxy_2021030306-1.LOG") == nil)
        #expect(FileCursor.sameComputer("exch01", "EXCH01") && FileCursor.sameComputer("EXCH01", "exch01.corp.example"))
        #expect(!FileCursor.sameComputer("EXCH09", "EXCH01"))
    }

    /// CVE-2021-26857 shows in the Application log: a Sysmon or Security log gives hits, never
    /// coverage for that check.
    @Test func onlyTheApplicationLogCoversCVE202126857() throws {
        let dir = try TempDir("cov-evtx")
        let evtx = try Data(contentsOf: fixturesURL().appendingPathComponent("EVTX/ID6-transport-agent-install-failed.evtx"))
        try dir.write("evidence/EXCH01/Sysmon.evtx", [UInt8](evtx))
        let s = try #require(try Self.session(dir).scanOnce().summaries.first)
        let check = try #require(s.coverage.first { $0.check == .cve202126857 })
        #expect(check.status == .notChecked)
        #expect(check.evidence.isEmpty)
    }

    /// Only the server that generates the offline address book writes OAB generator logs: on
    /// the others the check is not required once that is recorded.
    @Test func oabCheckIsNotRequiredWhereTheOABIsNotGenerated() throws {
        let dir = try TempDir("cov-no-oab")
        try Self.writeBenign(dir)
        try FileManager.default.removeItem(at: dir.url.appendingPathComponent("evidence/EXCH01/Logging/OABGeneratorLog"))
        let session = try Self.session(dir)
        #expect(try session.scanOnce().summaries.first?.verdict == .insufficientCoverage)
        var cf = try session.store.load()
        try cf.applyServerChanges(ServerChanges(generatesOAB: false), server: "EXCH01", by: "t", at: Date())
        try session.store.save(cf)
        let s = try #require(try Self.reopen(session.store).scanOnce().summaries.first)
        #expect(s.coverage[2].status == .notChecked)
        #expect(s.coverage[2].required == false)
        #expect(s.coverage[2].reason == "not required: the server does not generate the offline address book (recorded with --generates-oab no), so it writes no OAB generator log")
        #expect(s.verdict == .noFindings)
        #expect(cf.audit.last?.field == "EXCH01.generatesOAB" && cf.audit.last?.after == "no")
        // OAB generator logs in the evidence show that it does generate the OAB: required again.
        _ = try dir.write("evidence/EXCH01/Logging/OABGeneratorLog/OABGen20210201.LOG",
                          (OABLog.header + Self.days(from: "2021-02-01").map { "\($0)T01:00:00.000Z,4812,77,Info,\"OAB generation started\"" })
                          .joined(separator: "\r\n") + "\r\n")
        let again = try #require(try Self.reopen(session.store).scanOnce().summaries.first)
        #expect(again.coverage[2].required)
        #expect(again.coverage[2].status == .insufficientCoverage)
        #expect(again.verdict == .insufficientCoverage)
    }

    @Test func missingRequiredCheckIsNotChecked() throws {
        let dir = try TempDir("cov-missing")
        try Self.writeBenign(dir)
        try FileManager.default.removeItem(at: dir.url.appendingPathComponent("evidence/EXCH01/Logging/OABGeneratorLog"))
        let s = try #require(try Self.session(dir).scanOnce().summaries.first)
        #expect(s.verdict == .insufficientCoverage)
        #expect(s.coverage[2].status == .notChecked)
        #expect(s.coverage[2].evidence == [])
        #expect(s.coverage[2].reason == "no evidence for this check: collect Logging\\OABGeneratorLog\\")
    }

    @Test func headerOnlyLogHasNoRecords() {
        let f = FileStatus(path: "evidence/E/h.LOG", server: "E", format: .httpProxy, encoding: .utf8, sizeBytes: 10, sha256: "",
                           modified: Date(timeIntervalSince1970: 0), lines: 6, records: 0, warnings: [])
        let c = Coverage.evaluate(files: [f], hits: [], exposureStart: CaseSettings.defaultExposureStart)
        #expect(c[0].status == .insufficientCoverage)
        #expect(c[0].reason == "the evidence holds no records: no hit, but that does not show the server is clean")
        #expect(Coverage.adjust(.noFindings, coverage: c) == .insufficientCoverage)
        #expect(Coverage.adjust(.probed, coverage: c) == .probed)
        #expect(Coverage.adjust(.notAssessed, coverage: c) == .notAssessed)
    }

    /// An inventory must list files under both folders web shells were dropped in (owa\\auth and
    /// inetpub\\wwwroot) to show that none was dropped there.
    @Test func inventoryWithoutTheDropFoldersIsShort() throws {
        func inventory(_ folders: [String]?, records: Int = 1) -> FileStatus {
            var f = FileStatus(path: "evidence/E/inv.csv", server: "E", format: .fileInventory, encoding: .utf8, sizeBytes: 10, sha256: "",
                               modified: Date(timeIntervalSince1970: 0), lines: 2, records: records, warnings: [])
            f.webFolders = folders
            return f
        }
        let files = try #require(CoverageCheck.allCases.firstIndex(of: .filesOnDisk))
        let noBaseline = " (no known-good baseline in the evidence: web files were not compared by hash, so a changed Exchange page is not found)"
        let none = Coverage.evaluate(files: [inventory([])], hits: [], exposureStart: CaseSettings.defaultExposureStart)[files]
        #expect(none.status == .insufficientCoverage)
        #expect(none.reason == "the inventory lists no file under owa\\auth (FrontEnd\\HttpProxy\\owa\\auth, or ClientAccess\\Owa\\auth on Exchange 2013) nor under inetpub\\wwwroot (with aspnet_client; IIS puts iisstart.htm there), where web shells were dropped: no hit, but that does not show the server is clean" + noBaseline)
        // One folder only (the helper's single aspnet_client row): still short, naming the other.
        let one = Coverage.evaluate(files: [inventory(["inetpub\\wwwroot"])], hits: [], exposureStart: CaseSettings.defaultExposureStart)[files]
        #expect(one.status == .insufficientCoverage)
        #expect(one.reason.hasPrefix("the inventory lists no file under owa\\auth (FrontEnd\\HttpProxy\\owa\\auth, or ClientAccess\\Owa\\auth on Exchange 2013), where"))
        // Both, from two inventories: covered.
        let both = Coverage.evaluate(files: [inventory(["owa\\auth"]), inventory(["inetpub\\wwwroot"])], hits: [], exposureStart: CaseSettings.defaultExposureStart)[files]
        #expect(both.status == .noFindings)
        #expect(both.reason == "2 row(s) read; no hit" + noBaseline)
        // A baseline for another build is said so; one that applies leaves no note.
        var baseline = FileStatus(path: "evidence/E/baseline.csv", server: "E", format: .hashBaseline, encoding: .utf8, sizeBytes: 10, sha256: "",
                                  modified: Date(timeIntervalSince1970: 0), lines: 2, records: 2, warnings: [])
        baseline.baselineUsed = false
        let other = Coverage.evaluate(files: [inventory(["owa\\auth", "inetpub\\wwwroot"]), baseline], hits: [], exposureStart: CaseSettings.defaultExposureStart)[files]
        #expect(other.reason == "1 row(s) read; no hit (the known-good baseline is not for the server's recorded build: web files were not compared by hash)")
        baseline.baselineUsed = true
        let used = Coverage.evaluate(files: [inventory(["owa\\auth", "inetpub\\wwwroot"]), baseline], hits: [], exposureStart: CaseSettings.defaultExposureStart)[files]
        #expect(used.reason == "1 row(s) read; no hit")
        #expect(Coverage.evaluate(files: [inventory(nil, records: 0)], hits: [], exposureStart: CaseSettings.defaultExposureStart)[files].reason
                == "the inventory holds no rows: no hit, but that does not show the server is clean")

        // Read from a real file: a desktop path only, then an aspnet_client row, then an owa\\auth row.
        let dir = try TempDir("cov-inventory")
        let hash = String(repeating: "ab", count: 32)
        try dir.write("evidence/E/inv.csv", "path,sha256\nC:\\Users\\admin\\Desktop\\notes.txt,\(hash)\n")
        let scanner = EvidenceScanner(engine: try RuleEngine.builtIn())
        scanner.scan(caseFolder: dir.url)
        #expect(scanner.statuses.first?.webFileRows == 0)
        #expect(scanner.statuses.first?.webFolders == [])
        try dir.write("evidence/E/inv.csv", "path,sha256\nC:\\Users\\admin\\Desktop\\notes.txt,\(hash)\nC:/inetpub/wwwroot/aspnet_client/x.aspx,\(hash)\n")
        scanner.scan(caseFolder: dir.url)
        #expect(scanner.statuses.first?.webFileRows == 1)
        #expect(scanner.statuses.first?.webFolders == ["inetpub\\wwwroot"])
        try dir.append("evidence/E/inv.csv", "D:\\Exchange\\FrontEnd\\HttpProxy\\owa\\auth\\logon.aspx,\(hash)\n")
        scanner.scan(caseFolder: dir.url)
        #expect(scanner.statuses.first?.webFolders == ["inetpub\\wwwroot", "owa\\auth"])
    }

    /// A server whose recorded build is still vulnerable, with no patch or mitigation date, is
    /// exposed until now: its logs must run to about their intake, not only to 2021-03-03.
    @Test func stillExposedServerNeedsLogsUpToTheirIntake() throws {
        let d = { (s: String) in FileCursor.day(date(s + "T00:00:00.000Z")) }
        var f = FileStatus(path: "evidence/E/IIS/u_ex1.log", server: "E", format: .iisW3C, encoding: .utf8, sizeBytes: 10, sha256: "",
                           modified: Date(timeIntervalSince1970: 0), lines: 70, records: 65, warnings: [])
        f.firstEvent = date("2020-12-30T10:00:00.000Z")
        f.lastEvent = date("2021-03-03T13:00:00.000Z")
        f.recordDays = [[d("2020-12-30"), d("2021-03-03")]]
        let intake = ["evidence/E/IIS/u_ex1.log": date("2021-03-20T09:00:00.000Z")]
        let now = date("2021-03-21T00:00:00.000Z")
        let open = Coverage.evaluate(files: [f], hits: [], exposureStart: CaseSettings.defaultExposureStart, now: now, stillExposed: true, intake: intake)[4]
        #expect(open.status == .insufficientCoverage)
        #expect(open.reason == "logs end 2021-03-03T13:00:00.000Z, before 2021-03-13T09:00:00.000Z (the server's build is still vulnerable and no mitigation date, nor a patch date with a fixed build, is recorded: logs must run to within 7 days of their intake, 2021-03-20T09:00:00.000Z; if it was patched, record the fixed build and --patched-on): no hit, but that does not show the server is clean")
        // Not known to be exposed (patched, or build unknown): the default end applies.
        #expect(Coverage.evaluate(files: [f], hits: [], exposureStart: CaseSettings.defaultExposureStart, now: now, intake: intake)[4].status == .noFindings)
        // Logs that run to within 7 days of their intake cover it.
        f.lastEvent = date("2021-03-14T08:00:00.000Z")
        f.recordDays = [[d("2020-12-30"), d("2021-03-14")]]
        #expect(Coverage.evaluate(files: [f], hits: [], exposureStart: CaseSettings.defaultExposureStart, now: now, stillExposed: true, intake: intake)[4].status == .noFindings)
        // A copy of old logs registered later does not move what the logs must reach.
        var old = f
        old.path = "evidence/E/IIS/u_ex0.log"
        old.lastEvent = date("2021-01-31T08:00:00.000Z")
        old.recordDays = [[d("2020-12-30"), d("2021-01-31")]]
        var later = intake
        later[old.path] = date("2021-11-01T00:00:00.000Z")
        #expect(Coverage.evaluate(files: [old, f], hits: [], exposureStart: CaseSettings.defaultExposureStart, now: date("2021-11-02T00:00:00.000Z"),
                                  stillExposed: true, intake: later)[4].status == .noFindings)
    }

    /// A recorded vulnerable build makes a server "still exposed"; a patch date closes the window
    /// only with a fixed build recorded.
    @Test func stillExposedComesFromTheRecordedBuild() throws {
        let dir = try TempDir("cov-open")
        try Self.writeBenign(dir)
        let session = try Self.session(dir)
        var s = try #require(try session.scanOnce().summaries.first)
        #expect(s.verdict == .noFindings)
        var cf = try session.store.load()
        cf.servers[0].exchangeBuild = "15.1.2106.2" // Exchange 2016 CU18, before the March 2021 SU
        try session.store.save(cf)
        s = try #require(try Self.reopen(session.store).scanOnce().summaries.first)
        #expect(s.verdict == .insufficientCoverage)
        #expect(s.coverage[0].reason.contains("the server's build is still vulnerable"))
        cf = try session.store.load()
        cf.servers[0].patchedOn = date("2021-03-04T00:00:00.000Z")
        try session.store.save(cf)
        s = try #require(try Self.reopen(session.store).scanOnce().summaries.first)
        #expect(s.verdict == .insufficientCoverage, "a patch date with a build still below the fix does not close the window")
        cf = try session.store.load()
        cf.servers[0].exchangeBuild = "15.1.2106.13" // the March 2021 SU
        try session.store.save(cf)
        s = try #require(try Self.reopen(session.store).scanOnce().summaries.first)
        #expect(s.verdict == .noFindings)
    }

    /// Pitfall 7 (CSS-Exchange issues/100): show the chain stage, not just rows.
    @Test func chainFromSSRFToWebShell() throws {
        let dir = try TempDir("chain")
        try Self.writeBenign(dir)
        let attacker = "104.140.114.110", shellClient = "5.254.43.18"
        func ssrf(_ time: String, _ anchor: String, _ status: String) -> String {
            HttpProxyLog.row(["DateTime": time, "AnchorMailbox": anchor, "AuthenticatedUser": "", "IsAuthenticated": "false",
                              "ClientIpAddress": attacker, "UrlStem": "/ecp/y.js", "HttpStatus": status,
                              "RoutingHint": "X-BEResource-Cookie", "UserAgent": "ExchangeServicesClient/0.0.0.0"])
        }
        _ = try dir.append("evidence/EXCH01/HttpProxy/Ecp/HttpProxy_2020123010-1.LOG", [
            ssrf("2021-03-03T06:40:01.000Z", "ServerInfo~a]@exch01.corp.example:444/mapi/emsmdb/?#", "200"),
            ssrf("2021-03-03T06:40:05.000Z", "ServerInfo~a]@exch01.corp.example:444/ecp/proxyLogon.ecp?#", "241"),
            ssrf("2021-03-03T06:41:00.000Z", "ServerInfo~a]@exch01.corp.example:444/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory#", "200"),
        ].joined(separator: "\r\n") + "\r\n")
        _ = try dir.write("evidence/EXCH01/IIS/u_ex210303.log", (IISLog.header + [
            IISLog.line("POST", "/aspnet_client/discover.aspx", ip: shellClient, time: "2021-03-03 07:02:11"),
        ]).joined(separator: "\r\n") + "\r\n")
        _ = try dir.write("evidence/EXCH01/FileHashes/shell.csv",
                          Inventory.lines(path: "C:\\inetpub\\wwwroot\\aspnet_client\\discover.aspx").joined(separator: "\r\n") + "\r\n")
        let session = try Self.session(dir)
        let s = try #require(try session.scanOnce().summaries.first)
        #expect(s.verdict == .compromised)
        // The tool's user agent and the Volexity address on the SSRF rows are part of those steps,
        // not separate probes: no attempt stage.
        #expect(s.chain.map(\.stage) == [.entry, .fileWrite, .webShellOnDisk, .webShellRequested])
        let entry = s.chain[0]
        #expect(entry.indicators == ["IP-054", "PL-001", "PL-008", "UA-057"])
        #expect(entry.firstSeen == date("2021-03-03T06:40:01.000Z"))
        // PL-001 on the reset row is the SSRF that carried it: entry runs until then.
        #expect(entry.lastSeen == date("2021-03-03T06:41:00.000Z"))
        #expect(entry.clientIPs == [attacker])
        #expect(s.chain[1].indicators == ["IP-054", "PL-007", "UA-057"])
        #expect(s.chain[1].firstSeen == date("2021-03-03T06:41:00.000Z"))
        #expect(s.chain[2].indicators == ["FP-033", "FP-037"])
        #expect(s.chain[2].firstSeen == nil)
        #expect(s.chain[3].clientIPs == [shellClient])
        #expect(s.chain[3].indicators == ["IIS-063", "IP-054"])
        // A probe on a line of its own stays an attempt.
        let probe = makeHit("IIS-060", .medium, .attempt, line: 40)
        #expect(Chains.build(hits: [probe, makeHit("IIS-063", .critical, .webShell, line: 41)], formats: [:]).map(\.stage) == [.attempt, .webShellOnDisk])
        #expect(s.coverage[0].status == .findings)
        // Per row: PL-001, IP-054, UA-057, plus PL-008 on the 241 row and PL-007 on the reset row.
        #expect(s.coverage[0].hits == 11)
        #expect(s.afterExposureEnd == nil)
        // Patched at 07:00: the web-shell request at 07:02 shows the attacker still at work.
        var cf = try session.store.load()
        cf.servers[0].patchedOn = date("2021-03-03T07:00:00.000Z")
        try session.store.save(cf)
        let patched = try #require(try Self.reopen(session.store).scanOnce().summaries.first)
        #expect(patched.afterExposureEnd?.hits == 1)
        #expect(patched.afterExposureEnd?.stages == [.webShellRequested])
        #expect(patched.afterExposureEnd?.lastSeen == date("2021-03-03T07:02:11.000Z"))
    }
}
