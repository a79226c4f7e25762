# syntax=docker/dockerfile:1
# AgentDesk.Gateway: the HTTP API (port 8080), an Orleans cluster client of the silos.
#   docker build -f deploy/docker/gateway.Dockerfile -t agentdesk/gateway:dev .   (from the repository root)

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# The gateway references the silo project, which embeds deploy/sql: both are needed here too.
COPY Directory.Build.props Directory.Packages.props ./
COPY src/ src/
COPY deploy/sql/ deploy/sql/
RUN --mount=type=cache,id=agentdesk-nuget,target=/root/.nuget/packages \
    dotnet restore src/AgentDesk.Gateway/AgentDesk.Gateway.csproj
RUN --mount=type=cache,id=agentdesk-nuget,target=/root/.nuget/packages \
    dotnet publish src/AgentDesk.Gateway/AgentDesk.Gateway.csproj --no-restore -c Release -o /app -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# appsettings.json sets "Urls" (http://localhost:5080), which outranks ASPNETCORE_URLS; the unprefixed
# Urls variable outranks appsettings.json, so both are set to listen on every interface.
ENV ASPNETCORE_URLS=http://+:8080 \
    Urls=http://+:8080
EXPOSE 8080
# A gen0 budget of 32 MiB per GC heap: the server GC sizes it from the CPU's cache, and where a virtual machine reports
# none it starts from almost nothing, which cost a signed intent about a third more CPU (docs/operations.md, "Sizing").
ENV DOTNET_GCgen0size=0x2000000
USER $APP_UID
ENTRYPOINT ["dotnet", "AgentDesk.Gateway.dll"]
