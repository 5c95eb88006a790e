import Foundation
import IncidentCore
import TerminalCore

/// A `/` filter: alternatives separated by `|`, each a list of words that must all match.
///
/// Words compare case-insensitively as substrings. A word may name a field: `sev:` (severity,
/// `critical` or `CRIT`), `stage:`, `ind:` (indicator id), `cve:`, `ip:` (client address),
/// `file:` (evidence path) and `text:` (value or whole line) for hits; `verdict:` and `name:`
/// for servers; `triage:` (`confirmed`, `false-positive`, `needs-review`) for hits. A word without
/// a field matches any of them. Examples: `PL-001`, `sev:crit | sev:high`, `stage:web-shell`,
/// `compromised`, `exch0 verdict:probed`.
public struct ListFilter: Sendable, Equatable {
    struct Term: Sendable, Equatable {
        var field: String?
        var text: String
    }
    /// Alternatives (OR) of terms (AND).
    let alternatives: [[Term]]
    /// Triage decisions by hit id, for `triage:` words.
    var triage: [String: TriageDecision] = [:]

    static let hitFields: Set<String> = ["sev", "severity", "stage", "ind", "indicator", "cve", "ip", "file", "text", "triage"]
    static let serverFields: Set<String> = ["verdict", "name"]

    /// Parses filter text; blank text gives an empty filter that matches everything.
    public init(_ text: String) {
        alternatives = text.split(separator: "|").map { alt in
            alt.split(whereSeparator: \.isWhitespace).map { word -> Term in
                let w = String(word).lowercased()
                if let colon = w.firstIndex(of: ":"), colon != w.startIndex {
                    let field = String(w[..<colon])
                    if Self.hitFields.contains(field) || Self.serverFields.contains(field) {
                        return Term(field: field, text: String(w[w.index(after: colon)...]))
                    }
                }
                return Term(field: nil, text: w)
            }
        }.filter { !$0.isEmpty }
    }

    public var isEmpty: Bool { alternatives.isEmpty }

    private func matches(_ check: (Term) -> Bool) -> Bool {
        isEmpty || alternatives.contains { $0.allSatisfy(check) }
    }

    private static func has(_ haystack: String?, _ needle: String) -> Bool {
        guard let haystack else { return false }
        return needle.isEmpty || haystack.range(of: needle, options: [.caseInsensitive]) != nil
    }

    /// Whether a server matches: by name or verdict.
    public func matches(_ server: ServerSummary) -> Bool {
        matches { term in
            switch term.field {
            case "name"?: Self.has(server.name, term.text)
            case "verdict"?: Self.has(server.verdict.rawValue, term.text)
            case nil: Self.has(server.name, term.text) || Self.has(server.verdict.rawValue, term.text)
            default: false
            }
        }
    }

    /// Whether a hit matches: by indicator, severity, stage, CVE, client address, evidence path,
    /// field value or whole line.
    public func matches(_ hit: Hit) -> Bool {
        matches { term in
            let t = term.text
            let sev = Self.has(hit.severity.rawValue, t) || Self.has(severityLabel(hit.severity), t)
            switch term.field {
            case "sev"?, "severity"?: return sev
            case "stage"?: return Self.has(hit.stage.rawValue, t)
            case "ind"?, "indicator"?: return Self.has(hit.indicator, t)
            case "cve"?: return Self.has(hit.cve, t)
            case "ip"?: return Self.has(hit.clientIP, t)
            case "file"?: return Self.has(hit.evidence, t)
            case "text"?: return Self.has(hit.value, t) || Self.has(hit.rawLine, t)
            case "triage"?: return Self.has(triage[hit.id]?.decision.rawValue ?? "untriaged", t)
            case nil:
                return Self.has(hit.indicator, t) || sev || Self.has(hit.stage.rawValue, t) || Self.has(hit.cve, t)
                    || Self.has(hit.clientIP, t) || Self.has(hit.evidence, t) || Self.has(hit.field, t)
                    || Self.has(hit.value, t) || Self.has(hit.rawLine, t)
            default: return false
            }
        }
    }
}

