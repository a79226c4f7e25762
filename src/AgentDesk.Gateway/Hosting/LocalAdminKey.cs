using System.Security.Cryptography;
using AgentDesk.Silo.Configuration;

namespace AgentDesk.Gateway.Hosting;

/// <summary>
/// The single-node admin key kept in <c>{DataDir}/admin.key</c> when none is configured, so a zero-configuration
/// start still has a credential. The file is created with mode 0600 from the start (never chmod-ed afterwards)
/// inside a 0700 data folder.
/// </summary>
public sealed record LocalAdminKey(string Key, string Path, bool Created)
{
    public const string FileName = "admin.key";

    public static LocalAdminKey LoadOrCreate(string dataDir)
    {
        DataFolder.Create(dataDir);
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(dataDir, FileName));
        if (File.Exists(path)) return new(File.ReadAllText(path).Trim(), path, false);
        var key = "adk_admin_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var file = new StreamWriter(path, options)) file.Write(key);
        return new(key, path, true);
    }
}
