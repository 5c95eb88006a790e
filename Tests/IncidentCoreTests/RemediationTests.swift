import Foundation
import Testing
@testable import IncidentCore

/// A writable copy of the demo case with a session on it.
final class DemoSession {
    let dir: TempDir
    let folder: URL
    let session: CaseSession

    init(_ label: String) throws {
        dir = try TempDir(label)
        folder = dir.url.appendingPathComponent("DemoCase")
        try FileManager.default.copyItem(at: Paths.demoCase, to: folder)
        let store = CaseStore(folder: folder)
        session = CaseSession(store: store, caseFile: try store.load(), engine: try builtInEngine(),
                              playbook: try Playbook.builtIn(), responder: "tester")
        _ = session.scanOnce()
    }

    /// Applies edits and returns the snapshot once they are applied.
    func perform(_ edits: CaseEdit...) -> CaseSnapshot {
        for e in edits { session.perform(e) }
        return session.currentSnapshot()
    }

    func summary(_ name: String) -> ServerSummary {
        session.currentSnapshot().summaries.first { $0.name == name }!
    }

    /// The case as saved on disk.
    func onDisk() throws -> CaseFile { try CaseStore(folder: folder).load() }
}

func setBuild(_ server: String, _ build: String) -> CaseEdit {
    .setServer(name: server, changes: ServerChanges(build: build))
}

func done(_ server: String, _ step: String) -> CaseEdit {
    .setStep(server: server, step: step, state: .done, note: nil)
}

@Suite("Remediation: patch and compromise state", .serialized)
struct RemediationTests {
    let playbook = try! Playbook.builtIn()

    @Test("patch state: unknown → vulnerable → mitigated → patched, and back")
    func patchTransitions() throws {
        let demo = try DemoSession("patch")
        var s = demo.summary("EXCH01")
        #expect(s.patchState == .vulnerable)
        #expect(s.patchReason == "build 15.1.2106.2 < fixed 15.1.2106.13 (Exchange 2016 CU18)")
        #expect(s.stepsApplicable == 14)

        _ = demo.perform(.setServer(name: "EXCH03", changes: ServerChanges(build: "")))
        #expect(demo.summary("EXCH03").patchState == .vulnerable, "an invalid build is refused and the old one kept")
        var cf = try demo.onDisk()
        cf.servers[2].exchangeBuild = nil
        #expect(Remediation.patchState(server: cf.servers[2], caseFile: cf).0 == .unknown)

        _ = demo.perform(done("EXCH01", "interim-mitigation"))
        s = demo.summary("EXCH01")
        #expect(s.patchState == .mitigated)
        #expect(s.patchReason == "interim mitigation done; build 15.1.2106.2 < fixed 15.1.2106.13 (Exchange 2016 CU18)")

        _ = demo.perform(setBuild("EXCH01", "15.01.2106.013"))
        s = demo.summary("EXCH01")
        #expect(s.patchState == .patched)
        #expect(s.patchReason == "build 15.1.2106.13 ≥ fixed 15.1.2106.13")
        // Interim mitigation no longer applies once patched.
        #expect(s.stepsApplicable == 13)
        #expect(try demo.onDisk().server(named: "EXCH01")?.exchangeBuild == "15.1.2106.13")

        _ = demo.perform(setBuild("EXCH01", "15.1.2106.8"))
        #expect(demo.summary("EXCH01").patchState == .mitigated)
    }

