import CLineSweep
import Crypto
import Foundation

/// What the scanner knows about one evidence file after a scan.
public struct FileStatus: Sendable, Equatable, Codable {
    /// Path relative to the case folder (`evidence/<server>/…`).
    public var path: String
    public var server: String
    /// The recognised format, or nil when the file was not recognised (and so not checked).
    public var format: EvidenceFormat?
    public var encoding: TextEncoding?
    /// Size in bytes at the last scan.
    public var sizeBytes: Int64
    /// Lowercase hex SHA-256 of the whole file at the last scan.
    public var sha256: String
    /// File modification time at the last scan (UTC).
    public var modified: Date
    /// Complete lines read so far.
    public var lines: Int
    /// Records (data lines or rows) that the indicators were evaluated on.
    public var records: Int
    /// Earliest and latest event time seen (UTC).
    public var firstEvent: Date?
    public var lastEvent: Date?
    /// Problems with this file (unrecognised format, odd rows, read errors).
    public var warnings: [String]
    /// True for files that were not read at all (see the warning): links out of the case folder,
    /// files outside any server folder, unreadable folders. They are not registered as evidence.
    public var skipped: Bool = false
    /// The CU-level Exchange build the file shows (see ``BuildEvidence``), short form: the highest
    /// any of its lines shows (`#Version:` directives, version columns, version folders).
    public var exchangeBuild: String?
    /// False for files whose records are a selection (Test-ProxyLogon's 26855 export): their
    /// hits count, but their time range shows nothing about coverage.
    public var givesCoverage: Bool = true

    /// Hits the YARA rules found in a collected file (nil for other formats).
    public var contentHits: Int?
    /// For a file inventory: its rows of pages and scripts under the Exchange web folders
    /// (`FrontEnd\HttpProxy`, `ClientAccess`, `inetpub\wwwroot`) with a SHA-256; nil for other formats.
    public var webFileRows: Int?
    /// For a file inventory: which of the folders web shells were dropped in
    /// (``FileCursor/dropFolders``: `owa\auth`, `inetpub\wwwroot`) it lists at least one file
    /// under, sorted; nil for other formats.
    public var webFolders: [String]?
    /// For a known-good baseline: whether it applies to its server (it is for the server's
    /// recorded build, or no build is recorded); nil for other formats.
    public var baselineUsed: Bool?
    /// The UTC days (days since 1970-01-01) on which the file has records, as ascending runs
    /// `[first, last]` of consecutive days; empty when no record carries a time.
    public var recordDays: [[Int32]] = []

    /// True when the indicators were evaluated on this file's content as evidence of a known
    /// format. A collected file scanned with YARA counts only when a rule hit it: a clean copy of
    /// a few files says nothing about the server, a web shell among them does.
    public var checked: Bool {
        guard let format else { return false }
        return format != .collectedFile || (contentHits ?? 0) > 0
    }
}

/// Reads evidence files incrementally and evaluates the indicators on every record.
///
/// Not thread-safe: one scanner belongs to one serial queue (``CaseSession`` uses its own).
/// An unchanged file (same size and modification time) costs one `stat`; a grown file is read
/// from the end of its last complete line; a file that shrank or whose first bytes changed
/// (rotated or replaced) is read again from the start. Files are opened read-only and never written.
public final class EvidenceScanner {
    public let engine: RuleEngine
    /// Bytes read per `read` call.
    public static let chunkSize = 256 * 1024

    var cursors: [String: FileCursor] = [:]
    /// Bumped whenever any file's hits or status may have changed.
    public internal(set) var version = 0
    /// The YARA rules collected files are scanned with: built-in, plus the case's `rules/` files
    /// once ``scan(caseFolder:)`` has run.
    public internal(set) var contentRules: ContentRules = .builtIn

    /// Set once per process, before the first scan: blocks of 1 MiB and more (a very long line,
    /// its text and fields) are mapped on their own and returned to the system when freed
    /// (`ic_map_large_allocations`). Left to glibc's default, its threshold rises after the first
    /// such block is freed and later ones stay in per-thread arenas: with 6 files holding a 31 MiB
    /// line each, peak RSS 133 MB instead of 85 MB (`Benchmarks/long-lines.sh`).
    static let largeAllocationsMapped: Bool = ic_map_large_allocations(1 << 20) == 1

    /// Files read at once in one pass: the `INCIDENT_SCAN_THREADS` environment variable when set
    /// (1 = single-threaded, for benchmarks), else the number of active CPU cores. Each file is
    /// read by one thread; several files are read in parallel.
    public var threads: Int

