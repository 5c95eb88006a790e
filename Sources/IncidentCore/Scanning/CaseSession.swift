import Dispatch
import Foundation

/// Everything the console shows about a case at one moment, as plain values.
public struct CaseSnapshot: Sendable {
    public var caseFile: CaseFile
    public var hits: [Hit]
    public var statuses: [FileStatus]
    public var summaries: [ServerSummary]
    /// When the last scan pass finished (UTC), nil before the first.
    public var lastScan: Date?
    /// Number of scan passes so far.
    public var scanPasses: Int
    /// The last save error, if saving failed (the edit is kept in memory and retried).
    public var saveError: String?
    /// Changes whenever `hits` may have changed, so views can skip re-sorting them.
    public var hitsVersion: Int
    /// Edits made but not yet saved (non-zero only while saving fails).
    public var unsavedEdits: Int = 0

    /// Evidence registered in the case whose file is no longer in the evidence folder (empty
    /// before the first scan pass).
    public var missingEvidence: [EvidenceRecord] {
        guard scanPasses > 0 else { return [] }
        let present = Set(statuses.filter { !$0.skipped && !$0.warnings.contains("file is gone from the evidence folder") }.map(\.path))
        return caseFile.evidence.filter { !present.contains($0.path) }
    }
}

/// A change a responder makes to the case. Edits are applied to the case as it is when they
/// run, on the session's queue, and each leaves audit entries.
public enum CaseEdit: Sendable, Equatable {
    /// Moves a checklist step to its next state (see ``StepState/advanced``).
    case advanceStep(server: String, step: String)
    /// Sets a checklist step's state.
    case setStep(server: String, step: String, state: StepState, note: String?)
    /// Records a triage decision for a hit.
    case triage(hitId: String, decision: TriageDecision.Decision, note: String)
    /// Changes a server's recorded facts (build, FQDN, role, exposure dates).
    case setServer(name: String, changes: ServerChanges)
    /// Sets a checklist step's note, keeping its state.
    case noteStep(server: String, step: String, note: String)
}

/// Owns one open case: its file, its scanner, and the background rescan timer.
///
/// Two private serial Dispatch queues: the state queue owns the case file, applies edits and
/// saves them at once; the scan queue owns the scanner and the rescan timer. A long scan pass
/// therefore never delays an edit or its save. The UI talks to the session with ``perform(_:)``
/// and receives ``CaseSnapshot`` values through the `onUpdate` callback (called on the state
/// queue: hop to the main thread before touching the terminal). Nothing here waits for the UI.
public final class CaseSession: @unchecked Sendable {
    public let store: CaseStore
    public let playbook: Playbook
    private let stateQueue = DispatchQueue(label: "incident.case-state")
    private let scanQueue = DispatchQueue(label: "incident.case-scan")
    // State queue only.
    private var caseFile: CaseFile
    private var hits: [Hit] = []
    private var statuses: [FileStatus] = []
    private var hitsVersion = 0
    private var lastScan: Date?
    private var passes = 0
    private var saveError: String?
    /// Edits not yet saved (replayed on the case as it is on disk at the next save).
    private var pendingEdits: [(CaseEdit, Date)] = []
    /// The case file on disk as this session last read or wrote it.
    private var diskSignature: FileSignature?
    /// Server folders seen before the first scan pass ends, not yet in the case (shown as scanning).
    private var provisionalServers: [String] = []
    private var onUpdate: (@Sendable (CaseSnapshot) -> Void)?
    // Scan queue only.
    private let scanner: EvidenceScanner
    private var timer: (any DispatchSourceTimer)?
    private var scannedVersion = -1

    private let responder: String
    private let readOnly: Bool

    /// Opens a session on a loaded case.
    /// - Parameters:
    ///   - readOnly: when true, nothing is ever written (scans still run in memory).
    public init(store: CaseStore, caseFile: CaseFile, engine: RuleEngine, playbook: Playbook,
                responder: String = Responder.current(), readOnly: Bool = false) {
        self.store = store
        self.caseFile = caseFile
        self.scanner = EvidenceScanner(engine: engine)
        self.playbook = playbook
        self.responder = responder
        self.readOnly = readOnly
        self.diskSignature = store.signature()
    }

    /// Starts background rescans every `interval` seconds (the first one at once).
    public func start(interval: Double, onUpdate: @escaping @Sendable (CaseSnapshot) -> Void) {
        stateQueue.sync {
            self.onUpdate = onUpdate
            // Show the servers of the case at once, marked as not yet scanned.
            self.publish()
        }
        scanQueue.async {
            // A quick walk first, so that new server folders show at once while the first
            // (possibly long) pass reads their files.
            let names = Set(EvidenceWalker.list(self.store.folder).found.map(\.server))
            self.stateQueue.async {
                if self.passes == 0 {
                    self.provisionalServers = names.sorted().filter { self.caseFile.serverIndex(named: $0) == nil }
                    self.publish()
                }
            }
            let timer = DispatchSource.makeTimerSource(queue: self.scanQueue)
            timer.schedule(deadline: .now(), repeating: .milliseconds(max(100, Int(interval * 1000))), leeway: .milliseconds(50))
            timer.setEventHandler { [weak self] in self?.scanPass() }
            self.timer = timer
            timer.resume()
        }
    }

