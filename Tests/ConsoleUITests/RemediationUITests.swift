import Foundation
import IncidentCore
import Testing
@testable import ConsoleUI
import TerminalCore

@Suite("Remediation keys and walk-through")
struct RemediationUITests {
    @Test("b asks for the build, prefilled, and sends it in the short form")
    func setBuild() throws {
        var state = try demoState()
        _ = press(&state, .character("b"))
        let prompt = try #require(state.prompt)
        #expect(prompt.purpose == .build(server: "EXCH01"))
        #expect(prompt.editor.string == "15.1.2106.2")
        _ = press(&state, .ctrl("u"))
        _ = type(&state, "15.01.2106.013")
        let effects = press(&state, .enter)
        #expect(effects == [.perform(.setServer(name: "EXCH01", changes: ServerChanges(build: "15.1.2106.13")))])
        #expect(state.message == "EXCH01: build 15.1.2106.13 ≥ fixed 15.1.2106.13")
        #expect(state.prompt == nil)
    }

    @Test("an invalid build is refused with a reason and nothing is sent")
    func invalidBuild() throws {
        var state = try demoState()
        _ = press(&state, .character("b"), .ctrl("u"))
        _ = type(&state, "15.1.2106")
        #expect(press(&state, .enter).isEmpty)
        #expect(state.message == "\"15.1.2106\" is not a build: use four numbers, e.g. 15.1.2176.9")
    }

    @Test("a build the build table does not have (a typo) is refused with the reason and nothing is sent")
    func buildNotInTable() throws {
        var state = try demoState()
        _ = press(&state, .character("b"), .ctrl("u"))
        _ = type(&state, "15.1.22424.4")
        #expect(press(&state, .enter).isEmpty)
        #expect(state.message == "EXCH01: build not in the build table: 15.1.22424.4 is above Exchange 2016 CU23 (15.1.2507.6), the newest 15.1 CU it lists; check the build (ExSetup.exe's file version: Get-Command ExSetup.exe | % { $_.FileVersionInfo.FileVersion }); not saved")
    }

    @Test("B and X set the selected step with a note; blocked needs one; m only notes")
    func stepKeys() throws {
        var state = try demoState()
        #expect(press(&state, .character("B")).isEmpty)
        #expect(state.message == "B, X and m work in the checklist pane (Tab to it) or in the walk-through (w)")
        _ = press(&state, .backTab, .down)
        _ = press(&state, .character("B"))
        #expect(state.prompt?.label == "blocked, why:")
        #expect(press(&state, .enter).isEmpty)
        #expect(state.message == "a blocked step needs a note saying what blocks it")
        _ = press(&state, .character("B"))
        _ = type(&state, "no FTK licence")
        #expect(press(&state, .enter) == [.perform(.setStep(server: "EXCH01", step: "preserve", state: .blocked, note: "no FTK licence"))])
        _ = press(&state, .character("X"))
        _ = type(&state, "VM snapshot instead")
        #expect(press(&state, .enter) == [.perform(.setStep(server: "EXCH01", step: "preserve", state: .notApplicable, note: "VM snapshot instead"))])
        _ = press(&state, .character("m"))
        _ = type(&state, "ask Bob")
        #expect(press(&state, .enter) == [.perform(.noteStep(server: "EXCH01", step: "preserve", note: "ask Bob"))])
    }

    @Test("read-only review does not bind b, B, X, m but lets w show the walk-through")
    func readOnly() throws {
        var state = try demoState()
        state.readOnly = true
        for c in ["b", "B", "X", "m"] {
            #expect(press(&state, .character(Character(c))).isEmpty)
            #expect(state.prompt == nil)
        }
        _ = press(&state, .character("w"))
        #expect(state.walkthrough != nil)
        #expect(press(&state, .character("d")).isEmpty)
        #expect(state.message == "read-only review: this key is not available")
    }