    public init(engine: RuleEngine) {
        self.engine = engine
        _ = Self.largeAllocationsMapped
        let env = ProcessInfo.processInfo.environment["INCIDENT_SCAN_THREADS"].flatMap(Int.init)
        self.threads = max(1, env ?? ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Every hit found so far, in no particular order, without hits that an indicator's
    /// `suppressedBy` makes redundant.
    public var hits: [Hit] {
        let all = cursors.values.flatMap { $0.hits + $0.tailHits + $0.scriptHits } + baselineHits()
        guard !suppressions.isEmpty else { return all }
        var present = Set<String>()
        for hit in all { present.insert(Self.key(hit.server, hit.clientIP, hit.indicator)) }
        return all.filter { hit in
            guard let by = suppressions[hit.indicator] else { return true }
            return !by.contains { present.contains(Self.key(hit.server, hit.clientIP, $0)) }
        }
    }

    private lazy var suppressions: [String: [String]] = {
        var map: [String: [String]] = [:]
        for i in engine.pack.indicators { if let by = i.suppressedBy, !by.isEmpty { map[i.id] = by } }
        return map
    }()

    private static func key(_ server: String, _ ip: String?, _ indicator: String) -> String {
        server.lowercased() + "\u{1}" + (ip ?? "") + "\u{1}" + indicator
    }

    /// The status of every file seen so far (and of every entry skipped in the last pass),
    /// sorted by path.
    public var statuses: [FileStatus] {
        (cursors.values.map(baselineStatus) + skipped).sorted { $0.path < $1.path }
    }

    /// Exchange build per server (lowercased name → build such as `15.0.1497.2`), from the case;
    /// chooses which known-good baseline applies to a server's inventories.
    public var serverBuilds: [String: String] = [:] {
        didSet { if oldValue != serverBuilds { version += 1 } }
    }

    private var skipped: [FileStatus] = []

    /// The server folders under `evidence/` found by the last ``scan(caseFolder:)``, empty
    /// folders included, sorted by name: each is a server, even before any file is in it.
    public private(set) var serverFolders: [String] = []

    /// Warnings about the evidence folder the last ``scan(caseFolder:)`` found (server folders
    /// whose names differ only in case or normalisation), sorted by path.
    public private(set) var notices: [EvidenceWalker.Notice] = []

    /// Scans a case folder's `evidence/` tree.
    /// - Parameter caseFolder: the case folder (holding `case.json`).
    /// - Returns: the paths (relative) of files that were new or changed in this pass.
    @discardableResult
    public func scan(caseFolder: URL) -> [String] {
        let listing = EvidenceWalker.list(caseFolder)
        // Files registered by reference (`incident evidence add`) are read where they are, as
        // long as they are still regular files; otherwise they count as gone.
        let found = listing.found + referencedFiles.filter { file in
            var st = stat()
            return stat(file.path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        }
        let newSkipped = listing.skipped.map { entry in
            FileStatus(path: entry.relativePath, server: entry.server, format: nil, encoding: nil, sizeBytes: 0, sha256: "",
                       modified: Date(timeIntervalSince1970: 0), lines: 0, records: 0, warnings: [entry.reason], skipped: true)
        }
        + refreshContentRules(caseFolder)
        if newSkipped != skipped {
            skipped = newSkipped
            version += 1
        }
        if listing.servers != serverFolders {
            serverFolders = listing.servers
            version += 1
        }
        if listing.notices != notices {
            notices = listing.notices
            version += 1
        }
        var changed: [String] = []
        let present = Set(found.map(\.relativePath))
        for gone in cursors.keys where !present.contains(gone) {
            if cursors[gone]?.missing == false { version += 1 }
            cursors[gone]?.markMissing()
        }
        var work: [(FileCursor, String)] = []
        for file in found {
            let cursor = cursors[file.relativePath] ?? FileCursor(path: file.relativePath, server: file.server)
            cursors[file.relativePath] = cursor
            cursor.contentRules = contentRules
            work.append((cursor, file.path))
        }
        for (i, didChange) in Self.update(work, engine: engine, threads: threads).enumerated() where didChange {
            changed.append(work[i].0.path)
        }
        if !changed.isEmpty { version += 1 }
        return changed
    }

    /// Evidence kept outside the case folder and registered by reference: absolute path (also
    /// used as its relative path) and server. Set before each ``scan(caseFolder:)``.
    public var referencedFiles: [EvidenceWalker.Found] = []

    /// Scans one file given by absolute URL under a case folder, attributing it to `server`.
    /// Used by tests and by `evidence add` of files kept elsewhere.
    @discardableResult
    public func scanFile(_ url: URL, relativePath: String, server: String) -> Bool {
        let cursor = cursors[relativePath] ?? FileCursor(path: relativePath, server: server)
        cursors[relativePath] = cursor
        cursor.contentRules = contentRules
        return cursor.update(path: url.path, engine: engine)
    }
}

/// Finds evidence files: any regular file at any depth under `evidence/<server>/`.
public enum EvidenceWalker {
    public struct Found: Sendable, Equatable {
        /// Absolute path of the file.
        public var path: String
        /// `evidence/<server>/…`, `/`-separated.
        public var relativePath: String
        public var server: String
        public var url: URL { URL(fileURLWithPath: path) }
    }

    /// Something under `evidence/` that was not read, and why.
    public struct Skipped: Sendable, Equatable {
        public var relativePath: String
        /// The server folder it is in, or "" for entries directly under `evidence/`.
        public var server: String
        public var reason: String
    }

    /// Something under `evidence/` that is read, but that the responder should know about: two
    /// server folders whose names differ only in letter case or Unicode normalisation, read as
    /// one server.
    public struct Notice: Sendable, Equatable {
        /// `evidence/<folder>`, as the folder is spelled on disk.
        public var relativePath: String
        /// The server it is read as.
        public var server: String
        public var message: String
    }

    /// What one walk of `evidence/` found: see ``list(_:)``.
    public struct Listing: Sendable, Equatable {
        /// Evidence files, sorted by path.
        public var found: [Found]
        /// Entries not read, each with its reason, sorted by path.
        public var skipped: [Skipped]
        /// Server names (one per server folder, empty ones included, folders whose names differ
        /// only in case or normalisation counted once), sorted.
        public var servers: [String]
        /// Warnings about what was read, sorted by path.
        public var notices: [Notice] = []
    }

    /// Evidence files of a case folder, sorted by path.
    public static func files(in caseFolder: URL) -> [Found] { list(caseFolder).found }

    /// The key two server folder names share when they name one server: the case's own rule,
    /// ``CaseFile/serverKey(_:)`` (letter case and Unicode normalisation ignored).
    static func serverKey(_ name: String) -> String { CaseFile.serverKey(name) }

    /// Why a name is never read (hidden, or macOS archive metadata), or nil: names starting
    /// with `.` (`.git`, `.DS_Store`, `._x` resource forks) and `__MACOSX` folders.
    static func hiddenReason(_ name: String, isFolder: Bool, serverLevel: Bool) -> String? {
        let tail = serverLevel && isFolder ? "not a server, not read" : "not read"
        if name == "__MACOSX" { return "macOS archive metadata (__MACOSX): \(tail)" }
        guard name.hasPrefix(".") else { return nil }
        // A file directly in evidence/ would not be read without the dot either.
        let hint = serverLevel && !isFolder ? "" : "; rename it without the dot to read it"
        return "hidden \(isFolder ? "folder" : "file") (name starts with \".\"): \(tail)\(hint)"
    }

    /// The skip reason of a symbolic link to a folder inside the case: never followed, so one
    /// folder is never read twice (as `EXCH01` and as a link `exch01.corp.example -> EXCH01`)
    /// and a loop (`loop -> .`) is never walked.
    static let folderLinkReason = "symbolic link to a folder: not followed (a folder is read only where it is, never through a link)"

    /// Evidence files of a case folder, the entries that were skipped, each sorted by path, and
    /// the names of the server folders (`evidence/<server>/`, empty ones included), sorted.
    /// Symbolic links are followed only when they lead to a file inside the case folder; a link
    /// to a folder is never followed (at the server level it is no server), so no evidence is
    /// read twice. Files directly in `evidence/` belong to no server and are skipped; so are
    /// hidden entries (names starting with `.`) and `__MACOSX` folders at any depth, folders
    /// that cannot be read, names that are not valid UTF-8, and anything that is not a regular
    /// file (FIFOs, sockets, devices: never opened, since opening a FIFO blocks). Every skip
    /// comes with a reason. Server folders whose names differ only in letter case or Unicode
    /// normalisation (`EXCH04`, `exch04`) are one server, named as the first of them in sorted
    /// order, with a notice. Walks with `opendir`/`readdir`/`lstat`: one pass over a large tree
    /// must stay cheap, since it repeats every rescan interval.
    public static func list(_ caseFolder: URL) -> Listing {
        let casePath = caseFolder.standardizedFileURL.path
        let caseReal = realPath(casePath) ?? casePath
        var found: [Found] = []
        var skipped: [Skipped] = []
        var servers: [String] = []
        var notices: [Notice] = []
        /// Server key → the name the first folder with that key gave the server.
        var serverNames: [String: String] = [:]
        let root = casePath + "/evidence"
        guard let entries = directoryEntries(root) else { return Listing(found: [], skipped: [], servers: []) }
        // Names equal as Swift strings (NFC and NFD spellings) are ordered by their bytes, so the
        // server a pair is read as does not depend on the order readdir gave them.
        let sorted = entries.sorted { a, b in
            let x = a ?? "", y = b ?? ""
            return x != y ? x < y : x.utf8.lexicographicallyPrecedes(y.utf8)
        }
        for entry in sorted {
            let relative = "evidence/" + (entry ?? "?")
            guard let name = entry else {
                skipped.append(Skipped(relativePath: relative, server: "", reason: "name is not valid UTF-8: rename it to read it"))
                continue
            }
            let path = root + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            var isDir = (st.st_mode & S_IFMT) == S_IFDIR
            if let hidden = hiddenReason(name, isFolder: isDir, serverLevel: true) {
                skipped.append(Skipped(relativePath: relative, server: "", reason: hidden))
                continue
            }
            if (st.st_mode & S_IFMT) == S_IFLNK {
                guard let target = realPath(path), target.hasPrefix(caseReal + "/") else {
                    skipped.append(Skipped(relativePath: relative, server: name,
                                           reason: "symbolic link to \(realPath(path) ?? "a missing target"), outside the case folder: not followed; copy the files into the case"))
                    continue
                }
                var tst = stat()
                isDir = stat(target, &tst) == 0 && (tst.st_mode & S_IFMT) == S_IFDIR
                if isDir {
                    // Another name for a folder of the case (often another server's folder):
                    // following it would make a second server with every hit counted twice.
                    skipped.append(Skipped(relativePath: relative, server: "", reason: folderLinkReason + "; not a server"))
                    continue
                }
            }
            guard isDir else {
                let kind = (st.st_mode & S_IFMT) == S_IFLNK || (st.st_mode & S_IFMT) == S_IFREG ? nil : notRegularFileKind(st.st_mode)
                skipped.append(Skipped(relativePath: relative, server: "",
                                       reason: (kind.map { "not a regular file (\($0)): never opened; " } ?? "") + "not in a server folder: evidence goes in evidence/<server-name>/"))
                continue
            }
            let key = serverKey(name)
            let server: String
            if let first = serverNames[key] {
                server = first
                let how = first.lowercased().unicodeScalars.elementsEqual(name.lowercased().unicodeScalars) ? "letter case"
                    : first == name ? "Unicode normalisation" : "letter case and Unicode normalisation"
                notices.append(Notice(relativePath: relative, server: first,
                                      message: "server folder name differs from evidence/\(first) only in \(how): read as the same server \(first); merge the two folders"))
            } else {
                server = name
                serverNames[key] = name
                servers.append(name)
            }
            walk(path, relative: relative, server: server, caseReal: caseReal, depth: 0, found: &found, skipped: &skipped)
        }
        return Listing(found: found.sorted { $0.relativePath < $1.relativePath }, skipped: skipped.sorted { $0.relativePath < $1.relativePath },
                       servers: servers, notices: notices)
    }

    /// What a non-regular file is, for skip reasons: `a FIFO`, `a socket`, `a character device`,
    /// `a block device`, or `a special file`.
    static func notRegularFileKind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        default: "a special file"
        }
    }

    /// The skip reason of an entry that is not a regular file (nor a folder or a link).
    static func notRegularFileReason(_ mode: mode_t) -> String {
        "not a regular file (\(notRegularFileKind(mode))): never opened, not checked"
    }

    private static func walk(_ dir: String, relative: String, server: String, caseReal: String, depth: Int,
                             found: inout [Found], skipped: inout [Skipped]) {
        guard depth < 64 else {
            skipped.append(Skipped(relativePath: relative, server: server, reason: "folders nested deeper than 64 levels: not read"))
            return
        }
        guard let entries = directoryEntries(dir) else {
            skipped.append(Skipped(relativePath: relative, server: server, reason: "cannot be read (permissions?): not checked"))
            return
        }
        for entry in entries {
            guard let name = entry else {
                skipped.append(Skipped(relativePath: relative + "/?", server: server, reason: "a name in this folder is not valid UTF-8: rename it to read it"))
                continue
            }
            let path = dir + "/" + name
            let rel = relative + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            if let hidden = hiddenReason(name, isFolder: (st.st_mode & S_IFMT) == S_IFDIR, serverLevel: false) {
                skipped.append(Skipped(relativePath: rel, server: server, reason: hidden))
                continue
            }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                walk(path, relative: rel, server: server, caseReal: caseReal, depth: depth + 1, found: &found, skipped: &skipped)
            case S_IFREG:
                found.append(Found(path: path, relativePath: rel, server: server))
            case S_IFLNK:
                guard let target = realPath(path), target.hasPrefix(caseReal + "/") else {
                    skipped.append(Skipped(relativePath: rel, server: server,
                                           reason: "symbolic link to \(realPath(path) ?? "a missing target"), outside the case folder: not followed"))
                    continue
                }
                var tst = stat()
                guard stat(target, &tst) == 0 else { continue }
                if (tst.st_mode & S_IFMT) == S_IFREG {
                    found.append(Found(path: path, relativePath: rel, server: server))
                } else if (tst.st_mode & S_IFMT) == S_IFDIR {
                    // `loop -> .`, `up -> ../S2`: walking it would read files twice, or forever.
                    skipped.append(Skipped(relativePath: rel, server: server, reason: folderLinkReason))
                } else {
                    skipped.append(Skipped(relativePath: rel, server: server, reason: "symbolic link to \(notRegularFileKind(tst.st_mode)): not a regular file, never opened, not checked"))
                }
            default:
                // Sockets, FIFOs, devices: never opened (opening a FIFO blocks until a writer comes).
                skipped.append(Skipped(relativePath: rel, server: server, reason: notRegularFileReason(st.st_mode)))
            }
        }
    }

