import CEvtx
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Reads Windows XML event logs (`.evtx`) through libevtx (Debian `libevtx-dev`).
///
/// A file is an event log when it starts with the 8-byte signature `ElfFile\0`, whatever its
/// name. Every record libevtx can read is returned as its event XML, then the records libevtx
/// carves from the free space of damaged or truncated files ("recovered" records). Nothing is
/// ever written to the file.
/// Format: https://github.com/libyal/libevtx/blob/main/documentation/Windows%20XML%20Event%20Log%20(EVTX).asciidoc
public enum EvtxFile {
    /// The file signature at offset 0.
    public static let signature: [UInt8] = Array("ElfFile".utf8) + [0]

    /// Whether a file's first bytes are an EVTX header signature.
    public static func hasSignature<C: Collection>(_ head: C) -> Bool where C.Element == UInt8 {
        head.count >= signature.count && zip(head, signature).allSatisfy { $0 == $1 }
    }

    /// One event record as read from the file.
    public struct Record: Sendable, Equatable {
        /// 1-based position: live records first, in file order, then recovered ones.
        public var position: Int
        /// True for a record carved from free space (a damaged or partly overwritten log).
        public var recovered: Bool
        /// The event as XML (`<Event xmlns=…><System>…</System><EventData>…</EventData></Event>`).
        public var xml: String
    }

    /// What could be read from one file.
    public struct Contents: Sendable, Equatable {
        public var records: [Record]
        /// Problems for the responder: open failures, unreadable records, a damaged header.
        public var warnings: [String]
        /// False when libevtx could not open the file at all.
        public var opened: Bool
    }

    /// Largest number of records read from one file (a defence against a forged record count).
    public static let maxRecords = 5_000_000

    /// Reads every record of an event log into memory (for small files and tests; the scanner
    /// uses ``forEachRecord(path:_:)``).
    /// - Parameter path: absolute path of the file.
    /// - Returns: the records and warnings; never throws: a file libevtx cannot open yields
    ///   `opened == false` and a warning with libevtx's reason.
    public static func read(path: String) -> Contents {
        var records: [Record] = []
        let summary = forEachRecord(path: path) { records.append($0) }
        return Contents(records: records, warnings: summary.warnings, opened: summary.opened)
    }

    /// What a streaming read saw.
    public struct Summary: Sendable, Equatable {
        /// Records handed to the body.
        public var records: Int
        public var warnings: [String]
        public var opened: Bool
    }

    /// Reads an event log record by record, handing each to `body` as it is read, so memory stays
    /// bounded by one record whatever the file's size.
    /// - Parameter path: absolute path of the file (opened read-only, never written).
    /// - Returns: the number of records, warnings, and whether libevtx could open the file.
    public static func forEachRecord(path: String, _ body: (Record) -> Void) -> Summary {
        // libevtx reads whole 64 KiB chunks only: a file cut inside a chunk (copied while being
        // written, or truncated) is read from a temporary copy padded with zeros to the chunk end.
        var st = stat()
        if stat(path, &st) == 0 {
            let size = Int64(st.st_size)
            if size > headerSize, (size - headerSize) % chunkSize != 0 {
                if let padded = paddedCopy(path, size: size) {
                    defer { unlink(padded) }
                    var summary = readWhole(path: padded, body)
                    summary.warnings.insert("the file ends inside a 64 KiB chunk (truncated, or copied while being written): the records of the partial chunk were read as far as they go", at: 0)
                    return summary
                }
            }
        }
        return readWhole(path: path, body)
    }

    /// Size of the file header block and of each chunk of records, in bytes.
    static let headerSize: Int64 = 4096
    static let chunkSize: Int64 = 65536