/// Orders of the servers pane, cycled with `s`.
public enum ServerSort: String, Sendable, CaseIterable, Equatable {
    /// Most serious verdict first, then by name (the default).
    case verdict
    /// By name, natural order (`EXCH2` before `EXCH10`).
    case name
    /// Most counted hits first.
    case hits
    /// Least checklist progress first (fraction of applicable steps done).
    case progress

    func areInOrder(_ a: ServerSummary, _ b: ServerSummary) -> Bool {
        func byName() -> Bool { a.name.localizedStandardCompare(b.name) == .orderedAscending }
        switch self {
        case .verdict: return a.verdict != b.verdict ? a.verdict > b.verdict : byName()
        case .name: return byName()
        case .hits: return a.hits != b.hits ? a.hits > b.hits : byName()
        case .progress:
            let l = a.stepsDone * max(1, b.stepsApplicable), r = b.stepsDone * max(1, a.stepsApplicable)
            return l != r ? l < r : byName()
        }
    }
}

/// Orders of the hits pane, cycled with `s`.
public enum HitSort: String, Sendable, CaseIterable, Equatable {
    /// Most severe first, then newest (the default, ``Hit/displayOrder(_:_:)``).
    case severity
    /// Newest first; hits without a time last.
    case time
    /// By indicator id, then severity.
    case indicator
    /// By evidence file and line, as in the logs.
    case evidence

    func areInOrder(_ a: Hit, _ b: Hit) -> Bool {
        switch self {
        case .severity: return Hit.displayOrder(a, b)
        case .time:
            switch (a.time, b.time) {
            case let (x?, y?) where x != y: return x > y
            case (.some, nil): return true
            case (nil, .some): return false
            default: return Hit.displayOrder(a, b)
            }
        case .indicator: return a.indicator != b.indicator ? a.indicator.localizedStandardCompare(b.indicator) == .orderedAscending : Hit.displayOrder(a, b)
        case .evidence:
            if a.evidence != b.evidence { return a.evidence < b.evidence }
            return a.line != b.line ? a.line < b.line : a.indicator < b.indicator
        }
    }
}

extension CaseIterable where Self: Equatable, AllCases == [Self] {
    /// The next case, wrapping round.
    var next: Self { Self.allCases[(Self.allCases.firstIndex(of: self)! + 1) % Self.allCases.count] }
}

// MARK: - Keys

/// Opens the filter prompt for the focused pane (servers or hits).
func openFilter(_ state: inout AppState) {
    guard state.focus != .checklist else {
        state.message = "/ filters the servers or hits pane (Tab to one)"
        return
    }
    let label = state.focus == .servers ? "filter servers:" : "filter hits:"
    state.prompt = ActivePrompt(label: label, text: state.filters[state.focus] ?? "", purpose: .filter(state.focus))
}

/// Applies submitted filter text to a pane, keeping the selected row when it still matches.
func applyFilter(_ text: String, to pane: Pane, _ state: inout AppState) {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let keepServer = state.selectedServer?.name
    let keepHit = state.selectedHit?.id
    state.filters[pane] = trimmed.isEmpty ? nil : trimmed
    state.refreshViews()
    switch pane {
    case .servers:
        state.serverIndex = keepServer.flatMap { n in state.servers.firstIndex { $0.name == n } } ?? 0
        state.refreshViews()
        state.hitIndex = keepHit.flatMap { id in state.hitsOfSelectedServer.firstIndex { $0.id == id } } ?? 0
        let n = state.servers.count
        state.message = trimmed.isEmpty ? "servers filter cleared" : "\(n) of \(state.allServers.count) server(s) match"
    case .hits:
        state.hitIndex = keepHit.flatMap { id in state.hitsOfSelectedServer.firstIndex { $0.id == id } } ?? 0
        let all = state.selectedServer.map { state.hitCount(ofServer: $0.name) } ?? 0
        state.message = trimmed.isEmpty ? "hits filter cleared" : "\(state.hitsOfSelectedServer.count) of \(all) hit(s) match"
    case .checklist: break
    }
}

