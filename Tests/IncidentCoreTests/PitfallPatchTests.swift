import Foundation
import Testing
@testable import IncidentCore

/// The build and mitigation pitfalls of `../shared/knowledge/proxylogon.md` §5: 23, 24, 26, 29.
extension PitfallTests {
    /// Applies edits through the session and returns the summary of `server` afterwards.
    static func perform(_ session: CaseSession, _ edits: CaseEdit..., server: String = "EXCH09") -> ServerSummary {
        for e in edits { session.perform(e) }
        return session.currentSnapshot().summaries.first { $0.name == server }!
    }

    static func onDisk(_ dir: TempDir) throws -> CaseFile { try CaseStore(folder: dir.url).load() }

    /// #23 (CSS-Exchange issues/424, commit bac721a): the first EOMT release compared `-ge` the wrong
    /// way round and kept calling 2016 CU20 / 2019 CU9 vulnerable. Here a build exactly at the first
    /// fixed build of its CU is patched, one revision below is not, and an EOMT log saying
    /// "vulnerable" on such a server changes neither the patch state nor raises more than info.
    @Test func p23FirstFixedBuildIsPatched() throws {
        for text in ["15.1.2242.4", "15.2.858.5", "15.1.2106.13", "15.1.2176.9", "15.2.792.10", "15.0.1497.12", "14.3.513.0"] {
            let build = try #require(ExchangeBuild(parsing: text))
            guard case let .fixed(b, fixed, _) = BuildTable.assess(build) else {
                Issue.record("\(text) is not assessed as fixed: \(BuildTable.assess(build).reason)"); continue
            }
            #expect(b.description == text && fixed.description == text)
        }
        #expect(BuildTable.assess(ExchangeBuild(parsing: "15.1.2106.12")!).reason == "build 15.1.2106.12 < fixed 15.1.2106.13 (Exchange 2016 CU18)")
        #expect(BuildTable.assess(ExchangeBuild(parsing: "15.2.792.9")!).reason == "build 15.2.792.9 < fixed 15.2.792.10 (Exchange 2019 CU8)")
        // EOMT reads the CU-level version from the registry (no revision): CU20 / CU9 are fixed as such.
        #expect(BuildTable.assess(ExchangeBuild(parsing: "15.1.2242")!).reason == "build 15.1.2242 ≥ fixed 15.1.2242.4")
        #expect(BuildTable.assess(ExchangeBuild(parsing: "15.2.858")!).reason == "build 15.2.858 ≥ fixed 15.2.858.5")

        for (build, server) in [("15.1.2242.4", "EXCH09"), ("15.2.858.5", "EXCH09")] {
            let dir = try TempDir("p23")
            try Self.fixture(dir, "EOMT-CU20-vulnerable.log", as: "evidence/\(server)/EOMT.log")
            let snap = try Self.session(dir, build: build).scanOnce()
            let status = try #require(snap.statuses.first { $0.path == "evidence/\(server)/EOMT.log" })
            #expect(status.format == .eomtLog)
            #expect(status.records == 5)
            #expect(snap.hits.filter { $0.severity > .info }.isEmpty)
            #expect(snap.hits.isEmpty)
            let s = try #require(snap.summaries.first { $0.name == server })
            #expect(s.patchState == .patched)
            #expect(s.patchReason == "build \(build) ≥ fixed \(build)")
            #expect(try Self.onDisk(dir).checklists[server]?["patch"]?.by == "incident (build \(build) ≥ fixed \(build))")
        }
    }

