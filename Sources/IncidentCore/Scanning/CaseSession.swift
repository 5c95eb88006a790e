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
    /// The latest changes other writers made to fields this console shows (checklist steps,
    /// triage), e.g. `EXCH01/patch: done → blocked by alice`; see ``noticeSerial``.
    public var changedUnderYou: [String] = []
    /// Goes up by one each time ``changedUnderYou`` gets new lines.
    public var noticeSerial: Int = 0
    /// Warnings about the evidence folder itself (server folders whose names differ only in
    /// letter case or Unicode normalisation, read as one server), sorted by path.
    public var evidenceNotices: [EvidenceWalker.Notice] = []

    /// Paths of evidence files flagged as altered since intake.
    public var alteredEvidence: Set<String> {
        Set(caseFile.evidence.filter { $0.altered != nil }.map(\.path))
    }

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
    /// Applies `edit` (an undo) only when the field still holds `value`, the value this
    /// responder set; checked against the case as it is when the edit runs, which under a
    /// session is the case on disk under the case lock. Otherwise nothing changes and the
    /// refusal is reported (see ``CaseFile/apply(_:by:at:)``).
    indirect case revert(CaseEdit, ifStill: FieldValue)
}

/// A value one field of the case holds, for ``CaseEdit/revert(_:ifStill:)``.
public enum FieldValue: Sendable, Equatable {
    /// The decision recorded for a hit (`untriaged` when there is none).
    case triage(hitId: String, decision: TriageDecision.Decision)
    /// The state of a checklist step (`todo` when it was never set).
    case step(server: String, step: String, state: StepState)
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
    /// Server folders under `evidence/` (empty ones included) as the last scan pass found them.
    private var serverFolders: [String] = []
    private var evidenceNotices: [EvidenceWalker.Notice] = []
    private var hitsVersion = 0
    private var lastScan: Date?
    private var passes = 0
    private var saveError: String?
    /// Edits not yet saved (replayed on the case as it is on disk at the next save).
    private var pendingEdits: [(CaseEdit, Date)] = []
    /// The case file on disk as this session last read or wrote it.
    private var diskSignature: FileSignature?
    /// The case as this session last read or wrote it, without its unsaved edits: what another
    /// writer's changes are compared against.
    private var diskCase: CaseFile
    /// Server folders seen before the first scan pass ends, not yet in the case (shown as scanning).
    private var provisionalServers: [String] = []
    private var onUpdate: (@Sendable (CaseSnapshot) -> Void)?
    private var changedUnderYou: [String] = []
    private var noticeSerial = 0
    /// Evidence records by path, as the state queue last knew them, for the scan queue's
    /// chain-of-custody checks.
    private let custodyRecords = RecordsBox()
    // Scan queue only.
    private let scanner: EvidenceScanner
    private var timer: (any DispatchSourceTimer)?
    private var scannedVersion = -1

    private let responder: String
    private let origin: String
    private let readOnly: Bool

    /// Opens a session on a loaded case.
    /// - Parameters:
    ///   - readOnly: when true, nothing is ever written (scans still run in memory).
    public init(store: CaseStore, caseFile: CaseFile, engine: RuleEngine, playbook: Playbook,
                responder: String = Responder.current(), readOnly: Bool = false, origin: String = Responder.origin()) {
        self.store = store
        self.caseFile = caseFile
        self.scanner = EvidenceScanner(engine: engine)
        self.playbook = playbook
        self.responder = responder
        self.origin = origin
        self.readOnly = readOnly
        self.diskSignature = store.signature()
        self.diskCase = caseFile
        custodyRecords.set(caseFile.evidence)
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
            let listing = EvidenceWalker.list(self.store.folder)
            let names = Set(listing.found.map(\.server)).union(listing.servers)
            self.stateQueue.async {
                if self.passes == 0 {
                    self.provisionalServers = names.sorted().filter { self.caseFile.serverIndex(named: $0) == nil }
                    self.publish()
                }
            }
            let timer = DispatchSource.makeTimerSource(queue: self.scanQueue)
            // At least 100 ms, at most a day (a huge or non-finite value must not trap in Int()).
            let milliseconds = interval.isFinite ? Int(min(max(interval, 0.1), 86_400) * 1000) : 2000
            timer.schedule(deadline: .now(), repeating: .milliseconds(milliseconds), leeway: .milliseconds(50))
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
            if !pendingEdits.isEmpty { persist(dirty: true) }
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
            self.persist(dirty: true)
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
        /// Chain-of-custody comparisons made on the scan queue (reading a grown file again is
        /// slow), by path, with the record they were made against.
        var custody: [String: (record: EvidenceRecord, result: Custody.Comparison)] = [:]
        /// Nil when nothing changed since the previous pass.
        var hits: [Hit]?
        var statuses: [FileStatus]?
        /// Server folders under `evidence/`; nil when nothing changed since the previous pass.
        var serverFolders: [String]?
        var notices: [EvidenceWalker.Notice]?
        var version: Int
        var finished: Date
    }

