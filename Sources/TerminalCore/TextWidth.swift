import CWidth

/// Terminal column widths of text, from the C library's `wcwidth` (so the process locale must
/// be a UTF-8 one; the console checks that at start-up and falls back to ASCII otherwise).
public enum TextWidth {
    /// Columns a character takes: 0, 1 or 2. Control characters count as 1 here; the sanitiser
    /// replaces them before text reaches a grid.
    public static func width(of ch: Character) -> Int {
        guard let first = ch.unicodeScalars.first else { return 0 }
        let v = first.value
        if v >= 0x20 && v < 0x7F { return 1 }
        let w = Int(wcwidth(wchar_t(bitPattern: v)))
        if w < 0 { return 1 }
        return min(w, 2)
    }

    /// Columns a string takes.
    public static func width(of s: some StringProtocol) -> Int {
        var total = 0
        for ch in s { total += width(of: ch) }
        return total
    }

    /// The longest prefix that fits in `columns`, with `…` in the last column when cut.
    public static func truncate(_ s: String, to columns: Int, ellipsis: Character = "…") -> String {
        guard columns > 0 else { return "" }
        if width(of: s) <= columns { return s }
        var out = ""
        var used = 0
        let limit = columns - 1
        for ch in s {
            let w = width(of: ch)
            if used + w > limit { break }
            out.append(ch)
            used += w
        }
        out.append(ellipsis)
        return out
    }

    /// Pads with spaces (or truncates) to exactly `columns`.
    public static func pad(_ s: String, to columns: Int) -> String {
        let t = truncate(s, to: columns)
        let w = width(of: t)
        return w >= columns ? t : t + String(repeating: " ", count: columns - w)
    }
}
