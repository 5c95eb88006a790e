/// What a cell means, not how it looks. A theme maps each role to colours and attributes, so
/// the same grid renders under every theme and snapshots stay theme-independent.
public enum Role: String, Sendable, Codable, CaseIterable, Hashable {
    case normal
    case muted
    case border
    case borderFocused = "border-focused"
    case title
    case titleFocused = "title-focused"
    case selection
    case selectionInactive = "selection-inactive"
    case statusBar = "status-bar"
    case statusKey = "status-key"
    case statusAlert = "status-alert"
    case header
    /// Escaped control characters from evidence text.
    case escaped
    case severityCritical = "severity-critical"
    case severityHigh = "severity-high"
    case severityMedium = "severity-medium"
    case severityLow = "severity-low"
    case severityInfo = "severity-info"
    case verdictCompromised = "verdict-compromised"
    case verdictExploited = "verdict-exploited"
    case verdictProbed = "verdict-probed"
    case verdictNoFindings = "verdict-no-findings"
    case verdictNotAssessed = "verdict-not-assessed"
    case stepDone = "step-done"
    case stepInProgress = "step-in-progress"
    case stepBlocked = "step-blocked"
    case stepTodo = "step-todo"
    case stepNotApplicable = "step-not-applicable"
    case help
}

/// A key press, decoded by the backend.
public enum Key: Equatable, Sendable, Hashable {
    case character(Character)
    case up, down, left, right
    case pageUp, pageDown, home, end
    case enter, tab, backTab, escape, backspace
    /// Ctrl plus a letter, lowercased (`ctrl("l")` is Ctrl-L).
    case ctrl(Character)
    case function(Int)
}

/// Size of a terminal or grid in cells.
public struct Size: Equatable, Sendable, CustomStringConvertible {
    public var cols: Int
    public var rows: Int
    public init(cols: Int, rows: Int) {
        self.cols = cols
        self.rows = rows
    }
    public var description: String { "\(cols)×\(rows)" }
}

/// A rectangle of cells.
public struct Rect: Equatable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }
    /// The rectangle shrunk by `n` cells on every side.
    public func inset(_ n: Int) -> Rect { Rect(x: x + n, y: y + n, width: width - 2 * n, height: height - 2 * n) }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
}