    /// Names in a folder (nil name: not valid UTF-8), or nil when the folder cannot be read.
    private static func directoryEntries(_ dir: String) -> [String?]? {
        guard let d = opendir(dir) else { return nil }
        defer { closedir(d) }
        var names: [String?] = []
        while let entry = readdir(d) {
            let name: String? = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(validatingCString: $0) }
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        return names
    }

    private static func realPath(_ path: String) -> String? {
        guard let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    static func relativePath(of url: URL, under folder: URL) -> String {
        let base = folder.standardizedFileURL.pathComponents
        let full = url.standardizedFileURL.pathComponents
        if full.starts(with: base) { return full.dropFirst(base.count).joined(separator: "/") }
        return url.lastPathComponent
    }
}

/// Incremental read state of one file.
final class FileCursor {
    let path: String
    let server: String
    var status: FileStatus
    var parser: (any EvidenceLineParser)?
    var encoding: TextEncoding = .utf8
    var headBytes: [UInt8] = []
    /// Offset just past the last complete line consumed.
    var offset: Int64 = 0
    var lineCount = 0
    var hashedUpTo: Int64 = 0
    var hasher = SHA256()
    var hits: [Hit] = []
    var tailHits: [Hit] = []
    /// YARA hits of a file read as a log or configuration but named like a script
    /// (``scanScriptContent(path:)``); replaced at each read.
    var scriptHits: [Hit] = []
    var lastSize: Int64 = -1
    var lastModified: Date?
    var missing = false
    /// When the previous pass ended inside an over-long line, the rest of it is skipped.
    var skippingLongLine = false
    var truncatedLines = 0
    var invalidLines = 0
    /// The computer a Test-ProxyLogon output file is named after (`EXCH09` of `EXCH09-other.csv`;
    /// the script writes `<COMPUTERNAME>-<check>` files, several servers' into one folder), or nil
    /// for any other name. Source: https://github.com/microsoft/CSS-Exchange/blob/main/Security/src/Test-ProxyLogon.ps1
    static func testProxyLogonComputer(fileName: String) -> String? {
        let lower = fileName.lowercased()
        for suffix in ["-other.csv", "-logagedays.csv", "-cve-2021-26855.csv", "-cve-2021-26857.csv", "-cve-2021-26858.log",
                       "-cve-2021-26858-downloadpaths.log", "-cve-2021-27065.log", "-resetvdir.csv"]
            where lower.hasSuffix(suffix) && lower.count > suffix.count {
            return String(fileName.dropLast(suffix.count))
        }
        return nil
    }

    /// Whether a computer name is the server's name, or the first label of it (`EXCH01` and
    /// `exch01.corp.example`), case-insensitively.
    static func sameComputer(_ computer: String, _ server: String) -> Bool {
        let c = computer.lowercased(), s = server.lowercased()
        return c == s || c == s.split(separator: ".").first.map(String.init) || s == c.split(separator: ".").first.map(String.init)
    }

