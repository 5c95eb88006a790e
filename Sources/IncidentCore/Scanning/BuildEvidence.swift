import Foundation

/// Exchange builds that evidence lines reveal, reduced to the CU level.
///
/// Sources (``../shared/knowledge/proxylogon.md`` §3.3): the `#Version:` directive of Exchange
/// logs (`#Version: 15.01.2106.002`), the HttpProxy columns `MajorVersion`, `MinorVersion`,
/// `BuildVersion`, the ECP Server log's `S:BLD` pair, and version folders in request paths (`/owa/auth/15.1.2176/…`,
/// `/ecp/15.1.2176.2/…`). In public samples these stay at the CU's build after a security update
/// is installed, so the revision is dropped: such a build can show a CU unpatched (one without a
/// fix) but never that an SU is installed.
///
/// One rule everywhere: a file's build is the highest any of its lines shows (``FileStatus/exchangeBuild``),
/// and a server's the highest of its files' (a server upgraded during the logs' time range shows
/// its newest CU, however the lines are split into files). The scanner asks every line it
/// parses; the quick path (``EvidenceLineParser/quickRecord(_:fileBuild:)``) leaves to the
/// parser every line that could show a build above the file's, using ``quickLineMayRaise``.
public enum BuildEvidence {
    /// The CU-level build a line shows, if any (the first source that gives one, in this order:
    /// `#Version:`, the version columns, `S:BLD`, a version folder in the request path).
    public static func cuBuild(line raw: String, record: LogRecord?) -> ExchangeBuild? {
        if raw.hasPrefix("#Version:") {
            return cuLevel(ExchangeBuild(parsing: String(raw.dropFirst(9))))
        }
        guard let record else { return nil }
        if let major = record.value(lowercased: "majorversion"), let minor = record.value(lowercased: "minorversion"),
           let build = record.value(lowercased: "buildversion"),
           let b = ExchangeBuild(parsing: "\(major).\(minor).\(build)"), b.build > 0 {
            return b
        }
        // ECP Server log `EventData` pair `S:BLD=15.1.2106.2` (the ECP log's own `#Version:` is 15.0.0.0).
        if let bld = record.value(lowercased: "s:bld"), let b = cuLevel(ExchangeBuild(parsing: bld)) { return b }
        if let stem = record.value(lowercased: "url-stem"), stem.contains("/1") {
            for part in stem.split(separator: "/").prefix(4) where part.hasPrefix("15.") || part.hasPrefix("14.") {
                if let b = cuLevel(ExchangeBuild(parsing: String(part))) { return b }
            }
        }
        return nil
    }

    /// Whether records under this header can show a build from their columns alone
    /// (`MajorVersion`, `MinorVersion` and `BuildVersion`, or `S:BLD`), whatever the request path.
    static func hasBuildColumns(_ schema: FieldSchema) -> Bool {
        ["majorversion", "minorversion", "buildversion"].allSatisfy { schema.index[$0] != nil } || schema.index["s:bld"] != nil
    }

    // MARK: - The quick path

    /// What the bytes of one source (version columns, or a request path) show about the build,
    /// read as ``cuBuild(line:record:)`` reads the parsed line.
    enum QuickShown: Equatable {
        /// No build from this source (``cuBuild(line:record:)`` goes on to the next).
        case none
        case build(ExchangeBuild)
        /// Bytes the quick reader does not decide (spaces, letters): the line must be parsed.
        case unsure
    }

    /// Whether a line whose bytes show `shown` might raise a file's build from `current`.
    static func mayRaise(_ shown: QuickShown, above current: ExchangeBuild?) -> Bool {
        switch shown {
        case .none: false
        case .unsure: true
        case let .build(b): current.map { $0 < b } ?? true
        }
    }

