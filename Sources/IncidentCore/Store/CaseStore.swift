import Foundation

/// Errors reading or writing a case file. Each names the file and, where it can, the 1-based
/// line and column of the problem.
public enum CaseStoreError: Error, CustomStringConvertible, Equatable {
    /// No `case.json` at the path.
    case notFound(path: String)
    /// The file is not valid JSON or does not have the case shape.
    case malformed(path: String, line: Int, column: Int, message: String)
    /// The case was written by a newer version of the console.
    case newerSchema(path: String, found: Int, supported: Int)
    /// Reading or writing failed at the OS level.
    case io(path: String, message: String)
    /// A case already exists where a new one was to be created.
    case alreadyExists(path: String)
    /// The case was written by an older version and must be migrated before this console
    /// writes to it (`incident migrate CASE`); the file is left as it is until then.
    case olderSchema(path: String, found: Int, current: Int)

    public var description: String {
        switch self {
        case let .notFound(path): "\(path): no case file here (expected a case folder holding case.json, or the case.json itself)"
        case let .malformed(path, line, column, message): "\(path):\(line):\(column): \(message)"
        case let .newerSchema(path, found, supported): "\(path): schemaVersion \(found) is newer than this console supports (\(supported)); upgrade the console"
        case let .io(path, message): "\(path): \(message)"
        case let .alreadyExists(path): "\(path): a case already exists here"
        case let .olderSchema(path, found, current): "\(path): schemaVersion \(found) is older than this console's (\(current)); the file is left unchanged until you migrate it with: incident migrate \((path as NSString).deletingLastPathComponent) (a copy of the old file is kept as case.json.schema\(found).bak)"
        }
    }
}

/// Reads and writes `case.json` in a case folder.
///
/// Saves are atomic: the case is written to a temporary file in the same folder, flushed with
/// `fsync`, renamed over `case.json`, and the folder is synced. A case file that fails to load is
/// never written over: a store only saves cases it has loaded or created.
///
/// Before every save the version on disk is kept as `case.json.bak` (a hard link to the old
/// file, so it costs no copy); ``restoreBackup()`` puts it back. Saves keep the mode and group of
/// the file they replace. Keys in the file that this version does not know are kept: the store
/// remembers the raw JSON of its last load or save and copies them into what it writes
/// (``CaseSchema/keepingUnknownKeys(fresh:old:)``).
public struct CaseStore: Sendable {
    /// The case folder.
    public let folder: URL
    /// `<folder>/case.json`.
    public var fileURL: URL { folder.appendingPathComponent("case.json") }
    /// `<folder>/case.json.bak`: the version before the last save.
    public var backupURL: URL { folder.appendingPathComponent("case.json.bak") }
    /// `<folder>/.case.lock`, the lock file of ``withLock(_:)``.
    public var lockURL: URL { folder.appendingPathComponent(".case.lock") }
    private let memory = RawTreeMemory()

    /// - Parameter path: the case folder or its `case.json`.
    public init(path: String) {
        var url = URL(fileURLWithPath: path).standardizedFileURL
        if url.lastPathComponent == "case.json" { url.deleteLastPathComponent() }
        self.folder = url
    }

    public init(folder: URL) {
        self.folder = folder.standardizedFileURL
    }

    /// The `schemaVersion` written in `case.json` now, or nil when it cannot be read.
    public func schemaVersionOnDisk() -> Int? {
        guard let data = try? Data(contentsOf: fileURL) else { return nil }
        return CaseSchema.version(of: data)
    }

    /// Whether `case.json` exists.
    public var exists: Bool { FileManager.default.fileExists(atPath: fileURL.path) }

    /// Loads and validates the case.
    /// - Throws: ``CaseStoreError``.
    public func load() throws -> CaseFile {
        guard exists else { throw CaseStoreError.notFound(path: fileURL.path) }
        let data: Data
        do { data = try Data(contentsOf: fileURL) } catch {
            throw CaseStoreError.io(path: fileURL.path, message: "cannot read: \(error.localizedDescription)")
        }
        var tree: [String: Any]?
        let caseFile = try Self.decode(data, path: fileURL.path, tree: &tree)
        memory.remember(tree)
        return caseFile
    }

