import Foundation
import Testing
@testable import IncidentCore

/// The build table of proxylogon.md §3.2, written out again here so a changed table fails.
/// (CU, CU build, last vulnerable build, first fixed build).
let expectedRows: [(String, String, String, String)] = [
    ("Exchange 2013 SP1 (CU4)", "15.0.847.32", "15.0.847.63", "15.0.847.64"),
    ("Exchange 2013 CU21", "15.0.1395.4", "15.0.1395.11", "15.0.1395.12"),
    ("Exchange 2013 CU22", "15.0.1473.3", "15.0.1473.5", "15.0.1473.6"),
    ("Exchange 2013 CU23", "15.0.1497.2", "15.0.1497.11", "15.0.1497.12"),
    ("Exchange 2016 CU8", "15.1.1415.2", "15.1.1415.7", "15.1.1415.8"),
    ("Exchange 2016 CU9", "15.1.1466.3", "15.1.1466.12", "15.1.1466.13"),
    ("Exchange 2016 CU10", "15.1.1531.3", "15.1.1531.11", "15.1.1531.12"),
    ("Exchange 2016 CU11", "15.1.1591.10", "15.1.1591.17", "15.1.1591.18"),
    ("Exchange 2016 CU12", "15.1.1713.5", "15.1.1713.9", "15.1.1713.10"),
    ("Exchange 2016 CU13", "15.1.1779.2", "15.1.1779.7", "15.1.1779.8"),
    ("Exchange 2016 CU14", "15.1.1847.3", "15.1.1847.11", "15.1.1847.12"),
    ("Exchange 2016 CU15", "15.1.1913.5", "15.1.1913.11", "15.1.1913.12"),
    ("Exchange 2016 CU16", "15.1.1979.3", "15.1.1979.7", "15.1.1979.8"),
    ("Exchange 2016 CU17", "15.1.2044.4", "15.1.2044.12", "15.1.2044.13"),
    ("Exchange 2016 CU18", "15.1.2106.2", "15.1.2106.12", "15.1.2106.13"),
    ("Exchange 2016 CU19", "15.1.2176.2", "15.1.2176.8", "15.1.2176.9"),
    ("Exchange 2019 RTM", "15.2.221.12", "15.2.221.17", "15.2.221.18"),
    ("Exchange 2019 CU1", "15.2.330.5", "15.2.330.10", "15.2.330.11"),
    ("Exchange 2019 CU2", "15.2.397.3", "15.2.397.10", "15.2.397.11"),
    ("Exchange 2019 CU3", "15.2.464.5", "15.2.464.14", "15.2.464.15"),
    ("Exchange 2019 CU4", "15.2.529.5", "15.2.529.12", "15.2.529.13"),
    ("Exchange 2019 CU5", "15.2.595.3", "15.2.595.7", "15.2.595.8"),
    ("Exchange 2019 CU6", "15.2.659.4", "15.2.659.11", "15.2.659.12"),
    ("Exchange 2019 CU7", "15.2.721.2", "15.2.721.12", "15.2.721.13"),
    ("Exchange 2019 CU8", "15.2.792.3", "15.2.792.9", "15.2.792.10"),
]

func build(_ s: String) -> ExchangeBuild { ExchangeBuild(parsing: s)! }

func isFixed(_ s: String) -> Bool { if case .fixed = BuildTable.assess(build(s)) { true } else { false } }
func isVulnerable(_ s: String) -> Bool { if case .vulnerable = BuildTable.assess(build(s)) { true } else { false } }
func isUndetermined(_ s: String) -> Bool { if case .undetermined = BuildTable.assess(build(s)) { true } else { false } }

@Suite("Build table (proxylogon.md §3.2)")
struct BuildTableTests {
    @Test("each CU's last vulnerable build is vulnerable and its first fixed build is fixed",
          arguments: expectedRows)
    func eachCU(row: (String, String, String, String)) throws {
        let (name, cu, lastVulnerable, firstFixed) = row
        let tableRow = try #require(BuildTable.row(for: build(cu)), "\(name) missing")
        #expect("\(tableRow.product) \(tableRow.cu)" == name)
        #expect(tableRow.firstFixed?.description == firstFixed)
        #expect(tableRow.lastVulnerable?.description == lastVulnerable)
        #expect(isVulnerable(cu), "\(name) CU build \(cu)")
        #expect(isVulnerable(lastVulnerable), "\(name) last vulnerable \(lastVulnerable)")
        #expect(isFixed(firstFixed), "\(name) first fixed \(firstFixed)")
        // Later security updates of the same CU are fixed too.
        var later = build(firstFixed)
        later.revision! += 3
        #expect(isFixed(later.description))
        #expect(BuildTable.assess(build(lastVulnerable)).reason == "build \(lastVulnerable) < fixed \(firstFixed) (\(name))")
        #expect(BuildTable.assess(build(firstFixed)).reason == "build \(firstFixed) ≥ fixed \(firstFixed)")
    }