    @Test("the patch step is completed by the build, with the reason, and reopened when the build no longer qualifies")
    func patchAutoCompletion() throws {
        let demo = try DemoSession("auto")
        #expect(try demo.onDisk().stepState(server: "EXCH02", step: "patch") == .todo)
        _ = demo.perform(setBuild("EXCH02", "15.1.2106.13"))
        let cf = try demo.onDisk()
        let entry = try #require(cf.checklists["EXCH02"]?["patch"])
        #expect(entry.state == .done)
        #expect(entry.by == "incident (build 15.1.2106.13 ≥ fixed 15.1.2106.13)")
        let audit = cf.audit.filter { $0.field == "EXCH02/patch" }
        #expect(audit.count == 1)
        #expect(audit.last?.by == "incident (build 15.1.2106.13 ≥ fixed 15.1.2106.13)")
        #expect(audit.last?.before == "todo")
        #expect(audit.last?.after == "done")
        let buildAudit = try #require(cf.audit.last { $0.action == "server.set" })
        #expect(buildAudit.field == "EXCH02.exchangeBuild")
        #expect(buildAudit.before == "15.1.2106.2")
        #expect(buildAudit.after == "15.1.2106.13")
        #expect(buildAudit.by == "tester")

        _ = demo.perform(setBuild("EXCH02", "15.1.2106.2"))
        let reopened = try #require(try demo.onDisk().checklists["EXCH02"]?["patch"])
        #expect(reopened.state == .todo)
        #expect(reopened.by == "incident (build 15.1.2106.2 < fixed 15.1.2106.13 (Exchange 2016 CU18))")

        // A responder's own "done" is not reopened by the build (the patch state still says vulnerable).
        _ = demo.perform(done("EXCH02", "patch"))
        #expect(try demo.onDisk().stepState(server: "EXCH02", step: "patch") == .done)
        #expect(demo.summary("EXCH02").patchState == .vulnerable)
    }

    @Test("the compromised demo server is not done when patched; only eviction makes it remediated")
    func patchingIsNotRemediation() throws {
        let demo = try DemoSession("evict")
        _ = demo.perform(setBuild("EXCH01", "15.1.2106.13"))
        var s = demo.summary("EXCH01")
        #expect(s.patchState == .patched)
        #expect(s.compromiseState == .compromised)
        #expect(s.compromiseReason == "compromised; eviction steps open: web-shells, post-exploitation, contain, credentials, rebuild")
        #expect(!s.isDone)
        // Every step except the eviction ones: still compromised.
        for step in playbook.steps where step.eviction != true { _ = demo.perform(done("EXCH01", step.id)) }
        s = demo.summary("EXCH01")
        #expect(s.compromiseState == .compromised)
        #expect(!s.isDone)
        for id in ["web-shells", "post-exploitation", "contain", "credentials"] { _ = demo.perform(done("EXCH01", id)) }
        #expect(demo.summary("EXCH01").compromiseState == .compromised)
        // "Not applicable" evicts nobody: it does not count on a compromised server.
        _ = demo.perform(.setStep(server: "EXCH01", step: "rebuild", state: .notApplicable, note: "rebuilt elsewhere"))
        s = demo.summary("EXCH01")
        #expect(s.compromiseState == .compromised)
        #expect(s.compromiseReason == "compromised; marked not applicable, which does not count on a compromised server: rebuild")
        #expect(!s.isDone)
        _ = demo.perform(done("EXCH01", "rebuild"))
        s = demo.summary("EXCH01")
        #expect(s.compromiseState == .remediated)
        #expect(s.compromiseReason == "compromised, every eviction step done")
        #expect(s.isDone)
        #expect(s.stepsDone == s.stepsApplicable)
        // Remediated but unpatched (only mitigated: the interim-mitigation step was done above) is not done either.
        _ = demo.perform(setBuild("EXCH01", "15.1.2106.12"))
        s = demo.summary("EXCH01")
        #expect(s.compromiseState == .remediated)
        #expect(s.patchState == .mitigated)
        #expect(!s.isDone)
    }

