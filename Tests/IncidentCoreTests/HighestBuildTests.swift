import Foundation
import Testing
@testable import IncidentCore

/// The Exchange build the logs show: one rule for lines, files and servers (the highest).
@Suite("Build evidence: the highest build, however the lines are split into files")
struct HighestBuildTests {
    static let cu7 = IISLog.line("GET", "/owa/auth/15.1.1261/themes/resources/favicon.ico", time: "2021-03-01 06:00:00")
    static let cu20 = IISLog.line("GET", "/owa/auth/15.1.2242/themes/resources/favicon.ico", time: "2021-03-20 06:00:00")

    func summary(_ files: [String: [String]]) throws -> (ServerSummary, [String?]) {
        let dir = try TempDir("highest-build")
        for (path, lines) in files { try dir.write(path, ScanFixture.text(lines)) }
        let store = CaseStore(folder: dir.url)
        try store.create(CaseFile(name: "builds"))
        let session = CaseSession(store: store, caseFile: try store.load(), engine: try builtInEngine(), playbook: try Playbook.builtIn(),
                                  responder: "tester", origin: "local")
        let snap = session.scanOnce()
        return (try #require(snap.summaries.first), snap.statuses.map(\.exchangeBuild))
    }

    @Test func oneFileOrTwoInEitherOrderGiveTheSameBuildAndPatchState() throws {
        let oneFile = try summary(["evidence/EXCH01/IIS/u_ex210301.log": [Self.cu7, ScanFixture.benign, Self.cu20]])
        let reversed = try summary(["evidence/EXCH01/IIS/u_ex210301.log": [Self.cu20, ScanFixture.benign, Self.cu7]])
        let twoFiles = try summary(["evidence/EXCH01/IIS/u_ex210301.log": [Self.cu7], "evidence/EXCH01/IIS/u_ex210320.log": [Self.cu20]])
        #expect(oneFile.1 == ["15.1.2242"])
        #expect(reversed.1 == ["15.1.2242"])
        #expect(twoFiles.1 == ["15.1.1261", "15.1.2242"])
        for (s, _) in [oneFile, reversed, twoFiles] {
            #expect(s.patchState == .patched)
            #expect(s.patchReason == "logs show build 15.1.2242 ≥ fixed 15.1.2242.4")
        }
        // Only the older CU: vulnerable, however it is split.
        let old = try summary(["evidence/EXCH01/IIS/u_ex210301.log": [Self.cu7, Self.cu7]])
        #expect(old.0.patchState == .vulnerable)
        #expect(old.0.patchReason.hasPrefix("logs show build 15.1.1261 is Exchange 2016 CU7 or older"))
    }

    /// The quick path's byte readers against the parser's reading of the same line.
    @Test func quickBuildReadersDecideAsTheParsedLineDoes() throws {
        let stems: [(String, BuildEvidence.QuickShown)] = [
            ("/owa/auth/15.1.2176/x.gif", .build(ExchangeBuild(15, 1, 2176))),
            ("/owa/auth/15.1.0/x.gif", .none),
            ("/owa/15.1.9999x/x.gif", .unsure),
            ("/a/b/c/d/15.2.9999/x.gif", .none),
            ("//owa//15.01.02200.009//x.gif", .build(ExchangeBuild(15, 1, 2200))),
            ("/owa/15.2/x.gif", .none),
            ("/owa/15.1.1234567/x.gif", .none),
            ("/owa/15.1.2176.2.1/x.gif", .none),
            ("/15.0.1497/x.gif", .build(ExchangeBuild(15, 0, 1497))),
            ("/owa/service.svc", .none),
            ("/owa/15.1.0/15.1.2106/x.gif", .build(ExchangeBuild(15, 1, 2106))),
        ]
        for (stem, expected) in stems {
            let bytes = Array(stem.utf8)
            let quick = bytes.withUnsafeBufferPointer { BuildEvidence.versionFolder($0, 0..<$0.count) }
            #expect(quick == expected, "\(stem)")
            let record = try #require(parseAll(IISLog.lines("GET", stem), format: .iisW3C).first)
            let parsed = BuildEvidence.cuBuild(line: record.raw, record: record)
            switch quick {
            case let .build(b): #expect(parsed == b, "\(stem)")
            case .none: #expect(parsed == nil, "\(stem)")
            case .unsure: break
            }
        }
        let columns: [([String], BuildEvidence.QuickShown)] = [
            (["15", "1", "2106"], .build(ExchangeBuild(15, 1, 2106))),
            (["015", "01", "002106"], .build(ExchangeBuild(15, 1, 2106))),
            ([" 15", "2", "1118"], .unsure),
            (["", "1", "2106"], .none),
            (["16", "1", "2106"], .none),
            (["15", "1", "0"], .none),
            (["15", "x", ""], .none),
            (["15", "1", "1234567"], .none),
        ]
        for (values, expected) in columns {
            let line = values.joined(separator: ",")
            let bytes = Array(line.utf8)
            let quick = bytes.withUnsafeBufferPointer { b -> BuildEvidence.QuickShown in
                guard let r = ByteScan.fields(b, (0, 1, 2), separator: 0x2C) else { return .unsure }
                return BuildEvidence.versionColumns(b, r)
            }
            #expect(quick == expected, "\(values)")
            let parsed = ExchangeBuild(parsing: "\(values[0]).\(values[1]).\(values[2])").flatMap { $0.build > 0 ? $0 : nil }
            switch quick {
            case let .build(b): #expect(parsed == b, "\(values)")
            case .none: #expect(parsed == nil, "\(values)")
            case .unsure: #expect(parsed == ExchangeBuild(15, 2, 1118))
            }
        }
        // One walk finds three fields in any order; too few fields is nil.
        let fields = Array("a,bb,,dddd,e".utf8).withUnsafeBufferPointer { b in ByteScan.fields(b, (3, 1, 2), separator: 0x2C).map { [$0.0, $0.1, $0.2] } }
        #expect(fields == [6..<10, 2..<4, 5..<5])
        #expect(Array("a,b".utf8).withUnsafeBufferPointer { ByteScan.fields($0, (0, 1, 2), separator: 0x2C) == nil })
        #expect(BuildEvidence.mayRaise(.build(ExchangeBuild(15, 1, 2106)), above: ExchangeBuild(15, 1, 2106)) == false)
        #expect(BuildEvidence.mayRaise(.build(ExchangeBuild(15, 1, 2176)), above: ExchangeBuild(15, 1, 2106)) == true)
        #expect(BuildEvidence.mayRaise(.build(ExchangeBuild(15, 0, 1497)), above: nil) == true)
        #expect(BuildEvidence.mayRaise(.unsure, above: ExchangeBuild(15, 2, 9999)) == true)
        #expect(BuildEvidence.mayRaise(.none, above: nil) == false)
    }

    @Test func aBuildTheTableDoesNotHaveGivesUnknownFromLogs() throws {
        let typo = IISLog.line("GET", "/owa/auth/15.1.22424/themes/resources/favicon.ico")
        let (s, builds) = try summary(["evidence/EXCH01/IIS/u_ex210301.log": [Self.cu7, typo]])
        #expect(builds == ["15.1.22424"])
        #expect(s.patchState == .unknown)
        #expect(s.patchReason == "no build recorded (set it with b in the console or incident server set --build); logs show build not in the build table: 15.1.22424 is above Exchange 2016 CU23 (15.1.2507.6), the newest 15.1 CU it lists; check the build (ExSetup.exe's file version: Get-Command ExSetup.exe | % { $_.FileVersionInfo.FileVersion })")
    }
}
