using System.Net;
using System.Net.Sockets;

namespace Loadshift.Testing;

/// <summary>Loopback addresses for the servers a test starts.</summary>
public static class Loopback
{
    /// <summary>A loopback TCP port nothing listens on now (the kernel picks it; the small race with other programs
    /// until the server binds it is acceptable in a test).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
