import Foundation

/// Where a server stands on the patch axis.
///
/// `patched`: the recorded build is at or above the first fixed build of its CU
/// (``BuildTable``). `mitigated`: not patched, and the responder marked the
/// `interim-mitigation` step done (EOMT / URL Rewrite rules; a responder-set state: a collected
/// web.config with the rules gives info hit `WC-001` to mark it on, and the step is reopened when
/// the build later moves to another unpatched CU, see ``Remediation/automaticChanges(caseFile:hits:playbook:)``). `vulnerable`: the build, or a
/// CU-level build seen in the logs, is below the fixed build or of a CU without a fix.
/// `unknown`: no build recorded and none in the logs, or one the table cannot judge.
public enum PatchState: String, Codable, Sendable, CaseIterable {
    case vulnerable, mitigated, patched, unknown
}

/// Where a server stands on the compromise axis; being patched never moves it.
///
/// `compromised`: counted hits (false positives excluded) give the verdict `exploited` or
/// `compromised`. `remediated`: compromised, and every applicable eviction step is done or not
/// applicable. `investigated-clean`: evidence was read, the verdict is `no-findings` or `probed`,
/// and every applicable investigation step is done or not applicable. `unknown`: anything else —
/// including `not-assessed` and any verdict other than those four, so a server whose evidence was
/// not read (or not read enough) never counts as clean.
public enum CompromiseState: String, Codable, Sendable, CaseIterable {
    case unknown
    case investigatedClean = "investigated-clean"
    case compromised
    case remediated
}

/// Both axes of one server, with the reasons shown to the responder.
public struct ServerStanding: Sendable, Equatable {
    public var patchState: PatchState
    /// Why, e.g. `build 15.1.2106.2 < fixed 15.1.2106.13 (Exchange 2016 CU18)`.
    public var patchReason: String
    public var compromiseState: CompromiseState
    /// Why, e.g. `compromised: eviction steps open: contain, rebuild`.
    public var compromiseReason: String

    /// Done: patched, and investigated clean or remediated.
    public var isDone: Bool {
        patchState == .patched && (compromiseState == .investigatedClean || compromiseState == .remediated)
    }
}

extension PlaybookStep {
    /// Whether the step applies to a server with this verdict and patch state: `compromised`
    /// steps once the verdict is `exploited` or `compromised`; `unpatched` steps unless the
    /// server is patched.
    public func applies(verdict: Verdict, patchState: PatchState) -> Bool {
        switch appliesWhen {
        case .always: true
        case .compromised: verdict == .exploited || verdict == .compromised
        case .unpatched: patchState != .patched
        }
    }
}

/// Patch state, compromise state, exposure window and the checklist changes evidence makes.
public enum Remediation {
    /// Step ids the evidence acts on.
    public static let patchStep = "patch"
    public static let mitigationStep = "interim-mitigation"
    public static let webShellStep = "web-shells"
    /// Prefix of the `by` of every automatic checklist change.
    public static let automaticActor = "incident"

    // MARK: - Exposure window

    /// How far back this server's logs must reach for the log-coverage step: the server's
    /// ``Server/firstExposure`` when recorded, otherwise the case-wide
    /// ``CaseSettings/exposureWindowStart`` (default 2021-01-01T00:00:00Z, CISA AA21-062A).
    public static func exposureWindowStart(for server: Server, in caseFile: CaseFile) -> Date {
        server.firstExposure ?? caseFile.settings.exposureWindowStart
    }

    /// When the server stopped being exposed (UTC): the earliest of ``Server/patchedOn``,
    /// ``Server/mitigatedOn`` and, when no mitigation date is recorded, the time the
    /// `interim-mitigation` step was marked done; nil while still exposed. A patch date counts
    /// only while the recorded build is not below the fix: patch verification uses the build
    /// (`../shared/knowledge/proxylogon.md` §5), and a vulnerable build says the patch is not there.
    /// A mitigation date stops counting once the recorded build is of another CU than when it was
    /// set (``Server/mitigatedBuild``) and not fixed: the CU upgrade removed the rewrite rules.
    public static func exposureWindowEnd(for server: Server, in caseFile: CaseFile) -> Date? {
        var end = server.patchedOn
        let current = server.exchangeBuild.flatMap(ExchangeBuild.init(parsing:))
        if let current, case .vulnerable = BuildTable.assess(current) { end = nil }
        if let m = server.mitigatedOn {
            // Pitfall 24: a later upgrade to another CU that is not fixed removed the rewrite rules.
            if let then = server.mitigatedBuild.flatMap(ExchangeBuild.init(parsing:)), let current, !then.sameCU(as: current) {
                if case .fixed = BuildTable.assess(current) {} else { return end }
            }
            end = min(end ?? m, m)
        } else if let m = caseFile.checklists[server.name]?[mitigationStep], m.state == .done {
            end = min(end ?? m.at, m.at)
        }
        return end
    }