    /// Records of a timed log format whose time could not be read (see ``timedFormats``).
    var untimedRecords = 0
    /// The UTC days with a record (see ``FileStatus/recordDays``).
    var recordDays = Set<Int32>()
    var unterminatedTail = false
    /// Set when the file shrank or its content changed under us; kept across the re-read.
    var replacedNote: String?
    /// The last committed line ended with a CR at the end of the file; an LF that arrives next
    /// completes that CRLF and is not a line of its own.
    var crAtEnd = false
    /// Whether the byte just before the pending bytes is an LF (UTF-8 reads only): the prefilter
    /// can then judge the first pending line too (its leading separator is that LF).
    private var pendingAfterLF = false
    /// While one line grows over several chunks: the file offset of `pending` and how many of its
    /// first bytes hold no CR or LF byte, so each chunk only looks at its new bytes.
    private var unbrokenPending: (start: Int64, count: Int) = (-1, 0)
    /// Whether this cursor holds the long-line permit (``longLines``).
    private var holdsLongLinePermit = false

    /// One scan thread at a time, in the whole process, may hold an unfinished line longer than
    /// ``longLineBytes``: parsing a line near ``LineSplitter/maxLineBytes`` holds it about three
    /// times over (about 75 MB at the 12 MiB limit), and with one such line at a time the scan's peak memory does not grow
    /// with the number of threads. A thread holding the permit waits for nothing but its own file.
    static let longLines = DispatchSemaphore(value: 1)
    /// An unfinished line this long (1 MiB) needs the long-line permit.
    static let longLineBytes = 1 << 20

    private func takeLongLinePermit() {
        guard !holdsLongLinePermit else { return }
        Self.longLines.wait()
        holdsLongLinePermit = true
    }

    private func returnLongLinePermit() {
        guard holdsLongLinePermit else { return }
        holdsLongLinePermit = false
        Self.longLines.signal()
    }
    /// Why the file's format was not recognised (nil when it was).
    var unrecognisedReason: String?
    /// Inventory rows of web files, for the known-good baseline comparison: line, lowercase
    /// SHA-256, raw row.
    var webFiles: [(line: Int, hash: String, raw: String)] = []
    /// The ``dropFolders`` keys an inventory lists a file under.
    var webFolders = Set<String>()

    /// The folders HAFNIUM and later actors dropped web shells in, each with the path part that
    /// marks it (lowercase, `\` separators): `owa\auth` (`FrontEnd\HttpProxy\owa\auth\` on
    /// Exchange 2016/2019, `ClientAccess\Owa\auth\` on 2013; never empty on an install) and
    /// `inetpub\wwwroot` (`aspnet_client\` lies below it; IIS puts `iisstart.htm` there).
    /// Source: `../shared/knowledge/proxylogon.md` §2.1; https://www.microsoft.com/security/blog/2021/03/02/hafnium-targeting-exchange-servers/
    public static let dropFolders: [(key: String, marker: String)] = [("owa\\auth", "\\owa\\auth\\"), ("inetpub\\wwwroot", "\\inetpub\\wwwroot\\")]
    /// For baseline files: build → lowercase SHA-256 values.
    var baseline: [String: Set<String>] = [:]

    /// Web file types Microsoft's CompareExchangeHashes.ps1 hashed (plus `.ashx`), under the
    /// Exchange web folders (`FrontEnd\HttpProxy\`, `ClientAccess\` except the OAB download folder
    /// whose temporary `*.djs`-like files are benign, CSS-Exchange issues 320/345), and the
    /// server-side pages (`.aspx`, `.asmx`, `.asax`, `.ashx`) under `inetpub\wwwroot\`.
    static func isBaselinedWebFile(_ path: String) -> Bool {
        let p = path.lowercased().replacingOccurrences(of: "/", with: "\\")
        let inExchange = p.contains("\\frontend\\httpproxy\\") || (p.contains("\\clientaccess\\") && !p.contains("\\clientaccess\\oab\\"))
        guard inExchange || p.contains("\\inetpub\\wwwroot\\"), let dot = p.lastIndex(of: ".") else { return false }
        let ext = String(p[p.index(after: dot)...])
        // Under inetpub\wwwroot only server-side pages: IIS's own iisstart.htm and ASP.NET's
        // client scripts are in no Exchange baseline, and a web shell there is a page.
        return inExchange ? ["aspx", "asmx", "asax", "ashx", "js", "css", "htm", "html"].contains(ext) : ["aspx", "asmx", "asax", "ashx"].contains(ext)
    }

    /// ``FileStatus/exchangeBuild`` parsed: the highest CU-level build a line has shown.
    var fileBuild: ExchangeBuild?

    /// YARA rules for collected files, and the signature of the rules the file was last scanned with.
    var contentRules: ContentRules?
    var contentRulesSignature: String?
    /// Set while the file is read whole (event log or collected file).
    var wholeFileNote = false

    static let headLength = 512

    init(path: String, server: String) {
        self.path = path
        self.server = server
        self.status = FileStatus(path: path, server: server, format: nil, encoding: nil, sizeBytes: 0, sha256: "",
                                 modified: Date(timeIntervalSince1970: 0), lines: 0, records: 0, warnings: [])
    }

    func markMissing() {
        missing = true
        if !status.warnings.contains("file is gone from the evidence folder") {
            status.warnings.append("file is gone from the evidence folder")
        }
    }

    func reset() {
        parser = nil
        headBytes = []
        offset = 0
        lineCount = 0
        hashedUpTo = 0
        hasher = SHA256()
        hits = []
        tailHits = []
        scriptHits = []
        webFiles = []
        webFolders = []
        baseline = [:]
        skippingLongLine = false
        truncatedLines = 0
        invalidLines = 0
        untimedRecords = 0
        recordDays = []
        crAtEnd = false
        status.format = nil
        status.encoding = nil
        status.lines = 0
        status.records = 0
        status.firstEvent = nil
        status.lastEvent = nil
        status.warnings = []
        status.exchangeBuild = nil
        fileBuild = nil
    }

    /// Brings the cursor up to date with the file. Returns true when anything was read.
    func update(path filePath: String, engine: RuleEngine) -> Bool {
        // One stat() per pass is all an unchanged file costs.
        var st = stat()
        guard stat(filePath, &st) == 0 else {
            markMissing()
            return false
        }
        let size = Int64(st.st_size)
        // Replaced by a FIFO, socket or device since the folder was listed: never opened (opening
        // a FIFO blocks until a writer comes).
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            status.warnings = [EvidenceWalker.notRegularFileReason(st.st_mode)]
            return false
        }
        let modified = Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
        if missing { missing = false; status.warnings.removeAll { $0 == "file is gone from the evidence folder" } }
        if size == lastSize && modified == lastModified { return false }

        guard let handle = FileHandle(forReadingAtPath: filePath) else {
            status.warnings = ["cannot open for reading"]
            return false
        }
        defer { try? handle.close() }