    /// #24 (CSS-Exchange issues/378): a CU upgrade after EOMT removes the URL Rewrite rules. A done
    /// interim mitigation is reopened when the recorded build moves to another CU that is still not
    /// patched, with the reason, and the patch state goes back to vulnerable.
    @Test func p24CUUpgradeReopensTheMitigation() throws {
        let dir = try TempDir("p24")
        let session = try Self.session(dir, build: "15.1.2106.2")
        _ = session.scanOnce()
        var s = Self.perform(session, done("EXCH09", "interim-mitigation"))
        #expect(s.patchState == .mitigated)
        #expect(try Self.onDisk(dir).checklists["EXCH09"]?["interim-mitigation"]?.buildAtDone == "15.1.2106.2")

        // A security update of the same CU (still vulnerable) keeps the mitigation.
        s = Self.perform(session, setBuild("EXCH09", "15.1.2106.8"))
        #expect(s.patchState == .mitigated)
        #expect(try Self.onDisk(dir).stepState(server: "EXCH09", step: "interim-mitigation") == .done)

        s = Self.perform(session, setBuild("EXCH09", "15.1.2176.2"))
        let why = "incident (CU changed from 15.1.2106 to 15.1.2176 after the mitigation was done: a CU upgrade removes the URL Rewrite rules; re-run EOMT)"
        #expect(s.patchState == .vulnerable)
        #expect(s.patchReason == "build 15.1.2176.2 < fixed 15.1.2176.9 (Exchange 2016 CU19)")
        var cf = try Self.onDisk(dir)
        let entry = try #require(cf.checklists["EXCH09"]?["interim-mitigation"])
        #expect(entry.state == .todo)
        #expect(entry.by == why)
        #expect(entry.note == "reopened: the mitigation was done on another CU; check web.config for the rewrite rules")
        let audit = try #require(cf.audit.last { $0.field == "EXCH09/interim-mitigation" })
        #expect(audit.by == why)
        #expect(audit.action == "checklist.step")
        #expect(audit.before == "done" && audit.after == "todo")
        #expect(cf.audit.filter { $0.field == "EXCH09/interim-mitigation" }.count == 2)

        // Mitigated again on the new CU; then the SU of that CU: patched, the mitigation is left alone.
        s = Self.perform(session, done("EXCH09", "interim-mitigation"))
        #expect(s.patchState == .mitigated)
        #expect(try Self.onDisk(dir).checklists["EXCH09"]?["interim-mitigation"]?.buildAtDone == "15.1.2176.2")
        s = Self.perform(session, setBuild("EXCH09", "15.1.2242.4"))
        #expect(s.patchState == .patched)
        cf = try Self.onDisk(dir)
        #expect(cf.stepState(server: "EXCH09", step: "interim-mitigation") == .done)
        #expect(cf.audit.filter { $0.field == "EXCH09/interim-mitigation" }.count == 3)
    }

    /// #24: a case file from before ``ChecklistEntry/buildAtDone`` loads; the build is recorded at
    /// the next reconcile, and nothing is reopened without it.
    @Test func p24OldMitigationEntryGetsItsBuild() throws {
        let at = date("2021-03-20T09:00:00.000Z")
        var cf = CaseFile(name: "old", created: at, servers: [Server(name: "EXCH09", exchangeBuild: "15.1.2176.2")])
        cf.checklists["EXCH09"] = ["interim-mitigation": ChecklistEntry(state: .done, by: "alice", at: at)]
        let json = String(decoding: try JSONCoding.encoder().encode(cf), as: UTF8.self)
        #expect(!json.contains("buildAtDone"))
        let playbook = try Playbook.builtIn()
        #expect(Remediation.automaticChanges(caseFile: cf, hits: nil, playbook: playbook).isEmpty)
        #expect(Remediation.reconcile(&cf, hits: nil, playbook: playbook, at: at))
        #expect(cf.checklists["EXCH09"]?["interim-mitigation"]?.buildAtDone == "15.1.2176.2")
        #expect(cf.checklists["EXCH09"]?["interim-mitigation"]?.by == "alice")
        #expect(!Remediation.reconcile(&cf, hits: nil, playbook: playbook, at: at))
    }

    /// #26 (learn.microsoft.com Q&A 298536): an SU installed without elevation, or lost with a CU
    /// upgrade, leaves the build below the fix. The patch state follows the build, not the step.
    @Test func p26PatchVerificationUsesTheBuild() throws {
        let dir = try TempDir("p26")
        let session = try Self.session(dir, build: "15.1.2106.2")
        _ = session.scanOnce()
        var s = Self.perform(session, done("EXCH09", "patch"))
        #expect(try Self.onDisk(dir).stepState(server: "EXCH09", step: "patch") == .done)
        #expect(s.patchState == .vulnerable)
        #expect(s.patchReason == "build 15.1.2106.2 < fixed 15.1.2106.13 (Exchange 2016 CU18)")
        #expect(!s.isDone)

        let dir2 = try TempDir("p26b")
        let session2 = try Self.session(dir2, build: "15.1.2106.2")
        _ = session2.scanOnce()
        s = Self.perform(session2, setBuild("EXCH09", "15.1.2106.13"))
        #expect(s.patchState == .patched)
        #expect(try Self.onDisk(dir2).checklists["EXCH09"]?["patch"]?.by == "incident (build 15.1.2106.13 ≥ fixed 15.1.2106.13)")
        // CU19 installed, its SU not yet: the recorded build is CU19's release build.
        s = Self.perform(session2, setBuild("EXCH09", "15.1.2176.2"))
        #expect(s.patchState == .vulnerable)
        #expect(s.patchReason == "build 15.1.2176.2 < fixed 15.1.2176.9 (Exchange 2016 CU19)")
        #expect(!s.isDone)
        let entry = try #require(try Self.onDisk(dir2).checklists["EXCH09"]?["patch"])
        #expect(entry.state == .todo)
        #expect(entry.by == "incident (build 15.1.2176.2 < fixed 15.1.2176.9 (Exchange 2016 CU19))")
    }

