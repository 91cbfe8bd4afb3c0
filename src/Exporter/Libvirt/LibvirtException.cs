namespace Loadshift.Exporter.Libvirt;

/// <summary>A libvirt call failed; the message is libvirt's own, with its error code and domain.</summary>
internal sealed class LibvirtException : Exception
{
    public LibvirtException()
    {
    }

    public LibvirtException(string message)
        : base(message)
    {
    }

    public LibvirtException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public LibvirtException(string operation, string libvirtMessage, int code, int domain)
        : base($"{operation}: {libvirtMessage} (libvirt error code {code}, domain {domain})")
    {
        Code = code;
        ErrorDomain = domain;
    }

    /// <summary>virErrorNumber, or 0 when libvirt gave none.</summary>
    public int Code { get; }

    /// <summary>virErrorDomain: which part of libvirt raised it.</summary>
    public int ErrorDomain { get; }
}
