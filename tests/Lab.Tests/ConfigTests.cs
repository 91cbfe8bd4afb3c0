namespace Loadshift.Lab.Tests;

/// <summary>Needs no lab: lab/up rejects a bad config before it changes anything on the machine.</summary>
public sealed class ConfigTests
{
    [Theory]
    [InlineData("subnet 8.8.8.0/24", 1, "private")]
    [InlineData("subnet 10.213.7.0/24\nbridge lsbr0\nroot 10.213.8.1", 3, "outside subnet")]
    [InlineData("subnet 10.213.7.0/24\nhost hv1 10.213.7.11 0.6 2G\nhost hv1 10.213.7.12 0.6 2G", 3, "defined twice")]
    [InlineData("subnet 10.213.7.0/24\nhost hv1 10.213.7.11 0.6 2G\nvm vm1 hv9 10.213.7.101 52:54:00:00:00:01 128M", 3, "not defined")]
    [InlineData("subnet 10.213.7.0/24\nhost hv1;reboot 10.213.7.11 0.6 2G", 2, "bad name")]
    [InlineData("subnet 10.213.7.0/24\nhost hv1 $(id) 0.6 2G", 2, "bad address")]
    [InlineData("subnet 10.213.7.0/24\nstorage 80 16M", 2, "bad storage port")]
    [InlineData("subnet 10.213.7.0/24\nstorage 10809 16", 2, "below 1M")]
    [InlineData("subnet 10.213.7.0/24\nbridge lsbr0\nroot 10.213.7.1\nclient lsclient 10.213.7.9\nhost hv1 10.213.7.11 0.6 2G", "end", "no storage record")]
    public async Task UpRejectsABadConfigNamingTheLine(string config, object line, string message)
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, config + "\n");
            var result = await Run.Lab("up", TimeSpan.FromSeconds(30), "--config", file);
            Assert.True(result.ExitCode != 0, result.ToString());
            Assert.Contains($"{file}:{line}:", result.Stderr, StringComparison.Ordinal);
            Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void DefaultConfigHasTheSeedsHostsAndVms()
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryRoot.Path, "lab", "lab.conf"))
            .Select(l => l.Split('#')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length > 0)
            .ToList();
        Assert.Equal(["hv1", "hv2", "hv3"], lines.Where(f => f[0] == "host").Select(f => f[1]));
        Assert.Equal(["hv1", "hv1", "hv1"], lines.Where(f => f[0] == "vm").Select(f => f[2]));
    }
}
