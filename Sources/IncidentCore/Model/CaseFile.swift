import Foundation

/// The whole case as stored in `<case folder>/case.json`.
///
/// Shape (JSON, keys as written): `schemaVersion` (integer, currently 2), `caseId` (string),
/// `name`, `created` (ISO-8601 UTC), `settings`, `servers`, `evidence`, `triage`, `checklists`
/// (server name → step id → state), `audit` (append-only). Dates are ISO-8601 in UTC.
/// The full field reference is `docs/case-file.md`; the JSON Schema is `docs/case.schema.json`.
/// Keys this version does not know are kept when the case is saved (see ``CaseStore``).
public struct CaseFile: Codable, Sendable, Equatable {
    /// The schema version this build writes and reads.
    public static let currentSchemaVersion = 2

    public var schemaVersion: Int
    public var caseId: String
    public var name: String
    public var created: Date
    public var settings: CaseSettings
    public var servers: [Server]
    public var evidence: [EvidenceRecord]
    public var triage: [TriageDecision]
    /// Checklist state per server: server name → step id → entry.
    public var checklists: [String: [String: ChecklistEntry]]
    /// Append-only audit trail, oldest first.
    public var audit: [AuditEntry]
    /// Indicator packs imported into this case (`incident indicators import`); nil when none.
    public var indicatorPacks: [IndicatorPackRecord]?

    public init(
        caseId: String = UUID().uuidString.lowercased(),
        name: String,
        created: Date = Date(),
        settings: CaseSettings = CaseSettings(),
        servers: [Server] = [],
        evidence: [EvidenceRecord] = [],
        triage: [TriageDecision] = [],
        checklists: [String: [String: ChecklistEntry]] = [:],
        audit: [AuditEntry] = []
    ) {
        self.schemaVersion = Self.currentSchemaVersion
        self.caseId = caseId
        self.name = name
        self.created = created
        self.settings = settings
        self.servers = servers
        self.evidence = evidence
        self.triage = triage
        self.checklists = checklists
        self.audit = audit
    }

    /// The server with this name (names compare as ``serverKey(_:)`` says: ignoring case, as
    /// Windows does, and Unicode normalisation).
    public func server(named name: String) -> Server? {
        let key = Self.serverKey(name)
        return servers.first { Self.serverKey($0.name) == key }
    }

    /// The index of the server with this name, compared as ``serverKey(_:)`` says.
    public func serverIndex(named name: String) -> Int? {
        let key = Self.serverKey(name)
        return servers.firstIndex { Self.serverKey($0.name) == key }
    }

    /// What two spellings of one server name share: the name lowercased. Swift strings compare
    /// by canonical equivalence, so NFC and NFD spellings of a name have equal keys too. Every
    /// per-server grouping (verdicts, remediation, reports, the evidence walker's server
    /// folders) uses this rule, so `EXCH04` and `exch04` are one server everywhere.
    public static func serverKey(_ name: String) -> String { name.lowercased() }

    /// The latest triage decision for a hit id, if any.
    public func triageDecision(for hitId: String) -> TriageDecision? {
        triage.last { $0.hitId == hitId }
    }

    /// The state of a checklist step on a server (`todo` when never touched).
    public func stepState(server: String, step: String) -> StepState {
        checklists[server]?[step]?.state ?? .todo
    }
}

/// Case-wide settings.
public struct CaseSettings: Codable, Sendable, Equatable {
    /// Seconds between background rescans of the evidence folder (default 2).
    public var rescanIntervalSeconds: Double
    /// Start of the exposure window; logs should reach back this far (default 2021-01-01 UTC,
    /// CISA AA21-062A: "from at least January 1, 2021", https://us-cert.cisa.gov/ncas/alerts/aa21-062a).
    public var exposureWindowStart: Date

    public init(rescanIntervalSeconds: Double = 2, exposureWindowStart: Date = CaseSettings.defaultExposureStart) {
        self.rescanIntervalSeconds = rescanIntervalSeconds
        self.exposureWindowStart = exposureWindowStart
    }

    /// 2021-01-01T00:00:00Z.
    public static let defaultExposureStart = Date(timeIntervalSince1970: 1_609_459_200)
}