    /// Loads the case only when it is of the current schema version.
    /// - Throws: ``CaseStoreError/olderSchema(path:found:current:)`` for an older case (which
    ///   ``load()`` would migrate in memory), and everything ``load()`` throws.
    public func loadCurrent() throws -> CaseFile {
        let caseFile = try load()
        if let v = schemaVersionOnDisk(), v < CaseFile.currentSchemaVersion {
            throw CaseStoreError.olderSchema(path: fileURL.path, found: v, current: CaseFile.currentSchemaVersion)
        }
        return caseFile
    }

    /// Decodes case JSON, turning every failure into a positioned ``CaseStoreError/malformed``.
    /// Cases of an older schema version are migrated in memory (see ``CaseSchema``).
    public static func decode(_ data: Data, path: String) throws -> CaseFile {
        var tree: [String: Any]?
        return try decode(data, path: path, tree: &tree)
    }

    /// - Parameter rejectDuplicates: false only for `incident check`, which reports every
    ///   duplicate itself instead of stopping at the first.
    static func decode(_ data: Data, path: String, tree: inout [String: Any]?, rejectDuplicates: Bool = true) throws -> CaseFile {
        let bytes = [UInt8](data)
        if String(validating: bytes, as: UTF8.self) == nil {
            let bad = firstInvalidUTF8(bytes)
            let pos = JSONLocator(bytes).position(ofOffset: bad)
            throw CaseStoreError.malformed(path: path, line: pos.line, column: pos.column, message: "invalid UTF-8")
        }
        let locator = JSONLocator(bytes)
        // Foundation's parser is fast; the locator walks the text again only to place an error.
        let parsed = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        if parsed == nil, let (pos, message) = locator.firstSyntaxError() {
            throw CaseStoreError.malformed(path: path, line: pos.line, column: pos.column, message: message)
        }
        // Check the version before the shape, so a newer file gets the right message.
        let object = parsed as? [String: Any]
        var source = data
        if let object, let version = CaseSchema.intValue(object["schemaVersion"]) {
            if version > CaseFile.currentSchemaVersion {
                throw CaseStoreError.newerSchema(path: path, found: version, supported: CaseFile.currentSchemaVersion)
            }
            tree = CaseSchema.migrate(object, from: version)
            if version < CaseFile.currentSchemaVersion, let tree, let migrated = try? JSONSerialization.data(withJSONObject: tree) {
                source = migrated
            }
        } else {
            tree = object
        }
        if let tree, let problem = CaseCheck.oversizedString(in: tree) {
            let pos = locator.position(of: problem.path)
            throw CaseStoreError.malformed(path: path, line: pos.line, column: pos.column, message: problem.message)
        }
        do {
            let caseFile = try JSONCoding.decoder().decode(CaseFile.self, from: source)
            if rejectDuplicates, let problem = CaseCheck.duplicates(in: caseFile).first {
                let pos = locator.position(of: problem.path)
                throw CaseStoreError.malformed(path: path, line: pos.line, column: pos.column, message: problem.message)
            }
            return caseFile
        } catch let error as DecodingError {
            let (codingPath, message) = describe(error)
            let steps: [JSONLocator.Step] = codingPath.map { key in
                if let index = key.intValue { return .index(index) }
                return .key(key.stringValue)
            }
            let pos = locator.position(of: steps)
            let where_ = codingPath.isEmpty ? "" : " at " + codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            throw CaseStoreError.malformed(path: path, line: pos.line, column: pos.column, message: message + where_)
        }
    }