        // Rotated, truncated, replaced or edited in place (same size, new time): start again.
        let previousHits = hits.count
        var replaced = size < offset || size < hashedUpTo || (size == lastSize && lastModified != nil)
        if !replaced, !headBytes.isEmpty {
            let current = (try? handle.read(upToCount: headBytes.count)).map { [UInt8]($0) } ?? []
            replaced = current != headBytes
        }
        if replaced {
            reset()
            replacedNote = "changed on disk at \(Timestamps.iso8601(modified)) (shrank, rotated or edited): read again from the start"
                + (previousHits > 0 ? "; \(previousHits) hit(s) from its earlier content are gone (see the audit trail for its earlier hash)" : "")
        }
        if headBytes.count < Self.headLength {
            try? handle.seek(toOffset: 0)
            headBytes = (try? handle.read(upToCount: Self.headLength)).map { [UInt8]($0) } ?? []
        }

        if readIfEventLog(path: filePath, engine: engine) { noteWholeFileRead(size: size, modified: modified); return true }
        if parser == nil { detect(handle: handle) }
        if scanIfCollectedFile(path: filePath) { noteWholeFileRead(size: size, modified: modified); return true }
        readFrom(handle: handle, engine: engine)
        let scriptWarning = scanScriptContent(path: filePath, size: size)

        lastSize = size
        lastModified = modified
        status.sizeBytes = size
        status.modified = modified
        status.lines = lineCount
        var warnings = parser?.warnings ?? unrecognisedReason.map { [$0] } ?? []
        if truncatedLines > 0 { warnings.append("\(truncatedLines) line(s) longer than \(LineSplitter.maxLineBytes / 1_048_576) MiB were cut") }
        if invalidLines > 0 { warnings.append("\(invalidLines) line(s) with bytes that are not valid text, shown as \u{FFFD}") }
        // (A Test-ProxyLogon export covers no time range at all: nothing to leave out of one.)
        if untimedRecords > 0, !((parser as? HttpProxyParser)?.isFilteredExport ?? false) {
            warnings.append("\(untimedRecords) record(s) whose time could not be read: left out of the time range the logs cover")
        }
        if let replacedNote { warnings.append(replacedNote) }
        if unterminatedTail { warnings.append("the last line has no line end (cut off, or still being written); it is checked again when the file grows") }
        if let scriptWarning { warnings.append(scriptWarning) }
        if parser?.format == .testProxyLogon || parser?.format == .httpProxy,
           let computer = Self.testProxyLogonComputer(fileName: (path as NSString).lastPathComponent), !Self.sameComputer(computer, server) {
            warnings.append("Test-ProxyLogon output of computer \(computer), filed under server \(server): its hits count for \(server); move it to evidence/\(computer)/ if it is that server's")
        }
        status.warnings = warnings
        status.webFileRows = parser?.format == .fileInventory ? webFiles.count : nil
        status.webFolders = parser?.format == .fileInventory ? webFolders.sorted() : nil
        status.recordDays = Self.runs(recordDays)
        status.givesCoverage = !((parser as? HttpProxyParser)?.isFilteredExport ?? false)
        return true
    }

    private func detect(handle: FileHandle) {
        try? handle.seek(toOffset: 0)
        let head = (try? handle.read(upToCount: 65_536)).map { [UInt8]($0) } ?? []
        let (enc, bom) = TextEncoding.detect(head[...])
        encoding = enc
        let body = Array(head.dropFirst(bom))
        let lines = body.withUnsafeBufferPointer { LineSplitter.split($0, encoding: enc, atEOF: true).lines }
        switch FormatDetector.detect(lines.prefix(FormatDetector.linesExamined).map(\.text)) {
        case let .recognised(format):
            parser = FormatDetector.parser(for: format)
            status.format = format
            status.encoding = enc
            unrecognisedReason = nil
            if offset == 0 { offset = Int64(bom) }
        case let .unrecognised(reason):
            parser = nil
            status.format = nil
            status.encoding = enc
            unrecognisedReason = reason
        }
    }

