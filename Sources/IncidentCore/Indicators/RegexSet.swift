import Foundation

/// One regular expression of a pattern list, with an optional regex of known false positives.
///
/// JSON shape: `{"pattern": regex, "exclude": regex?}` (ICU syntax, matched case-insensitively).
public struct PatternEntry: Codable, Sendable, Equatable, Hashable {
    public var pattern: String
    public var exclude: String?

    public init(pattern: String, exclude: String? = nil) {
        self.pattern = pattern
        self.exclude = exclude
    }
}

/// Thousands of regexes matched against one value without trying each one: every regex that has
/// a literal run it cannot match without (three bytes or more) is only tried when the value
/// contains that literal, found through an index of the literal's first three bytes. Regexes
/// without such a literal are always tried. Immutable and thread-safe.
final class RegexSet: @unchecked Sendable {
    private struct Entry {
        let regex: NSRegularExpression
        let exclude: NSRegularExpression?
        let literal: [UInt8]
    }

    private let entries: [Entry]
    /// First three bytes of the literal (packed into an integer) → entry indexes.
    private let index: [UInt32: [Int]]
    private let always: [Int]
    /// Regexes look at no more than this many UTF-16 units of a value.
    static let window = 65_536

    /// Compiles the patterns.
    /// - Throws: the first pattern that does not compile, as its text.
    init(_ patterns: [PatternEntry]) throws {
        var entries: [Entry] = []
        var index: [UInt32: [Int]] = [:]
        var always: [Int] = []
        for p in patterns {
            guard let re = try? NSRegularExpression(pattern: p.pattern, options: [.caseInsensitive]) else {
                throw RegexSetError.badPattern(p.pattern)
            }
            var ex: NSRegularExpression?
            if let e = p.exclude {
                guard let compiled = try? NSRegularExpression(pattern: e, options: [.caseInsensitive]) else { throw RegexSetError.badPattern(e) }
                ex = compiled
            }
            let literal = Array(Self.requiredLiteral(p.pattern).lowercased().utf8)
            let i = entries.count
            entries.append(Entry(regex: re, exclude: ex, literal: literal))
            if literal.count >= 3 {
                index[Self.key(literal[0], literal[1], literal[2]), default: []].append(i)
            } else {
                always.append(i)
            }
        }
        self.entries = entries
        self.index = index
        self.always = always
    }

    enum RegexSetError: Error { case badPattern(String) }

    var count: Int { entries.count }

    @inline(__always) private static func key(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt32 {
        UInt32(a) << 16 | UInt32(b) << 8 | UInt32(c)
    }

    /// Whether any regex matches `value` (already lowercased) and its exclusion does not.
    func matches(_ value: String) -> Bool {
        firstMatch(value) != nil
    }

    /// The index of the first matching regex (in list order among candidates), or nil.
    func firstMatch(_ value: String) -> Int? {
        var candidates = Set<Int>(always)
        let bytes = Array(value.utf8)
        if bytes.count >= 3 {
            for i in 0...(bytes.count - 3) {
                if let list = index[Self.key(bytes[i], bytes[i + 1], bytes[i + 2])] { candidates.formUnion(list) }
            }
        }
        if candidates.isEmpty { return nil }
        let ns = value as NSString
        let range = NSRange(location: 0, length: min(ns.length, Self.window))
        for i in candidates.sorted() {
            let e = entries[i]
            if !e.literal.isEmpty && e.literal.count >= 3 && !ByteSearch.contains(value, String(decoding: e.literal, as: UTF8.self)) { continue }
            guard e.regex.firstMatch(in: value, options: [], range: range) != nil else { continue }
            if let ex = e.exclude, ex.firstMatch(in: value, options: [], range: range) != nil { continue }
            return i
        }
        return nil
    }

    /// The longest run of literal characters that every match of `pattern` must contain, or ""
    /// when none can be found safely (see ``RequiredLiterals/requiredRegexRun(_:)``).
    static func requiredLiteral(_ pattern: String) -> String {
        RequiredLiterals.requiredRegexRun(pattern) ?? ""
    }
}
