namespace AgentDesk.Fault.Tests;

/// <summary>
/// Each scenario runs the workload against a healthy cluster, injects its fault while the load goes on (and crosses the
/// exit agent's stops during the fault), heals as an orchestrator would, and then checks what a user would notice.
/// Run them alone with <c>./test.sh AgentDesk.Fault.Tests</c>, or one with <c>--filter "FullyQualifiedName~Partition"</c>.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class FaultTests(FaultCluster cluster)
{
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(5);

    private async Task RunAsync(string scenario, Func<Workload, Task> fault)
    {
        await cluster.HealAsync();
        using var http = cluster.Client();
        using var workload = new Workload(http, scenario);
        try
        {
            await workload.PrepareAsync();
            using var stop = new CancellationTokenSource();
            var load = workload.RunAsync(stop.Token);
            try
            {
                await Task.Delay(Warmup);
                await fault(workload);
                await cluster.HealAsync();
                await Task.Delay(Warmup); // load on the healed cluster too
            }
            finally
            {
                await stop.CancelAsync();
            }
            await load;
            await workload.VerifyAsync();
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException || !e.Message.StartsWith(scenario, StringComparison.Ordinal))
        {
            throw new Xunit.Sdk.XunitException($"{scenario}: {workload.Summary}\n{e}\n{cluster.Diagnostics()}");
        }
    }

    [Fact]
    public Task Killing_a_silo_with_sigkill_under_load_loses_and_duplicates_nothing() => RunAsync("kill", async workload =>
    {
        cluster.KillSilo(1);
        await workload.CrossTheStopsAsync();
        // An orchestrator restarts the crashed pod after a while; meanwhile the cluster declares it dead.
        await Task.Delay(TimeSpan.FromSeconds(20));
    });

    [Fact]
    public Task Partitioning_a_silo_for_sixty_seconds_under_load_loses_and_duplicates_nothing() => RunAsync("partition", async workload =>
    {
        await cluster.PartitionSiloAsync(2, partitioned: true);
        try
        {
            await workload.CrossTheStopsAsync();
            await Task.Delay(TimeSpan.FromSeconds(60));
        }
        finally
        {
            // Healed: declared dead meanwhile, the silo stops itself on learning it; HealAsync starts it again.
            await cluster.PartitionSiloAsync(2, partitioned: false);
        }
    });

    [Fact]
    public Task A_rolling_restart_of_every_silo_under_load_loses_and_duplicates_nothing() => RunAsync("rolling", async workload =>
    {
        for (var silo = 0; silo < cluster.SiloCount; silo++)
        {
            await cluster.RestartSiloAsync(silo);
            if (silo == 0) await workload.CrossTheStopsAsync();
            await cluster.WaitForFullMembershipAsync();
        }
    });

    [Fact]
    public Task Restarting_postgresql_under_load_loses_and_duplicates_nothing() => RunAsync("postgres", async workload =>
    {
        await cluster.Postgres.RestartAsync();
        await workload.CrossTheStopsAsync();
        await Task.Delay(TimeSpan.FromSeconds(10));
    });
}