    @Test("the walk-through starts at the first open step, marks done and moves on, skips steps that do not apply")
    func walkthrough() throws {
        var state = try demoState(cols: 100, rows: 30)
        _ = press(&state, .down, .character("w"))   // EXCH02, probed
        #expect(state.walkthrough == Walkthrough(server: "EXCH02", stepIndex: 0))
        assertSnapshot(render(state).text(), named: "walkthrough-exch02-100x30")
        let effects = press(&state, .character("d"))
        #expect(effects == [.perform(.setStep(server: "EXCH02", step: "inventory", state: .done, note: nil))])
        #expect(state.walkthrough?.stepIndex == 1)
        // From "post-exploitation" the next step is "patch": "contain" is for compromised servers only.
        state.walkthrough?.stepIndex = try #require(state.playbook.steps.firstIndex { $0.id == "post-exploitation" })
        _ = press(&state, .character("n"))
        #expect(state.playbook.steps[state.walkthrough!.stepIndex].id == "patch")
        _ = press(&state, .character("p"))
        #expect(state.playbook.steps[state.walkthrough!.stepIndex].id == "post-exploitation")
        _ = press(&state, .character("G"))
        #expect(state.playbook.steps[state.walkthrough!.stepIndex].id == "report")
        _ = press(&state, .character("m"))
        #expect(state.prompt?.purpose == .stepNote(server: "EXCH02", step: "report", state: nil))
        _ = press(&state, .escape)
        #expect(state.walkthrough != nil, "Esc closes the prompt first")
        _ = press(&state, .escape)
        #expect(state.walkthrough == nil)
    }

    @Test("the walk-through shows the evidence's reason for an automatic state and the exposure window")
    func automaticReasonShown() throws {
        var (snapshot, playbook, _) = try demoSnapshot()
        snapshot.caseFile.servers[0].exchangeBuild = "15.1.2106.13"
        Remediation.reconcile(&snapshot.caseFile, hits: snapshot.hits, playbook: playbook, at: Date(timeIntervalSince1970: 1_615_000_000))
        snapshot.summaries = Verdicts.summarize(caseFile: snapshot.caseFile, statuses: snapshot.statuses, hits: snapshot.hits, playbook: playbook)
        var state = AppState(caseName: snapshot.caseFile.name, playbook: playbook, size: Size(cols: 100, rows: 30))
        _ = update(&state, .snapshot(snapshot))
        #expect(state.selectedServer?.name == "EXCH01")
        #expect(state.selectedServer?.patchState == .patched)
        #expect(state.selectedServer?.compromiseState == .compromised)
        _ = press(&state, .backTab, .character("w"))
        state.walkthrough?.stepIndex = try #require(playbook.steps.firstIndex { $0.id == "patch" })
        let text = render(state).text()
        assertSnapshot(text, named: "walkthrough-exch01-patched-100x30")
        #expect(text.contains("Set by the evidence: build 15.1.2106.13 ≥ fixed 15.1.2106.13"))
        #expect(text.contains("Not done: a server is done only when patched and investigated-clean or remediated"))
        state.walkthrough?.stepIndex = try #require(playbook.steps.firstIndex { $0.id == "log-coverage" })
        let coverage = render(state).text()
        #expect(coverage.contains("Exposure window: 2021-01-01T00:00:00.000Z → still open. Logs must reach back to its start."))
        // The demo's EXCH01 logs start on 2021-03-02: short of the window.
        #expect(coverage.contains("Oldest evidence event: 2021-03-02T14:20:16.502Z — after the window start: logs too short."), "\(coverage)")
        // The server pane marks it patched but compromised, and the status bar counts no server done.
        _ = press(&state, .escape)
        let main = render(state)
        #expect(main.row(2).hasPrefix("│EXCH01      compromised  PC   69  1/13│"))
        #expect(main.row(29).contains("done 0/3"))
    }
}

@Suite("Help with the remediation keys")
struct RemediationHelpTests {
    @Test("at 80×24 every key can be read in the help by scrolling it")
    func helpScrollsAt80x24() throws {
        var state = try demoState()
        _ = press(&state, .character("?"))
        var seen = Set<String>()
        let rows = helpVisibleRows(state)
        #expect(rows == 19)
        var text = render(state).text()
        #expect(text.contains("keys 1–19 of \(KeyMap.bindings.count): j/k or PgUp/PgDn for the rest"))
        for _ in 0..<KeyMap.bindings.count {
            text = render(state).text()
            for b in KeyMap.bindings where text.contains(b.help) { seen.insert(b.help) }
            _ = press(&state, .character("j"))
        }
        #expect(seen.count == KeyMap.bindings.count)
        #expect(state.helpScroll == KeyMap.bindings.count - 19)
        #expect(render(state).text().contains("keys \(KeyMap.bindings.count - 18)–\(KeyMap.bindings.count) of \(KeyMap.bindings.count)"))
        _ = press(&state, .character("g"))
        #expect(state.helpScroll == 0)
        // Closing and reopening starts at the top again.
        _ = press(&state, .character("G"), .escape, .character("?"))
        #expect(state.helpScroll == 0)
    }
}
