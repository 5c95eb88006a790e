import Crypto
import Foundation

/// Chain-of-custody checks of evidence files against their intake records.
public enum Custody {
    /// How a file compares with its record.
    public enum Comparison: Equatable, Sendable {
        /// Same size and hash as recorded.
        case unchanged
        /// The recorded bytes are all still there, unchanged, and more follow (a log still
        /// being written): the new size and whole-file hash are given.
        case appended(sizeBytes: Int64, sha256: String)
        /// The file shrank or bytes already recorded changed (see ``EvidenceAlteration``).
        case altered(EvidenceAlteration)
        /// The file could not be read.
        case unreadable(String)
    }

    /// Compares the file at `url` with `record`, reading it read-only (`O_RDONLY`): the SHA-256
    /// of its first `record.sizeBytes` bytes must equal `record.sha256`.
    public static func compare(_ url: URL, with record: EvidenceRecord, now: Date = Date()) -> Comparison {
        // O_NONBLOCK: a file replaced by a FIFO must not block the scan waiting for a writer.
        let fd = open(url.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return .unreadable(String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .unreadable(String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return .unreadable("not a regular file") }
        var whole = SHA256()
        var prefix = SHA256()
        var prefixDigest: String?
        var total: Int64 = 0
        let failure = readAll(fd) { chunk in
            let n = chunk.count
            whole.update(data: chunk)
            if prefixDigest == nil {
                let room = record.sizeBytes - total
                if Int64(n) >= room {
                    prefix.update(data: chunk.prefix(Int(room)))
                    prefixDigest = SHA256Hex.hex(prefix.finalize())
                } else {
                    prefix.update(data: chunk)
                }
            }
            total += Int64(n)
        }
        if let failure { return .unreadable(failure) }
        if prefixDigest == nil && total == record.sizeBytes { prefixDigest = SHA256Hex.hex(prefix.finalize()) }
        let digest = SHA256Hex.hex(whole.finalize())
        if total < record.sizeBytes {
            return .altered(EvidenceAlteration(detectedAt: now, sizeBytes: total, sha256: digest,
                                               reason: "shrank from \(record.sizeBytes) to \(total) bytes"))
        }
        if prefixDigest != record.sha256 {
            let what = total == record.sizeBytes ? "content changed (same size)" : "the first \(record.sizeBytes) bytes changed"
            return .altered(EvidenceAlteration(detectedAt: now, sizeBytes: total, sha256: digest,
                                               reason: "\(what): recorded sha256 \(record.sha256)"))
        }
        return total == record.sizeBytes ? .unchanged : .appended(sizeBytes: total, sha256: digest)
    }

    /// Reads an open file to its end in 1 MiB chunks, handing each to `body`.
    /// - Returns: nil, or the system's message when a read fails.
    static func readAll(_ fd: Int32, _ body: (ArraySlice<UInt8>) -> Void) -> String? {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return String(cString: strerror(errno))
            }
            if n == 0 { return nil }
            body(buffer[0..<n])
        }
    }
}