    private func runScanner() -> ScanResult {
        // What the scanner needs from the case, read in one visit to the state queue.
        (scanner.serverBuilds, scanner.referencedFiles) = stateQueue.sync {
            (Dictionary(caseFile.servers.compactMap { s in s.exchangeBuild.map { (s.name.lowercased(), $0) } }, uniquingKeysWith: { a, _ in a }),
             caseFile.evidence.filter(\.isReference).map { EvidenceWalker.Found(path: $0.path, relativePath: $0.path, server: $0.server) })
        }
        let changed = scanner.scan(caseFolder: store.folder)
        guard scanner.version != scannedVersion else {
            return ScanResult(changed: [], hits: nil, statuses: nil, version: scannedVersion, finished: Date())
        }
        scannedVersion = scanner.version
        let statuses = scanner.statuses
        // Compare changed files with their intake records here, not on the state queue, so a
        // large growing log never delays an edit.
        var custody: [String: (record: EvidenceRecord, result: Custody.Comparison)] = [:]
        let records = custodyRecords.get()
        let changedSet = Set(changed)
        for status in statuses where changedSet.contains(status.path) && !status.skipped {
            guard let record = records[status.path] else { continue }
            if Self.needsCustodyCheck(record, status) {
                custody[status.path] = (record, Custody.compare(record.url(in: store.folder), with: record))
            }
        }
        return ScanResult(changed: changedSet, custody: custody, hits: scanner.hits, statuses: statuses,
                          serverFolders: scanner.serverFolders, notices: scanner.notices, version: scannedVersion, finished: Date())
    }

    /// Whether a file as scanned must be compared with its record: it differs from the record,
    /// or the record is flagged altered and the file is not the altered version already seen.
    private static func needsCustodyCheck(_ record: EvidenceRecord, _ status: FileStatus) -> Bool {
        let matchesRecord = record.sha256 == status.sha256 && record.sizeBytes == status.sizeBytes
        let matchesAlteration = record.altered.map { $0.sha256 == status.sha256 && $0.sizeBytes == status.sizeBytes } ?? false
        return !(matchesRecord && record.altered == nil || matchesAlteration)
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
        if let folders = result.serverFolders { serverFolders = folders }
        if let notices = result.notices { evidenceNotices = notices }
        passes += 1
        lastScan = result.finished
        let changedOnDisk = store.signature() != diskSignature
        // A server folder is a server as soon as it exists, before any file is in it.
        let addedServers = registerServerFolders()
        if result.hits != nil || result.statuses != nil { adoptCaseServerNames() }
        // Skipped entries still name their server, so a server whose only evidence is a link out
        // of the case shows up (not assessed, with the reason).
        let paths = result.changed.union(statuses.filter(\.skipped).map(\.path))
        let registered = (!paths.isEmpty && register(changed: paths, custody: result.custody)) || addedServers
        let automatic = !readOnly && reconcile(at: result.finished)
        let dirty = registered || automatic
        if dirty || changedOnDisk || !pendingEdits.isEmpty {
            persist(dirty: dirty || !pendingEdits.isEmpty)
        }
    }