    @Test("a server whose evidence does not cover the window is never clean, whatever the checklist says")
    func investigatedClean() throws {
        let demo = try DemoSession("clean")
        var s = demo.summary("EXCH03")
        #expect(s.verdict == .insufficientCoverage)
        #expect(s.compromiseState == .unknown)
        let reason = "insufficient-coverage: the evidence does not cover cve-2021-26855 (insufficient-coverage), cve-2021-26858 (not-checked), cve-2021-27065 (not-checked), files-on-disk (insufficient-coverage); collect it, or correct the server's exposure window if it is wrong"
        #expect(s.compromiseReason == reason)
        for id in ["log-coverage", "test-proxylogon", "msert", "web-shells", "post-exploitation"] { _ = demo.perform(done("EXCH03", id)) }
        _ = demo.perform(setBuild("EXCH03", "15.1.2106.13"))
        s = demo.summary("EXCH03")
        #expect(s.compromiseState == .unknown)
        #expect(s.compromiseReason == reason)
        #expect(!s.isDone, "patched and every step ticked, but the logs do not cover the exposure window")
        // A probed server with checks not covered is not clean either.
        for id in ["log-coverage", "test-proxylogon", "msert", "web-shells", "post-exploitation"] { _ = demo.perform(done("EXCH02", id)) }
        s = demo.summary("EXCH02")
        #expect(s.verdict == .probed)
        #expect(s.compromiseState == .unknown)
        #expect(s.compromiseReason.hasPrefix("probed, but required checks are not covered: "))
    }