    private func readFrom(handle: FileHandle, engine: RuleEngine) {
        tailHits = []
        unterminatedTail = false
        // Parsed files restart at the last complete line; every file's hash resumes where it stopped.
        var position = parser != nil ? min(offset, hashedUpTo) : hashedUpTo
        try? handle.seek(toOffset: UInt64(position))
        var pending: [UInt8] = []
        var pendingStart = offset
        pendingAfterLF = false
        // One chunk buffer, reused: no fresh pages to fault in for every chunk. The headroom before
        // the read area takes a short unfinished line, so the prefilter reads it and the new chunk
        // where they lie instead of from a copy of the whole chunk.
        let headroom = Self.headroom
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: headroom + EvidenceScanner.chunkSize)
        defer {
            buffer.deallocate()
            returnLongLinePermit()
        }
        let readArea = UnsafeMutableBufferPointer(rebasing: buffer[headroom...])
        while true {
            let chunk = UnsafeBufferPointer(rebasing: buffer[headroom..<(headroom + Self.readFully(handle.fileDescriptor, into: readArea))])
            let atEOF = chunk.isEmpty
            feedHash(chunk, at: position)
            let chunkEnd = position + Int64(chunk.count)
            if parser != nil {
                if chunkEnd > offset {
                    let from = Int(max(0, offset - position))
                    if !atEOF, !crAtEnd, !skippingLongLine, encoding == .utf8, from == 0 || pending.isEmpty, pending.count <= headroom,
                       let format = parser?.format, let prefilter = engine.prefilter(for: format) {
                        // In place: the unfinished line moved in front of the chunk.
                        let lead = headroom - pending.count
                        pending.withUnsafeBufferPointer { p in
                            if let b = p.baseAddress { (buffer.baseAddress! + lead).update(from: b, count: p.count) }
                        }
                        let region = UnsafeBufferPointer(rebasing: buffer[(from == 0 ? lead : headroom + from)..<(headroom + chunk.count)])
                        let used = prefiltered(region, prefilter: prefilter, engine: engine, afterLF: pendingAfterLF)
                        if used > 0 {
                            pendingAfterLF = true
                            pendingStart += Int64(used)
                            offset = pendingStart
                        }
                        pending.removeAll(keepingCapacity: true)
                        pending.append(contentsOf: UnsafeBufferPointer(rebasing: region[used...]))
                    } else {
                        if pending.count + chunk.count - from > Self.longLineBytes { takeLongLinePermit() }
                        Self.append(UnsafeBufferPointer(rebasing: chunk[from...]), to: &pending)
                    }
                }
                consume(&pending, start: &pendingStart, atEOF: atEOF, engine: engine)
                if pending.count <= Self.longLineBytes {
                    // The long line is done: give its memory back before the permit.
                    if pending.capacity > 2 * Self.longLineBytes { pending = Array(pending) }
                    returnLongLinePermit()
                }
            }
            position = chunkEnd
            if atEOF { break }
        }
        status.sha256 = SHA256Hex.hex(hasher.finalize())
    }

    /// Log formats whose every record should carry a time: a record without one is counted and
    /// reported (it cannot show how far back the logs reach).
    static let timedFormats: Set<EvidenceFormat> = [.httpProxy, .iisW3C, .ecpServer]

    /// The UTC day of a time, in days since 1970-01-01.
    static func day(_ t: Date) -> Int32 {
        Int32(clamping: Int((t.timeIntervalSince1970 / 86_400).rounded(.down)))
    }

    /// Days as ascending runs `[first, last]` of consecutive days.
    static func runs(_ days: Set<Int32>) -> [[Int32]] {
        var out: [[Int32]] = []
        for d in days.sorted() {
            if let last = out.last, last[1] &+ 1 == d { out[out.count - 1][1] = d } else { out.append([d, d]) }
        }
        return out
    }

    /// Bytes kept free before each chunk read, for an unfinished line of up to this size.
    static let headroom = 64 * 1024

    /// Appends a chunk to the unfinished line, doubling the buffer as `Array` would but never past
    /// the longest unfinished line it must hold (``LineSplitter/maxLineBytes`` and a chunk, after
    /// which the line is cut): a line near the limit then needs 12 MiB, not twice that.
    static func append(_ bytes: UnsafeBufferPointer<UInt8>, to pending: inout [UInt8]) {
        let needed = pending.count + bytes.count
        if needed > pending.capacity {
            pending.reserveCapacity(max(needed, min(pending.capacity * 2, LineSplitter.maxLineBytes + 2 * EvidenceScanner.chunkSize)))
        }
        pending.append(contentsOf: bytes)
    }

    /// Reads until `buffer` is full or the file ends.
    /// - Returns: the bytes read; 0 at the end of the file or on a read error (as the end).
    static func readFully(_ fd: Int32, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var filled = 0
        while filled < buffer.count {
            let n = read(fd, buffer.baseAddress! + filled, buffer.count - filled)
            if n > 0 {
                filled += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        return filled
    }

    private func feedHash(_ chunk: UnsafeBufferPointer<UInt8>, at start: Int64) {
        guard !chunk.isEmpty else { return }
        let end = start + Int64(chunk.count)
        guard end > hashedUpTo else { return }
        let from = Int(max(0, hashedUpTo - start))
        hasher.update(bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: chunk[from...])))
        hashedUpTo = end
    }

    /// Splits `pending` into lines, evaluates them, and leaves the incomplete rest in `pending`.
    private func consume(_ pending: inout [UInt8], start: inout Int64, atEOF: Bool, engine: RuleEngine) {
        let lf: [UInt8] = encoding == .utf8 ? [0x0A] : (encoding == .utf16BE ? [0, 0x0A] : [0x0A, 0])
        // (Half a UTF-16 unit cannot tell yet: wait for the rest.)
        if crAtEnd, pending.count >= lf.count {
            if Array(pending.prefix(lf.count)) == lf {
                pendingAfterLF = encoding == .utf8
                pending.removeFirst(lf.count)
                start += Int64(lf.count)
                offset = start
            }
            crAtEnd = false
        }
        if skippingLongLine {
            if let end = Self.lineEnd(in: pending, encoding: encoding) {
                pendingAfterLF = end.afterLF
                pending.removeFirst(end.cut)
                start += Int64(end.cut)
                offset = start
                // The line was counted when its head was read. A CR that ends the bytes read so
                // far may be the first half of a CRLF: the LF that follows is not a line.
                skippingLongLine = false
                crAtEnd = end.crAtEnd
            } else {
                // All of it is the long line's, but half a UTF-16 unit, which the next read completes.
                let drop = encoding == .utf8 ? pending.count : pending.count - pending.count % 2
                start += Int64(drop)
                offset = start
                pending.removeFirst(drop)
                pendingAfterLF = false
                return
            }
        }
        if !atEOF, pending.count <= LineSplitter.maxLineBytes {
            // A line still growing: nothing to split until a CR or LF byte arrives (in UTF-16 too,
            // a line end unit holds one). Only the bytes added since the last chunk are searched.
            let known = unbrokenPending.start == start ? min(unbrokenPending.count, pending.count) : 0
            let hasBreak: Bool
            if encoding == .utf8 {
                hasBreak = pending.withUnsafeBufferPointer { p in
                    guard let base = p.baseAddress, p.count > known else { return false }
                    return memchr(base + known, 0x0A, p.count - known) != nil || memchr(base + known, 0x0D, p.count - known) != nil
                }
            } else {
                // Whole units (U+0A0A holds a 0x0A byte without being a line end); a half unit at
                // the end is looked at next time.
                hasBreak = Self.lineEnd(in: pending, from: known - known % 2, encoding: encoding) != nil
            }
            if !hasBreak {
                unbrokenPending = (start, pending.count - (encoding == .utf8 ? 0 : pending.count % 2))
                return
            }
        }
        unbrokenPending = (-1, 0)
        if encoding == .utf8, let format = parser?.format, let prefilter = engine.prefilter(for: format) {
            let used = pending.withUnsafeBufferPointer { prefiltered($0, prefilter: prefilter, engine: engine, afterLF: pendingAfterLF) }
            if used > 0 {
                pendingAfterLF = true
                pending.removeFirst(used)
                start += Int64(used)
                offset = start
            }
        }
        let (lines, consumed) = pending.withUnsafeBufferPointer { LineSplitter.split($0, encoding: encoding, atEOF: false) }
        if consumed > 0 { pendingAfterLF = encoding == .utf8 && pending[consumed - 1] == 0x0A }
        pending.removeFirst(consumed)
        // A long line's bytes are given back before its text is parsed.
        if pending.capacity > 2 * Self.longLineBytes, pending.count <= Self.longLineBytes { pending = Array(pending) }
        start += Int64(consumed)
        offset = start
        for line in lines { evaluate(line, final: true, engine: engine) }
        if pending.count > LineSplitter.maxLineBytes {
            // One line longer than the limit: read its head, skip the rest.
            let headCount = LineSplitter.maxLineBytes
            let text = pending.withUnsafeBufferPointer { LineSplitter.split(UnsafeBufferPointer(rebasing: $0[..<headCount]), encoding: encoding, atEOF: true).lines.first }
            // The split left the line unfinished, so the only line end it can hold is a CR at the
            // very end, waiting for a possible LF: the line ends there, and that LF is not a line.
            let end = Self.lineEnd(in: pending, from: headCount, encoding: encoding)
            let used = end?.cut ?? (encoding == .utf8 ? pending.count : pending.count - pending.count % 2)
            start += Int64(used)
            offset = start
            pending = Array(pending[used...]) // the line's memory is given back before its head is parsed
            if let text { evaluate(TextLine(text: text.text, end: headCount, truncated: true), final: true, engine: engine) }
            pendingAfterLF = end?.afterLF ?? false
            skippingLongLine = end == nil
            if let end { crAtEnd = end.crAtEnd }
            return
        }
        if atEOF, let last = pending.last,
           encoding == .utf8 ? last == 0x0D : (pending.count % 2 == 0 && Self.endsWithUTF16CR(pending, bigEndian: encoding == .utf16BE)) {
            // A last line ended by a lone CR (CR-only files) is complete: commit it. In UTF-16 only
            // a whole CR unit counts: a file caught ending in half a character (a 0x0D byte, or a
            // CR and one more byte) is still being written, and committing there would read every
            // later unit one byte off.
            let (tail, used) = pending.withUnsafeBufferPointer { LineSplitter.split($0, encoding: encoding, atEOF: true) }
            for line in tail { evaluate(line, final: true, engine: engine) }
            pending.removeFirst(used)
            pendingAfterLF = false
            start += Int64(used)
            offset = start
            crAtEnd = true
            return
        }
        if atEOF && !pending.isEmpty {
            // An unterminated last line: evaluate it provisionally, without committing it.
            let tail = pending.withUnsafeBufferPointer { LineSplitter.split($0, encoding: encoding, atEOF: true).lines }
            for line in tail { evaluate(line, final: false, engine: engine) }
            unterminatedTail = !tail.isEmpty
        }
    }

    /// Reads the complete lines of `all` (UTF-8, up to its last LF) with the literal prefilter:
    /// a line on which no indicator's literal requirement holds is only counted and its time read,
    /// by the C sweep (`ic_sweep`, through ``EvidenceLineParser/sweepLayout(fileBuild:)``) or,
    /// for the lines it leaves, by ``EvidenceLineParser/quickRecord(_:fileBuild:)``; every other
    /// line, and any line the parser wants to see whole, is split and evaluated exactly as without
    /// the prefilter. `INCIDENT_SCAN_SWEEP=off` leaves every line to `quickRecord`.
    /// - Returns: the number of bytes consumed (0 when the chunk holds no LF or the scan failed).
    /// - Parameter afterLF: the byte before `pending` is an LF, so its first line is judged too;
    ///   otherwise that line is parsed in full.
    private func prefiltered(_ all: UnsafeBufferPointer<UInt8>, prefilter: LiteralPrefilter, engine: RuleEngine, afterLF: Bool) -> Int {
        guard let base = all.baseAddress else { return 0 }
        let lastLF = ic_last_lf(base, all.count)
        guard lastLF >= 0 else { return 0 }
        let regionEnd = lastLF + 1
        let region = UnsafeBufferPointer(rebasing: all[0..<regionEnd])
        guard let ends = prefilter.candidateLineEnds(region, precededByLF: afterLF) else { return 0 }
        var k = 0
        var lineStart = 0
        // Counted here and stored once (class properties cost an exclusivity check each).
        var quickLines = 0, quickUntimed = 0
        var first: Date?, last: Date?
        var lastDay = Int32.min
        // Only the HttpProxy and IIS formats come here: both are timed.
        func flush() {
            lineCount += quickLines
            status.records += quickLines
            untimedRecords += quickUntimed
            quickLines = 0
            quickUntimed = 0
            if let t = first, status.firstEvent.map({ t < $0 }) ?? true { status.firstEvent = t }
            if let t = last, status.lastEvent.map({ t > $0 }) ?? true { status.lastEvent = t }
            first = nil
            last = nil
        }
        // The sweep's view of the header and the file's build; renewed after each parsed line.
        var layout = sweepLayout()
        while lineStart < regionEnd {
            if var current = layout {
                current.firstLineUnjudged = afterLF ? 0 : 1
                // Runs of ruled-out lines in C (`ic_sweep`), up to the next line it leaves here.
                var totals = ic_sweep_totals()
                lineStart = ends.withUnsafeBufferPointer { e in
                    ic_sweep(base, lineStart, regionEnd, e.baseAddress, e.count, &k, &current, &totals)
                }
                quickLines += Int(totals.lines)
                quickUntimed += Int(totals.untimed)
                if totals.hasTime != 0 {
                    let early = Date(timeIntervalSince1970: totals.first), late = Date(timeIntervalSince1970: totals.last)
                    // The sweep stops where the date changes: its lines lie on these days only.
                    recordDays.insert(Self.day(early))
                    recordDays.insert(Self.day(late))
                    if first.map({ early < $0 }) ?? true { first = early }
                    if last.map({ late > $0 }) ?? true { last = late }
                }
                if lineStart >= regionEnd { break }
            }
            let lf = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(memchr(base + lineStart, 0x0A, regionEnd - lineStart)!))
            var stop = lf
            if stop > lineStart, base[stop - 1] == 0x0D { stop -= 1 }
            while k < ends.count, ends[k] < lf { k += 1 }
            // Unless the byte before holds the first line's leading separator, it is parsed.
            let candidate = (lineStart == 0 && !afterLF) || (k < ends.count && ends[k] == lf)
            if !candidate, let quick = quickRecord(UnsafeBufferPointer(rebasing: all[lineStart..<stop])) {
                quickLines += 1
                if quick.time == nil { quickUntimed += 1 }
                if let t = quick.time {
                    let d = Self.day(t)
                    if d != lastDay {
                        recordDays.insert(d)
                        lastDay = d
                    }
                    if first.map({ t < $0 }) ?? true { first = t }
                    if last.map({ t > $0 }) ?? true { last = t }
                }
            } else {
                flush()
                // The splitter is stateless across LFs: the same lines as from the whole buffer.
                let lines = LineSplitter.split(UnsafeBufferPointer(rebasing: all[lineStart...lf]), encoding: .utf8, atEOF: false).lines
                for line in lines { evaluate(line, final: true, engine: engine) }
                layout = sweepLayout()
            }
            lineStart = lf + 1
        }
        flush()
        return regionEnd
    }

    /// The sweep layout of the file's parser and build (nil: every line through ``quickRecord(_:)``,
    /// also when `INCIDENT_SCAN_SWEEP=off`).
    private func sweepLayout() -> ic_sweep_layout? {
        guard Self.sweepEnabled, let parser else { return nil }
        return parser.sweepLayout(fileBuild: fileBuild)
    }

    /// Whether the vectorised sweep runs (`INCIDENT_SCAN_SWEEP=off` turns it off, for comparison).
    static let sweepEnabled = ProcessInfo.processInfo.environment["INCIDENT_SCAN_SWEEP"]?.lowercased() != "off"

    /// The parser's quick record for a line no literal occurs in, or nil when the line must be
    /// evaluated (also when the line might show an Exchange build above the file's).
    private func quickRecord(_ line: UnsafeBufferPointer<UInt8>) -> QuickRecord? {
        guard let parser, line.count <= LineSplitter.maxLineBytes else { return nil }
        return parser.quickRecord(line, fileBuild: fileBuild)
    }

    /// The first `characters` characters of `s` (`String(s.prefix(characters))`), without walking
    /// the characters of a string whose UTF-8 form is no longer than that.
    static func clipped<S: StringProtocol>(_ s: S, _ characters: Int) -> String {
        s.utf8.count <= characters ? String(s) : String(s.prefix(characters))
    }

    /// Whether the UTF-8 form holds 0xEF (the lead byte of U+FFFD), found with `memchr`.
    static func hasByteEF(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { b in b.baseAddress.map { memchr($0, 0xEF, b.count) != nil } ?? false }
    }

    /// The end of the first line in `p` (just past its CR, LF or CRLF), and whether that end is an
    /// LF byte in UTF-8 (the prefilter's leading separator); nil when `p` holds no line end. In
    /// UTF-16 only whole units count, from the start of `p` (a character such as U+0A0A holds a
    /// 0x0A byte without being a line end, and a cut inside a unit would read every later unit
    /// one byte off).
    /// `from` (a unit boundary in UTF-16) is where the search starts. `crAtEnd`: the end is a CR
    /// with nothing after it yet, so an LF that arrives next completes it and is not a line.
    static func lineEnd(in p: [UInt8], from: Int = 0, encoding: TextEncoding) -> (cut: Int, afterLF: Bool, crAtEnd: Bool)? {
        if encoding == .utf8 {
            guard let nl = p[from...].firstIndex(where: { $0 == 0x0A || $0 == 0x0D }) else { return nil }
            var cut = nl + 1
            if p[nl] == 0x0D, cut < p.count, p[cut] == 0x0A { cut += 1 }
            return (cut, p[cut - 1] == 0x0A, p[nl] == 0x0D && nl + 1 == p.count)
        }
        let be = encoding == .utf16BE
        func unit(_ i: Int) -> UInt16 { be ? UInt16(p[i]) << 8 | UInt16(p[i + 1]) : UInt16(p[i + 1]) << 8 | UInt16(p[i]) }
        var i = from
        while i + 1 < p.count {
            let u = unit(i)
            if u == 0x0A || u == 0x0D {
                var cut = i + 2
                if u == 0x0D, cut + 1 < p.count, unit(cut) == 0x0A { cut += 2 }
                return (cut, false, u == 0x0D && cut + 1 >= p.count)
            }
            i += 2
        }
        return nil
    }

    static func endsWithUTF16CR(_ b: [UInt8], bigEndian: Bool) -> Bool {
        let n = b.count - b.count % 2
        guard n >= 2 else { return false }
        return bigEndian ? (b[n - 2] == 0 && b[n - 1] == 0x0D) : (b[n - 2] == 0x0D && b[n - 1] == 0)
    }

    private func evaluate(_ line: TextLine, final: Bool, engine: RuleEngine) {
        guard var parser else { return }
        let number = lineCount + 1
        if final && line.truncated { truncatedLines += 1 }
        if final && Self.hasByteEF(line.text) && line.text.unicodeScalars.contains("\u{FFFD}") { invalidLines += 1 }
        var working = parser
        var record = working.parse(line.text, line: number)
        // The unterminated last line is checked now and again when the file grows; until then
        // a value it may have cut short is not read.
        if !final { record = record?.droppingPossiblyCutValue() }
        if final {
            parser = working
            self.parser = parser
            lineCount += 1
        }
        // The file's build is the highest any line shows (see ``BuildEvidence``).
        if final, let build = BuildEvidence.cuBuild(line: line.text, record: record), fileBuild.map({ $0 < build }) ?? true {
            fileBuild = build
            status.exchangeBuild = build.description
        }
        guard let record else { return }
        if final {
            // A row with a hash is a file (a Velociraptor folder row has none).
            if working.format == .fileInventory, let path = record.value(lowercased: "path"), webFolders.count < Self.dropFolders.count,
               record.value(lowercased: "hash").map(SHA256Hex.isHex64) == true {
                let p = path.lowercased().replacingOccurrences(of: "/", with: "\\")
                for (key, marker) in Self.dropFolders where p.contains(marker) { webFolders.insert(key) }
            }
            if working.format == .fileInventory, let path = record.value(lowercased: "path"), let hash = record.value(lowercased: "hash"),
               SHA256Hex.isHex64(hash), Self.isBaselinedWebFile(path) {
                webFiles.append((number, hash.lowercased(), String(record.raw.prefix(4096))))
            } else if working.format == .hashBaseline, let hash = record.value(lowercased: "hash"), let build = record.value(lowercased: "build") {
                baseline[build, default: []].insert(hash.lowercased())
            }
            status.records += 1
            if record.time == nil && Self.timedFormats.contains(working.format) { untimedRecords += 1 }
            if let t = record.time {
                if status.firstEvent.map({ t < $0 }) ?? true { status.firstEvent = t }
                if status.lastEvent.map({ t > $0 }) ?? true { status.lastEvent = t }
                recordDays.insert(Self.day(t))
            }
        }
        let format = working.format
        for indicator in engine.match(record, format: format) {
            let value = record.value(indicator.field) ?? ""
            let hit = Hit(indicator: indicator, server: server, evidence: path, line: number, time: record.time,
                          field: record.displayName(indicator.field), value: Self.clipped(value, 65_536),
                          clientIP: record.clientIP, rawLine: Self.clipped(record.raw, 65_536))
            if final { hits.append(hit) } else { tailHits.append(hit) }
        }
    }
}