    // MARK: - Patch axis

    /// The patch state of a server from its recorded build, a CU-level build seen in its logs
    /// (`logBuild`, which can show a CU unpatched but never that an SU is installed) and the
    /// `interim-mitigation` step.
    public static func patchState(server: Server, caseFile: CaseFile, logBuild: ExchangeBuild? = nil) -> (PatchState, String) {
        var state = PatchState.unknown
        var reason = "no build recorded (set it with b in the console or incident server set --build)"
        if let text = server.exchangeBuild {
            if let build = ExchangeBuild(parsing: text) {
                let assessment = BuildTable.assess(build)
                reason = assessment.reason
                switch assessment {
                case .fixed: state = .patched
                case .vulnerable: state = .vulnerable
                case .undetermined: state = .unknown
                }
            } else {
                reason = "recorded build \"\(text.prefix(40))\" is not an Exchange build number"
            }
        }
        if state == .unknown, let logBuild {
            // Logs only carry the CU build: they can prove "vulnerable", and "fixed" only for a
            // CU that shipped with the fix.
            let assessment = BuildTable.assess(logBuild)
            switch assessment {
            case .vulnerable: state = .vulnerable; reason = "logs show " + assessment.reason
            case .fixed: state = .patched; reason = "logs show " + assessment.reason
            case .undetermined:
                // A build the table does not have says so; a CU-level build of a CU whose fix is
                // an SU adds nothing to "no build recorded".
                if BuildTable.notInTableReason(logBuild) != nil { reason += "; logs show " + assessment.reason }
            }
        }
        if state != .patched, caseFile.stepState(server: server.name, step: mitigationStep) == .done {
            return (.mitigated, "interim mitigation done; " + reason)
        }
        return (state, reason)
    }

    // MARK: - Compromise axis

    /// The compromise state from the verdict (counted hits only), the coverage of the required
    /// checks and the checklist:
    /// - `exploited`/`compromised` → `compromised`, and `remediated` only once every applicable
    ///   eviction step is `done` (`not-applicable` evicts nobody and does not count);
    /// - `no-findings`/`probed` → `investigated-clean` only when every required check is covered
    ///   (none `insufficient-coverage` or `not-checked`), no hit is left to review (`toReview`:
    ///   the indicators of counted `low` hits of the `exploitation`, `web-shell` or
    ///   `post-exploitation` stage, see ``Verdicts/toReview(_:latest:)``)
    ///   and every investigation
    ///   step is done or not applicable; otherwise `unknown`;
    /// - `insufficient-coverage`, `not-assessed` → `unknown`, always.
    public static func compromiseState(server: String, verdict: Verdict, patchState: PatchState,
                                       caseFile: CaseFile, playbook: Playbook,
                                       coverage: [CheckCoverage] = [], toReview: [String] = []) -> (CompromiseState, String) {
        func applicable(_ flag: (PlaybookStep) -> Bool) -> [PlaybookStep] {
            playbook.steps.filter { flag($0) && $0.applies(verdict: verdict, patchState: patchState) }
        }
        func state(_ step: PlaybookStep) -> StepState { caseFile.stepState(server: server, step: step.id) }
        if verdict == .exploited || verdict == .compromised {
            // Eviction must have happened: "not applicable" does not evict anyone.
            let steps = applicable { $0.eviction == true }
            let skipped = steps.filter { state($0) == .notApplicable }.map(\.id)
            let open = steps.filter { state($0) != .done && state($0) != .notApplicable }.map(\.id)
            if open.isEmpty && skipped.isEmpty { return (.remediated, "\(verdict.rawValue), every eviction step done") }
            var why = "\(verdict.rawValue); "
            if !open.isEmpty { why += "eviction steps open: " + open.joined(separator: ", ") }
            if !skipped.isEmpty {
                why += (open.isEmpty ? "" : "; ") + "marked not applicable, which does not count on a compromised server: " + skipped.joined(separator: ", ")
            }
            return (.compromised, why)
        }
        // Only a verdict from evidence that covers every required check can be clean.
        let gaps = coverage.filter { $0.required && ($0.status == .insufficientCoverage || $0.status == .notChecked) }
            .map { "\($0.check.rawValue) (\($0.status.rawValue))" }
        if verdict == .noFindings || verdict == .probed {
            if !gaps.isEmpty {
                return (.unknown, "\(verdict.rawValue), but required checks are not covered: " + gaps.joined(separator: ", "))
            }
            if !toReview.isEmpty {
                // A low hit of a late stage (a file missing from the baseline, a Test-ProxyLogon
                // "other" row) is not a compromise on its own, nor is it clean until looked at.
                return (.unknown, "\(verdict.rawValue); low hits of a late stage, cleared only by a false-positive triage: " + toReview.joined(separator: ", "))
            }
            let open = applicable { $0.investigation == true }.filter { state($0) != .done && state($0) != .notApplicable }.map(\.id)
            if open.isEmpty { return (.investigatedClean, "\(verdict.rawValue), every required check covered and every investigation step done") }
            return (.unknown, "\(verdict.rawValue); investigation steps open: " + open.joined(separator: ", "))
        }
        if verdict == .insufficientCoverage {
            return (.unknown, "insufficient-coverage: the evidence does not cover " + (gaps.isEmpty ? "the exposure window" : gaps.joined(separator: ", "))
                + "; collect it, or correct the server's exposure window if it is wrong")
        }
        return (.unknown, "verdict \(verdict.rawValue): evidence does not show the server clean")
    }