    /// Copies the file to a temporary file padded with zeros to the next chunk end; nil on failure.
    private static func paddedCopy(_ path: String, size: Int64) -> String? {
        let target = NSTemporaryDirectory() + "/incident-evtx-\(UUID().uuidString).evtx"
        guard FileManager.default.createFile(atPath: target, contents: nil, attributes: [.posixPermissions: 0o600]),
              let out = FileHandle(forWritingAtPath: target) else { return nil }
        defer { try? out.close() }
        guard let input = FileHandle(forReadingAtPath: path) else { unlink(target); return nil }
        defer { try? input.close() }
        do {
            while let data = try input.read(upToCount: 4 * 1_048_576), !data.isEmpty { try out.write(contentsOf: data) }
            let padding = chunkSize - (size - headerSize) % chunkSize
            try out.write(contentsOf: Data(count: Int(padding)))
        } catch {
            unlink(target)
            return nil
        }
        return target
    }

    private static func readWhole(path: String, _ body: (Record) -> Void) -> Summary {
        var message = [CChar](repeating: 0, count: 512)
        guard let file = inc_evtx_open(path, &message, message.count) else {
            let reason = cText(message).trimmingCharacters(in: .whitespacesAndNewlines)
            return Summary(records: 0, warnings: ["not a readable Windows event log (libevtx: \(firstLine(reason, or: "cannot open")))"], opened: false)
        }
        defer { inc_evtx_close(file) }
        var position = 0
        var warnings: [String] = []
        if inc_evtx_is_damaged(file) == 1 {
            warnings.append("the log was not closed cleanly or is damaged (dirty or corrupted header): records were read as far as possible")
        }
        var unreadable = 0
        var firstReason: String?
        var recoveredCount = 0
        // Hashes of the live records' XML (not the text: bounded memory).
        var liveXML = Set<Int>()
        var damagedFragments = 0
        for recovered in [false, true] {
            let count = inc_evtx_count(file, recovered ? 1 : 0)
            if count < 0 {
                warnings.append(recovered ? "recovered records could not be counted" : "the record count could not be read")
                continue
            }
            for index in 0..<min(Int(count), maxRecords) {
                message[0] = 0
                guard let xml = inc_evtx_record_xml(file, Int32(index), recovered ? 1 : 0, &message, message.count) else {
                    if recovered { damagedFragments += 1; continue }
                    unreadable += 1
                    if firstReason == nil { firstReason = firstLine(cText(message), or: "unreadable") }
                    continue
                }
                defer { free(xml) }
                let text = String(decoding: UnsafeRawBufferPointer(start: xml, count: strlen(xml)), as: UTF8.self)
                // Free space often still holds copies of live records (not new events) and
                // fragments of overwritten ones too damaged to mean anything.
                if recovered {
                    guard !liveXML.contains(text.hashValue) else { continue }
                    guard EvtxEventParser.isWellFormedEvent(text) else { damagedFragments += 1; continue }
                } else {
                    liveXML.insert(text.hashValue)
                }
                position += 1
                body(Record(position: position, recovered: recovered, xml: text))
                if recovered { recoveredCount += 1 }
            }
            if Int(count) > maxRecords { warnings.append("more than \(maxRecords) records: the rest were not read") }
        }
        if recoveredCount > 0 {
            warnings.append("\(recoveredCount) record(s) recovered from free space of a damaged or overwritten log (positions after the live records)")
        }
        if damagedFragments > 0 {
            warnings.append("\(damagedFragments) fragment(s) of older records in free space were too damaged to read (usual for a log that wrapped)")
        }
        if unreadable > 0 {
            warnings.append("\(unreadable) record(s) could not be read (libevtx: \(firstReason ?? "unreadable"))")
        }
        return Summary(records: position, warnings: warnings, opened: true)
    }

