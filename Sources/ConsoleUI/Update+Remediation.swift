import Foundation
import IncidentCore
import TerminalCore

/// The checklist walk-through: one server, one step at a time, with its guidance.
///
/// Keys inside (modal): `d` done, `s` in progress, `t` back to todo, `Space` advance,
/// `B` blocked with a note, `X` not applicable with a note, `m` note, `n` / `j` / `↓` / `→` /
/// `Tab` next applicable step, `p` / `k` / `↑` / `←` / `Shift-Tab` previous, `g` / `G` first /
/// last, `PgDn` / `PgUp` scroll a long step, `?` help, `w` / `Esc` / `q` close.
public struct Walkthrough: Sendable, Equatable {
    /// The server walked (its name, as in the case).
    public var server: String
    /// Index into the playbook's steps.
    public var stepIndex: Int

    public init(server: String, stepIndex: Int) {
        self.server = server
        self.stepIndex = stepIndex
    }

    /// The keys shown at the bottom of the view.
    public static let keyHint = "d done  s started  t todo  B blocked  X n/a  m note  n/p next/prev  Esc close"
}

extension AppState {
    /// The summary of the server being walked.
    var walkthroughServer: ServerSummary? {
        guard let w = walkthrough else { return nil }
        return servers.first { $0.name == w.server }
    }

    /// Indices of the playbook steps that apply to a server.
    func applicableStepIndices(_ server: ServerSummary) -> [Int] {
        playbook.steps.indices.filter { playbook.steps[$0].applies(verdict: server.verdict, patchState: server.patchState) }
    }

    /// The step the walk-through shows, or the selected checklist step otherwise.
    var actionStep: PlaybookStep? {
        if let w = walkthrough { return playbook.steps.indices.contains(w.stepIndex) ? playbook.steps[w.stepIndex] : nil }
        return selectedStep
    }
}

func notApplicableMessage(_ step: PlaybookStep) -> String {
    switch step.appliesWhen {
    case .compromised: "\(step.title): only for exploited or compromised servers"
    case .unpatched: "\(step.title): only while the server is not patched"
    case .always: "\(step.title): does not apply"
    }
}

/// `b`, `w`, `B`, `X`, `m` outside the walk-through.
func runRemediation(_ command: Command, _ state: inout AppState) -> [Effect] {
    guard let server = state.selectedServer else {
        state.message = "no server selected"
        return []
    }
    switch command {
    case .setBuild:
        let current = state.snapshot?.caseFile.server(named: server.name)?.exchangeBuild ?? ""
        state.prompt = ActivePrompt(label: "build of \(Sanitizer.sanitize(server.name, ascii: false)):", text: current,
                                    purpose: .build(server: server.name), replaceOnType: true)
        return []
    case .walkthrough:
        openWalkthrough(&state, server)
        return []
    case .blockStep, .skipStep, .noteStep:
        if state.focus != .checklist {
            state.message = "B, X and m work in the checklist pane (Tab to it) or in the walk-through (w)"
            return []
        }
        return askStepNote(command, server, &state)
    default:
        return []
    }
}

private func openWalkthrough(_ state: inout AppState, _ server: ServerSummary) {
    let applicable = state.applicableStepIndices(server)
    let caseFile = state.snapshot?.caseFile
    let open = applicable.first {
        let s = caseFile?.stepState(server: server.name, step: state.playbook.steps[$0].id) ?? .todo
        return s != .done && s != .notApplicable
    }
    // The checklist's selected step when the checklist is focused, else the first open step.
    let start = state.focus == .checklist && applicable.contains(state.stepIndex) ? state.stepIndex : (open ?? applicable.first ?? 0)
    state.walkthrough = Walkthrough(server: server.name, stepIndex: start)
    state.showDetail = false
    state.detailScroll = 0
}

/// Opens the note prompt for `B`, `X` or `m` on the walk-through's step or the selected step.
private func askStepNote(_ command: Command, _ server: ServerSummary, _ state: inout AppState) -> [Effect] {
    guard let step = state.actionStep else { return [] }
    if !step.applies(verdict: server.verdict, patchState: server.patchState) {
        state.message = notApplicableMessage(step)
        return []
    }
    let entry = state.snapshot?.caseFile.checklists[server.name]?[step.id]
    let (label, target): (String, StepState?) = switch command {
    case .blockStep: ("blocked, why:", .blocked)
    case .skipStep: ("not applicable, why:", .notApplicable)
    default: ("note on \(step.id):", nil)
    }
    state.prompt = ActivePrompt(label: label, text: target == nil ? (entry?.note ?? "") : "",
                                purpose: .stepNote(server: server.name, step: step.id, state: target))
    return []
}