/// `s`: the next order for the focused pane.
func cycleSort(_ state: inout AppState) {
    let keepServer = state.selectedServer?.name
    let keepHit = state.selectedHit?.id
    switch state.focus {
    case .servers:
        state.serverSort = state.serverSort.next
        state.refreshViews()
        state.serverIndex = keepServer.flatMap { n in state.servers.firstIndex { $0.name == n } } ?? 0
        state.message = "servers by \(state.serverSort.rawValue)"
    case .hits:
        state.hitSort = state.hitSort.next
        state.refreshViews()
        state.hitIndex = keepHit.flatMap { id in state.hitsOfSelectedServer.firstIndex { $0.id == id } } ?? 0
        state.message = "hits by \(state.hitSort.rawValue)"
    case .checklist:
        state.message = "the checklist keeps the playbook's order"
    }
}

/// `n`/`N`: the next (or previous) server, in the servers pane's order and wrapping round, that
/// has hits matching the hits filter — or any counted hit when there is no hits filter. Keeps
/// the focused pane and the filter, so `n` walks a finding across the estate.
func jumpToMatchingServer(_ state: inout AppState, forward: Bool) {
    let servers = state.servers
    guard !servers.isEmpty else { return }
    let text = state.filters[.hits] ?? ""
    var filter = ListFilter(text)
    filter.triage = state.triageByHit
    let n = servers.count
    for step in 1...n {
        let i = ((state.serverIndex + (forward ? step : -step)) % n + n) % n
        let server = servers[i]
        let matches = filter.isEmpty ? server.hits > 0 : state.anyHit(ofServer: server.name) { filter.matches($0) }
        if matches {
            if i == state.serverIndex && step == n { break }
            state.serverIndex = i
            state.hitIndex = 0
            state.refreshViews()
            let what = filter.isEmpty ? "counted hits" : "hits matching /\(text)"
            state.message = "\(Sanitizer.sanitize(server.name)): \(what)"
            return
        }
    }
    state.message = filter.isEmpty ? "no other server has counted hits" : "no other server has hits matching /\(text)"
}

/// `o`: from a hit to its server (servers pane, filter cleared if it hides it); from a checklist
/// step to the hits behind it (hits pane filtered by the step's stages, see
/// ``PlaybookStep/relatedStages``).
func jump(_ state: inout AppState) {
    switch state.focus {
    case .hits:
        guard let hit = state.selectedHit else { state.message = "no hit selected"; return }
        if !state.servers.contains(where: { $0.name.lowercased() == hit.server.lowercased() }) {
            state.filters[.servers] = nil
            state.refreshViews()
        }
        if let i = state.servers.firstIndex(where: { $0.name.lowercased() == hit.server.lowercased() }) {
            state.serverIndex = i
            state.refreshViews()
            state.hitIndex = state.hitsOfSelectedServer.firstIndex { $0.id == hit.id } ?? 0
        }
        state.focus = .servers
        state.message = "server of hit \(hit.indicator): \(Sanitizer.sanitize(hit.server))"
    case .checklist:
        guard let step = state.selectedStep else { return }
        let stages = step.relatedStages
        guard !stages.isEmpty else {
            state.message = "no indicator hits relate to \"\(step.title)\""
            return
        }
        let text = stages.map { "stage:\($0.rawValue)" }.joined(separator: " | ")
        state.focus = .hits
        applyFilter(text, to: .hits, &state)
        state.message = "hits behind \"\(step.title)\": \(state.message ?? "")"
    case .servers:
        state.message = "o jumps from a hit to its server, or from a checklist step to its hits"
    }
}
