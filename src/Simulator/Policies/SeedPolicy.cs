using Loadshift.Simulator.Simulation;

namespace Loadshift.Simulator.Policies;

/// <summary>The seed's main_script.sh (shared/seeds, the thesis' implementation chapter): cron runs it every
/// minute on one watched host (HVM1: here the inventory's first host); when that host's 1-minute average busy
/// (mpstat 1 59) is over maxhvm=80, it live-migrates one VM (the busiest, as virt-top ranks them) to HVM2, or
/// to HVM3 when HVM2 already holds one it moved, and so on down the inventory; when the host is not over it, it
/// migrates back the last VM it moved. One virsh at a time, and nothing else: no memory check, no cooldown.</summary>
public sealed class SeedPolicy(double maxBusy, TimeSpan interval) : IPolicy
{
    private readonly List<(int Domain, int Target)> moved = [];
    private double nextRun;

    public string Name => "seed";

    public string Description =>
        $"main_script.sh: every {interval.TotalSeconds:0} s, the first host over {maxBusy:0.00} (1m average) moves its busiest domain to the next " +
        "host holding none it moved; under it, the last moved comes back; one migration at a time";

    public void Act(ClusterState cluster)
    {
        if (cluster.Now < nextRun || !cluster.HasBusyRatio || cluster.InFlight.Count > 0)
        {
            return;
        }
        nextRun = cluster.Now + interval.TotalSeconds;
        const int watched = 0;
        // Domains that came back (or were moved by hand in the seed's world) are forgotten.
        moved.RemoveAll(m => cluster.HostOf[m.Domain] != m.Target);
        if (cluster.BusyRatio[watched] > maxBusy)
        {
            var busiest = -1;
            for (var d = 0; d < cluster.DomainCount; d++)
            {
                if (cluster.HostOf[d] == watched && (busiest < 0 || cluster.Demand(d) > cluster.Demand(busiest)))
                {
                    busiest = d;
                }
            }
            var target = Enumerable.Range(1, cluster.HostCount - 1).FirstOrDefault(h => !moved.Exists(m => m.Target == h), -1);
            if (busiest >= 0 && target > 0)
            {
                cluster.StartMigration(busiest, target, MoveKind.Relief);
                moved.Add((busiest, target));
            }
        }
        else if (moved.Count > 0)
        {
            var last = moved[^1];
            cluster.StartMigration(last.Domain, watched, MoveKind.ReturnHome);
            moved.RemoveAt(moved.Count - 1);
        }
    }
}
