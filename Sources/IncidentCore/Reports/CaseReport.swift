import Foundation

/// Everything a report says about a case, computed once from a scan snapshot; the renderers
/// (``ReportRenderer``) only format it.
///
/// Counted hits only: hits triaged as false positives are left out of findings and timeline
/// (their number is given in the summary).
public struct CaseReport: Sendable {
    public struct ServerSection: Sendable {
        public var server: Server
        public var summary: ServerSummary
        /// Findings grouped by indicator, most severe first.
        public var findings: [Finding]
        /// Applicable checklist steps with their recorded state.
        public var checklist: [ChecklistRow]
        /// Registered evidence of this server.
        public var evidence: [EvidenceRecord]
    }

    public struct Finding: Sendable {
        public var indicator: String
        public var title: String
        public var severity: Severity
        public var stage: Stage
        public var cve: String?
        public var count: Int
        public var firstSeen: Date?
        public var lastSeen: Date?
        public var clientIPs: [String]
        /// Up to ``CaseReport/referencesPerFinding`` evidence references: path, line, SHA-256 of the file.
        public var references: [(path: String, line: Int, sha256: String)]
    }

    public struct ChecklistRow: Sendable {
        public var step: PlaybookStep
        public var state: StepState
        public var by: String?
        public var at: Date?
        public var note: String?
    }

    /// One row of CISA's ED 21-02 status template (v1 columns, https://cyber.dhs.gov/ed/21-02/).
    /// Values this program does not record are `nil` and printed as "not recorded".
    public struct ED2102Row: Sendable {
        public var instance: String
        public var ipAddress: String?
        public var hostOSVersion: String?
        public var exchangeVersion: String?
        public var internetAccessible: Bool?
        public var runsOWA: Bool?
        public var runsECP: Bool?
        public var owaECPDisabled: Bool?
        /// From the `contain` step: done → yes, not-applicable → no, otherwise not recorded.
        public var disconnected: Bool?
        /// Patch state `patched`.
        public var updated: Bool
        /// From the `preserve` step (memory and disk images, action 2).
        public var imagesTaken: Bool?
        /// The indicators that hit, with counts, and the note of the `report` step (ticket numbers).
        public var observedIOCs: String
    }

    public var caseName: String
    public var caseId: String
    public var generatedAt: Date
    public var lastScan: Date?
    public var servers: [ServerSection]
    /// Counted hits, oldest first (hits without a time last).
    public var timeline: [Hit]
    public var falsePositives: Int
    public var indicatorTitles: [String: String]
    public var ed2102: [ED2102Row]
    /// Evidence registered but missing, and items under `evidence/` that could not be read.
    public var missingEvidence: [String]
    public var unreadable: [String]
    public var importedPacks: [IndicatorPackRecord]

    /// Evidence references listed per finding.
    public static let referencesPerFinding = 5

    public var verdictCounts: [(Verdict, Int)] { Self.count(servers.map(\.summary.verdict), order: Verdict.allCases.reversed()) }
    public var patchCounts: [(PatchState, Int)] { Self.count(servers.map(\.summary.patchState), order: PatchState.allCases) }
    public var compromiseCounts: [(CompromiseState, Int)] { Self.count(servers.map(\.summary.compromiseState), order: CompromiseState.allCases) }
    public var serversDone: Int { servers.filter(\.summary.isDone).count }
    public var stepsDone: Int { servers.reduce(0) { $0 + $1.summary.stepsDone } }
    public var stepsApplicable: Int { servers.reduce(0) { $0 + $1.summary.stepsApplicable } }
    public var severityCounts: [(Severity, Int)] { Self.count(timeline.map(\.severity), order: Severity.allCases.reversed()) }

    static func count<T: Hashable>(_ values: [T], order: [T]) -> [(T, Int)] {
        var c: [T: Int] = [:]
        for v in values { c[v, default: 0] += 1 }
        return order.map { ($0, c[$0] ?? 0) }
    }

