using AgentDesk.Venues.Evm;
using Microsoft.Extensions.Configuration;

namespace AgentDesk.Silo.Hosting;

/// <summary>What the silo's one-shot commands (<c>deploy-contracts</c>, <c>sign-vault-claim</c>) share.</summary>
internal static class SiloCommand
{
    /// <summary>A settings section, with its defaults when it is absent.</summary>
    public static T Settings<T>(IConfiguration configuration, string section) where T : new() => configuration.GetSection(section).Get<T>() ?? new T();

    /// <summary>The key that deployed the contracts and administers them: AgentDesk:Deploy:DeployerKeyFile, then the executor key.</summary>
    public static string? DeployerKeyFile(DeployOptions deploy, EvmOptions evm) => deploy.DeployerKeyFile ?? evm.ExecutorKeyFile;

    /// <summary>Why the command cannot go on: one line on stderr, and exit code 2.</summary>
    public static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 2;
    }
}
