import Foundation

/// A server's standing, computed from its evidence, hits, triage and checklist.
public struct ServerSummary: Sendable, Equatable {
    public var name: String
    public var verdict: Verdict
    /// Hits that count (not triaged as false positives).
    public var hits: Int
    /// Counted hits by severity.
    public var bySeverity: [Severity: Int]
    /// Evidence files, and how many of them were read as a known format.
    public var evidenceFiles: Int
    public var checkedFiles: Int
    /// Applicable checklist steps, and how many of them are done or not applicable.
    public var stepsDone: Int
    public var stepsApplicable: Int
    /// Each check's coverage (see ``Coverage``), in ``CoverageCheck`` order; empty for servers
    /// not yet scanned.
    public var coverage: [CheckCoverage] = []
    /// The intrusion-chain steps the counted hits reach (see ``Chains``).
    public var chain: [ChainLink] = []
    /// Patch axis and why (see ``PatchState``).
    public var patchState: PatchState = .unknown
    public var patchReason: String = ""
    /// Compromise axis and why (see ``CompromiseState``).
    public var compromiseState: CompromiseState = .unknown
    public var compromiseReason: String = ""
    /// Intrusion steps seen after the exposure window ended (patch or mitigation), nil when none.
    public var afterExposureEnd: ActivityAfterExposureEnd?

    /// Done: patched, and investigated clean or remediated.
    public var isDone: Bool {
        patchState == .patched && (compromiseState == .investigatedClean || compromiseState == .remediated)
    }
}

/// Counted hits past the entry (`medium` or above, chain stage after `attempt`) dated after the
/// server's exposure window ended: the attacker was still at work after the patch or the
/// mitigation. Patching is not remediation.
///
/// JSON shape (`servers[].afterExposureEnd` in `incident scan --format json` and the JSON report):
/// `windowEnd`, `firstSeen`, `lastSeen` (ISO-8601 UTC), `hits`, `stages` (chain stage names).
public struct ActivityAfterExposureEnd: Sendable, Equatable {
    /// When the exposure window ended (UTC).
    public var windowEnd: Date
    public var hits: Int
    /// Earliest and latest such hit (UTC).
    public var firstSeen: Date
    public var lastSeen: Date
    /// Their chain stages, in chain order.
    public var stages: [ChainStage]

    /// The hits of `hits` that show the intrusion going on after `end`, or nil when none does.
    /// - Parameter formats: evidence path → format (for the chain stage of web-shell hits).
    public static func of(_ hits: [Hit], after end: Date?, formats: [String: EvidenceFormat]) -> ActivityAfterExposureEnd? {
        guard let end else { return nil }
        var times: [Date] = []
        var stages = Set<ChainStage>()
        for h in hits where h.severity >= .medium {
            guard let t = h.time, t > end else { continue }
            let stage = ChainStage.of(h, format: formats[h.evidence])
            guard stage > .attempt else { continue }
            times.append(t)
            stages.insert(stage)
        }
        guard let first = times.min(), let last = times.max() else { return nil }
        return ActivityAfterExposureEnd(windowEnd: end, hits: times.count, firstSeen: first, lastSeen: last,
                                        stages: ChainStage.allCases.filter(stages.contains))
    }

    /// One line for text output: `7 hit(s) of web-shell-requested from … to …, after the exposure
    /// window ended …: patching did not evict the attacker`.
    public var summary: String {
        "\(hits) hit(s) of \(stages.map(\.rawValue).joined(separator: ", ")) from \(Timestamps.iso8601(firstSeen)) to \(Timestamps.iso8601(lastSeen)), "
            + "after the exposure window ended \(Timestamps.iso8601(windowEnd)): patching or mitigation did not evict the attacker"
    }
}

/// Turns hits into verdicts.
public enum Verdicts {
    /// Whether a hit counts toward verdicts: not triaged as a false positive.
    public static func counts(_ hit: Hit, in caseFile: CaseFile) -> Bool {
        caseFile.triageDecision(for: hit.id)?.decision != .falsePositive
    }

    /// The hits a responder must look at before a `probed` or `no-findings` server can be called
    /// clean, by indicator: counted `low` hits (not triaged as false positives) of the
    /// `exploitation`, `web-shell` or `post-exploitation` stage (a web file missing from the
    /// baseline, a Test-ProxyLogon "other" row, an archive under ProgramData). Such a hit does not
    /// make the server compromised on its own, but only a false-positive decision clears it.
    /// - Returns: `"<indicator id>"`, or `"<indicator id> ×N"` for N > 1 hits, sorted by id.
    static func toReview(_ hits: [Hit], latest: [String: TriageDecision.Decision]) -> [String] {
        let late: Set<Stage> = [.exploitation, .webShell, .postExploitation]
        var counts: [String: Set<String>] = [:]
        for hit in hits where hit.severity == .low && late.contains(hit.stage) && latest[hit.id] != .falsePositive {
            counts[hit.indicator, default: []].insert(hit.id)
        }
        return counts.keys.sorted().map { id in counts[id]!.count > 1 ? "\(id) ×\(counts[id]!.count)" : id }
    }

