import Foundation
import IncidentCore
import TerminalCore

/// The panes of the main screen, in Tab order.
public enum Pane: Int, Sendable, CaseIterable, Equatable {
    case servers, hits, checklist

    public var title: String {
        switch self {
        case .servers: "Servers"
        case .hits: "Indicator hits"
        case .checklist: "Remediation checklist"
        }
    }
}

/// Everything the console shows, as plain values. Changed only by ``update(_:_:)``.
public struct AppState: Sendable {
    public var caseName: String
    public var playbook: Playbook
    /// The latest case snapshot from the scanner; nil until the first scan pass ends. Set it
    /// through ``update(_:_:)`` (`.snapshot`), which also derives the sorted lists.
    public private(set) var snapshot: CaseSnapshot?
    public var size: Size
    public var focus: Pane = .servers
    public var serverIndex = 0
    public var hitIndex = 0
    public var stepIndex = 0
    public var showDetail = false
    /// First line shown in the detail view (scrolled with j/k, PgUp/PgDn, g/G while it is open).
    public var detailScroll = 0
    public var showHelp = false
    public var readOnly: Bool
    /// Hit ids present after the first scan pass; hits not in it are "new since opening".
    public var baselineHitIDs: Set<String>?
    /// A one-line message for the status bar (cleared by the next key).
    public var message: String?
    /// Set to request a full repaint (Ctrl-L); the runtime clears it.
    public var needsFullRedraw = false
    /// Set by a first `q` while changes are unsaved; a second `q` then quits.
    public var quitConfirmed = false
    /// Indicator titles by id, for the detail view.
    public var indicatorTitles: [String: String] = [:]
    /// The text prompt on the status line, while the responder types; keys go to it first.
    public var prompt: ActivePrompt?
    /// The checklist walk-through view, while open (keys go to it after the prompt).
    public var walkthrough: Walkthrough?

    public init(caseName: String, playbook: Playbook, size: Size, readOnly: Bool = false) {
        self.caseName = caseName
        self.playbook = playbook
        self.size = size
        self.readOnly = readOnly
    }

    // MARK: - Derived views of the snapshot

    /// Server summaries in display order (most serious verdict first, then by name); derived
    /// once per snapshot.
    public private(set) var servers: [ServerSummary] = []
    /// Hits per server (lowercased name), most severe and newest first; derived once per snapshot.
    private(set) var hitsByServer: [String: [Hit]] = [:]

    /// Installs a snapshot and derives the sorted lists the views read.
    mutating func setSnapshot(_ snapshot: CaseSnapshot) {
        let sameHits = self.snapshot?.hitsVersion == snapshot.hitsVersion && self.snapshot?.scanPasses ?? 0 > 0
        self.snapshot = snapshot
        servers = snapshot.summaries.sorted {
            $0.verdict != $1.verdict ? $0.verdict > $1.verdict : $0.name.localizedStandardCompare($1.name) == .orderedAscending
        }
        if sameHits { return }
        var grouped: [String: [Hit]] = [:]
        for hit in snapshot.hits { grouped[hit.server.lowercased(), default: []].append(hit) }
        for key in grouped.keys { grouped[key]?.sort(by: Hit.displayOrder) }
        hitsByServer = grouped
    }

    public var selectedServer: ServerSummary? {
        let s = servers
        return s.indices.contains(serverIndex) ? s[serverIndex] : nil
    }

    /// Hits of the selected server, most severe and newest first.
    public var hitsOfSelectedServer: [Hit] {
        guard let server = selectedServer?.name.lowercased() else { return [] }
        return hitsByServer[server] ?? []
    }

    public var selectedHit: Hit? {
        let h = hitsOfSelectedServer
        return h.indices.contains(hitIndex) ? h[hitIndex] : nil
    }

    public var selectedStep: PlaybookStep? {
        playbook.steps.indices.contains(stepIndex) ? playbook.steps[stepIndex] : nil
    }

    /// Number of hits found since the console opened.
    public var newHits: Int {
        guard let baseline = baselineHitIDs, let hits = snapshot?.hits else { return 0 }
        return hits.reduce(0) { $0 + (baseline.contains($1.id) ? 0 : 1) }
    }

    /// Rows in the focused list.
    func count(of pane: Pane) -> Int {
        switch pane {
        case .servers: servers.count
        case .hits: hitsOfSelectedServer.count
        case .checklist: playbook.steps.count
        }
    }
}
