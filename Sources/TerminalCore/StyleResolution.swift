/// How many colours a terminal has, as its terminfo `colors` capability (ncurses `COLORS`) says.
public enum ColorDepth: Int, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    /// No colour (monochrome terminals such as vt100, `NO_COLOR`, `--no-color`): attributes only.
    case none = 0
    /// The 8 basic ANSI colours (`linux`, `xterm`).
    case ansi8 = 8
    /// The 8 colours and their bright variants.
    case ansi16 = 16
    /// The xterm 256-colour palette (`xterm-256color`, `screen-256color`, `tmux-256color`).
    case xterm256 = 256

    /// The depth for a terminal reporting `colors` colours (ncurses `COLORS`; 0 or less without colour).
    public init(colors: Int) {
        switch colors {
        case 256...: self = .xterm256
        case 16..<256: self = .ansi16
        case 8..<16: self = .ansi8
        default: self = .none
        }
    }

    public static func < (a: ColorDepth, b: ColorDepth) -> Bool { a.rawValue < b.rawValue }
    public var description: String { self == .none ? "attributes only" : "\(rawValue) colours" }
}

/// A style as a terminal of one ``ColorDepth`` shows it: palette indices (−1 for the terminal's
/// own colour) and attributes.
public struct ResolvedStyle: Equatable, Sendable, Hashable, CustomStringConvertible {
    /// Foreground palette index, −1 for the terminal default.
    public var fg: Int
    /// Background palette index, −1 for the terminal default.
    public var bg: Int
    public var bold: Bool
    public var reverse: Bool
    public var underline: Bool
    public var dim: Bool

    public init(fg: Int = -1, bg: Int = -1, bold: Bool = false, reverse: Bool = false, underline: Bool = false, dim: Bool = false) {
        self.fg = fg
        self.bg = bg
        self.bold = bold
        self.reverse = reverse
        self.underline = underline
        self.dim = dim
    }

    /// Compact form for snapshots: `fg=6 bg=- bold`, `plain` when nothing is set.
    public var description: String {
        var parts: [String] = []
        if fg >= 0 || bg >= 0 {
            parts.append("fg=\(fg >= 0 ? String(fg) : "-")")
            parts.append("bg=\(bg >= 0 ? String(bg) : "-")")
        }
        if bold { parts.append("bold") }
        if dim { parts.append("dim") }
        if underline { parts.append("underline") }
        if reverse { parts.append("reverse") }
        return parts.isEmpty ? "plain" : parts.joined(separator: " ")
    }
}

public extension ThemeColor {
    /// The nearest of the 16 ANSI colours (for 16-colour terminals): 0–7 normal, 8–15 bright.
    var ansi16: Int {
        switch self {
        case .terminalDefault: return -1
        case let .ansi(i): return i
        case let .rgb(r, g, b):
            // The xterm default values of the 16 colours; nearest by squared distance.
            let palette: [(Int, Int, Int)] = [
                (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
                (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
            ]
            var best = 0
            var bestDistance = Int.max
            for (i, p) in palette.enumerated() {
                let d = (p.0 - Int(r)) * (p.0 - Int(r)) + (p.1 - Int(g)) * (p.1 - Int(g)) + (p.2 - Int(b)) * (p.2 - Int(b))
                if d < bestDistance { best = i; bestDistance = d }
            }
            return best
        }
    }

    /// The palette index at a colour depth (−1 for the terminal default, or with no colour).
    func index(at depth: ColorDepth) -> Int {
        switch depth {
        case .xterm256: xterm256
        case .ansi16: ansi16
        case .ansi8: ansi8
        case .none: -1
        }
    }
}

public extension Style {
    /// How this style shows on a terminal of `depth`: colours degrade 256 → 16 → 8; with no
    /// colour at all, a role that was told apart by colour alone gets an attribute instead
    /// (reverse for selection, status bars and `compromised`, dim for muted roles, bold otherwise),
    /// so nothing the theme distinguishes becomes invisible.
    func resolved(for role: Role, at depth: ColorDepth) -> ResolvedStyle {
        var out = ResolvedStyle(bold: bold, reverse: reverse, underline: underline, dim: dim)
        let hasColor = fg != nil || bg != nil
        if depth != .none {
            out.fg = fg?.index(at: depth) ?? -1
            out.bg = bg?.index(at: depth) ?? -1
            // A foreground that degrades onto its background would hide the text.
            if out.fg >= 0, out.fg == out.bg { out.reverse.toggle(); out.fg = -1; out.bg = -1 }
        } else if hasColor, !bold, !reverse, !underline, !dim {
            switch role {
            case .selection, .statusBar, .verdictCompromised, .statusAlert: out.reverse = true
            case .muted, .severityInfo, .verdictNotAssessed, .stepNotApplicable: out.dim = true
            default: out.bold = true
            }
        }
        return out
    }
}