    @Test func tableHasEveryRow() {
        // 25 CUs with a security update, 2016 CU20 and 2019 CU9 fixed at release, 2010 SP3,
        // and the two "no fix" rows.
        #expect(BuildTable.rows.count == 30)
        #expect(BuildTable.rows.filter { $0.firstFixed == nil }.map(\.cu) == ["CU20", "CU7"])
    }

    @Test func cusThatShippedFixed() {
        #expect(isFixed("15.1.2242.4"))
        #expect(isFixed("15.2.858.5"))
        #expect(BuildTable.assess(build("15.2.858.5")).reason == "build 15.2.858.5 ≥ fixed 15.2.858.5")
        // Later CUs include the fix.
        #expect(isFixed("15.1.2308.8"))
        #expect(isFixed("15.2.922.7"))
        // CU-level builds (from logs) of those CUs show the fix too.
        #expect(isFixed("15.1.2242"))
    }

    @Test func cusWithoutAFix() {
        #expect(isVulnerable("15.0.1367.3"))   // 2013 CU20
        #expect(isVulnerable("15.0.1365.1"))   // 2013 CU19
        #expect(isVulnerable("15.0.516.32"))   // 2013 RTM
        #expect(isVulnerable("15.1.1261.35"))  // 2016 CU7
        #expect(isVulnerable("15.1.225.16"))   // 2016 RTM
        #expect(BuildTable.assess(build("15.1.1261.35")).reason
                == "build 15.1.1261.35 is Exchange 2016 CU7 or older, for which no fix was released: upgrade the CU, then install the SU")
        // Even as a CU-level build from logs.
        #expect(isVulnerable("15.0.1367"))
    }

    @Test func intermediateSecurityUpdatesAreStillVulnerable() {
        for b in ["15.0.1497.10", "15.1.2044.12", "15.1.2106.8", "15.1.2176.4", "15.2.721.8", "15.2.792.5"] {
            #expect(isVulnerable(b), "\(b)")
        }
    }

    @Test func exchange2010() {
        #expect(isVulnerable("14.3.123.4"))    // SP3 RTM
        #expect(isVulnerable("14.3.509.0"))    // RU31
        #expect(isFixed("14.3.513.0"))         // RU32 = KB5000978
        #expect(isFixed("14.03.0513.000"))
        #expect(isVulnerable("14.2.247.5"))    // SP2
        #expect(BuildTable.assess(build("14.3.509.0")).reason
                == "build 14.3.509.0 < fixed 14.3.513.0 (Exchange 2010 SP3 Update Rollup 32, CVE-2021-26857)")
    }

    @Test func cuLevelBuildsNeverProveAnSecurityUpdate() {
        #expect(isUndetermined("15.1.2176"))
        #expect(isUndetermined("15.1.2106"))
        #expect(BuildTable.assess(build("15.1.2106")).reason
                == "build 15.1.2106 shows Exchange 2016 CU18 but not its security update (fixed from 15.1.2106.13): read ExSetup.exe's version")
    }

    @Test func unknownBuilds() {
        #expect(isUndetermined("15.1.1300.1"))   // between listed CUs, not a CU build
        #expect(isUndetermined("15.3.100.1"))
    }

    static let readExSetup = "check the build (ExSetup.exe's file version: Get-Command ExSetup.exe | % { $_.FileVersionInfo.FileVersion })"

    @Test("a build the table does not have is unknown, never patched: above the newest CU of its version, between CUs, or of no known version")
    func notInTheBuildTable() {
        let cases: [(String, String)] = [
            ("15.1.22424.4", "15.1.22424.4 is above Exchange 2016 CU23 (15.1.2507.6), the newest 15.1 CU it lists"),
            ("15.2.99999.0", "15.2.99999.0 is above Exchange SE RTM (15.2.2562.17), the newest 15.2 CU it lists"),
            ("15.0.9999.0", "15.0.9999.0 is above Exchange 2013 CU23 (15.0.1497.2), the newest 15.0 CU it lists"),
            ("15.1.22424", "15.1.22424 is above Exchange 2016 CU23 (15.1.2507.6), the newest 15.1 CU it lists"),
            ("14.3.600.0", "14.3.600.0 is above Exchange 2010 SP3 Update Rollup 32 (14.3.513.0), the last Exchange 2010 update"),
            ("14.4.100.0", "14.4.100.0 is above Exchange 2010 SP3 Update Rollup 32 (14.3.513.0), the last Exchange 2010 update"),
            ("15.1.2300.0", "15.1.2300.0 is no Exchange 2016 CU the table lists (none was released with this build number)"),
            ("15.2.2000.1", "15.2.2000.1 is no Exchange 2019 CU the table lists (none was released with this build number)"),
            ("15.1.1300.1", "15.1.1300.1 is no Exchange 2016 CU the table lists (none was released with this build number)"),
            ("15.3.100.1", "15.3.100.1 is not Exchange 2010, 2013, 2016, 2019 or SE"),
        ]
        for (text, why) in cases {
            let reason = "build not in the build table: \(why); \(Self.readExSetup)"
            #expect(isUndetermined(text), "\(text)")
            #expect(BuildTable.assess(build(text)).reason == reason)
            #expect(BuildTable.notInTableReason(build(text)) == reason)
        }
        // The table's own builds, and older CUs it knows had no fix, are in it.
        for known in ["15.1.2242.4", "15.1.2507.75", "15.2.858.5", "15.2.1748.53", "15.2.2562.17", "15.0.1497.48", "15.0.1365.1",
                      "15.1.225.16", "14.3.513.0", "14.3.123.4", "14.2.247.5", "15.1.2176", "15.1.2106.2"] {
            #expect(BuildTable.notInTableReason(build(known)) == nil, "\(known)")
        }
    }

    @Test("a recorded build not in the table gives patch state unknown and does not complete the patch step")
    func notInTheBuildTablePatchState() throws {
        let playbook = try Playbook.builtIn()
        for text in ["15.1.22424.4", "15.2.99999.0", "15.0.9999.0"] {
            var cf = CaseFile(name: "typo", servers: [Server(name: "EXCH02", exchangeBuild: text)])
            let (state, reason) = Remediation.patchState(server: cf.servers[0], caseFile: cf)
            #expect(state == .unknown, "\(text)")
            #expect(reason.hasPrefix("build not in the build table: \(text) is above "), "\(reason)")
            // Logs showing a CU do not hide it: the reason still names the recorded build.
            #expect(Remediation.patchState(server: cf.servers[0], caseFile: cf, logBuild: ExchangeBuild(15, 1, 9999)).0 == .unknown)
            _ = Remediation.reconcile(&cf, hits: nil, playbook: playbook, at: Date())
            #expect(cf.stepState(server: "EXCH02", step: Remediation.patchStep) == .todo)
        }
        // A patch step an older version completed for such a build is reopened.
        var cf = CaseFile(name: "typo", servers: [Server(name: "EXCH02", exchangeBuild: "15.1.22424.4")])
        cf.checklists["EXCH02"] = [Remediation.patchStep: ChecklistEntry(state: .done, by: "incident (build 15.1.22424.4 ≥ fixed 15.1.2242.4)", at: Date())]
        _ = Remediation.reconcile(&cf, hits: nil, playbook: playbook, at: Date())
        #expect(cf.stepState(server: "EXCH02", step: Remediation.patchStep) == .todo)
    }

    @Test("server changes refuse a build not in the table, with its reason, and change nothing")
    func serverChangesRefuseIt() throws {
        var cf = CaseFile(name: "typo", servers: [Server(name: "EXCH02", exchangeBuild: "15.1.2106.2")])
        let before = cf
        #expect(throws: ServerEditError.buildNotInTable(BuildTable.notInTableReason(build("15.1.22424.4"))!)) {
            try cf.applyServerChanges(ServerChanges(build: "15.1.22424.4", fqdn: "exch02.corp.example"), server: "EXCH02", by: "t", at: Date())
        }
        #expect(cf == before)
        #expect(ServerEditError.buildNotInTable("why").description == "why; nothing was recorded")
        #expect(try cf.applyServerChanges(ServerChanges(build: "15.1.2507.6"), server: "EXCH02", by: "t", at: Date()))
        #expect(cf.servers[0].exchangeBuild == "15.1.2507.6")
    }

    @Test("the CUs after 2016 CU20 and 2019 CU9 are listed, shipped fixed, with their security updates")
    func laterCUs() {
        #expect(BuildTable.laterCUs.map { "\($0.product) \($0.cu) \($0.cuBuild)" } == [
            "Exchange 2016 CU21 15.1.2308.8", "Exchange 2016 CU22 15.1.2375.7", "Exchange 2016 CU23 15.1.2507.6",
            "Exchange 2019 CU10 15.2.922.7", "Exchange 2019 CU11 15.2.986.5", "Exchange 2019 CU12 15.2.1118.7",
            "Exchange 2019 CU13 15.2.1258.12", "Exchange 2019 CU14 15.2.1544.4", "Exchange 2019 CU15 15.2.1748.10",
            "Exchange SE RTM 15.2.2562.17",
        ])
        for row in BuildTable.laterCUs {
            #expect(row.firstFixed == row.cuBuild)
            #expect(isFixed(row.cuBuild.description))
            var su = row.cuBuild
            su.revision! += 20
            #expect(isFixed(su.description))
            #expect(isFixed("\(row.cuBuild.major).\(row.cuBuild.minor).\(row.cuBuild.build)"))  // CU-level, from logs
            #expect(BuildTable.row(for: row.cuBuild) == row)
        }
        #expect(BuildTable.newestCU(major: 15, minor: 1)?.cu == "CU23")
        #expect(BuildTable.newestCU(major: 15, minor: 2)?.cuBuild == build("15.2.2562.17"))
        #expect(BuildTable.newestCU(major: 15, minor: 0)?.cu == "CU23")
        #expect(BuildTable.newestCU(major: 15, minor: 3) == nil)
    }

    @Test("short, zero-padded and comma forms parse to the same build")
    func forms() {
        #expect(build("15.1.2176.9") == build("15.01.2176.009"))
        #expect(build("15.01.2176.009").description == "15.1.2176.9")
        #expect(build("15.02.0721.013").description == "15.2.721.13")
        #expect(build("15,1,2375,7").description == "15.1.2375.7")
        #expect(build(" 15.1.2176.9 ").description == "15.1.2176.9")
        #expect(build("15.1.2176").revision == nil)
        #expect(isFixed("15.01.2176.009"))
        #expect(isVulnerable("15.01.2176.008"))
        #expect(isFixed("15.00.1497.012"))
        #expect(isVulnerable("15.02.0792.009"))
        for bad in ["", "15", "15.1", "15.1.2176.9.1", "16.0.1.1", "15.1.x.9", "15..2176.9", "15.1.2176.9a", "15.1.1234567.1", "١٥.1.2176.9"] {
            #expect(ExchangeBuild(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func ordering() {
        #expect(build("15.1.2176.9") < build("15.1.2176.10"))
        #expect(build("15.1.2176") < build("15.1.2176.0"))
        #expect(build("15.0.1497.12") < build("15.1.225.16"))
    }
}

