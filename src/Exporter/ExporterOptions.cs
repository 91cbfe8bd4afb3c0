using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Loadshift.Exporter;

/// <summary>The command line, in node_exporter's conventions so that operators feel at home.</summary>
internal sealed record ExporterOptions
{
    /// <summary>
    /// 10179: the Prometheus default-port list fills 9100-9999 (node_exporter 9100, the libvirt exporters 9177),
    /// so the exporter takes a port above it that no common exporter uses; the Rebalancer takes the next one.
    /// </summary>
    public const int DefaultPort = 10179;

    public static readonly string[] CollectorNames = ["cpu", "meminfo", "loadavg", "libvirt"];

    public string ListenAddress { get; init; } = $":{DefaultPort}";

    public string Procfs { get; init; } = "/proc";

    public string LibvirtUri { get; init; } = "qemu:///system";

    /// <summary>How long a scrape waits for libvirt; kept below Prometheus' scrape timeout (10 s by default).</summary>
    public TimeSpan LibvirtTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the libvirt collector asks for the slow stats groups (vCPU, block) at most; between, their
    /// last values are served (<see cref="Libvirt.SlowGroupsCache"/>). Zero: at every scrape.</summary>
    public TimeSpan LibvirtSlowGroupsInterval { get; init; } = TimeSpan.Zero;

    public IReadOnlySet<string> DisabledCollectors { get; init; } = new HashSet<string>();

    public bool ShowHelp { get; init; }

    public bool ShowVersion { get; init; }

    public static string Usage => $"""
        usage: loadshift-exporter [flags]

        Prometheus exporter for a KVM host: CPU by mode (mpstat), memory (free), load average, and every libvirt
        domain's state, CPU, memory, block and interface counters from libvirt's bulk stats (virt-top).

          --web.listen-address=ADDR   where /metrics and /healthz listen: ":PORT" (all addresses), "HOST:PORT"
                                      or "[IPv6]:PORT" (default ":{DefaultPort}")
          --path.procfs=DIR           procfs mount point (default "/proc")
          --libvirt.uri=URI           libvirt connection URI, opened read-only (default "qemu:///system";
                                      e.g. "qemu+tcp://host/system", "test:///default")
          --libvirt.timeout=DURATION  longest wait for libvirt per scrape, e.g. "5s", "800ms" (default "5s")
          --collector.libvirt.slow-groups-interval=DURATION
                                      ask libvirt for the vCPU and block stats at most this often, e.g. "30s",
                                      and serve their last values in between, so those series can be that old;
                                      the other domain stats are read at every scrape (default "0s": every scrape)
          --no-collector.NAME         switch a collector off; names: {string.Join(", ", CollectorNames)}
          --collector.NAME            switch a collector on (all are on by default)
          --version                   print the version and exit
          -h, --help                  print this help and exit
        """;

    /// <summary>Parses "--flag=value" and "--flag value"; anything unknown or malformed throws, naming the flag.</summary>
    /// <remarks>
    /// Written here rather than with System.CommandLine, which does not give node_exporter's grammar: it also takes
    /// "--flag:value" and "@file" response files (more than node_exporter's kingpin takes), has its own help, version
    /// and error texts (the usage above and exit code 2 would be rebuilt around it), and hands back each option's
    /// value without the order of the flags, where kingpin's --collector.NAME / --no-collector.NAME pair is "the
    /// last one wins". This grammar is the few lines below, pinned by OptionsTests.
    /// </remarks>
    public static ExporterOptions Parse(IReadOnlyList<string> args)
    {
        var options = new ExporterOptions();
        var disabled = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string flag = arg, value = "";
            var hasValue = false;
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                flag = arg[..eq];
                value = arg[(eq + 1)..];
                hasValue = true;
            }

            string Value()
            {
                if (hasValue)
                {
                    return value;
                }

                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new ArgumentException($"flag {flag} needs a value");
                }

