/// Splitting one CSV line into fields: commas separate, double quotes enclose a field, a doubled
/// quote inside quotes is one quote. Whitespace is kept. A quote left open runs to the end of the line.
public enum CSVLine {
    /// The fields of one line.
    public static func fields(_ line: String, separator: Character = ",") -> [String] {
        var fields: [String] = []
        var current = ""
        var inQuotes = false
        var atFieldStart = true
        var iterator = line.makeIterator()
        var pending: Character? = nil
        while let ch = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if ch == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { current.append("\"") } else { inQuotes = false; pending = next }
                    } else {
                        inQuotes = false
                    }
                } else {
                    current.append(ch)
                }
                continue
            }
            if ch == separator {
                fields.append(current)
                current = ""
                atFieldStart = true
                continue
            }
            if ch == "\"" && atFieldStart {
                inQuotes = true
                atFieldStart = false
                continue
            }
            atFieldStart = false
            current.append(ch)
        }
        fields.append(current)
        return fields
    }
}