    /// Whether a data line the quick path would skip might raise the file's build from
    /// `current`: the same sources in the same order as ``cuBuild(line:record:)``, from byte
    /// ranges. True whenever the bytes do not decide it (the line is then parsed in full), so the
    /// file's build is the same with and without the quick path.
    /// - Parameters:
    ///   - versions: the ranges of the `MajorVersion`, `MinorVersion`, `BuildVersion` fields
    ///     when the header has all three.
    ///   - hasBLD: the header has an `S:BLD` column (never decided here).
    ///   - stem: finds the range of the `url-stem` field (nil when the header has none); called
    ///     only when the version columns show no build.
    static func quickLineMayRaise(_ b: UnsafeBufferPointer<UInt8>, versions: (Range<Int>, Range<Int>, Range<Int>)?,
                                  hasBLD: Bool, stem: () -> Range<Int>?, above current: ExchangeBuild?) -> Bool {
        if let versions {
            let shown = versionColumns(b, versions)
            if shown != .none { return mayRaise(shown, above: current) }
        }
        if hasBLD { return true }
        guard let stem = stem() else { return false }
        return mayRaise(versionFolder(b, stem), above: current)
    }

    /// As `ExchangeBuild(parsing: "\(major).\(minor).\(build)")` with `build > 0` reads three
    /// fields (the revision is not among them).
    static func versionColumns(_ b: UnsafeBufferPointer<UInt8>, _ r: (Range<Int>, Range<Int>, Range<Int>)) -> QuickShown {
        // Per field: its number, -1 when the parse fails (empty, over 6 digits), -2 for bytes
        // other than digits (not decided here). No allocation: this runs on every quick line.
        @inline(__always) func number(_ range: Range<Int>) -> Int {
            var value = 0
            for i in range {
                let c = b[i]
                guard c >= 0x30 && c <= 0x39 else { return -2 }
                value = value &* 10 &+ Int(c &- 0x30)
            }
            return range.isEmpty || range.count > 6 ? -1 : value
        }
        let major = number(r.0), minor = number(r.1), build = number(r.2)
        if major == -2 || minor == -2 || build == -2 {
            // ExchangeBuild(parsing:) trims spaces and splits on dots: leave it to the parser,
            // unless a digit-only field already fails the parse.
            return major == -1 || minor == -1 || build == -1 ? .none : .unsure
        }
        guard major >= 0, minor >= 0, build > 0, major == 14 || major == 15 else { return .none }
        return .build(ExchangeBuild(major, minor, build))
    }

    /// As ``cuBuild(line:record:)`` reads `url-stem`: with a `/1` in it, the first of its first
    /// four path segments that starts with `15.` or `14.` and parses as a build whose build part
    /// is above 0, at the CU level.
    static func versionFolder(_ b: UnsafeBufferPointer<UInt8>, _ stem: Range<Int>) -> QuickShown {
        guard ByteScan.contains(b, stem, 0x2F, 0x31) else { return .none }
        var segments = 0
        var i = stem.lowerBound
        while i < stem.upperBound, segments < 4 {
            while i < stem.upperBound, b[i] == 0x2F { i += 1 }
            guard i < stem.upperBound else { break }
            let from = i
            while i < stem.upperBound, b[i] != 0x2F { i += 1 }
            segments += 1
            let part = from..<i
            guard part.count >= 3, b[part.lowerBound] == 0x31, b[part.lowerBound + 1] == 0x35 || b[part.lowerBound + 1] == 0x34,
                  b[part.lowerBound + 2] == 0x2E else { continue }
            // Up to four numbers, without an array (a 4-tuple of parts read so far).
            var parts = 0, first = 0, second = 0, third = 0
            var digits = 0, value = 0, valid = true
            for c in b[part] {
                if c == 0x2E {
                    if digits == 0 || digits > 6 { valid = false }
                    switch parts { case 0: first = value; case 1: second = value; case 2: third = value; default: break }
                    parts += 1
                    digits = 0
                    value = 0
                } else if c >= 0x30 && c <= 0x39 {
                    digits += 1
                    if digits <= 6 { value = value * 10 + Int(c - 0x30) }
                } else {
                    // Spaces and other bytes: `ExchangeBuild(parsing:)` trims and splits in ways
                    // not repeated here.
                    return .unsure
                }
            }
            if digits == 0 || digits > 6 { valid = false }
            if parts == 2 { third = value }
            parts += 1
            guard valid, parts == 3 || parts == 4, third > 0 else { continue }
            return .build(ExchangeBuild(first, second, third))
        }
        return .none
    }

    private static func cuLevel(_ b: ExchangeBuild?) -> ExchangeBuild? {
        guard let b, b.build > 0 else { return nil }
        return ExchangeBuild(b.major, b.minor, b.build)
    }
}
