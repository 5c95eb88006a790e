/// The text encodings evidence arrives in: UTF-8 (with or without BOM; invalid bytes become
/// U+FFFD), and UTF-16 little- or big-endian (with BOM, or little-endian detected by its zero bytes,
/// as Windows PowerShell 5.1's `Out-File` and `>` write).
public enum TextEncoding: String, Sendable, Codable {
    case utf8
    case utf16LE = "utf-16le"
    case utf16BE = "utf-16be"

    /// Detects the encoding from the first bytes of a file.
    /// - Returns: the encoding and the length of its byte-order mark in bytes (0, 2 or 3).
    public static func detect(_ head: ArraySlice<UInt8>) -> (TextEncoding, bomLength: Int) {
        let b = Array(head.prefix(4096))
        if b.count >= 3, b[0] == 0xEF, b[1] == 0xBB, b[2] == 0xBF { return (.utf8, 3) }
        if b.count >= 2, b[0] == 0xFF, b[1] == 0xFE { return (.utf16LE, 2) }
        if b.count >= 2, b[0] == 0xFE, b[1] == 0xFF { return (.utf16BE, 2) }
        // BOM-less UTF-16LE ASCII text: most odd bytes are zero, even bytes are not.
        if b.count >= 8 {
            let pairs = b.count / 2
            var oddZero = 0, evenZero = 0
            for i in 0..<pairs {
                if b[2 * i + 1] == 0 { oddZero += 1 }
                if b[2 * i] == 0 { evenZero += 1 }
            }
            if oddZero * 10 >= pairs * 9 && evenZero * 10 < pairs { return (.utf16LE, 0) }
            if evenZero * 10 >= pairs * 9 && oddZero * 10 < pairs { return (.utf16BE, 0) }
        }
        return (.utf8, 0)
    }

    /// Bytes per code unit.
    var unitSize: Int { self == .utf8 ? 1 : 2 }
}

/// One line cut out of a byte buffer.
public struct TextLine: Sendable, Equatable {
    /// The decoded line without its terminator.
    public var text: String
    /// Offset just past the line's terminator, relative to the buffer start.
    public var end: Int
    /// True when the line was longer than the limit and was cut.
    public var truncated: Bool
}

/// Splits bytes into lines on LF, CRLF or a lone CR, decoding each line.
public enum LineSplitter {
    /// Lines longer than this many bytes (12 MiB, above the 10 MB lines evidence must survive
    /// whole) are cut to it (the rest of the line is skipped).
    /// A line near the limit is held several times over while it is parsed and matched (text,
    /// fields, the derived `cs-uri`, lowercased copies: about 75 MB more at 12 MiB), and only one
    /// scan thread at a time may hold one (``FileCursor/longLines``), so this bounds the scan's
    /// peak memory (`Benchmarks/long-lines.sh`). No
    /// request IIS or Exchange logs can be that long (IIS refuses URLs over 4,096 bytes and query
    /// strings over 2,048 by default: https://learn.microsoft.com/iis/configuration/system.webserver/security/requestfiltering/requestlimits/);
    /// such lines come from damaged or concatenated files.
    public static let maxLineBytes = 12 * 1024 * 1024

    /// Splits `bytes` into complete lines.
    ///
    /// - Parameters:
    ///   - bytes: the buffer, starting at a line boundary.
    ///   - encoding: how to decode.
    ///   - atEOF: when true, a last line without terminator is returned too (a file truncated
    ///     mid-line, or simply one without a final newline); a trailing CR is then a terminator.
    /// - Returns: the lines and the number of bytes they consumed; bytes after `consumed` belong
    ///   to an incomplete line (only when `atEOF` is false).
    public static func split(_ bytes: UnsafeBufferPointer<UInt8>, encoding: TextEncoding, atEOF: Bool) -> (lines: [TextLine], consumed: Int) {
        switch encoding {
        case .utf8: return splitUTF8(bytes, atEOF: atEOF)
        case .utf16LE, .utf16BE: return splitUTF16(bytes, bigEndian: encoding == .utf16BE, atEOF: atEOF)
        }
    }

    private static func splitUTF8(_ b: UnsafeBufferPointer<UInt8>, atEOF: Bool) -> (lines: [TextLine], consumed: Int) {
        var lines: [TextLine] = []
        var start = 0
        var i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            if c == 0x0A || c == 0x0D {
                var end = i + 1
                if c == 0x0D {
                    if i + 1 < n {
                        if b[i + 1] == 0x0A { end = i + 2 }
                    } else if !atEOF {
                        break // CR at the buffer end: a CRLF may be split; wait for more.
                    }
                }
                lines.append(makeUTF8Line(b, start, i, end: end))
                start = end
                i = end
                continue
            }
            i += 1
        }
        if atEOF, start < n {
            lines.append(makeUTF8Line(b, start, n, end: n))
            start = n
        }
        return (lines, start)
    }

    private static func makeUTF8Line(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ stop: Int, end: Int) -> TextLine {
        let cut = stop - start > maxLineBytes
        let slice = UnsafeBufferPointer(rebasing: b[start..<(cut ? start + maxLineBytes : stop)])
        return TextLine(text: String(decoding: slice, as: UTF8.self), end: end, truncated: cut)
    }

    private static func splitUTF16(_ b: UnsafeBufferPointer<UInt8>, bigEndian: Bool, atEOF: Bool) -> (lines: [TextLine], consumed: Int) {
        var lines: [TextLine] = []
        let units = b.count / 2
        @inline(__always) func unit(_ k: Int) -> UInt16 {
            bigEndian ? UInt16(b[2 * k]) << 8 | UInt16(b[2 * k + 1]) : UInt16(b[2 * k + 1]) << 8 | UInt16(b[2 * k])
        }
        var start = 0
        var k = 0
        while k < units {
            let u = unit(k)
            if u == 0x0A || u == 0x0D {
                var end = k + 1
                if u == 0x0D {
                    if k + 1 < units {
                        if unit(k + 1) == 0x0A { end = k + 2 }
                    } else if !atEOF {
                        break
                    }
                }
                lines.append(makeUTF16Line(start, k, end: end, unit: unit))
                start = end
                k = end
                continue
            }
            k += 1
        }
        if atEOF, start < units {
            lines.append(makeUTF16Line(start, units, end: units, unit: unit))
            start = units
        }
        // Ends were counted in code units; report bytes. A dangling odd byte at EOF is dropped.
        let out = lines.map { TextLine(text: $0.text, end: $0.end * 2, truncated: $0.truncated) }
        return (out, atEOF ? b.count : start * 2)
    }

    private static func makeUTF16Line(_ start: Int, _ stop: Int, end: Int, unit: (Int) -> UInt16) -> TextLine {
        let limit = maxLineBytes / 2
        let cut = stop - start > limit
        let upper = cut ? start + limit : stop
        var units: [UInt16] = []
        units.reserveCapacity(upper - start)
        for k in start..<upper { units.append(unit(k)) }
        return TextLine(text: String(decoding: units, as: UTF16.self), end: end, truncated: cut)
    }
}
