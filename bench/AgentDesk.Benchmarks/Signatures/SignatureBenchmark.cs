using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;
using Nethereum.Signer;
using Secp256k1Net;

namespace AgentDesk.Benchmarks.Signatures;

/// <summary>
/// Signature verifications per second on one core: Nethereum's RecoverFromSignatureV4, the fast path
/// (digest + native recover + address), and a raw libsecp256k1 recover of a precomputed digest.
/// </summary>
public static class SignatureBenchmark
{
    private const int Inputs = 256;

    public static Task RunAsync()
    {
        using var pinned = Report.PinToOneCore();
        var domain = new Eip712Domain(Eip712Domain.DefaultName, "1", 42161, "0x5fbdb2315678afecb367f032d93f642f64180aa3");
        var verifier = new FastIntentVerifier(domain);
        var exitsHash = ExitsHash.Compute([new ExitRule(ExitTriggerType.TakeProfit, 1000, 5000), new ExitRule(ExitTriggerType.StopLoss, -500, 10_000)]);

        var intents = new ISignedIntent[Inputs];
        var signatures = new string[Inputs];
        var signers = new string[Inputs];
        var digests = new byte[Inputs][];
        var compact = new byte[Inputs][];
        var recoveryIds = new byte[Inputs];
        for (var i = 0; i < Inputs; i++)
        {
            var key = EthECKey.GenerateKey();
            intents[i] = new OpenPositionIntent(i + 1, "0x1111111111111111111111111111111111111111", "0x2222222222222222222222222222222222222222",
                100_000_000 + i, 0, 100, exitsHash, 1_900_000_000, i);
            signatures[i] = NethereumIntentSignatures.Sign(domain, intents[i], key.GetPrivateKey());
            signers[i] = key.GetPublicAddress();
            digests[i] = verifier.Digest(intents[i]);
            var bytes = Hex.Decode(signatures[i]);
            compact[i] = bytes[..64];
            recoveryIds[i] = (byte)(bytes[64] - 27);
        }

        // Every path must agree before it is timed.
        for (var i = 0; i < Inputs; i++)
        {
            if (!EthAddress.AreEqual(verifier.Recover(intents[i], signatures[i]), signers[i]) ||
                !EthAddress.AreEqual(NethereumIntentSignatures.Recover(domain, intents[i], signatures[i]), signers[i]))
                throw new InvalidOperationException($"Input {i} did not verify.");
        }

        var duration = TimeSpan.FromSeconds(3);
        var nethereum = Report.Throughput(i => NethereumIntentSignatures.Recover(domain, intents[i], signatures[i]), Inputs, duration);
        var fast = Report.Throughput(i => verifier.IsSignedBy(intents[i], signatures[i], signers[i]), Inputs, duration);
        var raw = Report.Throughput(i => Secp256k1.RecoverPublicKey(compact[i], recoveryIds[i], digests[i], compressed: false), Inputs, duration);

        Report.Figure("signatures.nethereum_recover_v4", nethereum, "verifications/s/core");
        Report.Figure("signatures.fast_path", fast, "verifications/s/core");
        Report.Figure("signatures.raw_libsecp256k1_recover", raw, "recovers/s/core");
        Report.Figure("signatures.fast_vs_nethereum", fast / nethereum, "x");
        Report.Figure("signatures.fast_vs_raw", fast / raw, "x");
        return Task.CompletedTask;
    }
}