    /// The text of a NUL-terminated C buffer.
    private static func cText(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func firstLine(_ s: String, or fallback: String) -> String {
        let line = s.split(whereSeparator: \.isNewline).first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        return line.isEmpty ? fallback : String(line.prefix(200))
    }
}

/// Turns one event's XML (as libevtx writes it) into a record for the indicators.
///
/// Fields (names case-insensitive): `EventID`, `Provider` (also `Source`: the provider's
/// `EventSourceName` or `Name`, e.g. `MSExchange Unified Messaging`, `Microsoft-Windows-Sysmon`),
/// `Channel`, `Computer`, `Level` (`2` = error), `EventRecordID`, `TimeCreated` (ISO-8601 UTC, also
/// the record's time), `UserID`; every `EventData/Data Name="…"` value under its name (Sysmon
/// `Image`, `ParentImage`, `CommandLine`, `User`; Security `TargetUserName`, `MemberName`,
/// `TargetSid`); values of unnamed `Data` elements as `Data1`, `Data2`, …; `UserData` leaves under
/// their element names; and `Message`: every data value joined by newlines (the rendered message
/// needs the provider's message files, which collected evidence lacks; classic providers such as
/// Exchange's put the message text, e.g. an exception, in these values).
/// Logical fields: `process-image` (`Image`, or Security 4688 `NewProcessName`), `parent-image`
/// (`ParentImage` or `ParentProcessName`), `command-line`, `parent-command-line`.
/// Event schema: https://learn.microsoft.com/windows/win32/wes/eventschema-schema
public struct EvtxEventParser: EvidenceLineParser {
    public var format: EvidenceFormat { .windowsEvtx }
    var unparsable = 0
    var withoutTime = 0

    public init() {}

    public var warnings: [String] {
        var w: [String] = []
        if unparsable > 0 { w.append("\(unparsable) event(s) with XML that could not be parsed were checked on their text only") }
        if withoutTime > 0 { w.append("\(withoutTime) event(s) without a valid TimeCreated") }
        return w
    }

    /// Values longer than this are cut (one hostile field must not cost unbounded memory).
    static let maxValueBytes = 1_048_576