// MARK: - Known-good baselines as an allow-list

extension EvidenceScanner {
    /// The indicator reported for web files missing from the baseline.
    static let baselineIndicator = "BL-001"

    /// The baselines that apply to a server: those of its recorded build when one matches, else
    /// (build unknown) every baseline in its evidence; empty when none applies.
    func baselines(for server: String) -> Set<String>? {
        let own = cursorsOf(server).filter { $0.status.format == .hashBaseline }
        guard !own.isEmpty else { return nil }
        var sets: [String: Set<String>] = [:]
        for c in own { for (build, hashes) in c.baseline { sets[build, default: []].formUnion(hashes) } }
        if let build = serverBuilds[server.lowercased()], !build.isEmpty {
            return sets[build]
        }
        return sets.values.reduce(into: Set<String>()) { $0.formUnion($1) }
    }

    private func cursorsOf(_ server: String) -> [FileCursor] {
        cursors.values.filter { $0.server.lowercased() == server.lowercased() && !$0.missing }
    }

    /// BL-001 hits: inventory rows of web files (see ``FileCursor/isBaselinedWebFile(_:)``)
    /// whose SHA-256 is absent from the server's baseline. Servers without a baseline get none
    /// (a missing baseline would only make noise: CSS-Exchange issue 313).
    func baselineHits() -> [Hit] {
        guard let indicator = engine.pack.indicators.first(where: { $0.id == Self.baselineIndicator }) else { return [] }
        var out: [Hit] = []
        let servers = Set(cursors.values.map { $0.server.lowercased() })
        for server in servers {
            guard let allowed = baselines(for: server), !allowed.isEmpty else { continue }
            for c in cursorsOf(server) where c.status.format == .fileInventory {
                for row in c.webFiles where !allowed.contains(row.hash) {
                    out.append(Hit(indicator: indicator, server: c.server, evidence: c.path, line: row.line, time: nil,
                                   field: "Hash", value: row.hash, clientIP: nil, rawLine: row.raw))
                }
            }
        }
        return out
    }