    /// Writes the case atomically (temporary file, fsync, rename, folder fsync).
    /// - Throws: ``CaseStoreError/io(path:message:)``.
    /// The version on disk is kept as `case.json.bak` first; keys this version does not know,
    /// from the last load, are written back.
    public func save(_ caseFile: CaseFile) throws {
        var data: Data
        do { data = try JSONCoding.encoder().encode(caseFile) } catch {
            throw CaseStoreError.io(path: fileURL.path, message: "cannot encode: \(error)")
        }
        var written: [String: Any]?
        if let old = memory.recall(), let fresh = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            var copied = false
            let merged = CaseSchema.keepingUnknownKeys(fresh: fresh, old: old, copied: &copied) as? [String: Any] ?? fresh
            written = merged
            // Re-serialising is slow (sorted keys); only needed when there was something to keep.
            if copied, let out = try? JSONSerialization.data(withJSONObject: merged, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) {
                data = out
            }
        }
        let mode = FilePermissions.fileMode(replacing: fileURL, in: folder)
        keepBackup()
        try AtomicFile.write(data + Data("\n".utf8), to: fileURL, mode: mode.mode, group: mode.group)
        if let written { memory.remember(written) } else {
            memory.remember(try? JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
    }

    /// Makes the current `case.json` (if any) the backup: a hard link under a temporary name,
    /// renamed over `case.json.bak`, so a crash leaves either the old or the new backup.
    private func keepBackup() {
        guard exists else { return }
        let temp = folder.appendingPathComponent(".case.json.bak.\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        if link(fileURL.path, temp.path) == 0 {
            if rename(temp.path, backupURL.path) != 0 { unlink(temp.path) }
        } else if let data = try? Data(contentsOf: fileURL) {
            // File systems without hard links: copy.
            let mode = FilePermissions.fileMode(replacing: fileURL, in: folder)
            try? AtomicFile.write(data, to: backupURL, mode: mode.mode, group: mode.group)
        }
    }

    /// Puts the backup (`case.json.bak`) back as `case.json`, under the case lock. The current
    /// `case.json`, if any, is kept as `case.json.broken-<UTC time>` (never deleted).
    /// - Returns: where the replaced file was kept, or nil when there was no `case.json`.
    /// - Throws: ``CaseStoreError/notFound(path:)`` when there is no backup;
    ///   ``CaseStoreError/malformed(path:line:column:message:)`` when the backup does not load
    ///   either (nothing is changed then); ``CaseStoreError/io(path:message:)``.
    @discardableResult
    public func restoreBackup(now: Date = Date()) throws -> URL? {
        try withLock {
            guard FileManager.default.fileExists(atPath: backupURL.path) else { throw CaseStoreError.notFound(path: backupURL.path) }
            let data: Data
            do { data = try Data(contentsOf: backupURL) } catch {
                throw CaseStoreError.io(path: backupURL.path, message: "cannot read: \(error.localizedDescription)")
            }
            _ = try Self.decode(data, path: backupURL.path)
            var kept: URL?
            if exists {
                let stamp = Timestamps.iso8601(now).replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "-", with: "")
                var target = folder.appendingPathComponent("case.json.broken-\(stamp)")
                var n = 1
                while FileManager.default.fileExists(atPath: target.path) {
                    n += 1
                    target = folder.appendingPathComponent("case.json.broken-\(stamp)-\(n)")
                }
                if rename(fileURL.path, target.path) != 0 {
                    throw CaseStoreError.io(path: fileURL.path, message: "cannot move aside: " + String(cString: strerror(errno)))
                }
                kept = target
            }
            let mode = FilePermissions.fileMode(replacing: backupURL, in: folder)
            try AtomicFile.write(data, to: fileURL, mode: mode.mode, group: mode.group)
            return kept
        }
    }

    /// Migrates an older case on disk to the current schema, under the case lock. The old file
    /// is kept as `case.json.schema<N>.bak` and an audit entry `case.migrated` is added.
    /// - Returns: the version migrated from, or nil when the case was already current.
    /// - Throws: what ``load()`` and ``save(_:)`` throw.
    @discardableResult
    public func migrate(by responder: String = Responder.current(), now: Date = Date()) throws -> Int? {
        try withLock {
            let data: Data
            do { data = try Data(contentsOf: fileURL) } catch {
                throw CaseStoreError.io(path: fileURL.path, message: "cannot read: \(error.localizedDescription)")
            }
            var caseFile = try load()
            guard let version = CaseSchema.version(of: data), version < CaseFile.currentSchemaVersion else { return nil }
            let mode = FilePermissions.fileMode(replacing: fileURL, in: folder)
            try AtomicFile.write(data, to: folder.appendingPathComponent("case.json.schema\(version).bak"), mode: mode.mode, group: mode.group)
            caseFile.schemaVersion = CaseFile.currentSchemaVersion
            caseFile.audit.append(AuditEntry(at: now, by: responder, action: "case.migrated", field: "schemaVersion",
                                             before: String(version), after: String(CaseFile.currentSchemaVersion)))
            try save(caseFile)
            return version
        }
    }

