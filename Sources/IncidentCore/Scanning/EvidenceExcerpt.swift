import Foundation

/// A few lines of an evidence file around one line, for the console's detail view.
///
/// Read-only and bounded: the file is opened read-only, read in 1 MiB chunks, and at most
/// `maxLineBytes` bytes of each kept line are held, so a 10 MB line or a multi-gigabyte log
/// costs one pass over the bytes up to the last wanted line and a few kilobytes of memory.
/// Lines are numbered as the scanner numbers them (1-based; LF, CRLF or a lone CR end a line;
/// a UTF-8 or UTF-16 byte-order mark is skipped), so ``Hit/line`` finds its line.
public struct EvidenceExcerpt: Sendable, Equatable {
    /// One line of the excerpt.
    public struct Line: Sendable, Equatable {
        /// 1-based line number in the file.
        public var number: Int
        /// The decoded text (raw attacker-controlled text: sanitise before display), at most
        /// `maxLineBytes` bytes of the line.
        public var text: String
        /// Bytes of the line not kept (0 when the whole line is in `text`).
        public var droppedBytes: Int

        public init(number: Int, text: String, droppedBytes: Int) {
            self.number = number
            self.text = text
            self.droppedBytes = droppedBytes
        }
    }

    /// Evidence path relative to the case folder, as in ``Hit/evidence``.
    public var path: String
    /// The line the excerpt is centred on.
    public var centre: Int
    /// Lines `centre - radius ... centre + radius` that exist, in order.
    public var lines: [Line]
    /// Why the excerpt is incomplete or empty (file missing, unreadable, shorter than `centre`), or nil.
    public var problem: String?

    public init(path: String, centre: Int, lines: [Line], problem: String?) {
        self.path = path
        self.centre = centre
        self.lines = lines
        self.problem = problem
    }

    /// Default bytes kept per line (16 KiB).
    public static let defaultMaxLineBytes = 16 * 1024