/// An Exchange server under investigation.
public struct Server: Codable, Sendable, Equatable, Identifiable {
    public var id: String { name }
    /// Short name, as used for the evidence folder `evidence/<name>/`.
    public var name: String
    public var fqdn: String?
    /// Role as the responder records it, e.g. `Mailbox`, `ClientAccess`, `Edge`.
    public var role: String?
    /// Exchange build when known, e.g. `15.1.2176.9`.
    public var exchangeBuild: String?
    /// Whether OWA/ECP were reachable from the internet; `nil` when unknown.
    public var internetFacing: Bool?
    /// When the server was first exposed to attack (UTC), e.g. when it went online; `nil` uses
    /// the case-wide ``CaseSettings/exposureWindowStart``. See ``Remediation/exposureWindowStart(for:in:)``.
    public var firstExposure: Date?
    /// When a fixed build was installed (UTC); ends the exposure window. `nil` when not known.
    public var patchedOn: Date?
    /// When the interim mitigation (EOMT, the URL rewrite rule) was applied (UTC); ends the
    /// exposure window when earlier than ``patchedOn``. `nil` when not recorded: the time the
    /// `interim-mitigation` step was marked done stands in for it.
    public var mitigatedOn: Date?
    /// The recorded build when ``mitigatedOn`` was set (nil when no build was recorded then): a
    /// later CU upgrade removes the URL Rewrite rules (pitfall 24), so the mitigation date stops
    /// ending the window when the build moves to another CU that is not fixed.
    public var mitigatedBuild: String?
    /// Whether this server generates the offline address book (it holds the OAB generation
    /// arbitration mailbox; only that server writes OAB generator logs). `false` makes the
    /// `cve-2021-26858` coverage check not required; `nil` (unknown) keeps it required.
    public var generatesOAB: Bool?

    public init(name: String, fqdn: String? = nil, role: String? = nil, exchangeBuild: String? = nil, internetFacing: Bool? = nil,
                firstExposure: Date? = nil, patchedOn: Date? = nil, mitigatedOn: Date? = nil) {
        self.name = name
        self.fqdn = fqdn
        self.role = role
        self.exchangeBuild = exchangeBuild
        self.internetFacing = internetFacing
        self.firstExposure = firstExposure
        self.patchedOn = patchedOn
        self.mitigatedOn = mitigatedOn
    }
}

/// One evidence file, as registered at intake (chain of custody).
public struct EvidenceRecord: Codable, Sendable, Equatable, Identifiable {
    public var id: String { path }
    /// Path relative to the case folder, with `/` separators, e.g. `evidence/EXCH01/iis/u_ex210303.log`;
    /// or, for evidence registered by reference (`incident evidence add`), the absolute path of a
    /// file kept outside the case folder, e.g. `/mnt/collection/EXCH01/u_ex210303.log`.
    public var path: String
    /// Name of the server the evidence belongs to.
    public var server: String
    /// Size in bytes when last hashed.
    public var sizeBytes: Int64
    /// Lowercase hex SHA-256 of the file when last hashed.
    public var sha256: String
    /// When the file was registered (UTC).
    public var addedAt: Date
    /// Who registered it (OS user name).
    public var addedBy: String
    /// When the hash was last updated because the file grew (UTC); `nil` if never.
    public var updatedAt: Date?
    /// The file's modification time at intake (UTC); `nil` in cases from schema version 1.
    public var modifiedAt: Date?
    /// Where it was registered from: the host name, plus ` via <ip>` when the session came over
    /// SSH (`SSH_CLIENT`); `nil` in cases from schema version 1.
    public var addedFrom: String?
    /// Set when the file no longer matches this record other than by a pure append (see
    /// ``EvidenceAlteration``); `nil` while it matches.
    public var altered: EvidenceAlteration?

    public init(path: String, server: String, sizeBytes: Int64, sha256: String, addedAt: Date, addedBy: String, updatedAt: Date? = nil,
                modifiedAt: Date? = nil, addedFrom: String? = nil, altered: EvidenceAlteration? = nil) {
        self.path = path
        self.server = server
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.addedAt = addedAt
        self.addedBy = addedBy
        self.updatedAt = updatedAt
        self.modifiedAt = modifiedAt
        self.addedFrom = addedFrom
        self.altered = altered
    }
}

extension EvidenceRecord {
    /// True for evidence kept outside the case folder and registered by reference.
    public var isReference: Bool { path.hasPrefix("/") }