    /// The verdict for one server.
    ///
    /// `not-assessed` when no evidence file of the server was read as a known format;
    /// otherwise from the counted hits at `low` or above: a `web-shell` or `post-exploitation`
    /// hit of `medium` or above → `compromised`; an `exploitation` hit of `medium` or above →
    /// `exploited`; any other counted hit → `probed`; none → `no-findings`. `info` hits never
    /// move a verdict.
    public static func verdict(checkedFiles: Int, hits: [Hit]) -> Verdict {
        guard checkedFiles > 0 else { return .notAssessed }
        var verdict = Verdict.noFindings
        for hit in hits where hit.severity >= .low {
            let v: Verdict
            if hit.severity >= .medium {
                switch hit.stage {
                case .webShell, .postExploitation: v = .compromised
                case .exploitation: v = .exploited
                case .probe, .attempt: v = .probed
                }
            } else {
                v = .probed
            }
            if v > verdict { verdict = v }
        }
        return verdict
    }

    /// Summaries for every server of the case, in the case's server order. The verdict is the
    /// hit-derived one of ``verdict(checkedFiles:hits:)`` adjusted for coverage by
    /// ``Coverage/adjust(_:coverage:)``: `no-findings` only when every required check covers the
    /// exposure window (``Remediation/exposureWindowStart(for:in:)``: the server's first exposure, else
    /// `settings.exposureWindowStart`), else `insufficient-coverage`.
    /// - Parameter logBuilds: CU-level builds seen in each server's logs (lowercased server name →
    ///   build); they can show a server unpatched, never that a security update is installed.
    public static func summarize(caseFile: CaseFile, statuses: [FileStatus], hits: [Hit], playbook: Playbook,
                                 logBuilds: [String: ExchangeBuild] = [:]) -> [ServerSummary] {
        // The latest decision per hit, once: looking each hit up in the whole triage list would
        // cost hits × decisions (10^10 for a million hits and ten thousand decisions).
        var latest: [String: TriageDecision.Decision] = [:]
        for t in caseFile.triage { latest[t.hitId] = t.decision }

        var hitsByServer: [String: [Hit]] = [:]
        for hit in hits where latest[hit.id] != .falsePositive { hitsByServer[hit.server.lowercased(), default: []].append(hit) }
        // When each evidence file was last registered or grew: a still-exposed server's logs must
        // run to about then.
        var intake: [String: Date] = [:]
        for e in caseFile.evidence { intake[e.path] = e.updatedAt ?? e.addedAt }
        var filesByServer: [String: [FileStatus]] = [:]
        var formats: [String: EvidenceFormat] = [:]
        for status in statuses {
            filesByServer[status.server.lowercased(), default: []].append(status)
            if let f = status.format { formats[status.path] = f }
        }
        return caseFile.servers.map { server in
            let key = server.name.lowercased()
            let files = filesByServer[key] ?? []
            let serverHits = hitsByServer[key] ?? []
            let checked = files.filter(\.checked).count
            let exposureEnd = Remediation.exposureWindowEnd(for: server, in: caseFile)
            // The patch state the server shows: its recorded build, else a CU build in its logs
            // for which no fix was ever released.
            let patch = Remediation.patchState(server: server, caseFile: caseFile, logBuild: logBuilds[key])
            let stillExposed = exposureEnd == nil && patch.0 == .vulnerable
            let coverage = Coverage.evaluate(files: files, hits: serverHits, exposureStart: Remediation.exposureWindowStart(for: server, in: caseFile),
                                             build: server.exchangeBuild, exposureEnd: exposureEnd, stillExposed: stillExposed, intake: intake,
                                             generatesOAB: server.generatesOAB)
            let verdict = Coverage.adjust(verdict(checkedFiles: checked, hits: serverHits), coverage: coverage)
            var bySeverity: [Severity: Int] = [:]
            for hit in serverHits { bySeverity[hit.severity, default: 0] += 1 }
            let standing = Remediation.standing(server: server, verdict: verdict, caseFile: caseFile, playbook: playbook,
                                                logBuild: logBuilds[key], coverage: coverage, toReview: toReview(serverHits, latest: latest), patch: patch)
            let steps = playbook.steps.filter { $0.applies(verdict: verdict, patchState: standing.patchState) }
            let done = steps.filter {
                let s = caseFile.stepState(server: server.name, step: $0.id)
                return s == .done || s == .notApplicable
            }.count
            return ServerSummary(name: server.name, verdict: verdict, hits: serverHits.count, bySeverity: bySeverity,
                                 evidenceFiles: files.count, checkedFiles: checked, stepsDone: done, stepsApplicable: steps.count,
                                 coverage: coverage, chain: Chains.build(hits: serverHits, formats: formats),
                                 patchState: standing.patchState, patchReason: standing.patchReason,
                                 compromiseState: standing.compromiseState, compromiseReason: standing.compromiseReason,
                                 afterExposureEnd: ActivityAfterExposureEnd.of(serverHits, after: exposureEnd, formats: formats))
        }
    }
}
