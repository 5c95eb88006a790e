/// Splitting one CSV line into fields: commas separate, double quotes enclose a field, a doubled
/// quote inside quotes is one quote. Whitespace is kept. A quote left open runs to the end of the line.
/// Works on UTF-8 bytes: the separator and the quote are ASCII, so multi-byte characters pass through whole.
public enum CSVLine {
    /// The fields of one line.
    public static func fields(_ line: String, separator: Character = ",") -> [String] {
        let sep = separator.asciiValue ?? UInt8(ascii: ",")
        var line = line
        return line.withUTF8 { split($0, separator: sep) }
    }

    static func split(_ b: UnsafeBufferPointer<UInt8>, separator: UInt8) -> [String] {
        let quote = UInt8(ascii: "\"")
        var fields: [String] = []
        var current: [UInt8] = []
        var i = 0
        let n = b.count
        var fieldStart = true
        var inQuotes = false
        var plainStart = 0 // start of an unquoted run, copied in one go
        var plain = true
        while i < n {
            let c = b[i]
            if inQuotes {
                if c == quote {
                    if i + 1 < n, b[i + 1] == quote {
                        current.append(quote)
                        i += 2
                        continue
                    }
                    inQuotes = false
                } else {
                    current.append(c)
                }
                i += 1
                continue
            }
            if c == separator {
                if plain {
                    fields.append(String(decoding: UnsafeBufferPointer(rebasing: b[plainStart..<i]), as: UTF8.self))
                } else {
                    fields.append(String(decoding: current, as: UTF8.self))
                }
                current.removeAll(keepingCapacity: true)
                fieldStart = true
                plain = true
                plainStart = i + 1
                i += 1
                continue
            }
            if c == quote && fieldStart {
                inQuotes = true
                plain = false
                fieldStart = false
                i += 1
                continue
            }
            if !plain { current.append(c) }
            fieldStart = false
            i += 1
        }
        if plain {
            fields.append(String(decoding: UnsafeBufferPointer(rebasing: b[plainStart..<n]), as: UTF8.self))
        } else {
            fields.append(String(decoding: current, as: UTF8.self))
        }
        return fields
    }
}