    /// Stops the rescans without waiting for a running pass, and waits until every edit already
    /// handed to ``perform(_:)`` is applied and a last save is tried.
    /// - Returns: the edits that could still not be saved, with the reason (empty when all are saved).
    @discardableResult
    public func stop() -> (unsaved: [CaseEdit], reason: String?) {
        scanQueue.async {
            self.timer?.cancel()
            self.timer = nil
        }
        return stateQueue.sync {
            onUpdate = nil
            if !pendingEdits.isEmpty { persist() }
            return (pendingEdits.map(\.0), pendingEdits.isEmpty ? nil : saveError)
        }
    }

    /// Runs one scan pass now and returns the snapshot (blocks the caller; for the CLI).
    public func scanOnce() -> CaseSnapshot {
        let result = scanQueue.sync { runScanner() }
        return stateQueue.sync {
            absorb(result)
            return snapshot()
        }
    }

    /// Applies an edit to the latest case and saves it at once; a snapshot follows through `onUpdate`.
    public func perform(_ edit: CaseEdit) {
        stateQueue.async {
            let now = Date()
            self.apply(edit, at: now)
            self.pendingEdits.append((edit, now))
            _ = self.reconcile(at: now)
            self.persist()
            self.publish()
        }
    }

    /// The current snapshot (blocks until the state queue is free; never waits for a scan).
    public func currentSnapshot() -> CaseSnapshot {
        stateQueue.sync { snapshot() }
    }

    // MARK: - Scan queue

    private struct ScanResult: Sendable {
        var changed: Set<String>
        /// Nil when nothing changed since the previous pass.
        var hits: [Hit]?
        var statuses: [FileStatus]?
        var version: Int
        var finished: Date
    }

    private func runScanner() -> ScanResult {
        scanner.serverBuilds = stateQueue.sync {
            Dictionary(caseFile.servers.compactMap { s in s.exchangeBuild.map { (s.name.lowercased(), $0) } }, uniquingKeysWith: { a, _ in a })
        }
        let changed = scanner.scan(caseFolder: store.folder)
        guard scanner.version != scannedVersion else {
            return ScanResult(changed: [], hits: nil, statuses: nil, version: scannedVersion, finished: Date())
        }
        scannedVersion = scanner.version
        return ScanResult(changed: Set(changed), hits: scanner.hits, statuses: scanner.statuses, version: scannedVersion, finished: Date())
    }

    private func scanPass() {
        let result = runScanner()
        stateQueue.async {
            self.absorb(result)
            self.publish()
        }
    }

    // MARK: - State queue

    private func absorb(_ result: ScanResult) {
        if let newHits = result.hits { hits = newHits; hitsVersion = result.version }
        if let newStatuses = result.statuses { statuses = newStatuses }
        passes += 1
        lastScan = result.finished
        let changedOnDisk = store.signature() != diskSignature
        // Skipped entries still name their server, so a server whose only evidence is a link out
        // of the case shows up (not assessed, with the reason).
        let paths = result.changed.union(statuses.filter(\.skipped).map(\.path))
        let registered = !paths.isEmpty && register(changed: paths)
        let automatic = !readOnly && reconcile(at: result.finished)
        if registered || automatic || changedOnDisk || !pendingEdits.isEmpty {
            persist()
        }
    }

    /// Records new evidence and servers in the case; returns true when the case changed.
    private func register(changed: Set<String>) -> Bool {
        var dirty = false
        let now = Date()
        var indexByPath: [String: Int] = [:]
        for (i, e) in caseFile.evidence.enumerated() { indexByPath[e.path] = i }
        for status in statuses where changed.contains(status.path) && !status.server.isEmpty {
            if caseFile.serverIndex(named: status.server) == nil {
                caseFile.servers.append(Server(name: status.server))
                caseFile.audit.append(AuditEntry(at: now, by: responder, action: "server.added", field: status.server,
                                                 after: "created from evidence/\(status.server)/"))
                dirty = true
            }
            if status.skipped { continue }
            if let i = indexByPath[status.path] {
                let record = caseFile.evidence[i]
                if record.sha256 != status.sha256 || record.sizeBytes != status.sizeBytes {
                    let grew = status.sizeBytes > record.sizeBytes
                    caseFile.audit.append(AuditEntry(at: now, by: responder, action: grew ? "evidence.grew" : "evidence.changed",
                                                     field: status.path,
                                                     before: "\(record.sizeBytes) bytes sha256 \(record.sha256)",
                                                     after: "\(status.sizeBytes) bytes sha256 \(status.sha256)"))
                    caseFile.evidence[i].sha256 = status.sha256
                    caseFile.evidence[i].sizeBytes = status.sizeBytes
                    caseFile.evidence[i].updatedAt = now
                    dirty = true
                }
            } else {
                indexByPath[status.path] = caseFile.evidence.count
                caseFile.evidence.append(EvidenceRecord(path: status.path, server: status.server, sizeBytes: status.sizeBytes,
                                                        sha256: status.sha256, addedAt: now, addedBy: responder))
                caseFile.audit.append(AuditEntry(at: now, by: responder, action: "evidence.added", field: status.path,
                                                 after: "\(status.sizeBytes) bytes sha256 \(status.sha256)"))
                dirty = true
            }
        }
        return dirty
    }

