import Foundation

/// Changes to a server's recorded facts; nil fields are left as they are.
public struct ServerChanges: Sendable, Equatable {
    /// Exchange build, e.g. `15.1.2176.9` or `15.01.2176.009`; stored in the short form.
    public var build: String?
    public var fqdn: String?
    public var role: String?
    public var internetFacing: Bool?
    /// First exposure (UTC).
    public var firstExposure: Date?
    /// When the fixed build was installed (UTC).
    public var patchedOn: Date?
    /// When the interim mitigation was applied (UTC).
    public var mitigatedOn: Date?
    /// Whether the server generates the offline address book.
    public var generatesOAB: Bool?

    public init(build: String? = nil, fqdn: String? = nil, role: String? = nil, internetFacing: Bool? = nil,
                firstExposure: Date? = nil, patchedOn: Date? = nil, mitigatedOn: Date? = nil, generatesOAB: Bool? = nil) {
        self.build = build
        self.fqdn = fqdn
        self.role = role
        self.internetFacing = internetFacing
        self.firstExposure = firstExposure
        self.patchedOn = patchedOn
        self.mitigatedOn = mitigatedOn
        self.generatesOAB = generatesOAB
    }

    public var isEmpty: Bool { self == ServerChanges() }
}

/// Why a server change was refused.
public enum ServerEditError: Error, Equatable, CustomStringConvertible {
    case unknownServer(String)
    case serverExists(String)
    case invalidName(String)
    case invalidBuild(String)
    /// A well-formed build the build table does not have (see ``BuildTable/notInTableReason(_:)``),
    /// with the reason.
    case buildNotInTable(String)
    /// The exposure window would end (first date) before it starts (second date).
    case windowEndsBeforeItStarts(end: Date, start: Date)

    public var description: String {
        switch self {
        case let .unknownServer(n): "no server named \"\(n)\" in the case (add it with incident server add)"
        case let .serverExists(n): "a server named \"\(n)\" is already in the case"
        case let .invalidName(n): "\"\(n)\" is not a server name: use letters, digits, '-', '_' and '.', as in evidence/<server-name>/"
        case let .invalidBuild(b): "\"\(b)\" is not an Exchange build: expected four numbers such as 15.1.2176.9 or 15.01.2176.009"
        case let .buildNotInTable(reason): reason + "; nothing was recorded"
        case let .windowEndsBeforeItStarts(end, start):
            "the exposure window would end \(Timestamps.iso8601(end)) (patch or mitigation) before it starts \(Timestamps.iso8601(start)) (first exposure): check --first-exposure, --patched-on and --mitigated-on; nothing was recorded"
        }
    }
}

extension CaseFile {
    /// Applies server changes with one audit entry (`server.set`, field `<server>.<field>`) per
    /// field that changed. With `create`, adds the server first (`server.added`).
    /// - Returns: true when the case changed.
    /// - Throws: ``ServerEditError`` (nothing is changed then), also when the exposure window
    ///   would end before it starts.
    @discardableResult
    public mutating func applyServerChanges(_ changes: ServerChanges, server name: String, create: Bool = false,
                                            by: String, at now: Date) throws -> Bool {
        var build: String?
        if let b = changes.build {
            // A full build is required from the responder: a CU-level build cannot show the SU.
            guard let parsed = ExchangeBuild(parsing: b), parsed.revision != nil else { throw ServerEditError.invalidBuild(b) }
            // A mistyped build (`15.1.22424.4`) must not be recorded: it would say nothing, or,
            // read by an older rule, "patched".
            if let reason = BuildTable.notInTableReason(parsed) { throw ServerEditError.buildNotInTable(reason) }
            build = parsed.description
        }
        // The window the changes would give, checked before anything changes.
        var prospective = serverIndex(named: name).map { servers[$0] } ?? Server(name: name)
        if let build { prospective.exchangeBuild = build }
        if let d = changes.firstExposure { prospective.firstExposure = d }
        if let d = changes.patchedOn { prospective.patchedOn = d }
        if let d = changes.mitigatedOn, d != prospective.mitigatedOn {
            prospective.mitigatedOn = d
            prospective.mitigatedBuild = prospective.exchangeBuild
        }
        if let end = Remediation.exposureWindowEnd(for: prospective, in: self) {
            let start = Remediation.exposureWindowStart(for: prospective, in: self)
            if end < start { throw ServerEditError.windowEndsBeforeItStarts(end: end, start: start) }
        }
        var changed = false
        if create {
            guard serverIndex(named: name) == nil else { throw ServerEditError.serverExists(name) }
            guard Self.validServerName(name) else { throw ServerEditError.invalidName(name) }
            servers.append(Server(name: name))
            audit.append(AuditEntry(at: now, by: by, action: "server.added", field: name, after: "added by hand"))
            changed = true
        }
        guard let i = serverIndex(named: name) else { throw ServerEditError.unknownServer(name) }
        let serverName = servers[i].name
        func record<T: Equatable>(_ field: String, _ keyPath: WritableKeyPath<Server, T?>, _ value: T?, _ show: (T) -> String) {
            guard let value, servers[i][keyPath: keyPath] != value else { return }
            let before = servers[i][keyPath: keyPath].map(show)
            servers[i][keyPath: keyPath] = value
            audit.append(AuditEntry(at: now, by: by, action: "server.set", field: "\(serverName).\(field)", before: before, after: show(value)))
            changed = true
        }
        record("exchangeBuild", \.exchangeBuild, build) { $0 }
        record("fqdn", \.fqdn, changes.fqdn) { $0 }
        record("role", \.role, changes.role) { $0 }
        record("internetFacing", \.internetFacing, changes.internetFacing) { $0 ? "yes" : "no" }
        record("firstExposure", \.firstExposure, changes.firstExposure) { Timestamps.iso8601($0) }
        record("patchedOn", \.patchedOn, changes.patchedOn) { Timestamps.iso8601($0) }
        if changes.mitigatedOn != nil, changes.mitigatedOn != servers[i].mitigatedOn { servers[i].mitigatedBuild = servers[i].exchangeBuild }
        record("mitigatedOn", \.mitigatedOn, changes.mitigatedOn) { Timestamps.iso8601($0) }
        record("generatesOAB", \.generatesOAB, changes.generatesOAB) { $0 ? "yes" : "no" }
        return changed
    }

    /// A server name usable as an evidence folder: 1–64 of letters, digits, `-`, `_`, `.`, not
    /// starting with `.`.
    public static func validServerName(_ name: String) -> Bool {
        guard (1...64).contains(name.count), !name.hasPrefix(".") else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) }
    }

    /// Sets a note on a checklist step, keeping its state (`checklist.note` audit entry).
    public mutating func setStepNote(server: String, step: String, note: String, by: String, at now: Date) {
        let before = checklists[server]?[step]
        var entry = before ?? ChecklistEntry(state: .todo, by: by, at: now)
        // Who set the state and when stay as they were; the audit entry records the note's author.
        entry.note = note.isEmpty ? nil : note
        checklists[server, default: [:]][step] = entry
        audit.append(AuditEntry(at: now, by: by, action: "checklist.note", field: "\(server)/\(step)", before: before?.note, after: note))
    }
}
