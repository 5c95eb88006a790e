/// PowerShell `-like` matching: `*` matches any run of characters (including none), `?` exactly
/// one character, everything else itself. Both sides must already be lowercased by the caller
/// (`-like` is case-insensitive). Brackets are matched literally: the built-in rules never use
/// PowerShell's `[a-z]` classes, and attacker text such as `ServerInfo~a]@…` must not be read as one.
public struct WildcardPattern: Sendable, Equatable {
    public let pattern: String
    private let bytes: [UInt8]

    /// - Parameter pattern: a lowercased wildcard pattern.
    public init(_ pattern: String) {
        self.pattern = pattern
        self.bytes = Array(pattern.utf8)
    }

    /// Whether the lowercased text matches the whole pattern. Runs in O(n·m) at worst, with no
    /// recursion, so a 10 MB value cannot blow the stack.
    public func matches(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { matches(bytes: $0) }
    }

    func matches(bytes t: UnsafeBufferPointer<UInt8>) -> Bool {
        let p = bytes
        var ti = 0, pi = 0
        var starP = -1, starT = 0
        while ti < t.count {
            if pi < p.count, p[pi] == UInt8(ascii: "*") {
                starP = pi
                starT = ti
                pi += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "?") || p[pi] == t[ti] {
                // `?` consumes one whole UTF-8 scalar.
                if p[pi] == UInt8(ascii: "?") {
                    ti += Self.scalarLength(t[ti])
                } else {
                    ti += 1
                }
                pi += 1
            } else if starP >= 0 {
                pi = starP + 1
                starT += 1
                ti = starT
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    private static func scalarLength(_ lead: UInt8) -> Int {
        switch lead {
        case 0xF0...: 4
        case 0xE0...: 3
        case 0xC0...: 2
        default: 1
        }
    }
}
