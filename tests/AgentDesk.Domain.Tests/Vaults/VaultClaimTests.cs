using System.Text.Json.Nodes;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Intents;
using AgentDesk.Domain.Vaults;
using AgentDesk.Testing;

namespace AgentDesk.Domain.Tests.Vaults;

/// <summary>
/// The vault claim a contract's admin signs so that an organisation may create a vault on it (docs/venues.md): signed with
/// ethers' signTypedData, as an admin's wallet would, it names its signer here, and the reverse.
/// </summary>
public class VaultClaimTests
{
    private static readonly VaultClaim Claim = new("acme", "equities", "0x5FbDB2315678afecb367f032d93F642f64180aa3", 31337);

    [Fact]
    public async Task A_claim_signed_with_ethers_names_its_signer_and_one_signed_here_verifies_in_ethers()
    {
        var (key, address) = TestData.NewKey();
        var signed = (await EthersAsync(Request("sign", Claim, new JsonObject { ["privateKey"] = key })))["signature"]!.GetValue<string>();
        Assert.True(EthAddress.AreEqual(address, Claim.Signer(signed).Value));

        var ours = Claim.Sign(key);
        var recovered = (await EthersAsync(Request("recover", Claim, new JsonObject { ["signature"] = ours })))["address"]!.GetValue<string>();
        Assert.True(EthAddress.AreEqual(address, recovered));
    }

    [Fact]
    public void A_claim_names_its_organisation_vault_contract_and_chain_so_it_proves_nothing_for_another()
    {
        var (key, address) = TestData.NewKey();
        var signature = Claim.Sign(key);
        Assert.True(EthAddress.AreEqual(address, Claim.Signer(signature).Value));
        // Shown to another organisation, or for another vault id, contract or chain, it recovers to some other account.
        foreach (var other in new[]
                 {
                     Claim with { Organization = "mallory" }, Claim with { VaultId = "other" },
                     Claim with { VaultAddress = TestData.NewAddress() }, Claim with { ChainId = 1 },
                 })
            Assert.False(EthAddress.AreEqual(address, other.Signer(signature).Value));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0x1234")]
    [InlineData("not hex at all")]
    public void Anything_but_a_signature_is_invalid_signature(string? signature) =>
        Assert.Equal(Errors.InvalidSignature, Claim.Signer(signature).Rejection!.Code);

    private static JsonObject Request(string op, VaultClaim claim, JsonObject extra)
    {
        var request = new JsonObject
        {
            ["op"] = op,
            ["domain"] = new JsonObject
            {
                ["name"] = VaultClaim.DomainName, ["version"] = VaultClaim.DomainVersion, ["chainId"] = claim.ChainId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["verifyingContract"] = claim.VaultAddress,
            },
            ["types"] = new JsonObject
            {
                [VaultClaim.PrimaryType] = new JsonArray(
                    new JsonObject { ["name"] = "organization", ["type"] = "string" }, new JsonObject { ["name"] = "vaultId", ["type"] = "string" }),
            },
            ["primaryType"] = VaultClaim.PrimaryType,
            ["message"] = new JsonObject { ["organization"] = claim.Organization, ["vaultId"] = claim.VaultId },
        };
        foreach (var (k, v) in extra) request[k] = v?.DeepClone();
        return request;
    }

    private static async Task<JsonNode> EthersAsync(JsonObject request)
    {
        var answer = (await Ethers.CallAsync(new JsonArray(request)))[0]!;
        Assert.Null(answer["error"]);
        return answer;
    }
}
