/// Checks too intricate for the pack's condition operators, referred to by name from
/// `predicate` conditions. Each takes the lowercased field value.
public enum Predicates {
    /// Named predicates available to indicator packs.
    public static let named: [String: @Sendable (String) -> Bool] = [
        "ecpScriptInUrl": ecpScriptInURL,
        "oabPathOutsideClientAccess": oabPathOutsideClientAccess,
    ]

    /// Test-ProxyLogon's CVE-2021-27065 ECP test (since 2021-03-18), the regex
    /// `Set-.+VirtualDirectory.+?(?=Url).+<\w+.*>(.*?)<\/\w+>.+?(?=VirtualDirectory)`, evaluated
    /// as a left-to-right scan for the earliest occurrence of each part, which accepts exactly the
    /// lines the regex finds but in linear time.
    /// Source: https://github.com/microsoft/CSS-Exchange/blob/main/Security/src/Test-ProxyLogon.ps1
    public static func ecpScriptInURL(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard let set = find(b, "set-", from: 0),
              let vd = find(b, "virtualdirectory", from: set + 5),
              let url = find(b, "url", from: vd + 17) else { return false }
        // `.+<\w+` : an opening tag that starts at least one character after "Url" begins.
        var i = url + 1
        while i + 1 < b.count {
            if b[i] == UInt8(ascii: "<"), isWord(b[i + 1]),
               let close = find(b, ">", from: i + 2),
               let endTag = findClosingTag(b, from: close + 1),
               find(b, "virtualdirectory", from: endTag + 2) != nil {
                return true
            }
            i += 1
        }
        return false
    }

    /// Test-ProxyLogon's CVE-2021-26858 test (since 2021-03-18): the path captured from
    /// `Download failed and temporary file (.*?) needs to be removed` is a hit unless it lies under
    /// `<ExchangeInstallPath>ClientAccess\OAB`. The install path is not known from a log alone, so
    /// a path counts as benign when it is a local drive path ending in `\ClientAccess\OAB\…`
    /// outside any web folder (`inetpub`, `aspnet_client`, `FrontEnd\HttpProxy`).
    /// Source: https://github.com/microsoft/CSS-Exchange/blob/main/Security/src/Test-ProxyLogon.ps1
    public static func oabPathOutsideClientAccess(_ s: String) -> Bool {
        var p = Substring(s)
        if p.hasPrefix("'") { p = p.dropFirst() }
        let chars = Array(p.utf8)
        let isLocal = chars.count > 3 && chars[1] == UInt8(ascii: ":") && chars[2] == UInt8(ascii: "\\")
        let underOAB = p.contains("\\clientaccess\\oab\\") || p.hasSuffix("\\clientaccess\\oab")
        let inWebFolder = p.contains("\\inetpub\\") || p.contains("aspnet_client") || p.contains("\\frontend\\httpproxy\\")
        return !(isLocal && underOAB && !inWebFolder && !p.contains(".."))
    }

    private static func isWord(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || c == 0x5F || c >= 0x80
    }

    /// Position of the `>` that ends the first `</\w+>` at or after `from`.
    private static func findClosingTag(_ b: [UInt8], from: Int) -> Int? {
        var i = from
        while let lt = find(b, "</", from: i) {
            var j = lt + 2
            let start = j
            while j < b.count, isWord(b[j]) { j += 1 }
            if j > start, j < b.count, b[j] == UInt8(ascii: ">") { return j }
            i = lt + 1
        }
        return nil
    }

    private static func find(_ b: [UInt8], _ needle: String, from: Int) -> Int? {
        let n = Array(needle.utf8)
        guard !n.isEmpty, from >= 0, b.count >= n.count, from <= b.count - n.count else { return nil }
        var i = from
        let last = b.count - n.count
        while i <= last {
            if b[i] == n[0] {
                var k = 1
                while k < n.count, b[i + k] == n[k] { k += 1 }
                if k == n.count { return i }
            }
            i += 1
        }
        return nil
    }
}
