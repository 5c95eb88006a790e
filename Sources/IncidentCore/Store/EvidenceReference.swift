import Crypto
import Foundation

/// Why a file could not be registered by reference.
public enum EvidenceReferenceError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, message: String)
    case notRegularFile(path: String)
    /// The file is under the case's `evidence/` folder: it is picked up where it is.
    case alreadyInEvidenceFolder(path: String)
    /// The file is inside the case folder but not under `evidence/` (case files, exports).
    case insideCaseFolder(path: String)
    case invalidServerName(String)
    /// The file changed while it was being hashed.
    case changedWhileHashing(path: String)

    public var description: String {
        switch self {
        case let .unreadable(path, message): "\(path): \(message)"
        case let .notRegularFile(path): "\(path): not a regular file"
        case let .alreadyInEvidenceFolder(path): "\(path) is under the case's evidence/ folder: it is registered and scanned where it is"
        case let .insideCaseFolder(path): "\(path) is inside the case folder but not under evidence/: move it to evidence/<server>/ instead"
        case let .invalidServerName(name): "\"\(name)\" is not a usable server name (1–64 letters, digits, -, _ or ., not starting with .)"
        case let .changedWhileHashing(path): "\(path) changed while it was being hashed; register it again once it is complete"
        }
    }
}

/// Registers evidence kept outside the case folder, by reference (`incident evidence add`):
/// the file is not copied or modified; its absolute path, size, SHA-256, modification time,
/// who registered it and from where are recorded, and it is scanned where it is from then on.
/// A later change other than a pure append flags it as altered, as for evidence inside the case.
public enum EvidenceReference {
    /// What registering one file did.
    public enum Outcome: Equatable, Sendable {
        case added(EvidenceRecord)
        /// The path was registered before (nothing written).
        case alreadyRegistered(EvidenceRecord)
    }

    /// Reads a file once (read-only) and returns its size in bytes, lowercase hex SHA-256 and
    /// modification time (UTC).
    /// - Throws: ``EvidenceReferenceError/unreadable(path:message:)``, ``EvidenceReferenceError/notRegularFile(path:)``.
    public static func fingerprint(_ path: String) throws -> (size: Int64, sha256: String, modified: Date) {
        // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below).
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw EvidenceReferenceError.unreadable(path: path, message: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw EvidenceReferenceError.unreadable(path: path, message: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw EvidenceReferenceError.notRegularFile(path: path) }
        var hasher = SHA256()
        var total: Int64 = 0
        if let failure = Custody.readAll(fd, { chunk in
            hasher.update(data: chunk)
            total += Int64(chunk.count)
        }) {
            throw EvidenceReferenceError.unreadable(path: path, message: failure)
        }
        let modified = Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
        return (total, SHA256Hex.hex(hasher.finalize()), modified)
    }

    /// Registers `file` as evidence of `server` in the case of `store`, under the case lock.
    /// Creates the server when the case does not have it yet (audited as `server.added`); the
    /// record is audited as `evidence.added`.
    /// - Throws: ``EvidenceReferenceError``, ``CaseStoreError`` (also for a case of an older
    ///   schema, which is never migrated here).
    public static func add(_ file: String, server: String, to store: CaseStore, responder: String,
                           origin: String = Responder.origin(), now: Date = Date()) throws -> Outcome {
        guard CaseFile.validServerName(server) else { throw EvidenceReferenceError.invalidServerName(server) }
        guard let real = realpath(file, nil) else {
            throw EvidenceReferenceError.unreadable(path: file, message: String(cString: strerror(errno)))
        }
        let path = String(cString: real)
        free(real)
        let caseReal = store.folder.resolvingSymlinksInPath().standardizedFileURL.path
        if path.hasPrefix(caseReal + "/evidence/") { throw EvidenceReferenceError.alreadyInEvidenceFolder(path: path) }
        if path.hasPrefix(caseReal + "/") { throw EvidenceReferenceError.insideCaseFolder(path: path) }
        // Hash before taking the lock: a large file must not hold other responders up.
        let print = try fingerprint(path)
        return try store.withLock {
            var caseFile = try store.loadCurrent()
            if let existing = caseFile.evidence.first(where: { $0.path == path }) { return .alreadyRegistered(existing) }
            var st = stat()
            guard stat(path, &st) == 0, Int64(st.st_size) == print.size,
                  Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9 == print.modified.timeIntervalSince1970
            else { throw EvidenceReferenceError.changedWhileHashing(path: path) }
            let name: String
            if let existing = caseFile.server(named: server) {
                name = existing.name
            } else {
                name = server
                caseFile.servers.append(Server(name: server))
                caseFile.audit.append(AuditEntry(at: now, by: responder, action: "server.added", field: server,
                                                 after: "created for evidence registered by reference"))
            }
            let record = EvidenceRecord(path: path, server: name, sizeBytes: print.size, sha256: print.sha256, addedAt: now,
                                        addedBy: responder, modifiedAt: print.modified, addedFrom: origin)
            caseFile.evidence.append(record)
            caseFile.audit.append(AuditEntry(at: now, by: responder, action: "evidence.added", field: path,
                                             after: "\(print.size) bytes sha256 \(print.sha256) (by reference, server \(name))"))
            try store.save(caseFile)
            return .added(record)
        }
    }
}
