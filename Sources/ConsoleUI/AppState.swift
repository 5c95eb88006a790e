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
    public var showHelp = false {
        didSet { if !showHelp { helpScroll = 0 } }
    }
    /// First key shown in the help view when not all fit (scrolled with j/k, PgUp/PgDn, g/G).
    public var helpScroll = 0
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
    /// The audit trail view (`A`), while it is open; it takes every key (see ``AuditViewState``).
    public var audit: AuditViewState?
    /// The last ``CaseSnapshot/noticeSerial`` shown in the status bar.
    public var seenNoticeSerial = 0
    /// The checklist walk-through view, while open (keys go to it after the prompt).
    public var walkthrough: Walkthrough?
    /// Filter text per pane (`/`); empty or absent shows everything. See ``ListFilter``.
    public var filters: [Pane: String] = [:]
    /// Order of the servers pane (`s` in it).
    public var serverSort: ServerSort = .verdict
    /// Order of the hits pane (`s` in it).
    public var hitSort: HitSort = .severity
    /// Themes the `t` key cycles through, and the one in use (set by the runtime).
    public var themeNames: [String] = []
    public var themeName = "default"
    /// A yes/no question over the screen; keys go to it first, and "cancel" is the default.
    public var confirmation: Confirmation?
    /// Changes this console made, newest last, each with the edit that reverts it (`u`).
    public var undoStack: [UndoEntry] = []
    /// Lines around the selected hit in its evidence file, read when the detail view opens.
    public var excerpt: EvidenceExcerpt?
    /// While the selection moves (j/k held down over a slow link), the panes that follow it keep
    /// showing this earlier selection until the runtime sends ``Action/settled`` (no key for a
    /// moment), so a keystroke redraws only the two list rows. Nil when settled.
    public var settledSelection: Selection?

    /// The selected rows, as kept while moving.
    public struct Selection: Sendable, Equatable {
        public var serverIndex: Int
        public var hitIndex: Int
        public var stepIndex: Int
        public var viewTop: [Pane: Int]
    }
    /// First visible row of each list pane; moved only as far as needed to keep the selection
    /// visible (adjusted after every update).
    public var viewTop: [Pane: Int] = [:]

    /// The state the panes that follow the selection are drawn from: this one once settled,
    /// else a copy showing ``settledSelection``.
    func settledView() -> AppState {
        guard let s = settledSelection else { return self }
        var copy = self
        copy.settledSelection = nil
        copy.serverIndex = s.serverIndex
        copy.hitIndex = s.hitIndex
        copy.stepIndex = s.stepIndex
        copy.viewTop = s.viewTop
        copy.refreshViews()
        return copy
    }

    public init(caseName: String, playbook: Playbook, size: Size, readOnly: Bool = false) {
        self.caseName = caseName
        self.playbook = playbook
        self.size = size
        self.readOnly = readOnly
    }

    // MARK: - Derived views of the snapshot

    /// Server summaries in display order (``serverSort``, default most serious verdict first,
    /// then by name), filtered by the servers filter; derived once per snapshot, sort or filter.
    public private(set) var servers: [ServerSummary] = []
    /// Every server in display order, before the filter.
    public private(set) var allServers: [ServerSummary] = []
    /// Hits per server (lowercased name), most severe and newest first; derived once per snapshot.
    /// (Indices into `snapshot.hits`, so a million hits are grouped and sorted without copying them.)
    private(set) var hitsByServer: [String: [Int32]] = [:]
    /// Hits of the selected server in ``hitSort`` order, filtered by the hits filter; derived
    /// when the server, snapshot, sort or filter changes, never per frame.
    public private(set) var hitsOfSelectedServer: [Hit] = []
    /// The latest triage decision per hit id; derived once per snapshot.
    public private(set) var triageByHit: [String: TriageDecision] = [:]
    /// Derived once per snapshot, for the status bar and servers pane (never per frame).
    public private(set) var newHits = 0
    public private(set) var orphanItems = 0
    public private(set) var stepsDoneTotal = 0
    public private(set) var stepsApplicableTotal = 0
    /// Evidence files and registered-but-missing evidence per server (lowercased name); derived
    /// once per snapshot for the detail pane.
    public private(set) var statusesByServer: [String: [FileStatus]] = [:]
    public private(set) var missingByServer: [String: [EvidenceRecord]] = [:]
    /// The case's server records by lowercased name; derived once per snapshot.
    public private(set) var serverRecords: [String: Server] = [:]
    /// Bumped on every snapshot; keys the derived views.
    private var snapshotGeneration = 0
    private var serverViewKey: [String] = []
    private var hitViewKey: [String] = []

    /// Installs a snapshot and derives the sorted lists the views read.
    mutating func setSnapshot(_ snapshot: CaseSnapshot) {
        let sameHits = self.snapshot?.hitsVersion == snapshot.hitsVersion && self.snapshot?.scanPasses ?? 0 > 0
        self.snapshot = snapshot
        snapshotGeneration &+= 1
        var triage: [String: TriageDecision] = [:]
        for t in snapshot.caseFile.triage { triage[t.hitId] = t }
        triageByHit = triage
        orphanItems = snapshot.statuses.reduce(0) { $0 + ($1.skipped && $1.server.isEmpty ? 1 : 0) }
        stepsDoneTotal = snapshot.summaries.reduce(0) { $0 + $1.stepsDone }
        stepsApplicableTotal = snapshot.summaries.reduce(0) { $0 + $1.stepsApplicable }
        var statuses: [String: [FileStatus]] = [:]
        for status in snapshot.statuses { statuses[status.server.lowercased(), default: []].append(status) }
        statusesByServer = statuses
        var missing: [String: [EvidenceRecord]] = [:]
        for record in snapshot.missingEvidence { missing[record.server.lowercased(), default: []].append(record) }
        missingByServer = missing
        serverRecords = Dictionary(snapshot.caseFile.servers.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
        if !sameHits {
            var grouped: [String: [Int32]] = [:]
            var keys: [String: String] = [:]
            // Severity rank and time per hit, so the sort compares numbers and looks at the hit
            // itself (``Hit/displayOrder(_:_:)``) only on ties.
            let rank = Dictionary(uniqueKeysWithValues: Severity.allCases.sorted().enumerated().map { ($1, UInt8($0)) })
            var sev = [UInt8](repeating: 0, count: snapshot.hits.count)
            var time = [Double](repeating: -.infinity, count: snapshot.hits.count)
            snapshot.hits.withUnsafeBufferPointer { hits in
                for i in hits.indices {
                    let name = hits[i].server
                    let key: String
                    if let k = keys[name] { key = k } else { key = name.lowercased(); keys[name] = key }
                    grouped[key, default: []].append(Int32(i))
                    sev[i] = rank[hits[i].severity] ?? 0
                    if let t = hits[i].time { time[i] = t.timeIntervalSinceReferenceDate }
                }
                for key in grouped.keys {
                    grouped[key]!.sort { a, b in
                        let x = Int(a), y = Int(b)
                        if sev[x] != sev[y] { return sev[x] > sev[y] }
                        if time[x] != time[y] { return time[x] > time[y] }
                        return Hit.displayOrder(hits[x], hits[y])
                    }
                }
            }
            hitsByServer = grouped
            if let baseline = baselineHitIDs {
                newHits = snapshot.hits.reduce(0) { $0 + (baseline.contains($1.id) ? 0 : 1) }
            }
        }
        refreshViews()
    }

    /// Re-derives the filtered and sorted lists when what they depend on changed (cheap otherwise).
    mutating func refreshViews() {
        let serverKey = ["\(snapshotGeneration)", serverSort.rawValue, filters[.servers] ?? ""]
        if serverKey != serverViewKey {
            serverViewKey = serverKey
            allServers = (snapshot?.summaries ?? []).sorted(by: serverSort.areInOrder)
            let filter = ListFilter(filters[.servers] ?? "")
            servers = filter.isEmpty ? allServers : allServers.filter { filter.matches($0) }
        }
        let name = selectedServer?.name.lowercased() ?? ""
        let hitKey = ["\(snapshotGeneration)", name, hitSort.rawValue, filters[.hits] ?? ""]
        if hitKey != hitViewKey {
            hitViewKey = hitKey
            var hits = allHits(ofServer: name)
            var filter = ListFilter(filters[.hits] ?? "")
            filter.triage = triageByHit
            if !filter.isEmpty { hits = hits.filter { filter.matches($0) } }
            if hitSort != .severity { hits.sort(by: hitSort.areInOrder) }
            hitsOfSelectedServer = hits
        }
    }

    /// Every hit of a server (before the filter), most severe first.
    func allHits(ofServer name: String) -> [Hit] {
        guard let all = snapshot?.hits, let indices = hitsByServer[name.lowercased()] else { return [] }
        return indices.map { all[Int($0)] }
    }

    /// Whether any hit of a server (before the filter) satisfies `predicate`, without copying them.
    func anyHit(ofServer name: String, where predicate: (Hit) -> Bool) -> Bool {
        guard let all = snapshot?.hits, let indices = hitsByServer[name.lowercased()] else { return false }
        return all.withUnsafeBufferPointer { hits in indices.contains { predicate(hits[Int($0)]) } }
    }

    /// Number of hits of a server before the filter.
    func hitCount(ofServer name: String) -> Int { hitsByServer[name.lowercased()]?.count ?? 0 }

    public var selectedServer: ServerSummary? {
        let s = servers
        return s.indices.contains(serverIndex) ? s[serverIndex] : nil
    }

    public var selectedHit: Hit? {
        let h = hitsOfSelectedServer
        return h.indices.contains(hitIndex) ? h[hitIndex] : nil
    }

    public var selectedStep: PlaybookStep? {
        playbook.steps.indices.contains(stepIndex) ? playbook.steps[stepIndex] : nil
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