    /// Both axes for a server.
    /// - Parameter patch: the server's patch state and reason when already worked out
    ///   (``patchState(server:caseFile:logBuild:)``), else it is worked out here.
    public static func standing(server: Server, verdict: Verdict, caseFile: CaseFile, playbook: Playbook,
                                logBuild: ExchangeBuild? = nil, coverage: [CheckCoverage] = [], toReview: [String] = [],
                                patch known: (PatchState, String)? = nil) -> ServerStanding {
        let (patch, patchReason) = known ?? patchState(server: server, caseFile: caseFile, logBuild: logBuild)
        let (compromise, why) = compromiseState(server: server.name, verdict: verdict, patchState: patch, caseFile: caseFile,
                                                playbook: playbook, coverage: coverage, toReview: toReview)
        return ServerStanding(patchState: patch, patchReason: patchReason, compromiseState: compromise, compromiseReason: why)
    }

    // MARK: - Evidence acting on the checklist

    /// A checklist change the evidence makes.
    public struct AutomaticChange: Sendable, Equatable {
        public var server: String
        public var step: String
        public var state: StepState
        /// `incident (<reason>)`, recorded as who made the change.
        public var by: String
        public var note: String
    }

    /// Checklist changes the evidence calls for, given the case as it is now.
    ///
    /// - The `patch` step is done automatically when the recorded build is at or above the fixed
    ///   build, by `incident (build X ≥ fixed Y)`; an automatic done is reopened when the build
    ///   no longer qualifies. A responder's own `done` or `not-applicable` is never changed by the build.
    /// - The `web-shells` step, once done, is reopened (to `todo`) by a counted critical hit that
    ///   is new since it was done: one whose id is not among ``ChecklistEntry/hitsAtDone``, or,
    ///   when those were not recorded, whose evidence file was registered or grew after the step
    ///   was done or whose log time is later.
    public static func automaticChanges(caseFile: CaseFile, hits: [Hit]?, playbook: Playbook) -> [AutomaticChange] {
        var changes: [AutomaticChange] = []
        let stepIds = Set(playbook.steps.map(\.id))
        var evidenceTime: [String: Date] = [:]
        for e in caseFile.evidence { evidenceTime[e.path] = e.updatedAt ?? e.addedAt }
        var critical: [String: [Hit]] = [:]
        for hit in hits ?? [] where hit.severity == .critical && Verdicts.counts(hit, in: caseFile) {
            critical[hit.server.lowercased(), default: []].append(hit)
        }
        for server in caseFile.servers {
            let entries = caseFile.checklists[server.name] ?? [:]
            if stepIds.contains(patchStep) {
                let entry = entries[patchStep]
                let assessment = server.exchangeBuild.flatMap(ExchangeBuild.init(parsing:)).map(BuildTable.assess)
                let automatic = entry?.by.hasPrefix(automaticActor + " (") ?? false
                if case let .fixed(build, fixed, _)? = assessment, entry?.state != .done, entry?.state != .notApplicable {
                    changes.append(AutomaticChange(server: server.name, step: patchStep, state: .done,
                                                   by: "\(automaticActor) (build \(build) ≥ fixed \(fixed))",
                                                   note: "verified from the recorded Exchange build"))
                } else if entry?.state == .done, automatic {
                    if case .fixed? = assessment {} else {
                        let why = assessment?.reason ?? "no build recorded"
                        changes.append(AutomaticChange(server: server.name, step: patchStep, state: .todo,
                                                       by: "\(automaticActor) (\(why))",
                                                       note: "reopened: the recorded build no longer shows the fix"))
                    }
                }
            }
            if stepIds.contains(mitigationStep), let change = mitigationAfterCUChange(server: server, entry: entries[mitigationStep]) {
                changes.append(change)
            }
            if stepIds.contains(webShellStep), let entry = entries[webShellStep], entry.state == .done,
               let serverHits = critical[server.name.lowercased()] {
                let newHit = serverHits.first { hit in
                    if let known = entry.hitsAtDone { return !known.contains(hit.id) }
                    if let t = evidenceTime[hit.evidence], t > entry.at { return true }
                    if let t = hit.time, t > entry.at { return true }
                    return false
                }
                if let hit = newHit {
                    changes.append(AutomaticChange(server: server.name, step: webShellStep, state: .todo,
                                                   by: "\(automaticActor) (new critical hit \(hit.indicator) at \(hit.evidence):\(hit.line))",
                                                   note: "reopened: a critical hit appeared after web shells were removed"))
                }
            }
        }
        return changes
    }