    private func apply(_ edit: CaseEdit, at now: Date) {
        switch edit {
        case let .advanceStep(server, step):
            let before = caseFile.stepState(server: server, step: step)
            setStep(server: server, step: step, state: before.advanced, note: nil, at: now)
        case let .setStep(server, step, state, note):
            setStep(server: server, step: step, state: state, note: note, at: now)
        case let .triage(hitId, decision, note):
            let before = caseFile.triageDecision(for: hitId)?.decision.rawValue
            caseFile.triage.append(TriageDecision(hitId: hitId, decision: decision, note: note, by: responder, at: now))
            caseFile.audit.append(AuditEntry(at: now, by: responder, action: "triage", field: hitId, before: before, after: decision.rawValue))
        case let .setServer(name, changes):
            // Validated by the console before it is sent; a refused change leaves the case as it is.
            _ = try? caseFile.applyServerChanges(changes, server: name, by: responder, at: now)
        case let .noteStep(server, step, note):
            caseFile.setStepNote(server: server, step: step, note: note, by: responder, at: now)
        }
    }

    /// Lets the evidence complete or reopen checklist steps (see ``Remediation/reconcile(_:hits:playbook:at:)``).
    /// - Returns: true when the case changed.
    private func reconcile(at now: Date) -> Bool {
        Remediation.reconcile(&caseFile, hits: passes > 0 ? hits : nil, playbook: playbook, at: now)
    }

    private func setStep(server: String, step: String, state: StepState, note: String?, at now: Date) {
        let before = caseFile.stepState(server: server, step: step)
        caseFile.checklists[server, default: [:]][step] = ChecklistEntry(state: state, by: responder, at: now, note: note)
        caseFile.audit.append(AuditEntry(at: now, by: responder, action: "checklist.step", field: "\(server)/\(step)",
                                         before: before.rawValue, after: state.rawValue))
    }

    /// Saves the case under the case lock. When someone else changed `case.json` since this
    /// session last read or wrote it, their version is loaded first and this session's unsaved
    /// edits and evidence records are applied on top, so nobody's work is overwritten. A file that
    /// no longer loads is never written over: the edits stay pending and the error is shown.
    private func persist() {
        if readOnly {
            // Review mode writes nothing; still follow changes others make.
            if store.signature() != diskSignature, let disk = try? store.load() {
                caseFile = disk
                diskSignature = store.signature()
            }
            return
        }
        do {
            try store.withLock {
                if store.signature() != diskSignature {
                    var disk: CaseFile
                    do { disk = try store.load() } catch CaseStoreError.notFound {
                        disk = caseFile
                    }
                    let edits = pendingEdits
                    caseFile = disk
                    for (edit, at) in edits { apply(edit, at: at) }
                    _ = register(changed: Set(statuses.map(\.path)))
                    _ = reconcile(at: Date())
                }
                try store.save(caseFile)
                diskSignature = store.signature()
                pendingEdits.removeAll()
                saveError = nil
            }
        } catch let error as CaseStoreError {
            if case .malformed = error {
                saveError = "case.json was changed on disk and no longer loads (\(error)); it is not overwritten and your \(pendingEdits.count) change(s) are kept until it is fixed"
            } else {
                saveError = "\(error)"
            }
        } catch {
            saveError = "\(error)"
        }
    }

    /// The highest CU-level build each server's evidence shows (lowercased server name → build).
    private var logBuilds: [String: ExchangeBuild] {
        var builds: [String: ExchangeBuild] = [:]
        for status in statuses {
            guard let b = status.exchangeBuild.flatMap(ExchangeBuild.init(parsing:)) else { continue }
            let key = status.server.lowercased()
            if builds[key].map({ $0 < b }) ?? true { builds[key] = b }
        }
        return builds
    }

    private func snapshot() -> CaseSnapshot {
        var summaries = Verdicts.summarize(caseFile: caseFile, statuses: statuses, hits: hits, playbook: playbook, logBuilds: logBuilds)
        if passes == 0 {
            for name in provisionalServers where caseFile.serverIndex(named: name) == nil {
                let steps = playbook.applicableSteps(verdict: .notAssessed).count
                summaries.append(ServerSummary(name: name, verdict: .notAssessed, hits: 0, bySeverity: [:], evidenceFiles: 0,
                                               checkedFiles: 0, stepsDone: 0, stepsApplicable: steps))
            }
        }
        return CaseSnapshot(caseFile: caseFile, hits: hits, statuses: statuses, summaries: summaries,
                            lastScan: lastScan, scanPasses: passes, saveError: saveError, hitsVersion: hitsVersion,
                            unsavedEdits: pendingEdits.count)
    }

    private func publish() {
        guard let onUpdate else { return }
        onUpdate(snapshot())
    }
}