    /// Size and modification time of `case.json`, to notice changes made by someone else.
    public func signature() -> FileSignature? {
        var st = stat()
        guard stat(fileURL.path, &st) == 0 else { return nil }
        return FileSignature(size: Int64(st.st_size), seconds: Int64(st.st_mtim.tv_sec), nanoseconds: Int64(st.st_mtim.tv_nsec), inode: UInt64(st.st_ino))
    }

    /// Runs `body` holding an exclusive lock (`flock`) on `<case>/.case.lock`, so that load,
    /// change and save by several consoles or commands do not interleave.
    /// - Throws: ``CaseStoreError/io(path:message:)`` when the lock file cannot be opened; errors of `body`.
    public func withLock<T>(_ body: () throws -> T) throws -> T {
        let path = lockURL.path
        let mode = FilePermissions.fileMode(replacing: lockURL, in: folder)
        let existed = FileManager.default.fileExists(atPath: path)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode.mode)
        guard fd >= 0 else { throw CaseStoreError.io(path: path, message: "cannot open the lock file: " + String(cString: strerror(errno))) }
        defer { close(fd) }
        if !existed { FilePermissions.apply(fd: fd, mode) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw CaseStoreError.io(path: path, message: "cannot lock: " + String(cString: strerror(errno))) }
        }
        defer { flock(fd, LOCK_UN) }
        removeStaleTemporaries()
        return try body()
    }

    /// Deletes temporary files (`.case.json.<pid>.<n>.tmp`, `.case.json.bak.<pid>.<n>.tmp`)
    /// left by a process that was killed while saving; only those of processes that no longer
    /// exist, and only while holding the lock. They never hold the only copy of anything: the
    /// rename that would have made them `case.json` did not happen.
    private func removeStaleTemporaries() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        for name in names where name.hasSuffix(".tmp") && (name.hasPrefix(".case.json.") || name.hasPrefix(".case.json.bak.")) {
            let parts = name.split(separator: ".")
            // ["case", "json", ("bak",) pid, n, "tmp"]
            guard parts.count >= 5, let pid = Int32(parts[parts.count - 3]) else { continue }
            if pid == getpid() { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(folder.appendingPathComponent(name).path) }
        }
    }

    /// Creates a new case folder with an empty `evidence/` and a fresh case file.
    ///
    /// Private by default: the case folder and `evidence/` are made mode 0700 and the files 0600.
    /// With `sharedGroup`, the folders get group `sharedGroup`, mode 2770 (setgid, so new files
    /// inherit the group) and the files 0660.
    /// - Throws: ``CaseStoreError/alreadyExists(path:)`` when `case.json` is already there;
    ///   ``CaseStoreError/io(path:message:)`` when the group does not exist or a folder cannot be made.
    public func create(_ caseFile: CaseFile, sharedGroup: String? = nil) throws {
        if exists { throw CaseStoreError.alreadyExists(path: fileURL.path) }
        var gid: gid_t?
        if let sharedGroup {
            guard let group = getgrnam(sharedGroup) else {
                throw CaseStoreError.io(path: folder.path, message: "no Unix group named \"\(sharedGroup)\"")
            }
            gid = group.pointee.gr_gid
        }
        let dirMode: mode_t = gid == nil ? 0o700 : 0o2770
        do {
            try FileManager.default.createDirectory(at: folder.deletingLastPathComponent(), withIntermediateDirectories: true)
            for dir in [folder, folder.appendingPathComponent("evidence")] {
                if mkdir(dir.path, 0o700) != 0 && errno != EEXIST {
                    throw CaseStoreError.io(path: dir.path, message: "cannot create the folder: " + String(cString: strerror(errno)))
                }
                if let gid, chown(dir.path, uid_t.max, gid) != 0 {
                    throw CaseStoreError.io(path: dir.path, message: "cannot give the folder to the group: " + String(cString: strerror(errno)))
                }
                if chmod(dir.path, dirMode) != 0 {
                    throw CaseStoreError.io(path: dir.path, message: "cannot set the folder's mode: " + String(cString: strerror(errno)))
                }
            }
        } catch let error as CaseStoreError {
            throw error
        } catch {
            throw CaseStoreError.io(path: folder.path, message: "cannot create the case folder: \(error.localizedDescription)")
        }
        try save(caseFile)
    }

    static func describe(_ error: DecodingError) -> ([any CodingKey], String) {
        switch error {
        case let .typeMismatch(type, ctx): (ctx.codingPath, "expected \(typeName(type))")
        case let .valueNotFound(type, ctx): (ctx.codingPath, "missing value (expected \(typeName(type)))")
        case let .keyNotFound(key, ctx): (ctx.codingPath, "missing key \"\(key.stringValue)\"")
        case let .dataCorrupted(ctx): (ctx.codingPath, ctx.debugDescription)
        @unknown default: ([], "\(error)")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        if type is String.Type { return "a string" }
        if type is Int.Type || type is Int64.Type { return "an integer" }
        if type is Double.Type { return "a number" }
        if type is Bool.Type { return "true or false" }
        let name = String(describing: type)
        if name.hasPrefix("Array") { return "an array" }
        if name.hasPrefix("Dictionary") { return "an object" }
        return name
    }

    private static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int {
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            let len: Int
            switch b {
            case 0x00...0x7F: len = 1
            case 0xC2...0xDF: len = 2
            case 0xE0...0xEF: len = 3
            case 0xF0...0xF4: len = 4
            default: return i
            }
            if i + len > bytes.count { return i }
            if len > 1, !bytes[(i + 1)..<(i + len)].allSatisfy({ $0 & 0xC0 == 0x80 }) { return i }
            if String(validating: bytes[i..<(i + len)], as: UTF8.self) == nil { return i }
            i += len
        }
        return 0
    }
}

