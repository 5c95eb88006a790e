/// Makes untrusted text (user agents, URLs, file names from evidence) safe for a terminal.
///
/// Nothing that could move the cursor, change colours or reorder text survives:
/// - C0 controls and DEL become Control Pictures (`␛` for ESC, `␇` for BEL, `␡` for DEL), or
///   caret notation (`^[`) in ASCII mode;
/// - C1 controls (U+0080–U+009F) become `<9B>`-style hex;
/// - bidi controls and every other invisible or format character (Unicode category Cf: U+061C,
///   U+200B–U+200F, U+202A–U+202E, U+2060–U+2069, U+FEFF, soft hyphen, tag characters …), line
///   and paragraph separators, variation selectors, the grapheme joiner and the Hangul fillers
///   become `<U+202E>`-style escapes;
/// - in ASCII mode every other non-ASCII character becomes `?`.
public enum Sanitizer {
    /// One piece of sanitised text: `escaped` marks replacements, so views can colour them.
    public struct Piece: Equatable, Sendable {
        public var text: String
        public var escaped: Bool
        public init(text: String, escaped: Bool) {
            self.text = text
            self.escaped = escaped
        }
    }

    /// The sanitised text as one string.
    public static func sanitize(_ s: String, ascii: Bool = false) -> String {
        pieces(s, ascii: ascii).map(\.text).joined()
    }

    /// The sanitised text split into plain and escaped pieces.
    public static func pieces(_ s: String, ascii: Bool = false) -> [Piece] {
        var out: [Piece] = []
        var plain = ""
        func flush() {
            if !plain.isEmpty { out.append(Piece(text: plain, escaped: false)); plain = "" }
        }
        func escape(_ t: String) {
            flush()
            if let last = out.last, last.escaped { out[out.count - 1].text += t } else { out.append(Piece(text: t, escaped: true)) }
        }
        for scalar in s.unicodeScalars {
            let v = scalar.value
            switch v {
            case 0x00..<0x20:
                if ascii { escape("^" + String(UnicodeScalar(UInt8(v + 0x40)))) } else { escape(String(UnicodeScalar(0x2400 + v)!)) }
            case 0x7F:
                escape(ascii ? "^?" : "\u{2421}")
            case 0x80...0x9F:
                escape("<" + hex(v, 2) + ">")
            case _ where isInvisible(scalar):
                escape("<U+" + hex(v, 4) + ">")
            default:
                if ascii && v >= 0x80 { escape("?") } else { plain.unicodeScalars.append(scalar) }
            }
        }
        flush()
        return out
    }

    /// True for characters that draw nothing or change how neighbouring text draws: category Cf,
    /// Zl, Zp, variation selectors, U+034F, and the Hangul fillers.
    public static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B...0x180F, 0x3164, 0xFFA0, 0xFE00...0xFE0F, 0xE0100...0xE01EF:
            return true
        default:
            switch scalar.properties.generalCategory {
            case .format, .lineSeparator, .paragraphSeparator: return true
            default: return false
            }
        }
    }

    /// Whether a scalar must not reach a terminal as it is (controls and invisible characters).
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return v < 0x20 || (0x7F...0x9F).contains(v) || isInvisible(scalar)
    }

    private static func hex(_ v: UInt32, _ digits: Int) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - s.count)) + s
    }
}