func submitBuild(server: String, _ text: String, _ state: inout AppState) -> [Effect] {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard let build = ExchangeBuild(parsing: trimmed), build.revision != nil else {
        state.message = "\"\(Sanitizer.sanitize(String(trimmed.prefix(30)), ascii: false))\" is not a build: use four numbers, e.g. 15.1.2176.9"
        return []
    }
    if let reason = BuildTable.notInTableReason(build) {
        state.message = "\(server): \(reason); not saved"
        return []
    }
    let assessment = BuildTable.assess(build)
    state.message = "\(server): \(assessment.reason)"
    return [.perform(.setServer(name: server, changes: ServerChanges(build: build.description)))]
}

func submitStepNote(server: String, step: String, state target: StepState?, _ text: String, _ state: inout AppState) -> [Effect] {
    let note = text.trimmingCharacters(in: .whitespaces)
    if let target {
        if target == .blocked && note.isEmpty {
            state.message = "a blocked step needs a note saying what blocks it"
            return []
        }
        return [.perform(.setStep(server: server, step: step, state: target, note: note.isEmpty ? nil : note))]
    }
    return [.perform(.noteStep(server: server, step: step, note: note))]
}

/// Keys while the walk-through is open.
func updateWalkthrough(_ state: inout AppState, _ key: Key) -> [Effect] {
    guard var w = state.walkthrough else { return [] }
    guard let server = state.walkthroughServer else {
        state.walkthrough = nil
        return []
    }
    let applicable = state.applicableStepIndices(server)
    func move(_ delta: Int) {
        guard !applicable.isEmpty else { return }
        let position = applicable.firstIndex(of: w.stepIndex) ?? applicable.firstIndex { $0 > w.stepIndex } ?? 0
        let next = min(max(0, position + delta), applicable.count - 1)
        w.stepIndex = applicable[next]
        state.walkthrough = w
        state.detailScroll = 0
    }
    func set(_ target: StepState) -> [Effect] {
        if state.readOnly { state.message = "read-only review: this key is not available"; return [] }
        guard let step = state.actionStep else { return [] }
        guard step.applies(verdict: server.verdict, patchState: server.patchState) else {
            state.message = notApplicableMessage(step)
            return []
        }
        // Already there: keep who set it and why (an automatic "done" keeps its reason).
        if state.snapshot?.caseFile.stepState(server: server.name, step: step.id) == target { return [] }
        return [.perform(.setStep(server: server.name, step: step.id, state: target, note: nil))]
    }
    switch key {
    case .escape, .character("q"), .character("w"):
        state.walkthrough = nil
    case .character("n"), .character("j"), .down, .right, .tab:
        move(1)
    case .character("p"), .character("k"), .up, .left, .backTab:
        move(-1)
    case .pageDown, .ctrl("f"):
        state.detailScroll = min(state.detailScroll + max(1, state.size.rows - 6), walkthroughMaxScroll(state))
    case .pageUp, .ctrl("b"):
        state.detailScroll = max(0, state.detailScroll - max(1, state.size.rows - 6))
    case .character("g"), .home:
        move(-Int.max / 2)
    case .character("G"), .end:
        move(Int.max / 2)
    case .character("d"):
        let effects = set(.done)
        if state.message == nil { move(1) }
        return effects
    case .character("s"):
        return set(.inProgress)
    case .character("t"):
        return set(.todo)
    case .character(" "):
        if state.readOnly { state.message = "read-only review: this key is not available"; return [] }
        guard let step = state.actionStep else { return [] }
        guard step.applies(verdict: server.verdict, patchState: server.patchState) else {
            state.message = notApplicableMessage(step)
            return []
        }
        return [.perform(.advanceStep(server: server.name, step: step.id))]
    case .character("B"), .character("X"), .character("m"):
        if state.readOnly { state.message = "read-only review: this key is not available"; return [] }
        let command: Command = key == .character("B") ? .blockStep : key == .character("X") ? .skipStep : .noteStep
        return askStepNote(command, server, &state)
    case .character("?"):
        state.showHelp = true
    case .ctrl("l"):
        state.needsFullRedraw = true
    default:
        state.message = "walk-through: " + Walkthrough.keyHint
    }
    return []
}
