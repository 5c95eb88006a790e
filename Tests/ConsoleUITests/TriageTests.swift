import Foundation
import IncidentCore
import Testing
@testable import ConsoleUI
import TerminalCore

/// Applies a triage edit to the snapshot as the case session would, and hands it to the console.
func applyLocally(_ effects: [Effect], _ state: inout AppState, at: Date = Date(timeIntervalSince1970: 1_614_760_000)) {
    guard var snapshot = state.snapshot else { return }
    for case let .perform(edit) in effects {
        snapshot.caseFile.apply(edit, by: "tester", at: at)
    }
    snapshot.summaries = Verdicts.summarize(caseFile: snapshot.caseFile, statuses: snapshot.statuses, hits: snapshot.hits, playbook: state.playbook)
    _ = update(&state, .snapshot(snapshot))
}

@Suite("Triage, undo, confirmation")
struct TriageTests {
    /// The demo's EXCH02 (probed) with the hits pane focused on its first hit.
    func probed() throws -> AppState {
        var state = try demoState()
        _ = press(&state, .character("j"), .tab)
        #expect(state.selectedServer?.name == "EXCH02")
        return state
    }

    @Test("c asks for a note and marks the hit confirmed; u undoes it after a confirmation")
    func confirmAndUndo() throws {
        var state = try probed()
        let hit = try #require(state.selectedHit)
        _ = press(&state, .character("c"))
        #expect(state.prompt?.label == "confirmed \(hit.indicator), note:")
        _ = type(&state, "seen in memory image")
        let effects = press(&state, .enter)
        #expect(effects == [.perform(.triage(hitId: hit.id, decision: .confirmed, note: "seen in memory image"))])
        #expect(state.message == "\(hit.indicator) on EXCH02 marked confirmed (u undoes)")
        applyLocally(effects, &state)
        #expect(state.triageByHit[hit.id]?.decision == .confirmed)
        // The list marks it before its value.
        let row = try #require(render(state).text().split(separator: "\n").first { $0.contains(hit.indicator) && $0.contains("✓ ") })
        #expect(row.contains("\(hit.indicator) ") && row.contains("✓ \(hit.value.prefix(10))"))
        // u: a confirmation, cancel by default.
        #expect(press(&state, .character("u")).isEmpty)
        let question = try #require(state.confirmation)
        #expect(question.title == "Undo the last change?")
        #expect(question.lines.first == "\(hit.indicator) on EXCH02: untriaged → confirmed")
        #expect(render(state).text().contains("[ Cancel (n) ]  [ Undo (y) ]"))
        #expect(press(&state, .enter).isEmpty)
        #expect(state.confirmation == nil)
        #expect(state.message == "cancelled")
        #expect(state.undoStack.count == 1)
        // u then Tab, Enter: undone, by appending a reverting decision.
        _ = press(&state, .character("u"), .tab)
        let undo = press(&state, .enter)
        #expect(undo == [.perform(.revert(.triage(hitId: hit.id, decision: .untriaged, note: "undo"), ifStill: .triage(hitId: hit.id, decision: .confirmed)))])
        #expect(state.undoStack.isEmpty)
        applyLocally(undo, &state)
        #expect(state.snapshot?.caseFile.triage.filter { $0.hitId == hit.id }.map(\.decision) == [.confirmed, .untriaged])
        _ = press(&state, .character("u"))
        #expect(state.message == "nothing to undo: this console has made no change")
    }

    @Test("f on a high hit asks first; the false positive stops counting; f again restores it")
    func falsePositive() throws {
        var state = try probed()
        // EXCH02's verdict rests on its hits; mark every counted one false positive.
        let before = try #require(state.selectedServer)
        #expect(before.verdict == .probed)
        let hit = try #require(state.selectedHit)
        #expect(hit.severity >= .high)
        _ = press(&state, .character("f"))
        _ = type(&state, "scanner of our own")
        #expect(press(&state, .enter).isEmpty)
        let question = try #require(state.confirmation)
        #expect(question.title == "Mark as false positive?")
        #expect(question.confirmSelected == false)
        #expect(render(state).text().contains("[ Cancel (n) ]  [ Mark false positive (y) ]"))
        let effects = press(&state, .character("y"))
        #expect(effects == [.perform(.triage(hitId: hit.id, decision: .falsePositive, note: "scanner of our own"))])
        applyLocally(effects, &state)
        let after = try #require(state.servers.first { $0.name == "EXCH02" })
        #expect(after.hits == before.hits - 1)
        // The hit stays listed, muted; its severity is no longer coloured.
        let row = state.hitsOfSelectedServer.firstIndex { $0.id == hit.id }!
        state.hitIndex = row
        _ = press(&state, .character("f"))
        #expect(state.prompt?.label == "restore \(hit.indicator) (counts again, untriaged), note:")
        let restore = press(&state, .enter)
        #expect(restore == [.perform(.triage(hitId: hit.id, decision: .untriaged, note: ""))])
        applyLocally(restore, &state)
        #expect(state.servers.first { $0.name == "EXCH02" }?.hits == before.hits)
    }