    /// Reads the lines around `line` of an evidence file.
    /// - Parameters:
    ///   - caseFolder: the case folder; `path` is resolved inside it.
    ///   - path: evidence path relative to the case folder.
    ///   - line: 1-based line number to centre on.
    ///   - radius: lines before and after to include (default 3).
    ///   - maxLineBytes: bytes kept per line (default 16 KiB); the rest is counted in `droppedBytes`.
    ///   - references: absolute paths of evidence registered by reference, which may be read
    ///     although they are outside the case folder.
    /// - Returns: the excerpt; never throws: problems are reported in ``problem``.
    public static func read(caseFolder: URL, path: String, line: Int, radius: Int = 3,
                            maxLineBytes: Int = defaultMaxLineBytes, references: Set<String> = []) -> EvidenceExcerpt {
        var excerpt = EvidenceExcerpt(path: path, centre: line, lines: [], problem: nil)
        let isReference = path.hasPrefix("/") && references.contains(path)
        let url = isReference ? URL(fileURLWithPath: path) : caseFolder.appendingPathComponent(path)
        // Evidence outside the case folder is never read (a crafted path in a case file), unless
        // it is a registered reference.
        let folder = caseFolder.resolvingSymlinksInPath().standardizedFileURL.path
        guard isReference || url.resolvingSymlinksInPath().standardizedFileURL.path.hasPrefix(folder + "/") else {
            excerpt.problem = "evidence path leads out of the case folder"
            return excerpt
        }
        // O_NONBLOCK: a file replaced by a FIFO must not hang the console waiting for a writer.
        let fd = open(url.path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else {
            excerpt.problem = "cannot open the evidence file: \(String(cString: strerror(errno)))"
            return excerpt
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            excerpt.problem = "the evidence file is no longer a regular file: not read"
            return excerpt
        }
        let first = max(1, line - max(0, radius))
        let last = line + max(0, radius)
        let keep = max(1, maxLineBytes)

        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var encoding: TextEncoding?
        var bomToSkip = 0
        var current = 1
        var lineBytes: [UInt8] = []
        var dropped = 0
        var pendingCR = false
        var oddByte: UInt8?

        func finishLine() {
            if current >= first && current <= last {
                let text: String
                switch encoding ?? .utf8 {
                case .utf8: text = String(decoding: lineBytes, as: UTF8.self)
                case .utf16LE, .utf16BE:
                    let big = encoding == .utf16BE
                    var units: [UInt16] = []
                    units.reserveCapacity(lineBytes.count / 2)
                    var k = 0
                    while k + 1 < lineBytes.count {
                        units.append(big ? UInt16(lineBytes[k]) << 8 | UInt16(lineBytes[k + 1]) : UInt16(lineBytes[k + 1]) << 8 | UInt16(lineBytes[k]))
                        k += 2
                    }
                    text = String(decoding: units, as: UTF16.self)
                }
                excerpt.lines.append(Line(number: current, text: text, droppedBytes: dropped))
            }
            current += 1
            lineBytes.removeAll(keepingCapacity: true)
            dropped = 0
        }
        func add(_ bytes: ArraySlice<UInt8>) {
            guard current >= first else { return }
            let room = keep - lineBytes.count
            if room >= bytes.count { lineBytes.append(contentsOf: bytes) } else {
                if room > 0 { lineBytes.append(contentsOf: bytes.prefix(room)) }
                dropped += bytes.count - max(0, room)
            }
        }

        readLoop: while current <= last {
            let n = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                excerpt.problem = "read error: \(String(cString: strerror(errno)))"
                break
            }
            if n == 0 { break }
            var bytes = chunk[0..<n]
            if encoding == nil {
                let (enc, bom) = TextEncoding.detect(bytes)
                encoding = enc
                bomToSkip = bom
            }
            if bomToSkip > 0 {
                let skip = min(bomToSkip, bytes.count)
                bytes = bytes.dropFirst(skip)
                bomToSkip -= skip
            }
            if encoding == .utf8 {
                var start = bytes.startIndex
                var i = start
                while i < bytes.endIndex {
                    let c = bytes[i]
                    if pendingCR {
                        pendingCR = false
                        if c == 0x0A { i += 1; start = i; continue }
                    }
                    if c == 0x0A || c == 0x0D {
                        add(bytes[start..<i])
                        finishLine()
                        if current > last { break readLoop }
                        if c == 0x0D {
                            if i + 1 < bytes.endIndex { if bytes[i + 1] == 0x0A { i += 1 } } else { pendingCR = true }
                        }
                        i += 1
                        start = i
                        continue
                    }
                    i += 1
                }
                add(bytes[start..<bytes.endIndex])
            } else {
                // UTF-16: work in code units, carrying an odd byte across chunks.
                var data = [UInt8]()
                if let odd = oddByte { data.append(odd); oddByte = nil }
                data.append(contentsOf: bytes)
                if data.count % 2 == 1 { oddByte = data.removeLast() }
                let big = encoding == .utf16BE
                var start = 0
                var k = 0
                while k + 1 < data.count {
                    let u = big ? UInt16(data[k]) << 8 | UInt16(data[k + 1]) : UInt16(data[k + 1]) << 8 | UInt16(data[k])
                    if pendingCR {
                        pendingCR = false
                        if u == 0x0A { k += 2; start = k; continue }
                    }
                    if u == 0x0A || u == 0x0D {
                        add(data[start..<k])
                        finishLine()
                        if current > last { break readLoop }
                        if u == 0x0D { pendingCR = true }
                        k += 2
                        start = k
                        continue
                    }
                    k += 2
                }
                add(data[start..<data.count])
            }
        }
        // A last line without a line end (or a truncated file).
        if current <= last, !lineBytes.isEmpty || dropped > 0 { finishLine() }
        if excerpt.problem == nil, !excerpt.lines.contains(where: { $0.number == line }) {
            excerpt.problem = "the file has fewer than \(line) lines now (changed since the scan?)"
        }
        return excerpt
    }
}
