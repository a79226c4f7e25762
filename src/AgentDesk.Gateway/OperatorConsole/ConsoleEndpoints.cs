using Microsoft.Extensions.FileProviders;

namespace AgentDesk.Gateway.OperatorConsole;

/// <summary>
/// The operator console at <c>/console</c>: static HTML, CSS and JavaScript shipped beside the program (OperatorConsole/wwwroot),
/// with no build step, that signs in with an API key and calls the same API as everyone else (README, "Operator console").
/// </summary>
public static class ConsoleEndpoints
{
    public const string Path = "/console";

    public static void UseConsole(this WebApplication app)
    {
        var root = System.IO.Path.Combine(AppContext.BaseDirectory, "OperatorConsole", "wwwroot");
        if (!Directory.Exists(root)) return;
        var files = new PhysicalFileProvider(root);
        // "/console" becomes "/console/", so the page's relative script and style links resolve under it. (A mapped endpoint
        // would also match "/console/" and keep the static files from being served.)
        app.Use((context, next) =>
        {
            if (context.Request.Path.Value != Path) return next(context);
            context.Response.Redirect(Path + "/");
            return Task.CompletedTask;
        });
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = Path });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = Path,
            OnPrepareResponse = context =>
            {
                // The console talks to its own origin only and runs no inline script: an injected value cannot execute.
                var headers = context.Context.Response.Headers;
                headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";
                headers.XContentTypeOptions = "nosniff";
                headers.CacheControl = "no-cache";
            },
        });
    }
}