    public mutating func parse(_ text: String, line: Int) -> LogRecord? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return nil }
        let collector = EventXMLCollector()
        let parser = XMLParser(data: Data(trimmed.utf8))
        parser.shouldResolveExternalEntities = false
        parser.shouldProcessNamespaces = false
        parser.delegate = collector
        var fields: [(String, String)]
        if parser.parse(), collector.sawEventEnd {
            fields = collector.fields
        } else {
            unparsable += 1
            fields = Self.fallbackFields(trimmed)
        }
        var record = LogRecord(line: line, raw: "")
        var seen = Set<String>()
        var ordered: [(String, String)] = []
        for (name, value) in fields {
            let v = value.utf8.count > Self.maxValueBytes ? String(decoding: value.utf8.prefix(Self.maxValueBytes), as: UTF8.self) : value
            if seen.insert(name.lowercased()).inserted {
                record.set(name, v)
                ordered.append((name, v))
            }
        }
        let provider = record.value("Provider") ?? ""
        if record.value("Source") == nil, !provider.isEmpty { record.set("Source", provider) }
        func alias(_ logical: String, _ names: [String]) {
            for n in names { if let v = record.value(n) { record.set(logical, v, displayedAs: record.displayName(n)); return } }
        }
        alias("process-image", ["Image", "NewProcessName"])
        alias("parent-image", ["ParentImage", "ParentProcessName"])
        alias("command-line", ["CommandLine"])
        alias("parent-command-line", ["ParentCommandLine"])
        if let t = record.value("TimeCreated"), let date = Timestamps.parse(t) {
            record.time = date
        } else {
            withoutTime += 1
        }
        // The record as one readable line: `Name=value` pairs (Message excluded: it repeats them).
        var raw = ""
        for (name, value) in ordered where name != "Message" && !value.isEmpty {
            if raw.utf8.count > 65_536 { break }
            if !raw.isEmpty { raw += "  " }
            raw += name + "=" + value
        }
        record.raw = raw
        return record
    }

    /// Whether the text is one well-formed `<Event>` element (used to drop record fragments
    /// libevtx carves from free space that are too damaged to mean anything).
    public static func isWellFormedEvent(_ xml: String) -> Bool {
        let collector = EventXMLCollector()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.shouldResolveExternalEntities = false
        parser.delegate = collector
        return parser.parse() && collector.sawEventEnd
    }

    /// Fields recovered from text that is not well-formed XML: `EventID`, the provider's `Name`,
    /// and `Message` as the text with tags removed.
    static func fallbackFields(_ xml: String) -> [(String, String)] {
        var out: [(String, String)] = []
        if let r = xml.range(of: "<EventID"), let gt = xml[r.upperBound...].firstIndex(of: ">"),
           let end = xml[gt...].range(of: "</EventID>") {
            out.append(("EventID", String(xml[xml.index(after: gt)..<end.lowerBound]).trimmingCharacters(in: .whitespaces)))
        }
        if let r = xml.range(of: "<Provider Name=\""), let q = xml[r.upperBound...].firstIndex(of: "\"") {
            out.append(("Provider", String(xml[r.upperBound..<q])))
        }
        var message = ""
        var inTag = false
        for ch in xml.prefix(maxValueBytes) {
            if ch == "<" { inTag = true; message.append(" "); continue }
            if ch == ">" { inTag = false; continue }
            if !inTag { message.append(ch) }
        }
        out.append(("Message", message.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r" }).joined(separator: " ")))
        return out
    }
}

/// Collects the fields of one `<Event>` element.
private final class EventXMLCollector: NSObject, XMLParserDelegate {
    var fields: [(String, String)] = []
    var sawEvent = false
    var sawEventEnd = false
    private var path: [String] = []
    /// Per open element: whether it has child elements (only leaves of UserData become fields).
    private var hasChild: [Bool] = []
    private var text = ""
    private var dataName: String?
    private var unnamed = 0
    private var messages: [String] = []

    private static let systemText: Set<String> = ["EventID", "Level", "Task", "Opcode", "Keywords", "EventRecordID", "Channel", "Computer", "Version"]

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes: [String: String] = [:]) {
        let name = Self.local(elementName)
        path.append(name)
        if !hasChild.isEmpty { hasChild[hasChild.count - 1] = true }
        hasChild.append(false)
        text = ""
        if name == "Event" { sawEvent = true }
        guard path.count >= 2 else { return }
        switch name {
        case "Provider" where path.contains("System"):
            if let n = attributes["EventSourceName"] ?? attributes["Name"] { fields.append(("Provider", n)) }
            if let n = attributes["Name"] { fields.append(("ProviderName", n)) }
        case "TimeCreated" where path.contains("System"):
            if let t = attributes["SystemTime"] { fields.append(("TimeCreated", t)) }
        case "Security" where path.contains("System"):
            if let u = attributes["UserID"] { fields.append(("UserID", u)) }
        case "Execution" where path.contains("System"):
            if let p = attributes["ProcessID"] { fields.append(("ExecutionProcessID", p)) }
        case "Data":
            dataName = attributes["Name"]
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if text.utf8.count < EvtxEventParser.maxValueBytes { text += string }
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        if text.utf8.count < EvtxEventParser.maxValueBytes { text += String(decoding: CDATABlock, as: UTF8.self) }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        let name = Self.local(elementName)
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let isLeaf = !(hasChild.popLast() ?? false)
        if path.contains("System"), Self.systemText.contains(name) {
            fields.append((name, value))
        } else if name == "Data", path.contains("EventData") {
            if let n = dataName, !n.isEmpty {
                fields.append((n, value))
            } else {
                unnamed += 1
                fields.append(("Data\(unnamed)", value))
            }
            if !value.isEmpty { messages.append(value) }
            dataName = nil
        } else if path.contains("UserData"), isLeaf, path.count >= 4 {
            // A leaf under UserData/<event-specific element>/…
            fields.append((name, value))
            if !value.isEmpty { messages.append(value) }
        }
        if name == "Event" {
            fields.append(("Message", messages.joined(separator: "\n")))
            sawEventEnd = true
        }
        if !path.isEmpty { path.removeLast() }
        text = ""
    }

    private static func local(_ name: String) -> String {
        if let colon = name.lastIndex(of: ":") { return String(name[name.index(after: colon)...]) }
        return name
    }
}