    @Test("with every required check covered, investigated-clean needs the investigation steps")
    func investigatedCleanWithCoverage() {
        var cf = CaseFile(name: "t", servers: [Server(name: "S1")])
        let covered = CoverageCheck.allCases.map {
            CheckCoverage(check: $0, status: .noFindings, required: $0.required, evidence: ["e"], from: nil, to: nil, hits: 0, reason: "")
        }
        func state() -> (CompromiseState, String) {
            Remediation.compromiseState(server: "S1", verdict: .noFindings, patchState: .patched, caseFile: cf, playbook: playbook, coverage: covered)
        }
        #expect(state().0 == .unknown)
        #expect(state().1 == "no-findings; investigation steps open: log-coverage, test-proxylogon, msert, web-shells, post-exploitation")
        for id in ["log-coverage", "test-proxylogon", "msert", "web-shells", "post-exploitation"] {
            cf.checklists["S1", default: [:]][id] = ChecklistEntry(state: .done, by: "t", at: Date())
        }
        #expect(state().0 == .investigatedClean)
        #expect(state().1 == "no-findings, every required check covered and every investigation step done")
        var gap = covered
        gap[2].status = .notChecked
        #expect(Remediation.compromiseState(server: "S1", verdict: .noFindings, patchState: .patched, caseFile: cf, playbook: playbook, coverage: gap).1
                == "no-findings, but required checks are not covered: cve-2021-26858 (not-checked)")
    }

    @Test("a low hit of a late stage keeps a probed server from investigated-clean until triaged as a false positive")
    func lowLateStageHitsNeedReview() {
        var cf = CaseFile(name: "t", servers: [Server(name: "EXCH01")])
        for step in playbook.steps { cf.checklists["EXCH01", default: [:]][step.id] = ChecklistEntry(state: .done, by: "t", at: Date()) }
        let baseline1 = makeHit("BL-001", .low, .webShell, line: 3), baseline2 = makeHit("BL-001", .low, .webShell, line: 4)
        let other = makeHit("TPL-002", .low, .postExploitation, line: 7)
        let probe = makeHit("IIS-060", .low, .attempt, line: 9)
        let hits = [baseline1, baseline2, other, probe]
        #expect(Verdicts.verdict(checkedFiles: 1, hits: hits) == .probed)
        var latest: [String: TriageDecision.Decision] = [other.id: .confirmed]
        #expect(Verdicts.toReview(hits, latest: latest) == ["BL-001 ×2", "TPL-002"])
        // Review items are not steps of the intrusion: the chain shows only the attempt.
        #expect(Chains.build(hits: hits, formats: [:]).map(\.stage) == [.attempt])
        let blocked = Remediation.compromiseState(server: "EXCH01", verdict: .probed, patchState: .patched, caseFile: cf, playbook: playbook,
                                                  toReview: Verdicts.toReview(hits, latest: latest))
        #expect(blocked.0 == .unknown)
        #expect(blocked.1 == "probed; low hits of a late stage, cleared only by a false-positive triage: BL-001 ×2, TPL-002")
        latest = [baseline1.id: .falsePositive, baseline2.id: .falsePositive, other.id: .falsePositive]
        #expect(Verdicts.toReview(hits, latest: latest) == [])
        #expect(Remediation.compromiseState(server: "EXCH01", verdict: .probed, patchState: .patched, caseFile: cf, playbook: playbook,
                                            toReview: Verdicts.toReview(hits, latest: latest)).0 == .investigatedClean)
    }

    @Test("verdict mapping: only no-findings and probed can be clean; not-assessed never is")
    func verdictMapping() {
        var cf = CaseFile(name: "t", servers: [Server(name: "S1")])
        for step in playbook.steps { cf.checklists["S1", default: [:]][step.id] = ChecklistEntry(state: .done, by: "t", at: Date()) }
        func state(_ v: Verdict) -> CompromiseState {
            Remediation.compromiseState(server: "S1", verdict: v, patchState: .patched, caseFile: cf, playbook: playbook).0
        }
        #expect(state(.notAssessed) == .unknown)
        #expect(state(.noFindings) == .investigatedClean)
        #expect(state(.probed) == .investigatedClean)
        #expect(state(.insufficientCoverage) == .unknown, "never clean: the evidence does not cover the window")
        #expect(state(.exploited) == .remediated)
        #expect(state(.compromised) == .remediated)
        cf.checklists["S1"]?["contain"] = ChecklistEntry(state: .blocked, by: "t", at: Date())
        #expect(state(.exploited) == .compromised)
        #expect(state(.noFindings) == .investigatedClean, "contain does not apply to a clean server")
        #expect(Remediation.compromiseState(server: "S1", verdict: .notAssessed, patchState: .patched, caseFile: cf, playbook: playbook).1
                == "verdict not-assessed: evidence does not show the server clean")
    }

    @Test("false positives do not count: triaging the only hits away changes the compromise state")
    func triageMovesCompromise() throws {
        let demo = try DemoSession("triage")
        let snap = demo.session.currentSnapshot()
        #expect(demo.summary("EXCH02").verdict == .probed)
        for hit in snap.hits where hit.server == "EXCH02" {
            demo.session.perform(.triage(hitId: hit.id, decision: .falsePositive, note: "test"))
        }
        // No hit left, and its logs do not reach back to the exposure window start.
        #expect(demo.summary("EXCH02").verdict == .insufficientCoverage)
        #expect(demo.summary("EXCH02").compromiseState == .unknown)
    }

    @Test("a new critical hit after web shells were removed reopens the step, with the reason, in the audit trail")
    func webShellReopening() throws {
        let demo = try DemoSession("reopen")
        _ = demo.perform(done("EXCH01", "web-shells"))
        var cf = try demo.onDisk()
        let known = try #require(cf.checklists["EXCH01"]?["web-shells"]?.hitsAtDone)
        let critical = demo.session.currentSnapshot().hits.filter { $0.server == "EXCH01" && $0.severity == .critical }
        #expect(known == critical.map(\.id).sorted())
        #expect(!known.isEmpty)
        // A rescan with nothing new changes nothing.
        _ = demo.session.scanOnce()
        #expect(try demo.onDisk().stepState(server: "EXCH01", step: "web-shells") == .done)

        let shell = IISLog.header + [IISLog.line("GET", "/aspnet_client/discover.aspx", ip: "5.254.43.18", time: "2021-03-20 07:21:09")]
        try demo.dir.write("DemoCase/evidence/EXCH01/IIS/W3SVC1/u_ex210320.log", shell.joined(separator: "\r\n") + "\r\n")
        let snap = demo.session.scanOnce()
        let newHit = try #require(snap.hits.first { $0.evidence == "evidence/EXCH01/IIS/W3SVC1/u_ex210320.log" && $0.severity == .critical })
        cf = try demo.onDisk()
        let entry = try #require(cf.checklists["EXCH01"]?["web-shells"])
        #expect(entry.state == .todo)
        #expect(entry.by == "incident (new critical hit \(newHit.indicator) at evidence/EXCH01/IIS/W3SVC1/u_ex210320.log:5)")
        #expect(entry.note == "reopened: a critical hit appeared after web shells were removed")
        let audit = try #require(cf.audit.last { $0.field == "EXCH01/web-shells" })
        #expect(audit.before == "done")
        #expect(audit.after == "todo")
        #expect(audit.by == entry.by)
        #expect(demo.summary("EXCH01").compromiseState == .compromised)
    }

    @Test("without recorded hits, evidence registered after the step was done reopens it")
    func webShellReopeningByTime() {
        let doneAt = Date(timeIntervalSince1970: 1_616_000_000)
        var cf = CaseFile(name: "t", servers: [Server(name: "EXCH01")])
        cf.checklists["EXCH01"] = ["web-shells": ChecklistEntry(state: .done, by: "alice", at: doneAt)]
        let hit = makeHit("IIS-063", .critical, .webShell)
        cf.evidence = [EvidenceRecord(path: hit.evidence, server: "EXCH01", sizeBytes: 1, sha256: "", addedAt: doneAt.addingTimeInterval(-60), addedBy: "t")]
        #expect(Remediation.automaticChanges(caseFile: cf, hits: [hit], playbook: playbook).isEmpty)
        cf.evidence[0].updatedAt = doneAt.addingTimeInterval(60)
        let changes = Remediation.automaticChanges(caseFile: cf, hits: [hit], playbook: playbook)
        #expect(changes == [Remediation.AutomaticChange(server: "EXCH01", step: "web-shells", state: .todo,
                                                        by: "incident (new critical hit IIS-063 at evidence/EXCH01/IIS/u_ex210303.log:5)",
                                                        note: "reopened: a critical hit appeared after web shells were removed")])
        // A false positive never reopens it.
        cf.triage = [TriageDecision(hitId: hit.id, decision: .falsePositive, by: "bob", at: doneAt)]
        #expect(Remediation.automaticChanges(caseFile: cf, hits: [hit], playbook: playbook).isEmpty)
        // Nor does a high hit.
        cf.triage = []
        #expect(Remediation.automaticChanges(caseFile: cf, hits: [makeHit("X", .high, .webShell)], playbook: playbook).isEmpty)
    }

    @Test func exposureWindow() {
        var cf = CaseFile(name: "t", servers: [Server(name: "S1")])
        #expect(Remediation.exposureWindowStart(for: cf.servers[0], in: cf) == CaseSettings.defaultExposureStart)
        let first = Date(timeIntervalSince1970: 1_612_137_600) // 2021-02-01
        cf.servers[0].firstExposure = first
        #expect(Remediation.exposureWindowStart(for: cf.servers[0], in: cf) == first)
        #expect(Remediation.exposureWindowEnd(for: cf.servers[0], in: cf) == nil)
        let mitigated = Date(timeIntervalSince1970: 1_615_766_400) // 2021-03-15
        cf.checklists["S1"] = ["interim-mitigation": ChecklistEntry(state: .done, by: "t", at: mitigated)]
        #expect(Remediation.exposureWindowEnd(for: cf.servers[0], in: cf) == mitigated)
        let patched = Date(timeIntervalSince1970: 1_614_988_800) // 2021-03-06
        cf.servers[0].patchedOn = patched
        #expect(Remediation.exposureWindowEnd(for: cf.servers[0], in: cf) == patched)
        // A recorded mitigation date replaces the step's time (the click may come much later).
        cf.servers[0].patchedOn = nil
        let applied = Date(timeIntervalSince1970: 1_615_161_600) // 2021-03-08
        cf.servers[0].mitigatedOn = applied
        #expect(Remediation.exposureWindowEnd(for: cf.servers[0], in: cf) == applied)
        cf.servers[0].patchedOn = patched
        #expect(Remediation.exposureWindowEnd(for: cf.servers[0], in: cf) == patched)
        // A patch date with a recorded build still below the fix ends nothing; the mitigation does.
        cf.servers[0].exchangeBuild = "15.1.2106.2"
        #expect(Remediation.exposureWindowEnd(for: cf.servers[0], in: cf) == applied)
    }

    /// Patching is not remediation: intrusion steps dated after the window ended are called out.
    @Test func activityAfterTheWindowEnded() {
        func at(_ h: Hit, _ t: String) -> Hit { var h = h; h.time = date(t); return h }
        let end = date("2021-03-06T00:00:00.000Z")
        let hits = [at(makeHit("PL-001", .critical, .exploitation, line: 1), "2021-03-03T06:40:01.000Z"),
                    at(makeHit("IIS-063", .critical, .webShell, line: 2), "2021-03-08T11:15:00.000Z"),
                    at(makeHit("IIS-063", .critical, .webShell, line: 3), "2021-03-07T09:00:00.000Z"),
                    at(makeHit("IIS-060", .medium, .attempt, line: 4), "2021-03-09T00:00:00.000Z"),   // a probe: scanners go on after patching
                    at(makeHit("BL-001", .low, .webShell, line: 5), "2021-03-09T00:00:00.000Z")]    // a review item
        let late = try? #require(ActivityAfterExposureEnd.of(hits, after: end, formats: ["evidence/EXCH01/IIS/u_ex210303.log": .iisW3C]))
        #expect(late?.hits == 2)
        #expect(late?.firstSeen == date("2021-03-07T09:00:00.000Z"))
        #expect(late?.lastSeen == date("2021-03-08T11:15:00.000Z"))
        #expect(late?.stages == [.webShellRequested])
        #expect(late?.summary == "2 hit(s) of web-shell-requested from 2021-03-07T09:00:00.000Z to 2021-03-08T11:15:00.000Z, after the exposure window ended 2021-03-06T00:00:00.000Z: patching or mitigation did not evict the attacker")
        #expect(ActivityAfterExposureEnd.of(hits, after: nil, formats: [:]) == nil)
        #expect(ActivityAfterExposureEnd.of(hits, after: date("2021-03-10T00:00:00.000Z"), formats: [:]) == nil)
    }

    @Test func mitigationDateStopsCountingAfterAnUnfixedCUUpgrade() throws {
        var cf = CaseFile(name: "t", servers: [Server(name: "EXCH01", exchangeBuild: "15.1.2106.2")])
        let now = Date(timeIntervalSince1970: 1_615_000_000)
        let applied = Date(timeIntervalSince1970: 1_614_902_400) // 2021-03-05
        try cf.applyServerChanges(ServerChanges(mitigatedOn: applied), server: "EXCH01", by: "t", at: now)
        #expect(cf.servers[0].mitigatedBuild == "15.1.2106.2")
        #expect(Remediation.exposureWindowEnd(for: cf.servers[0], in: cf) == applied)
        try cf.applyServerChanges(ServerChanges(build: "15.1.2106.3"), server: "EXCH01", by: "t", at: now) // same CU
        #expect(Remediation.exposureWindowEnd(for: cf.servers[0], in: cf) == applied)
        try cf.applyServerChanges(ServerChanges(build: "15.1.2176.2"), server: "EXCH01", by: "t", at: now) // CU19, before its SU
        #expect(Remediation.exposureWindowEnd(for: cf.servers[0], in: cf) == nil)
        try cf.applyServerChanges(ServerChanges(build: "15.1.2176.9"), server: "EXCH01", by: "t", at: now) // CU19 with the March 2021 SU
        #expect(Remediation.exposureWindowEnd(for: cf.servers[0], in: cf) == applied)
    }

    @Test func windowThatEndsBeforeItStartsIsRefused() throws {
        var cf = CaseFile(name: "t", servers: [Server(name: "EXCH01")])
        let now = Date(timeIntervalSince1970: 1_615_000_000)
        let start = Date(timeIntervalSince1970: 1_615_334_400) // 2021-03-10
        let end = Date(timeIntervalSince1970: 1_614_902_400) // 2021-03-05
        #expect(throws: ServerEditError.windowEndsBeforeItStarts(end: end, start: start)) {
            try cf.applyServerChanges(ServerChanges(firstExposure: start, patchedOn: end), server: "EXCH01", by: "t", at: now)
        }
        try cf.applyServerChanges(ServerChanges(firstExposure: start), server: "EXCH01", by: "t", at: now)
        #expect(throws: ServerEditError.windowEndsBeforeItStarts(end: end, start: start)) {
            var copy = cf
            try copy.applyServerChanges(ServerChanges(mitigatedOn: end), server: "EXCH01", by: "t", at: now)
        }
        #expect(ServerEditError.windowEndsBeforeItStarts(end: end, start: start).description
                == "the exposure window would end 2021-03-05T00:00:00.000Z (patch or mitigation) before it starts 2021-03-10T00:00:00.000Z (first exposure): check --first-exposure, --patched-on and --mitigated-on; nothing was recorded")
    }

    @Test func serverEdits() throws {
        var cf = CaseFile(name: "t", servers: [Server(name: "EXCH01")])
        let now = Date(timeIntervalSince1970: 1_615_000_000)
        #expect(throws: ServerEditError.invalidBuild("15.1.2176")) {
            try cf.applyServerChanges(ServerChanges(build: "15.1.2176"), server: "EXCH01", by: "t", at: now)
        }
        #expect(throws: ServerEditError.unknownServer("EXCH09")) {
            try cf.applyServerChanges(ServerChanges(fqdn: "x"), server: "EXCH09", by: "t", at: now)
        }
        #expect(throws: ServerEditError.invalidName("../x")) {
            try cf.applyServerChanges(ServerChanges(), server: "../x", create: true, by: "t", at: now)
        }
        #expect(cf.audit.isEmpty)
        #expect(try cf.applyServerChanges(ServerChanges(build: "15.02.0792.010", fqdn: "exch01.example", internetFacing: false),
                                          server: "exch01", by: "t", at: now))
        #expect(cf.servers[0].exchangeBuild == "15.2.792.10")
        #expect(cf.audit.map(\.field) == ["EXCH01.exchangeBuild", "EXCH01.fqdn", "EXCH01.internetFacing"])
        #expect(cf.audit.map(\.after) == ["15.2.792.10", "exch01.example", "no"])
        #expect(try !cf.applyServerChanges(ServerChanges(build: "15.2.792.10"), server: "EXCH01", by: "t", at: now), "no change, no audit")
        #expect(try cf.applyServerChanges(ServerChanges(build: "15.2.858.5"), server: "EXCH02", create: true, by: "t", at: now))
        #expect(cf.servers.map(\.name) == ["EXCH01", "EXCH02"])
        #expect(throws: ServerEditError.serverExists("exch02")) {
            try cf.applyServerChanges(ServerChanges(), server: "exch02", create: true, by: "t", at: now)
        }
    }

    @Test("a note keeps the step's state, who set it and when; the audit names the note's author")
    func stepNote() throws {
        let demo = try DemoSession("note")
        _ = demo.perform(.setStep(server: "EXCH02", step: "preserve", state: .blocked, note: "no FTK licence"))
        let before = try #require(try demo.onDisk().checklists["EXCH02"]?["preserve"])
        _ = demo.perform(.noteStep(server: "EXCH02", step: "preserve", note: "licence ordered"))
        let cf = try demo.onDisk()
        let after = try #require(cf.checklists["EXCH02"]?["preserve"])
        #expect(after.state == .blocked)
        #expect(after.at == before.at)
        #expect(after.note == "licence ordered")
        let audit = try #require(cf.audit.last)
        #expect(audit.action == "checklist.note")
        #expect(audit.field == "EXCH02/preserve")
        #expect(audit.before == "no FTK licence")
        #expect(audit.after == "licence ordered")
        #expect(audit.by == "tester")
    }

    @Test("older case files without the new fields still load")
    func oldCaseFilesLoad() throws {
        let json = """
        {"schemaVersion":1,"caseId":"x","name":"old","created":"2021-03-05T09:00:00.000Z",
         "settings":{"rescanIntervalSeconds":2,"exposureWindowStart":"2021-01-01T00:00:00.000Z"},
         "servers":[{"name":"EXCH01","exchangeBuild":"15.1.2106.2"}],"evidence":[],"triage":[],
         "checklists":{"EXCH01":{"web-shells":{"state":"done","by":"a","at":"2021-03-06T00:00:00.000Z"}}},"audit":[]}
        """
        let cf = try CaseStore.decode(Data(json.utf8), path: "case.json")
        #expect(cf.servers[0].firstExposure == nil)
        #expect(cf.checklists["EXCH01"]?["web-shells"]?.hitsAtDone == nil)
    }
}