                return args[++i];
            }

            void NoValue()
            {
                if (hasValue)
                {
                    throw new ArgumentException($"flag {flag} takes no value");
                }
            }

            switch (flag)
            {
                case "-h" or "--help":
                    NoValue();
                    options = options with { ShowHelp = true };
                    break;
                case "--version":
                    NoValue();
                    options = options with { ShowVersion = true };
                    break;
                case "--web.listen-address":
                    var address = Value();
                    _ = ParseListenAddress(address);
                    options = options with { ListenAddress = address };
                    break;
                case "--path.procfs":
                    var procfs = Value();
                    options = options with
                    {
                        Procfs = procfs.Length > 0 ? procfs : throw new ArgumentException("flag --path.procfs needs a directory"),
                    };
                    break;
                case "--libvirt.uri":
                    var uri = Value();
                    options = options with
                    {
                        LibvirtUri = uri.Length > 0 ? uri : throw new ArgumentException("flag --libvirt.uri needs a URI"),
                    };
                    break;
                case "--libvirt.timeout":
                    options = options with { LibvirtTimeout = ParseDuration(flag, Value()) };
                    break;
                case "--collector.libvirt.slow-groups-interval":
                    var interval = Value();
                    options = options with { LibvirtSlowGroupsInterval = interval is "0" or "0s" ? TimeSpan.Zero : ParseDuration(flag, interval) };
                    break;
                default:
                    if (flag.StartsWith("--no-collector.", StringComparison.Ordinal))
                    {
                        NoValue();
                        disabled.Add(CollectorName(flag, flag["--no-collector.".Length..]));
                    }
                    else if (flag.StartsWith("--collector.", StringComparison.Ordinal))
                    {
                        NoValue();
                        disabled.Remove(CollectorName(flag, flag["--collector.".Length..]));
                    }
                    else
                    {
                        throw new ArgumentException($"unknown flag {arg}");
                    }

                    break;
            }
        }

        return options with { DisabledCollectors = disabled };
    }

    /// <summary>":PORT" means every address; "HOST:PORT" and "[IPv6]:PORT" one address.</summary>
    public static IPEndPoint ParseListenAddress(string address)
    {
        var colon = address.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) ||
            port is < 1 or > 65535)
        {
            throw new ArgumentException($"flag --web.listen-address: '{address}' is not HOST:PORT or :PORT");
        }

        var host = address[..colon];
        if (host.Length == 0)
        {
            return new IPEndPoint(IPAddress.IPv6Any, port);
        }

        if (host == "localhost")
        {
            return new IPEndPoint(IPAddress.Loopback, port);
        }

        var bracketed = host.StartsWith('[') && host.EndsWith(']');
        if (!IPAddress.TryParse(bracketed ? host[1..^1] : host, out var ip))
        {
            throw new ArgumentException($"flag --web.listen-address: '{host}' is not an IP address");
        }

        // "::1:8080" could be read more than one way; node_exporter (Go's net) asks for brackets, and so does this.
        if (bracketed != (ip.AddressFamily == AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException(bracketed
                ? $"flag --web.listen-address: '{host}' is an IPv4 address: write it without brackets"
                : $"flag --web.listen-address: '{address}': write an IPv6 address in brackets, as [{host}]:{port}");
        }

        return new IPEndPoint(ip, port);
    }

    /// <summary>Prometheus-style durations: "5s", "500ms", "1m".</summary>
    public static TimeSpan ParseDuration(string flag, string text)
    {
        (string unit, double seconds)[] units = [("ms", 0.001), ("s", 1), ("m", 60)];
        foreach (var (unit, seconds) in units)
        {
            if (text.EndsWith(unit, StringComparison.Ordinal) &&
                double.TryParse(text.AsSpan(0, text.Length - unit.Length), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) &&
                n > 0)
            {
                return TimeSpan.FromSeconds(n * seconds);
            }
        }

        throw new ArgumentException($"flag {flag}: '{text}' is not a duration such as 5s or 800ms");
    }

    private static string CollectorName(string flag, string name) =>
        CollectorNames.Contains(name, StringComparer.Ordinal)
            ? name
            : throw new ArgumentException($"flag {flag}: no collector '{name}'; collectors: {string.Join(", ", CollectorNames)}");
}