    /// #29 (CSS-Exchange commit 4b94757): the first ExchangeMitigations / BackendCookieMitigation
    /// releases wrote `patterSyntax` on rule 1. Collected web.config files are read by content;
    /// both spellings give the info finding, a file without the rules or a cut file says so in
    /// its warnings, and junk named web.config is not read as one.
    @Test func p29WebConfigMitigationRules() throws {
        let dir = try TempDir("p29")
        for (fixture, folder) in [("web.config-typo", "EXCH09/typo"), ("web.config-eomt", "EXCH09/eomt"), ("web.config-none", "EXCH10/none"),
                                  ("web.config-truncated", "EXCH10/cut"), ("web.config-binary", "EXCH10/junk")] {
            try Self.fixture(dir, fixture, as: "evidence/\(folder)/web.config")
        }
        let snap = try Self.session(dir).scanOnce()
        func status(_ folder: String) throws -> FileStatus {
            try #require(snap.statuses.first { $0.path == "evidence/\(folder)/web.config" })
        }
        func hits(_ folder: String) -> [String] {
            snap.hits.filter { $0.evidence == "evidence/\(folder)/web.config" }.map { "\($0.line) \($0.indicator) \($0.severity.rawValue) \($0.value)" }
        }
        let typoWarning = "rule 'X-AnonResource-Backend Abort - inbound' is written with patterSyntax (typo of the first ExchangeMitigations/BackendCookieMitigation releases, CSS-Exchange commit 4b94757); read as patternSyntax"
        let both = ["12 WC-001 info X-AnonResource-Backend Abort - inbound", "19 WC-001 info X-BEResource Abort - inbound"]
        #expect(try status("EXCH09/typo").format == .webConfig)
        #expect(try status("EXCH09/typo").records == 2)
        #expect(try status("EXCH10/none").records == 1)
        #expect(hits("EXCH09/typo") == both)
        #expect(try status("EXCH09/typo").warnings == [typoWarning])
        #expect(try status("EXCH09/eomt").format == .webConfig)
        #expect(hits("EXCH09/eomt") == both)
        #expect(try status("EXCH09/eomt").warnings == [])
        #expect(try status("EXCH10/none").format == .webConfig)
        #expect(hits("EXCH10/none") == [])
        #expect(try status("EXCH10/none").warnings == ["no URL Rewrite rule for CVE-2021-26855 (X-AnonResource-Backend / X-BEResource cookie, AbortRequest) in this web.config: it shows no interim mitigation"])
        #expect(try status("EXCH10/cut").format == .webConfig)
        #expect(hits("EXCH10/cut") == ["12 WC-001 info X-AnonResource-Backend Abort - inbound"])
        #expect(try status("EXCH10/cut").warnings == [
            "only one of the two EOMT rules is present: no rule aborts the X-BEResource cookie",
            "file ends inside rule 'X-BEResource Abort - inbound': truncated; the rule was not counted",
            "the last line has no line end (cut off, or still being written); it is checked again when the file grows",
        ])
        #expect(try status("EXCH10/junk").format == .collectedFile)
        #expect(hits("EXCH10/junk") == [])
        // Info findings never move a verdict or the patch state.
        #expect(snap.summaries.first { $0.name == "EXCH09" }?.verdict == .insufficientCoverage)
        #expect(snap.summaries.first { $0.name == "EXCH09" }?.patchState == .unknown)
    }

    /// #29: hostile input: a 10 MB tag, invalid text and a one-line web.config with both rules.
    @Test func p29WebConfigParserSurvivesHostileInput() {
        var p = WebConfigParser()
        #expect(p.parse("<configuration><system.webServer><rewrite><rules>", line: 1) == nil)
        #expect(p.parse("<rule name=\"" + String(repeating: "A", count: 10 * 1024 * 1024), line: 2) == nil)
        #expect(p.parse(String(repeating: "\u{FFFD}\u{0}<", count: 1000), line: 3) == nil)
        #expect(p.warnings.contains("1 tag(s) longer than 65536 bytes were not read"))

        var one = WebConfigParser()
        let line = "<configuration><system.webServer><rewrite><rules>"
            + "<rule name=\"a\" patterSyntax=\"Regular Expressions\"><match url=\".*\"/><conditions><add input=\"{HTTP_COOKIE}\" pattern=\"(.*)X-AnonResource-Backend(.*)\"/></conditions><action type=\"AbortRequest\"/></rule>"
            + "<rule name=\"b &amp; c\"><conditions><add input='{HTTP_COOKIE}' pattern='(.*)X-BEResource=(.+)/(.+)~(.+)'/></conditions><action type='AbortRequest'/></rule>"
            + "</rules></rewrite></system.webServer></configuration>"
        let r = one.parse(line, line: 1)
        #expect(r?.value("Rule") == "a; b & c")
        #expect(r?.value("Cookie") == "X-AnonResource-Backend; X-BEResource")
        #expect(r?.value("SyntaxAttribute") == "patterSyntax; ")
        #expect(one.warnings == ["rule 'a' is written with patterSyntax (typo of the first ExchangeMitigations/BackendCookieMitigation releases, CSS-Exchange commit 4b94757); read as patternSyntax"])
    }
}
