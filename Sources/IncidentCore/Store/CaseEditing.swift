import Foundation

extension CaseFile {
    /// Applies a responder's edit to this case and appends its audit entry (`checklist.step`
    /// with field `SERVER/STEP`, or `triage` with the hit id as field; before and after values).
    /// The console's session and the headless `step set` / `triage set` commands both use this.
    ///
    /// - Returns: nil when the edit was applied; for a ``CaseEdit/revert(_:ifStill:)`` whose
    ///   field no longer holds the expected value, a sentence saying who changed it (nothing is
    ///   changed then), e.g. `undo not applied: hit H1 is now confirmed (set by alice)`.
    @discardableResult
    public mutating func apply(_ edit: CaseEdit, by responder: String, at now: Date) -> String? {
        switch edit {
        case let .advanceStep(server, step):
            let before = stepState(server: server, step: step)
            setStep(server: server, step: step, state: before.advanced, note: nil, by: responder, at: now)
        case let .setStep(server, step, state, note):
            setStep(server: server, step: step, state: state, note: note, by: responder, at: now)
        case let .triage(hitId, decision, note):
            let before = triageDecision(for: hitId)?.decision.rawValue
            triage.append(TriageDecision(hitId: hitId, decision: decision, note: note, by: responder, at: now))
            audit.append(AuditEntry(at: now, by: responder, action: "triage", field: hitId, before: before,
                                    after: decision.rawValue, note: note.isEmpty ? nil : note))
        case let .setServer(name, changes):
            // Validated before it is sent; a refused change leaves the case as it is.
            _ = try? applyServerChanges(changes, server: name, by: responder, at: now)
        case let .noteStep(server, step, note):
            setStepNote(server: server, step: step, note: note, by: responder, at: now)
        case let .revert(inner, expected):
            if let refusal = revertObstacle(expected) { return refusal }
            return apply(inner, by: responder, at: now)
        }
        return nil
    }

    /// Why a revert expecting `expected` must not run, or nil when the field still holds it.
    func revertObstacle(_ expected: FieldValue) -> String? {
        switch expected {
        case let .triage(hitId, decision):
            let now = triageDecision(for: hitId)
            let current = now?.decision ?? .untriaged
            if current == decision { return nil }
            return "undo not applied: hit \(hitId) is now \(current.rawValue) (set by \(now?.by ?? "nobody"))"
        case let .step(server, step, state):
            let entry = checklists[server]?[step]
            let current = entry?.state ?? .todo
            if current == state { return nil }
            return "undo not applied: \(server)/\(step) is now \(current.rawValue) (set by \(entry?.by ?? "nobody"))"
        }
    }

    private mutating func setStep(server: String, step: String, state: StepState, note: String?, by responder: String, at now: Date) {
        let before = stepState(server: server, step: step)
        checklists[server, default: [:]][step] = ChecklistEntry(state: state, by: responder, at: now, note: note)
        audit.append(AuditEntry(at: now, by: responder, action: "checklist.step", field: "\(server)/\(step)",
                                before: before.rawValue, after: state.rawValue, note: note?.isEmpty == false ? note : nil))
    }

    /// What another writer changed between `self` (what this console last saw) and `newer` (the
    /// case as it is on disk now), for the fields the console shows: checklist steps and triage
    /// decisions. Each line reads like `EXCH01/patch: done → blocked by alice`.
    public func changesByOthers(in newer: CaseFile) -> [String] {
        // Dates are compared as written (milliseconds): an entry this console made and saved
        // has a finer time in memory than the same entry read back.
        func same(_ a: ChecklistEntry?, _ b: ChecklistEntry) -> Bool {
            guard let a else { return false }
            return a.state == b.state && a.by == b.by && a.note == b.note && Timestamps.iso8601(a.at) == Timestamps.iso8601(b.at)
        }
        func key(_ t: TriageDecision) -> String { "\(t.hitId)\u{1}\(Timestamps.iso8601(t.at))\u{1}\(t.by)" }
        var out: [String] = []
        for (server, steps) in newer.checklists.sorted(by: { $0.key < $1.key }) {
            for (step, entry) in steps.sorted(by: { $0.key < $1.key }) where !same(checklists[server]?[step], entry) {
                let before = checklists[server]?[step]?.state ?? .todo
                out.append("\(server)/\(step): \(before.rawValue) → \(entry.state.rawValue) by \(entry.by)")
            }
        }
        if newer.triage.count != triage.count || zip(newer.triage, triage).contains(where: { key($0) != key($1) }) {
            let known = Set(triage.map(key))
            for t in newer.triage where !known.contains(key(t)) {
                let before = triageDecision(for: t.hitId)?.decision.rawValue ?? "untriaged"
                out.append("hit \(t.hitId): \(before) → \(t.decision.rawValue) by \(t.by)")
            }
        }
        return out
    }
}
