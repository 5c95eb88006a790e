/// Word-at-a-time checks over the bytes of one line, for the scanner's quick path: eight bytes
/// per step, with exact per-byte masks (no false positives from borrows).
enum ByteScan {
    static let high: UInt64 = 0x8080_8080_8080_8080
    static let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
    static let ones: UInt64 = 0x0101_0101_0101_0101

    /// 0x80 in each byte of `w` equal to `c`; `w` must hold ASCII bytes only.
    @inline(__always) static func equal(_ w: UInt64, _ c: UInt8) -> UInt64 {
        let x = w ^ (ones &* UInt64(c))
        return ~((x &+ low7) | x) & high
    }

    /// The number of runs of bytes other than space and tab (the tokens of a W3C line).
    /// - Returns: nil when the line holds a byte ≥ 0x80 or the `forbidden` byte.
    static func tokens(_ b: UnsafeBufferPointer<UInt8>, forbidden: UInt8) -> Int? {
        guard let base = b.baseAddress else { return 0 }
        let raw = UnsafeRawPointer(base)
        var count = 0
        var previous: UInt64 = 0x80 // the line start counts as a separator
        var i = 0
        let n = b.count
        while i + 8 <= n {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if w & high != 0 || equal(w, forbidden) != 0 { return nil }
            let sep = equal(w, 0x20) | equal(w, 0x09)
            count += (~sep & high & ((sep << 8) | previous)).nonzeroBitCount
            previous = sep >> 56
            i += 8
        }
        var wasSeparator = previous != 0
        while i < n {
            let c = b[i]
            if c >= 0x80 || c == forbidden { return nil }
            let isSeparator = c == 0x20 || c == 0x09
            if !isSeparator && wasSeparator { count += 1 }
            wasSeparator = isSeparator
            i += 1
        }
        return count
    }

    /// The number of `separator` bytes (the commas of an unquoted CSV line).
    /// - Returns: nil when the line holds a byte ≥ 0x80 or one of the `forbidden` bytes.
    static func count(_ b: UnsafeBufferPointer<UInt8>, separator: UInt8, forbidden: (UInt8, UInt8)) -> Int? {
        guard let base = b.baseAddress else { return 0 }
        let raw = UnsafeRawPointer(base)
        var count = 0
        var i = 0
        let n = b.count
        while i + 8 <= n {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if w & high != 0 || (equal(w, forbidden.0) | equal(w, forbidden.1)) != 0 { return nil }
            count += equal(w, separator).nonzeroBitCount
            i += 8
        }
        while i < n {
            let c = b[i]
            if c >= 0x80 || c == forbidden.0 || c == forbidden.1 { return nil }
            if c == separator { count += 1 }
            i += 1
        }
        return count
    }

    /// The byte range of the `column`-th (0-based) field of a line split on `separator` with no
    /// quoting (empty fields count), or nil.
    static func field(_ b: UnsafeBufferPointer<UInt8>, column: Int, separator: UInt8) -> Range<Int>? {
        guard column >= 0 else { return nil }
        var from = 0
        for _ in 0..<column {
            guard let at = b[from...].firstIndex(of: separator) else { return nil }
            from = at + 1
        }
        return from..<(b[from...].firstIndex(of: separator) ?? b.count)
    }

    /// The byte ranges of three fields (0-based columns, any order) of a line split on
    /// `separator` with no quoting, found in one walk; nil when the line has too few fields.
    static func fields(_ b: UnsafeBufferPointer<UInt8>, _ columns: (Int, Int, Int), separator: UInt8) -> (Range<Int>, Range<Int>, Range<Int>)? {
        let last = max(columns.0, columns.1, columns.2)
        guard min(columns.0, columns.1, columns.2) >= 0 else { return nil }
        var a = 0..<0, c = 0..<0, d = 0..<0
        var column = 0, from = 0, i = 0
        let n = b.count
        while column <= last {
            while i < n, b[i] != separator { i += 1 }
            if column == columns.0 { a = from..<i }
            if column == columns.1 { c = from..<i }
            if column == columns.2 { d = from..<i }
            if column == last { break }
            guard i < n else { return nil }
            i += 1
            from = i
            column += 1
        }
        return (a, c, d)
    }

    /// Whether `b[range]` holds the two bytes `a`, `c` one after the other.
    static func contains(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ a: UInt8, _ c: UInt8) -> Bool {
        var i = range.lowerBound
        while i + 1 < range.upperBound {
            if b[i] == a && b[i + 1] == c { return true }
            i += 1
        }
        return false
    }
}