@Suite("Build evidence in logs")
struct BuildEvidenceTests {
    @Test func versionDirective() {
        #expect(BuildEvidence.cuBuild(line: "#Version: 15.01.2106.002", record: nil) == ExchangeBuild(15, 1, 2106))
        #expect(BuildEvidence.cuBuild(line: "#Version: 1.0", record: nil) == nil)
        #expect(BuildEvidence.cuBuild(line: "#Version: 15.0.0.0", record: nil) == nil)
    }

    @Test func iisVersionFolders() {
        let lines = IISLog.lines("GET", "/owa/auth/15.1.2176/themes/resources/favicon.ico")
        let records = parseAll(lines, format: .iisW3C)
        #expect(records.compactMap { BuildEvidence.cuBuild(line: $0.raw, record: $0) } == [ExchangeBuild(15, 1, 2176)])
        let ecp = parseAll(IISLog.lines("GET", "/ecp/15.1.2176.2/scripts/x.js"), format: .iisW3C)
        #expect(ecp.compactMap { BuildEvidence.cuBuild(line: $0.raw, record: $0) } == [ExchangeBuild(15, 1, 2176)])
        let none = parseAll(IISLog.lines("GET", "/owa/auth/logon.aspx"), format: .iisW3C)
        #expect(none.compactMap { BuildEvidence.cuBuild(line: $0.raw, record: $0) }.isEmpty)
    }