    /// Gives hits, file statuses and notices the server name the case spells (`EXCH04` for files
    /// under `evidence/exch04/`, or under a folder whose name is another Unicode normalisation
    /// of it): the case's lookups already treat such names as one server
    /// (``CaseFile/server(named:)``), and what is shown, exported and registered must name it
    /// one way. Costs one dictionary look-up per distinct name when every name matches.
    private func adoptCaseServerNames() {
        var spelled: [String: String?] = [:]
        func caseName(_ name: String) -> String? {
            if let known = spelled[name] { return known }
            // Compared by scalars: Swift's == would call an NFD spelling equal to the NFC one.
            let found = caseFile.server(named: name).map(\.name)
            let rename = found.flatMap { $0.unicodeScalars.elementsEqual(name.unicodeScalars) ? nil : $0 }
            spelled[name] = .some(rename)
            return rename
        }
        // Every hit names the server of the file it is in, so the statuses name them all.
        var renames = false
        for status in statuses where !status.server.isEmpty && caseName(status.server) != nil { renames = true }
        guard renames else { return }
        for i in statuses.indices { if let n = caseName(statuses[i].server) { statuses[i].server = n } }
        for i in hits.indices { if let n = caseName(hits[i].server) { hits[i].server = n } }
        for i in evidenceNotices.indices { if let n = caseName(evidenceNotices[i].server) { evidenceNotices[i].server = n } }
    }

    /// Adds a server for each folder under `evidence/` the case does not have yet, empty ones
    /// included: a responder who makes `evidence/EXCH04/` before copying its logs sees EXCH04
    /// (not assessed, no evidence). Returns true when the case changed.
    private func registerServerFolders() -> Bool {
        var dirty = false
        let now = Date()
        for name in serverFolders where caseFile.serverIndex(named: name) == nil {
            caseFile.servers.append(Server(name: name))
            caseFile.audit.append(AuditEntry(at: now, by: responder, action: "server.added", field: name,
                                             after: "created from evidence/\(name)/"))
            dirty = true
        }
        return dirty
    }