/// Identifies one version of a file on disk: size, modification time (ns) and inode.
public struct FileSignature: Equatable, Sendable {
    public var size: Int64
    public var seconds: Int64
    public var nanoseconds: Int64
    public var inode: UInt64
}

/// The JSON settings every case file uses: sorted keys, pretty printing, ISO-8601 UTC dates
/// with milliseconds.
public enum JSONCoding {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(Timestamps.iso8601(date))
        }
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let s = try c.decode(String.self)
            if let date = Timestamps.parse(s) { return date }
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected an ISO-8601 UTC date such as 2021-03-03T06:49:42.162Z, got \"\(s.prefix(40))\"")
        }
        return d
    }
}

/// Atomic file replacement.
public enum AtomicFile {
    /// Writes `data` to a temporary file next to `url`, fsyncs it, renames it over `url`, then
    /// fsyncs the folder. The file gets `mode` (default 0600, whatever the umask) and, when
    /// given, the group `group`.
    /// - Throws: ``CaseStoreError/io(path:message:)``.
    public static func write(_ data: Data, to url: URL, mode: mode_t = 0o600, group: gid_t? = nil) throws {
        let folder = url.deletingLastPathComponent()
        let temp = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw CaseStoreError.io(path: url.path, message: "cannot write in \(folder.path): " + String(cString: strerror(errno)))
        }
        FilePermissions.apply(fd: fd, (mode, group))
        var ok = true
        var message = ""
        data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    ok = false
                    message = String(cString: strerror(errno))
                    return
                }
                done += n
            }
        }
        if ok && fsync(fd) != 0 { ok = false; message = "fsync: " + String(cString: strerror(errno)) }
        close(fd)
        guard ok else {
            unlink(temp.path)
            throw CaseStoreError.io(path: url.path, message: "cannot write: \(message)")
        }
        if rename(temp.path, url.path) != 0 {
            let m = String(cString: strerror(errno))
            unlink(temp.path)
            throw CaseStoreError.io(path: url.path, message: "cannot replace: \(m)")
        }
        let dfd = open(folder.path, O_RDONLY | O_DIRECTORY)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }
}
