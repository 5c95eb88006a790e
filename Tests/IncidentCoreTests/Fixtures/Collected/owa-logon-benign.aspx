<%@ Page Language="C#" AutoEventWireup="true" Inherits="Microsoft.Exchange.HttpProxy.Logon" %>
<%@ Import Namespace="Microsoft.Exchange.Clients.Owa.Core" %>
<!DOCTYPE html>
<html>
<head>
<meta http-equiv="X-UA-Compatible" content="IE=10" />
<title>Outlook</title>
<script type="text/javascript">
    function clkLgn() { var f = document.forms[0]; f.submit(); }
    var destination = "<%= HttpUtility.JavaScriptStringEncode(Request.QueryString["url"]) %>";
</script>
</head>
<body class="signInBg">
<form action="/owa/auth.owa" method="POST" name="logonForm" autocomplete="off">
    <input type="hidden" name="destination" value="<%= Server.HtmlEncode(Request.QueryString["url"]) %>">
    <input type="text" name="username" id="username">
    <input type="password" name="password" id="password" onkeydown="if (event.keyCode == 13) clkLgn();">
</form>
</body>
</html>