    /// A baseline file's status, with a warning when the server's recorded build has no baseline here.
    func baselineStatus(_ c: FileCursor) -> FileStatus {
        guard c.status.format == .hashBaseline else { return c.status }
        var s = c.status
        s.baselineUsed = true
        if let build = serverBuilds[c.server.lowercased()], !build.isEmpty, c.baseline[build] == nil {
            s.baselineUsed = false
            let builds = c.baseline.keys.sorted().joined(separator: ", ")
            s.warnings.append("baseline for build \(builds.isEmpty ? "none" : builds), but \(c.server) is recorded as build \(build): not used for this server")
        }
        return s
    }
}

// MARK: - Parallel pass

/// Shares the per-file cursors with worker threads: each index is touched by exactly one thread.
private final class ParallelWork: @unchecked Sendable {
    let items: [(FileCursor, String)]
    var changed: [Bool]
    init(_ items: [(FileCursor, String)]) {
        self.items = items
        self.changed = Array(repeating: false, count: items.count)
    }
}

extension EvidenceScanner {
    /// Brings every cursor up to date, several files at once when `threads` > 1. Unchanged files
    /// cost one `stat` each; files are handed out one at a time, so one big file does not hold
    /// up the others. Returns, per item, whether anything was read.
    static func update(_ items: [(FileCursor, String)], engine: RuleEngine, threads: Int) -> [Bool] {
        let work = ParallelWork(items)
        if threads <= 1 || items.count < 2 {
            for i in items.indices { work.changed[i] = items[i].0.update(path: items[i].1, engine: engine) }
            return work.changed
        }
        let shared = SharedCounter()
        DispatchQueue.concurrentPerform(iterations: min(threads, items.count)) { _ in
            while let i = shared.take(limit: work.items.count) {
                let (cursor, path) = work.items[i]
                let result = cursor.update(path: path, engine: engine)
                shared.lock.lock()
                work.changed[i] = result
                shared.lock.unlock()
            }
        }
        return work.changed
    }
}

/// A locked counter handing out work indices.
private final class SharedCounter: @unchecked Sendable {
    private var next = 0
    let lock = NSLock()

    func take(limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < limit else { return nil }
        next += 1
        return next - 1
    }
}