@Suite("Case playbook override")
struct CasePlaybookTests {
    let base = try! Playbook.builtIn()

    @Test func builtInPlaybookHasEveryStepOfSection4() {
        #expect(base.steps.map(\.id) == ["inventory", "preserve", "log-coverage", "test-proxylogon", "msert", "web-shells",
                                         "post-exploitation", "contain", "patch", "interim-mitigation", "credentials", "rebuild",
                                         "harden", "report"])
        #expect(base.steps.filter { $0.eviction == true }.map(\.id) == ["web-shells", "post-exploitation", "contain", "credentials", "rebuild"])
        #expect(base.steps.filter { $0.investigation == true }.map(\.id) == ["log-coverage", "test-proxylogon", "msert", "web-shells", "post-exploitation"])
        let ids = Set(base.steps.map(\.id))
        for step in base.steps {
            #expect(!step.guidance.isEmpty && !step.doneWhen.isEmpty && !step.sources.isEmpty, "\(step.id)")
            #expect(step.sources.allSatisfy { $0.hasPrefix("https://") }, "\(step.id)")
            #expect(step.dependsOn.allSatisfy(ids.contains), "\(step.id)")
        }
    }

    @Test func replaceAddRemove() throws {
        let json = """
        {
          "name": "Contoso playbook",
          "remove": ["harden"],
          "steps": [
            {"id": "report", "title": "Report to the national CERT", "guidance": "Send the form.", "commands": [],
             "doneWhen": "Ticket recorded.", "appliesWhen": "always", "dependsOn": [], "sources": ["https://example.org/cert"]},
            {"id": "legal", "title": "Notify legal", "guidance": "Call legal.", "commands": ["call"], "doneWhen": "Legal informed.",
             "appliesWhen": "compromised", "dependsOn": ["contain"], "sources": [], "eviction": true}
          ]
        }
        """
        let p = try base.applying(Array(json.utf8), name: "case/playbook.json")
        #expect(p.name == "Contoso playbook")
        #expect(p.version == base.version)
        #expect(p.steps.count == 14)
        #expect(!p.steps.contains { $0.id == "harden" })
        #expect(p.steps.first { $0.id == "report" }?.title == "Report to the national CERT")
        #expect(p.steps.last?.id == "legal")
        #expect(p.steps.last?.eviction == true)
    }

    @Test("errors name the file, line and column")
    func errors() throws {
        func message(_ json: String) -> String {
            do { _ = try base.applying(Array(json.utf8), name: "c/playbook.json"); return "no error" } catch { return "\(error)" }
        }
        #expect(message("{\"steps\": [}").hasPrefix("c/playbook.json:1:12: "))
        #expect(message("{\n  \"remove\": [\"nope\"]\n}") == "c/playbook.json:2:14: remove: no built-in step \"nope\"")
        let dep = """
        {"steps": [
          {"id": "x", "title": "X", "guidance": "g", "commands": [], "doneWhen": "d", "appliesWhen": "always",
           "dependsOn": ["inventory", "ghost"], "sources": []}
        ]}
        """
        #expect(message(dep) == "c/playbook.json:3:31: step \"x\" depends on unknown step \"ghost\"")
        #expect(message("{\"steps\": [{\"id\": \"x\"}]}").hasPrefix("c/playbook.json:1:"))
    }

    @Test func caseFolderOverride() throws {
        let dir = try TempDir("playbook")
        #expect(try Playbook.forCase(folder: dir.url) == base)
        try dir.write("playbook.json", "{\"remove\": [\"report\"]}")
        #expect(try Playbook.forCase(folder: dir.url).steps.count == 13)
        try dir.write("playbook.json", "{\"remove\": 3}")
        let broken = try dir.bytes("playbook.json")
        #expect(throws: IndicatorPackError.self) { try Playbook.forCase(folder: dir.url) }
        #expect(try dir.bytes("playbook.json") == broken, "the user's file is never rewritten")
    }
}