    @Test("the demo's HttpProxy #Version line shows CU18, which alone does not decide the patch state")
    func demoLogs() throws {
        let (snap, _) = try DemoCaseTests.scanDemo()
        let proxy = try #require(snap.statuses.first { $0.path == "evidence/EXCH01/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG" })
        #expect(proxy.exchangeBuild == "15.1.2106")
        // ECP Server logs: `#Version: 15.0.0.0` is ignored, `S:BLD=15.1.2106.2` counts (at the CU level).
        let ecp = try #require(snap.statuses.first { $0.path == "evidence/EXCH01/Logging/ECP/Server/ECPServer20210303-1.LOG" })
        #expect(ecp.exchangeBuild == "15.1.2106")
        // IIS logs of the demo carry no version folder.
        #expect(snap.statuses.first { $0.path == "evidence/EXCH01/IIS/W3SVC1/u_ex210303.log" }?.exchangeBuild == nil)
        var caseFile = snap.caseFile
        caseFile.servers[0].exchangeBuild = nil
        let (state, reason) = Remediation.patchState(server: caseFile.servers[0], caseFile: caseFile, logBuild: ExchangeBuild(15, 1, 2106))
        #expect(state == .unknown)
        #expect(reason == "no build recorded (set it with b in the console or incident server set --build)")
        let (old, why) = Remediation.patchState(server: caseFile.servers[0], caseFile: caseFile, logBuild: ExchangeBuild(15, 1, 1261))
        #expect(old == .vulnerable)
        #expect(why.hasPrefix("logs show build 15.1.1261 is Exchange 2016 CU7 or older"))
    }
}
