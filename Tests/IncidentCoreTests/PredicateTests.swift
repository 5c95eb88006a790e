import Foundation
import Testing
@testable import IncidentCore

@Suite("Predicates")
struct PredicateTests {
    /// EventData of an ECP server row, as the parser sees it after CSV unquoting, lowercased as the
    /// engine passes it to predicates.
    static func eventData(_ cmd: String, schema: String = "OABVirtualDirectory") -> String {
        let row = ECPLog.row(eventData: ECPLog.eventData(cmd: cmd, schema: schema))
        return CSVLine.fields(row)[3].lowercased()
    }

    // MARK: ecpScriptInUrl (CVE-2021-27065, Test-ProxyLogon since 2021-03-18)

    @Test func realExploitLineHits() {
        let data = Self.eventData(ECPLog.maliciousCmd)
        #expect(data.contains("'s:cmd=set-oabvirtualdirectory.externalurl=''http://f/<script language=\"jscript\" runat=\"server\">"))
        #expect(Predicates.ecpScriptInURL(data))
        #expect(Predicates.named["ecpScriptInUrl"]?(data) == true)
    }

    @Test func benignAdminChangeAndCleanupDoNotHit() {
        #expect(!Predicates.ecpScriptInURL(Self.eventData(ECPLog.adminOwaCmd, schema: "OWAVirtualDirectory")))
        #expect(!Predicates.ecpScriptInURL(Self.eventData(ECPLog.adminOabCmd)))
        #expect(!Predicates.ecpScriptInURL(Self.eventData(ECPLog.cleanupCmd)))
        #expect(!Predicates.ecpScriptInURL(Self.eventData(ECPLog.readCmd)))
        #expect(!Predicates.ecpScriptInURL(""))
    }

    @Test func scriptInAnyVirtualDirectoryUrlHits() {
        let cmd = "Set-EcpVirtualDirectory.InternalUrl=''https://x/<b>bold</b>''.Identity=''EXCH01\\ecp (Default Web Site)''"
        #expect(Predicates.ecpScriptInURL(Self.eventData(cmd, schema: "EcpVirtualDirectory")))
    }

    /// The Test-ProxyLogon regex itself, for a differential check.
    static let testProxyLogonRegex = try! NSRegularExpression(
        pattern: #"Set-.+VirtualDirectory.+?(?=Url).+<\w+.*>(.*?)<\/\w+>.+?(?=VirtualDirectory)"#,
        options: [.caseInsensitive])

    static func regexMatches(_ s: String) -> Bool {
        testProxyLogonRegex.firstMatch(in: s, range: NSRange(location: 0, length: (s as NSString).length)) != nil
    }

    static let differentialInputs: [String] = [
        eventData(ECPLog.maliciousCmd),
        eventData(ECPLog.adminOwaCmd),
        eventData(ECPLog.adminOabCmd),
        eventData(ECPLog.cleanupCmd),
        "set-oabvirtualdirectory.externalurl=''<b>x</b>''.identity=''1'';s:url=/ecp?schema=oabvirtualdirectory",
        "set-oabvirtualdirectory.externalurl=''<b>x</b>''.identity=''1''", // no VirtualDirectory after the tag
        "set-oabvirtualdirectory<b>x</b>externalurl=oabvirtualdirectory", // tag before Url
        "set-virtualdirectory.externalurl=<b>x</b>.virtualdirectory", // `.+` between Set- and VirtualDirectory
        "set-xvirtualdirectory.externalurl=<b>x</b>.virtualdirectory",
        "set-xvirtualdirectoryurl<b>x</b>.virtualdirectory", // `.+?` needs a character before Url
        "set-xvirtualdirectory.url<b>x</b>.virtualdirectory", // `.+` needs a character between Url and <
        "set-xvirtualdirectory.urlx<b>x</b>.virtualdirectory",
        "set-xvirtualdirectory.urlx<>x</b>.virtualdirectory", // `<\w+` needs a word character
        "set-xvirtualdirectory.urlx<b x</b>.virtualdirectory",
        "set-xvirtualdirectory.urlx<b>x</ b>.virtualdirectory",
        "set-xvirtualdirectory.urlx<b>x</b>.v.virtualdirectory",
        "get-xvirtualdirectory.urlx<b>x</b>..virtualdirectory",
        "set-xvirtualdirectory.urlx<script>é</script>..virtualdirectory",
    ]

    @Test(arguments: differentialInputs)
    func agreesWithTestProxyLogonRegex(_ input: String) {
        #expect(Predicates.ecpScriptInURL(input) == Self.regexMatches(input), "input: \(input)")
    }

    /// BUG: the regex's final `.+?(?=VirtualDirectory)` needs at least one character between the
    /// closing tag and `VirtualDirectory`; the predicate searches from the byte right after `>`
    /// (`find(b, "virtualdirectory", from: endTag + 1)` instead of `endTag + 2`).
    @Test func closingTagDirectlyFollowedByVirtualDirectory() {
        let input = "set-xvirtualdirectory.urlx<b>x</b>virtualdirectory"
        #expect(!Self.regexMatches(input))
        #expect(Predicates.ecpScriptInURL(input) == Self.regexMatches(input))
    }

    // MARK: oabPathOutsideClientAccess (CVE-2021-26858)

    @Test(arguments: [
        "'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\ClientAccess\\OAB\\Temp\\x.lzx'",
        "'D:\\Exchange Server\\V15\\ClientAccess\\OAB\\Temp\\LZXc2f3lst0.1js'",
        "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\ClientAccess\\OAB",
    ])
    func legitimateOABTempPathsAreBenign(_ path: String) {
        #expect(!Predicates.oabPathOutsideClientAccess(path.lowercased()))
    }

    @Test(arguments: [
        "'C:\\inetpub\\wwwroot\\aspnet_client\\x.aspx'",
        "'\\\\127.0.0.1\\c$\\inetpub\\wwwroot\\aspnet_client\\discover.aspx'",
        "'\\\\127.0.0.1\\c$\\Program Files\\Microsoft\\Exchange Server\\V15\\ClientAccess\\OAB\\Temp\\x.lzx'",
        "'C:\\inetpub\\wwwroot\\aspnet_client\\ClientAccess\\OAB\\x.aspx'",
        "'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\ClientAccess\\OAB\\x.aspx'",
        "'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\ClientAccess\\OAB\\..\\..\\FrontEnd\\HttpProxy\\owa\\auth\\x.aspx'",
        "'C:\\Windows\\Temp\\x.aspx'",
        "''",
    ])
    func pathsOutsideClientAccessOABHit(_ path: String) {
        #expect(Predicates.oabPathOutsideClientAccess(path.lowercased()))
        #expect(Predicates.named["oabPathOutsideClientAccess"]?(path.lowercased()) == true)
    }
}
