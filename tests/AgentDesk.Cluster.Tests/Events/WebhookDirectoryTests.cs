using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Webhooks;
using AgentDesk.Testing;

namespace AgentDesk.Cluster.Tests.Events;

/// <summary>The per-organisation webhook cap, and the slots a registration cut off part-way would otherwise hold for ever.</summary>
[Collection(ClusterCollection.Name)]
public sealed class WebhookDirectoryTests(ClusterFixture fixture)
{
    [Fact]
    public async Task An_organisation_has_at_most_50_webhooks_and_ids_with_no_webhook_behind_them_do_not_count()
    {
        var organization = TestData.NewOrganization("Hooks");
        var directory = fixture.Client.GetGrain<IWebhookDirectoryGrain>(GrainKeys.WebhookDirectory(organization));

        // A full directory of ids whose registrations were cut off before their webhook was created.
        for (var i = 0; i < IWebhookDirectoryGrain.MaxWebhooks; i++) Assert.True(await directory.AddAsync(Guid.NewGuid()));

        // Real registrations still fit: the stranded ids stop counting once the cap is reached.
        var registered = new List<Guid>();
        for (var i = 0; i < IWebhookDirectoryGrain.MaxWebhooks; i++)
        {
            var id = Guid.NewGuid();
            Assert.True(await directory.AddAsync(id));
            var created = await fixture.Client.GetGrain<IWebhookGrain>(GrainKeys.Webhook(organization, id))
                .CreateAsync(new WebhookRegistration("https://hooks.example.com/agentdesk", null, new string('s', 32)));
            Assert.True(created.IsSuccess, created.Problem?.Message);
            registered.Add(id);
        }

        // Fifty real webhooks: the next is refused, and the list holds exactly the real ones.
        Assert.False(await directory.AddAsync(Guid.NewGuid()));
        Assert.Equal(registered.Order(), (await directory.ListAsync()).Order());

        // The shared cluster need not keep fifty idle webhooks polling.
        foreach (var id in registered) await fixture.Client.GetGrain<IWebhookGrain>(GrainKeys.Webhook(organization, id)).DeleteAsync();
    }
}
