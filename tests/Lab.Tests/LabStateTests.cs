using System.Text.Json.Nodes;

namespace Loadshift.Lab.Tests;

/// <summary>Needs no lab: the shared reader of lab/.state/lab.json (lab/Lab.State, used by lab/Demo, lab/LoadGenerator
/// and the tests) against the file lab/up's own write_state writes from a lab.conf, run without root or a lab.</summary>
public sealed class LabStateTests
{
    [Fact]
    public void It_reads_what_lab_up_writes_for_the_committed_lab_conf()
    {
        using var temp = new TempDirectory();

        var lab = LabState.Read(WriteState(temp, Path.Combine(RepositoryRoot.Path, "lab", "lab.conf")));

        // Each value as lab.conf gives it, or as lab/up derives it from lab.conf.
        var conf = File.ReadAllLines(Path.Combine(RepositoryRoot.Path, "lab", "lab.conf"))
            .Select(l => l.Split('#')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length > 0).ToList();
        string[] Record(string kind) => conf.Single(f => f[0] == kind);
        var hosts = conf.Where(f => f[0] == "host").ToList();
        var vms = conf.Where(f => f[0] == "vm").ToList();
        Assert.Equal(Record("root")[1], lab.RootAddress);
        Assert.Equal(Record("bridge")[1], lab.Bridge);
        Assert.Equal(Record("client")[1], lab.ClientNetns);
        Assert.Equal(Record("client")[2], lab.ClientAddress);
        Assert.Equal($"nbd://{lab.RootAddress}:{Record("storage")[1]}/", lab.StorageUrl);
        Assert.Equal(hosts.Select(h => h[1]), lab.Hosts.Select(h => h.Name));
        Assert.Equal(vms.Select(v => v[1]), lab.Vms.Select(v => v.Name));
        foreach (var host in hosts)
        {
            var read = lab.Host(host[1]);
            Assert.Equal(host[2], read.Address);
            Assert.Equal($"qemu+tcp://{host[2]}/system", read.LibvirtUri);
            Assert.StartsWith($"http://{host[2]}:", read.ExporterUrl, StringComparison.Ordinal);
            Assert.Equal(double.Parse(host[3], System.Globalization.CultureInfo.InvariantCulture), read.CpuQuota);
            Assert.Equal(host[1], read.Netns);
            Assert.True(read.MemoryBytes > 0);
        }
        foreach (var vm in vms)
        {
            var read = lab.Vm(vm[1]);
            Assert.Equal(vm[2], read.HomeHost);
            Assert.Equal(vm[3], read.Address);
            Assert.Equal($"http://{vm[3]}/", read.Url);
            Assert.Equal($"http://{vm[3]}/cgi-bin/burn", read.CgiUrl);
            Assert.Equal(vm[4], read.Mac);
            Assert.Equal(vm[1], read.Disk.Export);
            Assert.EndsWith($"/{vm[1]}.raw", read.Disk.Path, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_lab_that_is_not_up_says_so_and_names_the_file()
    {
        using var temp = new TempDirectory();
        var file = temp.Combine("lab.json");

        var error = Assert.Throws<FileNotFoundException>(() => LabState.Read(file));

        Assert.Equal($"{file} is missing: the lab is not up. Run lab/up (as root) first; lab/down takes it away.", error.Message);
    }

    [Fact]
    public void A_state_file_without_a_field_lab_up_writes_is_refused_naming_the_field()
    {
        using var temp = new TempDirectory();
        var file = WriteState(temp, Path.Combine(RepositoryRoot.Path, "lab", "lab.conf"));
        var json = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        json["vms"]![0]!.AsObject().Remove("homeHost");
        File.WriteAllText(file, json.ToJsonString());

        var error = Assert.Throws<InvalidDataException>(() => LabState.Read(file));

        Assert.StartsWith($"{file}: not the lab state lab/up writes:", error.Message, StringComparison.Ordinal);
        Assert.Contains("homeHost", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"10.213.7.101\"", "\"10.213.8.101\"", "VM vm1 has address 10.213.8.101, outside the lab's /24 (10.213.7.1/24)")]
    [InlineData("\"10.213.7.11\"", "\"10.213.7.x\"", "host hv1 has address '10.213.7.x', not an IPv4 address")]
    public void Addresses_outside_the_labs_slash_24_are_refused(string address, string replacement, string message)
    {
        using var temp = new TempDirectory();
        var file = WriteState(temp, Path.Combine(RepositoryRoot.Path, "lab", "lab.conf"));
        File.WriteAllText(file, File.ReadAllText(file).Replace(address, replacement, StringComparison.Ordinal));

        var error = Assert.Throws<InvalidDataException>(() => LabState.Read(file));

        Assert.Equal($"{file}: {message}", error.Message);
    }

    /// <summary>The lab.json lab/up's write_state writes for the committed lab.conf, with only the named VMs.</summary>
    internal static string Written(IReadOnlyList<string> vms)
    {
        using var temp = new TempDirectory();
        var json = JsonNode.Parse(File.ReadAllText(WriteState(temp, Path.Combine(RepositoryRoot.Path, "lab", "lab.conf"))))!.AsObject();
        var kept = json["vms"]!.AsArray().Where(v => vms.Contains((string)v!["name"]!)).Select(v => v!.DeepClone()).ToArray();
        Assert.Equal(vms.Count, kept.Length);
        json["vms"] = new JsonArray(kept);
        return json.ToJsonString();
    }

    /// <summary>Runs lab/up's write_state (taken from lab/up as it is) on the config <paramref name="conf"/>, with
    /// lab/lib/common.sh's parser, into a state folder under <paramref name="temp"/>; returns the lab.json path.</summary>
    private static string WriteState(TempDirectory temp, string conf)
    {
        const string Script = """
            set -euo pipefail
            source lab/lib/common.sh
            STATE_DIR=$1 STATE_JSON=$1/lab.json SHARED_DIR=$1/shared STORAGE_DIR=$1/storage
            load_config "$2"
            eval "$(sed -n '/^write_state() {$/,/^}$/p' lab/up)"
            declare -F write_state >/dev/null || { echo "no write_state() in lab/up" >&2; exit 1; }
            write_state
            """;
        Tool.RunOk("bash", ["-c", Script, "write-state", temp.Path, conf]);
        return temp.Combine("lab.json");
    }
}