    /// Builds the report.
    /// - Parameters:
    ///   - snapshot: a finished scan of the case.
    ///   - indicators: the rule engine's indicators, for titles.
    public init(snapshot: CaseSnapshot, playbook: Playbook, indicators: [Indicator], now: Date = Date()) {
        let caseFile = snapshot.caseFile
        caseName = caseFile.name
        caseId = caseFile.caseId
        generatedAt = now
        lastScan = snapshot.lastScan
        indicatorTitles = Dictionary(indicators.map { ($0.id, $0.title) }, uniquingKeysWith: { a, _ in a })
        importedPacks = caseFile.indicatorPacks ?? []
        let counted = snapshot.hits.filter { Verdicts.counts($0, in: caseFile) }
        falsePositives = snapshot.hits.count - counted.count
        timeline = counted.sorted { a, b in
            switch (a.time, b.time) {
            case let (x?, y?): return x != y ? x < y : a.id < b.id
            case (_?, nil): return true
            case (nil, _?): return false
            case (nil, nil): return (a.evidence, a.line, a.id) < (b.evidence, b.line, b.id)
            }
        }
        let hashes = Dictionary(caseFile.evidence.map { ($0.path, $0.sha256) }, uniquingKeysWith: { a, _ in a })
            .merging(snapshot.statuses.filter { !$0.skipped }.map { ($0.path, $0.sha256) }, uniquingKeysWith: { a, _ in a })
        var byServer: [String: [Hit]] = [:]
        for h in counted { byServer[h.server.lowercased(), default: []].append(h) }
        var evidenceByServer: [String: [EvidenceRecord]] = [:]
        for e in caseFile.evidence { evidenceByServer[e.server.lowercased(), default: []].append(e) }
        let summaries = Dictionary(snapshot.summaries.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
        let titles = indicatorTitles

        var sections: [ServerSection] = []
        var rows: [ED2102Row] = []
        for server in caseFile.servers {
            let key = server.name.lowercased()
            guard let summary = summaries[key] else { continue }
            let hits = byServer[key] ?? []
            var groups: [String: [Hit]] = [:]
            for h in hits { groups[h.indicator, default: []].append(h) }
            var findings: [Finding] = groups.map { id, list in
                let times = list.compactMap(\.time)
                var refs: [(String, Int, String)] = []
                var seen = Set<String>()
                for h in list.sorted(by: { ($0.evidence, $0.line) < ($1.evidence, $1.line) }) where refs.count < Self.referencesPerFinding {
                    if seen.insert("\(h.evidence):\(h.line)").inserted { refs.append((h.evidence, h.line, hashes[h.evidence] ?? "unknown")) }
                }
                let worst = list.max { $0.severity < $1.severity }!
                return Finding(indicator: id, title: titles[id] ?? id, severity: worst.severity, stage: worst.stage, cve: worst.cve,
                               count: list.count, firstSeen: times.min(), lastSeen: times.max(),
                               clientIPs: Array(Set(list.compactMap(\.clientIP))).sorted(), references: refs.map { (path: $0.0, line: $0.1, sha256: $0.2) })
            }
            findings.sort { ($1.severity, $0.indicator) < ($0.severity, $1.indicator) }
            let checklist = playbook.steps.filter { $0.applies(verdict: summary.verdict, patchState: summary.patchState) }.map { step in
                let entry = caseFile.checklists[server.name]?[step.id]
                return ChecklistRow(step: step, state: entry?.state ?? .todo, by: entry?.by, at: entry?.at, note: entry?.note)
            }
            sections.append(ServerSection(server: server, summary: summary, findings: findings, checklist: checklist,
                                          evidence: (evidenceByServer[key] ?? []).sorted { $0.path < $1.path }))
            func stepDone(_ id: String) -> Bool? {
                switch caseFile.checklists[server.name]?[id]?.state {
                case .done?: true
                case .notApplicable?: false
                default: nil
                }
            }
            var observed = findings.prefix(8).map { "\($0.indicator) ×\($0.count)" }.joined(separator: ", ")
            if findings.count > 8 { observed += ", +\(findings.count - 8) more" }
            if findings.isEmpty { observed = "none (verdict \(summary.verdict.rawValue))" }
            if let ticket = caseFile.checklists[server.name]?["report"]?.note, !ticket.isEmpty { observed += "; report: " + ticket }
            rows.append(ED2102Row(instance: server.fqdn ?? server.name, ipAddress: nil, hostOSVersion: nil,
                                  exchangeVersion: server.exchangeBuild, internetAccessible: server.internetFacing,
                                  runsOWA: nil, runsECP: nil, owaECPDisabled: nil, disconnected: stepDone("contain"),
                                  updated: summary.patchState == .patched, imagesTaken: stepDone("preserve"), observedIOCs: observed))
        }
        servers = sections
        ed2102 = rows
        missingEvidence = snapshot.missingEvidence.map(\.path)
        unreadable = snapshot.statuses.filter(\.skipped).map { "\($0.path): \($0.warnings.joined(separator: "; "))" }
    }
}
