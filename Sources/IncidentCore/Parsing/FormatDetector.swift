/// Recognises an evidence format from a file's first lines: directive and header lines, never
/// the file's name or folder.
public enum FormatDetector {
    /// How many leading lines detection looks at.
    public static let linesExamined = 64

    /// Outcome of looking at a file's first lines.
    public enum Result: Sendable, Equatable {
        case recognised(EvidenceFormat)
        /// Nothing recognisable; the reason is shown to the responder.
        case unrecognised(String)
    }

    /// Decides the format from the first lines of a file.
    /// - Parameter lines: up to ``linesExamined`` decoded lines (fewer when the file is shorter).
    public static func detect(_ lines: [String]) -> Result {
        var sawBinary = false
        for raw in lines.prefix(linesExamined) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let lower = line.lowercased()
            if lower.contains("\u{0}") { sawBinary = true; continue }
            if lower.hasPrefix("#log-type:") {
                if lower.contains("httpproxy") { return .recognised(.httpProxy) }
                if lower.contains("ecp server") { return .recognised(.ecpServer) }
                if lower.contains("oab") { return .recognised(.oabGenerator) }
            }
            if lower.hasPrefix("#software: microsoft internet information services") { return .recognised(.iisW3C) }
            if lower.hasPrefix("#fields:") {
                let body = lower.dropFirst(8)
                if body.contains(",") {
                    if body.contains("anchormailbox") { return .recognised(.httpProxy) }
                    if body.contains("eventdata") && body.contains("eventid") { return .recognised(.ecpServer) }
                } else if body.contains("cs-uri-stem") || body.contains("c-ip") || (body.contains(" date ") && body.contains(" time")) {
                    return .recognised(.iisW3C)
                }
            }
            if lower.contains("download failed and temporary file") { return .recognised(.oabGenerator) }
            if lower.hasPrefix("#") { continue }
            if WebConfigParser.opensConfiguration(lower) { return .recognised(.webConfig) }
            if let format = ToolFormats.detect(line: line, lower: lower, allLines: lines) { return .recognised(format) }
            let csv = CSVLine.fields(lower).map { $0.trimmingCharacters(in: .whitespaces) }
            if csv.contains("datetime") && csv.contains("anchormailbox") { return .recognised(.httpProxy) }
            if csv.contains("path") && (csv.contains("hash") || csv.contains("sha256")) { return .recognised(.fileInventory) }
            if TestProxyLogonParser.kind(ofHeader: csv, line: lower) != nil { return .recognised(.testProxyLogon) }
            if HashBaselineParser.row(csv) != nil { return .recognised(.hashBaseline) }
            if FileInventoryParser.headerlessRow(csv) != nil { return .recognised(.fileInventory) }
            let tokens = line.split(separator: " ")
            if tokens.count == W3CParser.defaultFields.count, Timestamps.parse(tokens[0] + " " + tokens[1]) != nil {
                return .recognised(.iisW3C)
            }
            // Header-less W3C lines in another layout (date, time, an HTTP method among many
            // fields): an IIS log whose columns cannot be known. Read as IIS so that the file says
            // its lines could not be read (and the IIS check shows no coverage), instead of
            // passing for a collected file.
            if tokens.count >= 12, tokens[0].count == 10, Timestamps.parse(tokens[0] + " " + tokens[1]) != nil,
               tokens.contains(where: { W3CParser.methods.contains(String($0)) }) {
                return .recognised(.iisW3C)
            }
        }
        if sawBinary { return .unrecognised("binary content, not a known evidence format; not checked") }
        if lines.isEmpty { return .unrecognised("empty file; not checked") }
        return .unrecognised("format not recognised from its first lines; not checked")
    }

    /// A fresh parser for a format. Windows event logs are parsed one event (its XML) per call;
    /// collected files are not parsed but scanned whole with YARA, so they have none (nil).
    public static func parser(for format: EvidenceFormat) -> (any EvidenceLineParser)? {
        switch format {
        case .httpProxy: HttpProxyParser()
        case .ecpServer: ECPServerParser()
        case .oabGenerator: OABGeneratorParser()
        case .iisW3C: W3CParser()
        case .fileInventory: FileInventoryParser()
        case .testProxyLogon: TestProxyLogonParser()
        case .msertLog: MSERTLogParser()
        case .eomtLog: EOMTLogParser()
        case .hashBaseline: HashBaselineParser()
        case .webConfig: WebConfigParser()
        case .windowsEvtx: EvtxEventParser()
        case .collectedFile: nil
        }
    }
}