    /// Where the file is: inside `folder` (the case folder), or the absolute path of a reference.
    public func url(in folder: URL) -> URL {
        isReference ? URL(fileURLWithPath: path) : folder.appendingPathComponent(path)
    }
}

/// What was found when an evidence file stopped matching its intake record.
///
/// A file is *altered* when its first `sizeBytes` bytes (the size in the record) no longer hash
/// to the record's `sha256`: it shrank, or bytes that were already recorded changed. A file that
/// only grew at the end (a log still being written during collection) is a pure append: the
/// record's size and hash are extended and the file is not altered.
public struct EvidenceAlteration: Codable, Sendable, Equatable {
    /// When the change was first seen (UTC).
    public var detectedAt: Date
    /// Size of the file as found, in bytes.
    public var sizeBytes: Int64
    /// Lowercase hex SHA-256 of the whole file as found.
    public var sha256: String
    /// Why it counts as altered, e.g. `shrank from 1200 to 800 bytes`.
    public var reason: String

    public init(detectedAt: Date, sizeBytes: Int64, sha256: String, reason: String) {
        self.detectedAt = detectedAt
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.reason = reason
    }
}

/// A responder's decision about one hit.
public struct TriageDecision: Codable, Sendable, Equatable {
    public enum Decision: String, Codable, Sendable, CaseIterable {
        case confirmed
        case falsePositive = "false-positive"
        case needsReview = "needs-review"
        /// A decision withdrawn (undone or restored): the hit is as if never triaged.
        case untriaged
    }

    /// The stable hit id (see ``Hit/id``).
    public var hitId: String
    public var decision: Decision
    public var note: String
    public var by: String
    public var at: Date

    public init(hitId: String, decision: Decision, note: String = "", by: String, at: Date) {
        self.hitId = hitId
        self.decision = decision
        self.note = note
        self.by = by
        self.at = at
    }
}

/// State of one remediation step on one server.
public enum StepState: String, Codable, Sendable, CaseIterable {
    case todo
    case inProgress = "in-progress"
    case done
    case blocked
    case notApplicable = "not-applicable"

    /// The state that `Space` moves to in the console: todo → in-progress → done → todo;
    /// blocked and not-applicable go back to todo.
    public var advanced: StepState {
        switch self {
        case .todo: .inProgress
        case .inProgress: .done
        case .done, .blocked, .notApplicable: .todo
        }
    }
}

/// The recorded state of a checklist step, with who set it and when.
public struct ChecklistEntry: Codable, Sendable, Equatable {
    public var state: StepState
    public var by: String
    public var at: Date
    public var note: String?
    /// For the `web-shells` step once done: ids of the server's counted critical hits at that
    /// time; a critical hit not in the list reopens the step (see ``Remediation``). Absent in
    /// older case files.
    public var hitsAtDone: [String]?
    /// For the `interim-mitigation` step once done: the server's recorded Exchange build at that
    /// time, as written (e.g. `15.1.2106.2`); a later build of another CU, still unpatched,
    /// reopens the step because a CU upgrade removes the URL Rewrite rules (see ``Remediation``;
    /// CSS-Exchange issues/378). Absent in older case files and when no build was recorded.
    public var buildAtDone: String?

    public init(state: StepState, by: String, at: Date, note: String? = nil, hitsAtDone: [String]? = nil,
                buildAtDone: String? = nil) {
        self.state = state
        self.by = by
        self.at = at
        self.note = note
        self.hitsAtDone = hitsAtDone
        self.buildAtDone = buildAtDone
    }
}

/// One line of the append-only audit trail.
public struct AuditEntry: Codable, Sendable, Equatable {
    /// When (UTC).
    public var at: Date
    /// Who: the OS user, with ` via <ip>` when the session came over SSH.
    public var by: String
    /// What kind of change, e.g. `case.created`, `evidence.added`, `checklist.step`, `triage`.
    public var action: String
    /// What changed, e.g. `EXCH01/patch` or an evidence path.
    public var field: String?
    public var before: String?
    public var after: String?
    /// The note given with the change (checklist steps, triage), if any.
    public var note: String?

    public init(at: Date, by: String, action: String, field: String? = nil, before: String? = nil, after: String? = nil, note: String? = nil) {
        self.at = at
        self.by = by
        self.action = action
        self.field = field
        self.before = before
        self.after = after
        self.note = note
    }
}