    /// Pitfall 24 (https://github.com/microsoft/CSS-Exchange/issues/378): installing a CU replaces
    /// the IIS configuration, so the URL Rewrite rules EOMT added are gone. A done
    /// `interim-mitigation` step whose ``ChecklistEntry/buildAtDone`` is of another CU than the
    /// server's recorded build, while that build is not fixed, is reopened (to `todo`) by
    /// `incident (CU changed from <old CU> to <new CU> after the mitigation was done: a CU upgrade
    /// removes the URL Rewrite rules; re-run EOMT)`. Nil when the step is not done, either build
    /// is missing or unreadable, the CU is the same, or the new build is fixed (the step then no
    /// longer applies).
    static func mitigationAfterCUChange(server: Server, entry: ChecklistEntry?) -> AutomaticChange? {
        guard let entry, entry.state == .done,
              let then = entry.buildAtDone.flatMap(ExchangeBuild.init(parsing:)),
              let now = server.exchangeBuild.flatMap(ExchangeBuild.init(parsing:)),
              !then.sameCU(as: now) else { return nil }
        if case .fixed = BuildTable.assess(now) { return nil }
        let cu = { (b: ExchangeBuild) in "\(b.major).\(b.minor).\(b.build)" }
        return AutomaticChange(server: server.name, step: mitigationStep, state: .todo,
                               by: "\(automaticActor) (CU changed from \(cu(then)) to \(cu(now)) after the mitigation was done: "
                                   + "a CU upgrade removes the URL Rewrite rules; re-run EOMT)",
                               note: "reopened: the mitigation was done on another CU; check web.config for the rewrite rules")
    }

    /// Applies automatic changes to the case, each with an audit entry (`checklist.step`, by
    /// `incident (<reason>)`). When the web-shells step becomes done (by anyone), the ids of the
    /// server's counted critical hits are recorded in ``ChecklistEntry/hitsAtDone``; when the
    /// interim-mitigation step is done, the server's recorded build in ``ChecklistEntry/buildAtDone``.
    /// - Returns: true when the case changed.
    @discardableResult
    public static func reconcile(_ caseFile: inout CaseFile, hits: [Hit]?, playbook: Playbook, at now: Date) -> Bool {
        var changed = false
        for change in automaticChanges(caseFile: caseFile, hits: hits, playbook: playbook) {
            let before = caseFile.stepState(server: change.server, step: change.step)
            caseFile.checklists[change.server, default: [:]][change.step] = ChecklistEntry(state: change.state, by: change.by, at: now, note: change.note)
            caseFile.audit.append(AuditEntry(at: now, by: change.by, action: "checklist.step", field: "\(change.server)/\(change.step)",
                                             before: before.rawValue, after: change.state.rawValue))
            changed = true
        }
        // Remember the build the interim mitigation was done on (pitfall 24).
        for server in caseFile.servers {
            guard let build = server.exchangeBuild, ExchangeBuild(parsing: build) != nil,
                  let entry = caseFile.checklists[server.name]?[mitigationStep], entry.state == .done,
                  entry.buildAtDone == nil else { continue }
            caseFile.checklists[server.name]?[mitigationStep]?.buildAtDone = build
            changed = true
        }
        if let hits {
            for (server, steps) in caseFile.checklists {
                guard let entry = steps[webShellStep], entry.state == .done, entry.hitsAtDone == nil else { continue }
                let key = CaseFile.serverKey(server)
                let ids = hits.filter { CaseFile.serverKey($0.server) == key && $0.severity == .critical && Verdicts.counts($0, in: caseFile) }
                    .map(\.id).sorted()
                caseFile.checklists[server]?[webShellStep]?.hitsAtDone = ids
                changed = true
            }
        }
        return changed
    }
}
