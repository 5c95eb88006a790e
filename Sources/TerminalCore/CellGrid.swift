/// One terminal cell.
public struct Cell: Equatable, Sendable {
    /// The character shown; for the right half of a double-width character, `isContinuation` is
    /// true and `ch` is a space.
    public var ch: Character
    public var role: Role
    public var isContinuation: Bool

    public init(_ ch: Character = " ", role: Role = .normal, isContinuation: Bool = false) {
        self.ch = ch
        self.role = role
        self.isContinuation = isContinuation
    }
}

/// An in-memory screen: what the UI renders into and the backend presents. Snapshot tests
/// compare its ``text()`` and ``roles()`` dumps.
public struct CellGrid: Equatable, Sendable {
    public let size: Size
    public private(set) var cells: [Cell]
    /// Draw sanitised text in ASCII only (non-UTF-8 locale or `--ascii`).
    public var ascii: Bool

    public init(size: Size, ascii: Bool = false) {
        self.size = Size(cols: max(0, size.cols), rows: max(0, size.rows))
        self.cells = Array(repeating: Cell(), count: self.size.cols * self.size.rows)
        self.ascii = ascii
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * size.cols + x] }
        set { cells[y * size.cols + x] = newValue }
    }

    /// Fills a rectangle with one character and role.
    public mutating func fill(_ rect: Rect, _ ch: Character = " ", role: Role) {
        let x0 = max(0, rect.x), x1 = min(size.cols, rect.maxX)
        let y0 = max(0, rect.y), y1 = min(size.rows, rect.maxY)
        guard x0 < x1, y0 < y1 else { return }
        for y in y0..<y1 {
            // A wide character cut by the rectangle's edge loses both halves, never just one.
            if self[x0, y].isContinuation, x0 > 0 { self[x0 - 1, y] = Cell(" ", role: self[x0 - 1, y].role) }
            if x1 < size.cols, self[x1, y].isContinuation { self[x1, y] = Cell(" ", role: self[x1, y].role) }
            for x in x0..<x1 { self[x, y] = Cell(ch, role: role) }
        }
    }

    /// Writes trusted text (labels the console itself produces) from (x, y), clipped to
    /// `maxWidth` columns and the grid. Returns the columns used.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, maxWidth: Int? = nil, role: Role) -> Int {
        guard y >= 0, y < size.rows else { return 0 }
        let limit = min(maxWidth ?? Int.max, size.cols - x)
        guard limit > 0 else { return 0 }
        var col = x
        var used = 0
        for var ch in text {
            if ascii, ch.unicodeScalars.contains(where: { $0.value >= 0x80 }) { ch = Self.asciiFallback(ch) }
            let w = TextWidth.width(of: ch)
            if w == 0 { continue }
            if used + w > limit { break }
            if col >= 0 {
                // Never leave half of a wide character behind.
                if self[col, y].isContinuation, col > 0 { self[col - 1, y] = Cell(" ", role: role) }
                self[col, y] = Cell(ch, role: role)
                if w == 2, col + 1 < size.cols { self[col + 1, y] = Cell(" ", role: role, isContinuation: true) }
                // Writing over the left half of a wide character blanks its right half.
                let after = col + w
                if after < size.cols, self[after, y].isContinuation { self[after, y] = Cell(" ", role: self[after, y].role) }
            }
            col += w
            used += w
        }
        return used
    }

    /// Writes untrusted text (from evidence): sanitised, with escapes drawn in `escapedRole`.
    @discardableResult
    public mutating func putUntrusted(_ text: String, x: Int, y: Int, maxWidth: Int? = nil, role: Role, escapedRole: Role = .escaped) -> Int {
        var used = 0
        let limit = maxWidth ?? (size.cols - x)
        for piece in Sanitizer.pieces(text, ascii: ascii) {
            guard used < limit else { break }
            used += put(piece.text, x: x + used, y: y, maxWidth: limit - used, role: piece.escaped ? escapedRole : role)
        }
        return used
    }

    /// The grid as text, one line per row, trailing spaces removed (like `tmux capture-pane -p`).
    public func text() -> String {
        var lines: [String] = []
        for y in 0..<size.rows {
            var line = ""
            for x in 0..<size.cols {
                let c = self[x, y]
                if !c.isContinuation { line.append(c.ch) }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// The text of one row.
    public func row(_ y: Int) -> String {
        var line = ""
        for x in 0..<size.cols where !self[x, y].isContinuation { line.append(self[x, y].ch) }
        return line
    }

    /// One letter per cell giving its role (see ``roleLetter(_:)``), for snapshot tests.
    public func roles() -> String {
        (0..<size.rows).map { y in
            String((0..<size.cols).map { Self.roleLetter(self[$0, y].role) })
        }.joined(separator: "\n")
    }

    /// A one-letter code per role for ``roles()`` dumps.
    public static func roleLetter(_ role: Role) -> Character {
        switch role {
        case .normal: "."
        case .muted: "m"
        case .border: "b"
        case .borderFocused: "B"
        case .title: "t"
        case .titleFocused: "T"
        case .selection: "S"
        case .selectionInactive: "s"
        case .statusBar: "="
        case .statusKey: "K"
        case .statusAlert: "!"
        case .header: "h"
        case .escaped: "E"
        case .severityCritical: "4"
        case .severityHigh: "3"
        case .severityMedium: "2"
        case .severityLow: "1"
        case .severityInfo: "0"
        case .verdictCompromised: "C"
        case .verdictExploited: "X"
        case .verdictProbed: "P"
        case .verdictNoFindings: "N"
        case .verdictNotAssessed: "A"
        case .stepDone: "D"
        case .stepInProgress: "I"
        case .stepBlocked: "L"
        case .stepTodo: "o"
        case .stepNotApplicable: "n"
        case .help: "H"
        }
    }

    static func asciiFallback(_ ch: Character) -> Character {
        switch ch {
        case "─", "━", "═": "-"
        case "│", "┃", "║": "|"
        case "┌", "┐", "└", "┘", "├", "┤", "┬", "┴", "┼", "╭", "╮", "╰", "╯": "+"
        case "…": "~"
        case "▶", "►", "›": ">"
        case "●", "•": "*"
        case "✓", "✔": "x"
        case "↑": "^"
        case "↓": "v"
        case "·": "."
        default: "?"
        }
    }
}
