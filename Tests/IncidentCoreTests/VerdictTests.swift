import Foundation
import Testing
@testable import IncidentCore

func makeIndicator(_ id: String, _ severity: Severity, _ stage: Stage) -> Indicator {
    Indicator(id: id, title: id, description: id, severity: severity, stage: stage, cve: nil, formats: [.iisW3C],
              field: "cs-uri-stem", all: [], sources: ["https://example.org/"], falsePositives: nil)
}

func makeHit(_ id: String, _ severity: Severity, _ stage: Stage, server: String = "EXCH01", line: Int = 5) -> Hit {
    Hit(indicator: makeIndicator(id, severity, stage), server: server, evidence: "evidence/\(server)/IIS/u_ex210303.log",
        line: line, time: nil, field: "cs-uri-stem", value: "/x", clientIP: nil, rawLine: "raw")
}

func makeStatus(_ server: String, _ name: String, format: EvidenceFormat?) -> FileStatus {
    FileStatus(path: "evidence/\(server)/\(name)", server: server, format: format, encoding: .utf8, sizeBytes: 10, sha256: "",
               modified: Date(timeIntervalSince1970: 0), lines: 1, records: 1, warnings: [])
}

@Suite("Verdicts")
struct VerdictTests {
    @Test func notAssessedWithoutCheckedEvidence() {
        #expect(Verdicts.verdict(checkedFiles: 0, hits: []) == .notAssessed)
        #expect(Verdicts.verdict(checkedFiles: 0, hits: [makeHit("IIS-063", .critical, .webShell)]) == .notAssessed)
    }

    @Test func noFindings() {
        #expect(Verdicts.verdict(checkedFiles: 3, hits: []) == .noFindings)
    }

    @Test func infoHitsNeverMoveAVerdict() {
        let infos = Stage.allCases.map { makeHit("I-\($0.rawValue)", .info, $0) }
        #expect(Verdicts.verdict(checkedFiles: 1, hits: infos) == .noFindings)
        #expect(Verdicts.verdict(checkedFiles: 1, hits: infos + [makeHit("PL-002", .medium, .attempt)]) == .probed)
    }

    @Test func probed() {
        #expect(Verdicts.verdict(checkedFiles: 1, hits: [makeHit("PL-002", .medium, .attempt)]) == .probed)
        #expect(Verdicts.verdict(checkedFiles: 1, hits: [makeHit("IIS-061", .medium, .probe)]) == .probed)
        #expect(Verdicts.verdict(checkedFiles: 1, hits: [makeHit("UA-057", .high, .attempt)]) == .probed)
        #expect(Verdicts.verdict(checkedFiles: 1, hits: [makeHit("X", .critical, .probe)]) == .probed)
        // Low hits are context only, whatever their stage.
        for stage in Stage.allCases {
            #expect(Verdicts.verdict(checkedFiles: 1, hits: [makeHit("FP-040", .low, stage)]) == .probed, "low \(stage)")
        }
    }