    /// Records new evidence and servers in the case; returns true when the case changed.
    private func register(changed: Set<String>, custody: [String: (record: EvidenceRecord, result: Custody.Comparison)] = [:]) -> Bool {
        defer { custodyRecords.set(caseFile.evidence) }
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
                if !Self.needsCustodyCheck(record, status) { continue }
                // Chain of custody: only a pure append extends the record; anything else is altered.
                // Use the comparison the scan queue made when it was made against this record.
                let comparison: Custody.Comparison
                if let done = custody[status.path], done.record == record {
                    comparison = done.result
                } else {
                    comparison = Custody.compare(record.url(in: store.folder), with: record, now: now)
                }
                switch comparison {
                case .unchanged:
                    if record.altered != nil {
                        caseFile.evidence[i].altered = nil
                        caseFile.audit.append(AuditEntry(at: now, by: responder, action: "evidence.matches-again", field: status.path,
                                                         before: "altered", after: "\(record.sizeBytes) bytes sha256 \(record.sha256)"))
                        dirty = true
                    }
                case let .appended(size, sha):
                    caseFile.audit.append(AuditEntry(at: now, by: responder, action: "evidence.grew", field: status.path,
                                                     before: "\(record.sizeBytes) bytes sha256 \(record.sha256)",
                                                     after: "\(size) bytes sha256 \(sha)"))
                    caseFile.evidence[i].sha256 = sha
                    caseFile.evidence[i].sizeBytes = size
                    caseFile.evidence[i].updatedAt = now
                    caseFile.evidence[i].altered = nil
                    dirty = true
                case let .altered(alteration):
                    if record.altered?.sha256 != alteration.sha256 || record.altered?.sizeBytes != alteration.sizeBytes {
                        caseFile.audit.append(AuditEntry(at: now, by: responder, action: "evidence.altered", field: status.path,
                                                         before: "\(record.sizeBytes) bytes sha256 \(record.sha256)",
                                                         after: "\(alteration.sizeBytes) bytes sha256 \(alteration.sha256) (\(alteration.reason))"))
                        caseFile.evidence[i].altered = alteration
                        dirty = true
                    }
                case .unreadable:
                    continue
                }
            } else {
                indexByPath[status.path] = caseFile.evidence.count
                caseFile.evidence.append(EvidenceRecord(path: status.path, server: status.server, sizeBytes: status.sizeBytes,
                                                        sha256: status.sha256, addedAt: now, addedBy: responder,
                                                        modifiedAt: status.modified, addedFrom: origin))
                caseFile.audit.append(AuditEntry(at: now, by: responder, action: "evidence.added", field: status.path,
                                                 after: "\(status.sizeBytes) bytes sha256 \(status.sha256)"))
                dirty = true
            }
        }
        return dirty
    }

    private func apply(_ edit: CaseEdit, at now: Date) {
        if let refusal = caseFile.apply(edit, by: responder, at: now) { notice([refusal], since: noticeSerial) }
    }

    /// Shows `lines` as changed-under-you notices, after any notices raised since `serial`
    /// (so a refused undo and the change that caused it are shown together).
    private func notice(_ lines: [String], since serial: Int) {
        guard !lines.isEmpty else { return }
        if noticeSerial != serial {
            changedUnderYou += lines
        } else {
            changedUnderYou = lines
            noticeSerial += 1
        }
    }

    /// Installs the case as read from disk, noting what others changed in fields this console shows.
    private func adopt(_ disk: CaseFile) {
        defer { custodyRecords.set(caseFile.evidence) }
        let notices = diskCase.changesByOthers(in: disk)
        if !notices.isEmpty {
            changedUnderYou = notices
            noticeSerial += 1
        }
        caseFile = disk
        diskCase = disk
    }

    /// Lets the evidence complete or reopen checklist steps (see ``Remediation/reconcile(_:hits:playbook:at:)``).
    /// - Returns: true when the case changed.
    private func reconcile(at now: Date) -> Bool {
        Remediation.reconcile(&caseFile, hits: passes > 0 ? hits : nil, playbook: playbook, at: now)
    }

    /// Saves the case under the case lock. When someone else changed `case.json` since this
    /// session last read or wrote it, their version is loaded first and this session's unsaved
    /// edits and evidence records are applied on top, so nobody's work is overwritten. A file that
    /// no longer loads is never written over: the edits stay pending and the error is shown.
    ///
    /// - Parameter dirty: the in-memory case holds changes to write (edits or new evidence
    ///   records); when false, a changed file on disk is only read, not written back.
    private func persist(dirty: Bool) {
        if readOnly {
            // Review mode writes nothing (no lock file either); still follow changes others make.
            if store.signature() != diskSignature, let disk = try? store.load() {
                adopt(disk)
                diskSignature = store.signature()
            }
            return
        }
        do {
            try store.withLock {
                var dirty = dirty
                if store.signature() != diskSignature {
                    var disk: CaseFile
                    do { disk = try store.load() } catch CaseStoreError.notFound {
                        disk = caseFile
                    }
                    let edits = pendingEdits
                    let serial = noticeSerial
                    adopt(disk)
                    let refusals = edits.compactMap { edit, at in caseFile.apply(edit, by: responder, at: at) }
                    notice(refusals, since: serial)
                    if registerServerFolders() { dirty = true }
                    if register(changed: Set(statuses.map(\.path))) { dirty = true }
                    if reconcile(at: Date()) { dirty = true }
                }
                guard dirty || !pendingEdits.isEmpty else {
                    diskSignature = store.signature()
                    return
                }
                try store.save(caseFile)
                diskSignature = store.signature()
                diskCase = caseFile
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
                            unsavedEdits: pendingEdits.count, changedUnderYou: changedUnderYou, noticeSerial: noticeSerial,
                            evidenceNotices: evidenceNotices)
    }

    private func publish() {
        guard let onUpdate else { return }
        onUpdate(snapshot())
    }
}

/// Evidence records by path, shared between the session's two queues.
private final class RecordsBox: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [String: EvidenceRecord] = [:]

    func set(_ list: [EvidenceRecord]) {
        var map: [String: EvidenceRecord] = [:]
        for r in list { map[r.path] = r }
        lock.lock(); records = map; lock.unlock()
    }

    func get() -> [String: EvidenceRecord] {
        lock.lock(); defer { lock.unlock() }
        return records
    }
}
