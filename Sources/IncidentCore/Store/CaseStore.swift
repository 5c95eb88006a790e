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

    public var description: String {
        switch self {
        case let .notFound(path): "\(path): no case file here (expected a case folder holding case.json, or the case.json itself)"
        case let .malformed(path, line, column, message): "\(path):\(line):\(column): \(message)"
        case let .newerSchema(path, found, supported): "\(path): schemaVersion \(found) is newer than this console supports (\(supported)); upgrade the console"
        case let .io(path, message): "\(path): \(message)"
        case let .alreadyExists(path): "\(path): a case already exists here"
        }
    }
}

/// Reads and writes `case.json` in a case folder.
///
/// Saves are atomic: the case is written to a temporary file in the same folder, flushed with
/// `fsync`, renamed over `case.json`, and the folder is synced. A case file that fails to load is
/// never written over: a store only saves cases it has loaded or created.
public struct CaseStore: Sendable {
    /// The case folder.
    public let folder: URL
    /// `<folder>/case.json`.
    public var fileURL: URL { folder.appendingPathComponent("case.json") }

    /// - Parameter path: the case folder or its `case.json`.
    public init(path: String) {
        var url = URL(fileURLWithPath: path).standardizedFileURL
        if url.lastPathComponent == "case.json" { url.deleteLastPathComponent() }
        self.folder = url
    }

    public init(folder: URL) {
        self.folder = folder.standardizedFileURL
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
        return try Self.decode(data, path: fileURL.path)
    }

    /// Decodes case JSON, turning every failure into a positioned ``CaseStoreError/malformed``.
    public static func decode(_ data: Data, path: String) throws -> CaseFile {
        let bytes = [UInt8](data)
        if String(validating: bytes, as: UTF8.self) == nil {
            let bad = firstInvalidUTF8(bytes)
            let pos = JSONLocator(bytes).position(ofOffset: bad)
            throw CaseStoreError.malformed(path: path, line: pos.line, column: pos.column, message: "invalid UTF-8")
        }
        let locator = JSONLocator(bytes)
        if let (pos, message) = locator.firstSyntaxError() {
            throw CaseStoreError.malformed(path: path, line: pos.line, column: pos.column, message: message)
        }
        // Check the version before the shape, so a newer file gets the right message.
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let version = object["schemaVersion"] as? Int, version > CaseFile.currentSchemaVersion {
            throw CaseStoreError.newerSchema(path: path, found: version, supported: CaseFile.currentSchemaVersion)
        }
        do {
            return try JSONCoding.decoder().decode(CaseFile.self, from: data)
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
    public func save(_ caseFile: CaseFile) throws {
        let data: Data
        do { data = try JSONCoding.encoder().encode(caseFile) } catch {
            throw CaseStoreError.io(path: fileURL.path, message: "cannot encode: \(error)")
        }
        try AtomicFile.write(data + Data("\n".utf8), to: fileURL)
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
        let path = folder.appendingPathComponent(".case.lock").path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CaseStoreError.io(path: path, message: "cannot open the lock file: " + String(cString: strerror(errno))) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw CaseStoreError.io(path: path, message: "cannot lock: " + String(cString: strerror(errno))) }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// Creates a new case folder with an empty `evidence/` and a fresh case file.
    /// - Throws: ``CaseStoreError/alreadyExists(path:)`` when `case.json` is already there.
    public func create(_ caseFile: CaseFile) throws {
        if exists { throw CaseStoreError.alreadyExists(path: fileURL.path) }
        do {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("evidence"), withIntermediateDirectories: true)
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
    /// fsyncs the folder. New files get mode 0600.
    /// - Throws: ``CaseStoreError/io(path:message:)``.
    public static func write(_ data: Data, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        let temp = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CaseStoreError.io(path: temp.path, message: String(cString: strerror(errno))) }
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
