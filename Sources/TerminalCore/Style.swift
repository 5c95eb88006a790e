/// A colour as a theme names it.
public enum ThemeColor: Equatable, Sendable, Hashable {
    /// The terminal's own foreground or background.
    case terminalDefault
    /// One of the 16 ANSI colours: 0–7 normal (black, red, green, yellow, blue, magenta, cyan,
    /// white), 8–15 bright.
    case ansi(Int)
    /// A 24-bit colour, shown as the nearest colour the terminal has.
    case rgb(UInt8, UInt8, UInt8)

    static let names = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]

    /// Parses `default`, a colour name (`red`, `bright-red`), or `#rrggbb`.
    /// - Returns: nil when the text is none of these.
    public init?(parsing text: String) {
        let t = text.lowercased()
        if t == "default" { self = .terminalDefault; return }
        if let i = Self.names.firstIndex(of: t) { self = .ansi(i); return }
        if t.hasPrefix("bright-"), let i = Self.names.firstIndex(of: String(t.dropFirst(7))) { self = .ansi(i + 8); return }
        if t.hasPrefix("#"), t.count == 7, let v = UInt32(t.dropFirst(), radix: 16) {
            self = .rgb(UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF))
            return
        }
        return nil
    }

    /// The nearest index in the xterm 256-colour palette.
    public var xterm256: Int {
        switch self {
        case .terminalDefault: return -1
        case let .ansi(i): return i
        case let .rgb(r, g, b):
            func level(_ c: UInt8) -> Int { c < 48 ? 0 : c < 115 ? 1 : (Int(c) - 35) / 40 }
            let (lr, lg, lb) = (level(r), level(g), level(b))
            let steps = [0, 95, 135, 175, 215, 255]
            let cube = 16 + 36 * lr + 6 * lg + lb
            let avg = (Int(r) + Int(g) + Int(b)) / 3
            let grayIndex = avg > 238 ? 23 : max(0, (avg - 3) / 10)
            let grayValue = 8 + 10 * grayIndex
            func dist(_ a: (Int, Int, Int)) -> Int {
                (a.0 - Int(r)) * (a.0 - Int(r)) + (a.1 - Int(g)) * (a.1 - Int(g)) + (a.2 - Int(b)) * (a.2 - Int(b))
            }
            return dist((steps[lr], steps[lg], steps[lb])) <= dist((grayValue, grayValue, grayValue)) ? cube : 232 + grayIndex
        }
    }

    /// The nearest of the 8 basic colours (for 8- and 16-colour terminals).
    public var ansi8: Int {
        switch self {
        case .terminalDefault: return -1
        case let .ansi(i): return i % 8
        case let .rgb(r, g, b):
            let bright = max(r, g, b)
            if bright < 60 { return 0 }
            let threshold = UInt8(Double(bright) * 0.6)
            let bits = (r >= threshold ? 1 : 0) | (g >= threshold ? 2 : 0) | (b >= threshold ? 4 : 0)
            return bits
        }
    }
}

/// How one role looks: colours (optional) and attributes.
public struct Style: Equatable, Sendable {
    public var fg: ThemeColor?
    public var bg: ThemeColor?
    public var bold: Bool
    public var reverse: Bool
    public var underline: Bool
    public var dim: Bool

    public init(fg: ThemeColor? = nil, bg: ThemeColor? = nil, bold: Bool = false, reverse: Bool = false, underline: Bool = false, dim: Bool = false) {
        self.fg = fg
        self.bg = bg
        self.bold = bold
        self.reverse = reverse
        self.underline = underline
        self.dim = dim
    }
}
