# syntax=docker/dockerfile:1
# AgentDesk.Silo: an Orleans silo (ports 11111 silo-to-silo, 30000 Orleans gateway, 8080 health).
#   docker build -f deploy/docker/silo.Dockerfile -t agentdesk/silo:dev .      (from the repository root)
# `docker run agentdesk/silo:dev migrate` applies the PostgreSQL schema and exits.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Everything restore and publish read: the solution-wide props, the sources, and deploy/sql (the silo
# embeds the schema scripts). NuGet packages live in a BuildKit cache shared by both steps and both images.
COPY Directory.Build.props Directory.Packages.props ./
COPY src/ src/
COPY deploy/sql/ deploy/sql/
RUN --mount=type=cache,id=agentdesk-nuget,target=/root/.nuget/packages \
    dotnet restore src/AgentDesk.Silo/AgentDesk.Silo.csproj
RUN --mount=type=cache,id=agentdesk-nuget,target=/root/.nuget/packages \
    dotnet publish src/AgentDesk.Silo/AgentDesk.Silo.csproj --no-restore -c Release -o /app -p:UseAppHost=false

# The runtime: no SDK, no sources. Both programs serve HTTP, so both use the ASP.NET Core image.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
# Owned by root and read-only to the app user: the process cannot rewrite its own binaries.
COPY --from=build /app ./
ENV AgentDesk__Silo__HealthPort=8080
EXPOSE 8080 11111 30000
# A gen0 budget of 32 MiB per GC heap: the server GC sizes it from the CPU's cache, and where a virtual machine reports
# none it starts from almost nothing, which cost a signed intent about a third more CPU (docs/operations.md, "Sizing").
ENV DOTNET_GCgen0size=0x2000000
# The image's non-root "app" user (UID 1654).
USER $APP_UID
ENTRYPOINT ["dotnet", "AgentDesk.Silo.dll"]