    @Test func exploited() {
        #expect(Verdicts.verdict(checkedFiles: 1, hits: [makeHit("PL-005", .high, .exploitation)]) == .exploited)
        #expect(Verdicts.verdict(checkedFiles: 1, hits: [makeHit("X", .medium, .exploitation)]) == .exploited)
        #expect(Verdicts.verdict(checkedFiles: 1, hits: [makeHit("PL-001", .critical, .exploitation),
                                                          makeHit("PL-002", .medium, .attempt),
                                                          makeHit("I", .info, .webShell)]) == .exploited)
    }

    @Test func compromised() {
        #expect(Verdicts.verdict(checkedFiles: 1, hits: [makeHit("IIS-063", .critical, .webShell)]) == .compromised)
        #expect(Verdicts.verdict(checkedFiles: 1, hits: [makeHit("FP-041", .high, .postExploitation)]) == .compromised)
        #expect(Verdicts.verdict(checkedFiles: 1, hits: [makeHit("X", .medium, .webShell)]) == .compromised)
        #expect(Verdicts.verdict(checkedFiles: 1, hits: [makeHit("PL-001", .critical, .exploitation),
                                                          makeHit("UA-058", .high, .webShell)]) == .compromised)
    }

    @Test func summarizeServersTriageAndSteps() throws {
        let playbook = try Playbook.builtIn()
        var caseFile = CaseFile(name: "t", servers: [Server(name: "EXCH01"), Server(name: "EXCH02"), Server(name: "EXCH03"),
                                                      Server(name: "EXCH04"), Server(name: "EXCH05")])
        let statuses = [
            makeStatus("EXCH01", "a.log", format: .iisW3C), makeStatus("EXCH01", "b.bin", format: nil),
            makeStatus("exch02", "a.log", format: .httpProxy),
            makeStatus("EXCH03", "junk.bin", format: nil),
            makeStatus("EXCH05", "a.log", format: .iisW3C),
        ]
        let shell = makeHit("IIS-063", .critical, .webShell, server: "EXCH01", line: 21)
        let hits = [
            shell, makeHit("IP-054", .high, .attempt, server: "EXCH01", line: 21), makeHit("PL-013", .info, .attempt, server: "EXCH01"),
            makeHit("PL-002", .medium, .attempt, server: "Exch02"),
            makeHit("IIS-063", .critical, .webShell, server: "EXCH03"),
            makeHit("PL-013", .info, .attempt, server: "EXCH05"),
        ]
        var s = Verdicts.summarize(caseFile: caseFile, statuses: statuses, hits: hits, playbook: playbook)
        #expect(s.map(\.name) == ["EXCH01", "EXCH02", "EXCH03", "EXCH04", "EXCH05"])
        #expect(s.map(\.verdict) == [.compromised, .probed, .notAssessed, .notAssessed, .insufficientCoverage])
        #expect(s.map(\.hits) == [3, 1, 1, 0, 1])
        #expect(s[0].bySeverity == [.critical: 1, .high: 1, .info: 1])
        #expect(s.map(\.evidenceFiles) == [2, 1, 1, 0, 1])
        #expect(s.map(\.checkedFiles) == [1, 1, 0, 0, 1])
        #expect(s[0].stepsApplicable == 14)
        #expect(s[1].stepsApplicable == 12)
        #expect(s.allSatisfy { $0.stepsDone == 0 })

        // The web-shell hit triaged as a false positive stops counting.
        caseFile.triage.append(TriageDecision(hitId: shell.id, decision: .falsePositive, note: "AV test file", by: "t", at: Date()))
        s = Verdicts.summarize(caseFile: caseFile, statuses: statuses, hits: hits, playbook: playbook)
        #expect(s[0].verdict == .probed)
        #expect(s[0].hits == 2)
        #expect(s[0].bySeverity == [.high: 1, .info: 1])
        #expect(!Verdicts.counts(shell, in: caseFile))
        // The latest decision wins.
        caseFile.triage.append(TriageDecision(hitId: shell.id, decision: .needsReview, by: "t", at: Date()))
        #expect(Verdicts.summarize(caseFile: caseFile, statuses: statuses, hits: hits, playbook: playbook)[0].verdict == .compromised)
        caseFile.triage.append(TriageDecision(hitId: shell.id, decision: .confirmed, by: "t", at: Date()))
        #expect(Verdicts.summarize(caseFile: caseFile, statuses: statuses, hits: hits, playbook: playbook)[0].verdict == .compromised)

        // Done and not-applicable steps count as done.
        caseFile.checklists["EXCH02"] = ["patch": ChecklistEntry(state: .done, by: "t", at: Date()),
                                         "interim-mitigation": ChecklistEntry(state: .notApplicable, by: "t", at: Date()),
                                         "msert": ChecklistEntry(state: .inProgress, by: "t", at: Date()),
                                         "rebuild": ChecklistEntry(state: .done, by: "t", at: Date())]
        s = Verdicts.summarize(caseFile: caseFile, statuses: statuses, hits: hits, playbook: playbook)
        #expect(s[1].stepsDone == 2)
        #expect(s[1].stepsApplicable == 12)
    }

    @Test func stepStateCycle() {
        #expect(StepState.todo.advanced == .inProgress)
        #expect(StepState.inProgress.advanced == .done)
        #expect(StepState.done.advanced == .todo)
        #expect(StepState.blocked.advanced == .todo)
        #expect(StepState.notApplicable.advanced == .todo)
    }

    @Test func orderings() {
        #expect(Severity.allCases.sorted() == [.info, .low, .medium, .high, .critical])
        #expect(Verdict.allCases.sorted() == [.notAssessed, .insufficientCoverage, .noFindings, .probed, .exploited, .compromised])
        let a = makeHit("A", .high, .attempt, line: 9)
        let b = makeHit("B", .critical, .attempt, line: 10)
        #expect([a, b].sorted(by: Hit.displayOrder).map(\.indicator) == ["B", "A"])
    }
}
