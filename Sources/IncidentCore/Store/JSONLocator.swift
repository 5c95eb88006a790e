/// Finds line and column positions in JSON text, for error messages that point into the user's
/// file: the first syntax error, or where the value at a coding path starts.
///
/// Lines and columns are 1-based; columns count Unicode scalars.
public struct JSONLocator {
    public struct Position: Equatable, Sendable, CustomStringConvertible {
        public var line: Int
        public var column: Int
        public var description: String { "\(line):\(column)" }
    }

    /// A path step: an object key or an array index.
    public enum Step: Equatable, Sendable {
        case key(String)
        case index(Int)
    }

    private let bytes: [UInt8]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The position of a byte offset.
    public func position(ofOffset offset: Int) -> Position {
        var line = 1, column = 1
        var i = 0
        let end = min(offset, bytes.count)
        while i < end {
            let b = bytes[i]
            if b == 0x0A {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
            i += 1
        }
        return Position(line: line, column: column)
    }

    /// The first syntax error, with a message, or nil when the text is well-formed JSON.
    public func firstSyntaxError() -> (Position, String)? {
        var p = Parser(bytes: bytes, target: nil)
        do {
            p.skipWhitespace()
            if p.i < bytes.count, bytes[p.i] == 0xEF { p.i += 3 } // BOM
            try p.value(path: [])
            p.skipWhitespace()
            if p.i < bytes.count { throw ParseError(offset: p.i, message: "unexpected text after the JSON value") }
            return nil
        } catch let e as ParseError {
            return (position(ofOffset: e.offset), e.message)
        } catch {
            return (position(ofOffset: p.i), "invalid JSON")
        }
    }

    /// Where the value at `path` starts, or where the deepest existing parent starts.
    public func position(of path: [Step]) -> Position {
        var p = Parser(bytes: bytes, target: path)
        p.skipWhitespace()
        try? p.value(path: [])
        return position(ofOffset: p.bestOffset)
    }

    struct ParseError: Error {
        var offset: Int
        var message: String
    }

    private struct Parser {
        let bytes: [UInt8]
        let target: [Step]?
        var i = 0
        var bestOffset = 0
        var bestDepth = -1
        var depth = 0

        init(bytes: [UInt8], target: [Step]?) {
            self.bytes = bytes
            self.target = target
        }

        mutating func skipWhitespace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }

        mutating func note(path: [Step]) {
            guard let target, path.count <= target.count, path.count > bestDepth,
                  Array(target.prefix(path.count)) == path else { return }
            bestDepth = path.count
            bestOffset = i
        }

        mutating func value(path: [Step]) throws {
            skipWhitespace()
            note(path: path)
            guard i < bytes.count else { throw ParseError(offset: i, message: "unexpected end of file") }
            depth += 1
            defer { depth -= 1 }
            if depth > 512 { throw ParseError(offset: i, message: "nesting deeper than 512 levels") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                skipWhitespace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return }
                while true {
                    skipWhitespace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else {
                        throw ParseError(offset: i, message: "expected a quoted key")
                    }
                    let key = try string()
                    skipWhitespace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw ParseError(offset: i, message: "expected ':' after a key") }
                    i += 1
                    try value(path: path + [.key(key)])
                    skipWhitespace()
                    guard i < bytes.count else { throw ParseError(offset: i, message: "unexpected end of file in an object") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "}") { i += 1; return }
                    throw ParseError(offset: i, message: "expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                i += 1
                skipWhitespace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return }
                var index = 0
                while true {
                    try value(path: path + [.index(index)])
                    index += 1
                    skipWhitespace()
                    guard i < bytes.count else { throw ParseError(offset: i, message: "unexpected end of file in an array") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "]") { i += 1; return }
                    throw ParseError(offset: i, message: "expected ',' or ']'")
                }
            case UInt8(ascii: "\""):
                _ = try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = i
                i += 1
                while i < bytes.count, (bytes[i] >= 0x30 && bytes[i] <= 0x39) || bytes[i] == 0x2E || bytes[i] == 0x65 || bytes[i] == 0x45 || bytes[i] == 0x2B || bytes[i] == 0x2D { i += 1 }
                if i - start == 1 && bytes[start] == UInt8(ascii: "-") { throw ParseError(offset: start, message: "invalid number") }
            default:
                throw ParseError(offset: i, message: "unexpected character")
            }
        }

        mutating func literal(_ word: String) throws {
            let w = Array(word.utf8)
            guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else {
                throw ParseError(offset: i, message: "unexpected character")
            }
            i += w.count
        }

        /// Reads a string starting at the opening quote; returns its raw content (escapes kept).
        mutating func string() throws -> String {
            let open = i
            i += 1
            let start = i
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\\") { i += 2; continue }
                if b == UInt8(ascii: "\"") {
                    let s = String(decoding: bytes[start..<i], as: UTF8.self)
                    i += 1
                    return s
                }
                if b < 0x20 { throw ParseError(offset: i, message: "control character inside a string") }
                i += 1
            }
            throw ParseError(offset: open, message: "string is not closed")
        }
    }
}