    @Test("marking a low hit false positive needs no confirmation; Esc in the note prompt cancels")
    func lowHit() throws {
        var state = try demoState()
        _ = press(&state, .tab)
        let low = try #require(state.hitsOfSelectedServer.firstIndex { $0.severity < .high })
        state.hitIndex = low
        let hit = try #require(state.selectedHit)
        _ = press(&state, .character("f"))
        #expect(press(&state, .escape).isEmpty)
        #expect(state.prompt == nil)
        _ = press(&state, .character("f"))
        let effects = press(&state, .enter)
        #expect(effects == [.perform(.triage(hitId: hit.id, decision: .falsePositive, note: ""))])
        #expect(state.confirmation == nil)
        _ = press(&state, .character("r"))
        #expect(state.prompt?.label == "needs review \(hit.indicator), note:")
    }

    @Test("triage keys work only in the hits pane; Space's step change can be undone")
    func stepUndo() throws {
        var state = try demoState()
        _ = press(&state, .character("c"))
        #expect(state.message == "c, f and r mark the selected hit (Tab to the hits pane)")
        #expect(state.prompt == nil)
        _ = press(&state, .backTab)
        let effects = press(&state, .character(" "))
        #expect(effects == [.perform(.advanceStep(server: "EXCH01", step: "inventory"))])
        applyLocally(effects, &state)
        _ = press(&state, .character("u"), .character("y"))
        #expect(state.message == "undone: EXCH01 · Inventory the server: todo → in-progress")
    }

    @Test("undo never reverts a value someone else set in between; a change not yet saved is undone after it")
    func undoRespectsOthers() throws {
        var state = try demoState()
        _ = press(&state, .backTab)
        let effects = press(&state, .character(" "))
        // Not saved yet: the snapshot still shows todo. The revert is queued after the change and
        // carries the value it expects, so it applies once the change has.
        let early = press(&state, .character("u"), .character("y"))
        let revert = CaseEdit.revert(.setStep(server: "EXCH01", step: "inventory", state: .todo, note: "undo"),
                                     ifStill: .step(server: "EXCH01", step: "inventory", state: .inProgress))
        #expect(early == [.perform(revert)])
        #expect(state.message == "undone: EXCH01 · Inventory the server: todo → in-progress")
        var caseFile = try #require(state.snapshot?.caseFile)
        #expect(caseFile.apply(.advanceStep(server: "EXCH01", step: "inventory"), by: "tester", at: Date()) == nil)
        #expect(caseFile.apply(revert, by: "tester", at: Date()) == nil)
        #expect(caseFile.stepState(server: "EXCH01", step: "inventory") == .todo)
        // The same revert after alice blocked the step in between: refused, her value stays.
        caseFile.apply(.advanceStep(server: "EXCH01", step: "inventory"), by: "tester", at: Date())
        caseFile.apply(.setStep(server: "EXCH01", step: "inventory", state: .blocked, note: "waiting"), by: "alice", at: Date())
        let audits = caseFile.audit.count
        #expect(caseFile.apply(revert, by: "tester", at: Date()) == "undo not applied: EXCH01/inventory is now blocked (set by alice)")
        #expect(caseFile.stepState(server: "EXCH01", step: "inventory") == .blocked)
        #expect(caseFile.audit.count == audits)

        // In the console: the change saved, then alice's value arrives before u is pressed.
        _ = press(&state, .character(" "))
        applyLocally(effects, &state)
        var snapshot = try #require(state.snapshot)
        snapshot.caseFile.checklists["EXCH01", default: [:]]["inventory"] = ChecklistEntry(state: .blocked, by: "alice", at: Date(), note: "waiting for access")
        _ = update(&state, .snapshot(snapshot))
        let undo = press(&state, .character("u"))
        #expect(undo.isEmpty)
        #expect(state.confirmation == nil)
        #expect(state.message == "not undone: EXCH01 · Inventory the server: todo → in-progress: changed since by alice (now blocked); undo only reverts your own latest value")
        #expect(state.undoStack.isEmpty)
    }

    @Test("in read-only review the keys that write are not bound", arguments: ["c", "f", "r", "u", " "])
    func readOnly(key: String) throws {
        var state = try demoState()
        state.readOnly = true
        _ = press(&state, .tab)
        #expect(press(&state, .character(Character(key))).isEmpty)
        #expect(state.prompt == nil && state.confirmation == nil)
        #expect(state.message == "read-only review: this key is not available")
        let write = KeyMap.bindings.filter(\.writes).map(\.keyLabel)
        #expect(write == ["c", "f", "r", "u", "Space", "B", "X", "m", "b"])
    }
}
