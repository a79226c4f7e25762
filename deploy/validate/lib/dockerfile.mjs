// Dockerfile and .dockerignore checks. The Dockerfiles are parsed with dockerfile-ast (the parser
// behind the VS Code Docker extension), so continuation lines, JSON forms and flags read as Docker reads them.
import { DockerfileParser } from 'dockerfile-ast';

/** Splits a parsed Dockerfile into stages: { from, name, image, tag, instructions }. */
export function stages(text) {
  const dockerfile = DockerfileParser.parse(text);
  const result = [];
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword().toUpperCase();
    if (keyword === 'FROM') {
      result.push({
        from: instruction,
        name: instruction.getBuildStage(),
        image: instruction.getImageName(),
        tag: instruction.getImageTag(),
        digest: instruction.getImageDigest(),
        registry: instruction.getRegistry(),
        instructions: [],
      });
    } else if (result.length > 0) {
      result[result.length - 1].instructions.push(instruction);
    }
  }
  return result;
}

const fullImage = (stage) => [stage.registry, stage.image].filter(Boolean).join('/');
const args = (instruction) => instruction.getArgumentsContent() ?? '';
const flag = (instruction, name) => (typeof instruction.getFlags === 'function' ? instruction.getFlags() : []).find((f) => f.getName() === name)?.getValue();
const jsonWords = (instruction) => (typeof instruction.getJSONStrings === 'function' ? instruction.getJSONStrings().map((s) => s.getJSONValue()) : []);

/**
 * @param text the Dockerfile
 * @param expect { project: 'AgentDesk.Silo', where: 'deploy/docker/silo.Dockerfile' }
 */
export function dockerfileFindings(text, expect) {
  const findings = [];
  const add = (rule, message) => findings.push({ where: expect.where, rule, message });
  const all = stages(text);
  if (all.length < 2) {
    add('multi-stage', `has ${all.length} stage(s): build with the SDK in one stage, run on the runtime image in another`);
    return findings;
  }
  const names = new Set(all.map((s) => s.name).filter(Boolean));

  for (const s of all) {
    if (names.has(s.image)) continue; // FROM an earlier stage
    if (!s.tag && !s.digest) add('image-tag', `FROM ${fullImage(s)} has no tag (it would mean :latest)`);
    else if (s.tag === 'latest') add('image-tag', `FROM ${fullImage(s)}:latest`);
  }

  const build = all[0];
  if (fullImage(build) !== 'mcr.microsoft.com/dotnet/sdk' || !/^10\.0\b/.test(build.tag ?? '')) add('stages', `the first stage is FROM ${fullImage(build)}:${build.tag}, not mcr.microsoft.com/dotnet/sdk:10.0`);
  const projectFile = `src/${expect.project}/${expect.project}.csproj`;
  const publish = all.slice(0, -1).flatMap((s) => s.instructions).find((i) => i.getKeyword().toUpperCase() === 'RUN' && /dotnet\s+publish/.test(args(i)));
  if (!publish) add('publish', 'no build stage runs `dotnet publish`');
  else {
    if (!/(-c|--configuration)[\s=]+Release\b/.test(args(publish))) add('publish', '`dotnet publish` does not build Release');
    if (!args(publish).includes(projectFile)) add('publish', `\`dotnet publish\` does not publish ${projectFile}`);
  }
  const copiesSql = build.instructions.some((i) => ['COPY', 'ADD'].includes(i.getKeyword().toUpperCase()) && /(^|\s)(deploy\/sql\/?|\.\/?)(\s|$)/.test(args(i)));
  if (!copiesSql) add('build-context', 'the build stage does not copy deploy/sql, which the silo project embeds');

  const final = all[all.length - 1];
  const where = 'final stage';
  if (fullImage(final) !== 'mcr.microsoft.com/dotnet/aspnet' || !/^10\.0\b/.test(final.tag ?? '')) add('stages', `the ${where} is FROM ${fullImage(final)}:${final.tag}, not mcr.microsoft.com/dotnet/aspnet:10.0 (no SDK at run time)`);
  for (const i of final.instructions) {
    if (i.getKeyword().toUpperCase() === 'RUN' && /dotnet\s+(publish|build|restore)/.test(args(i))) add('stages', `the ${where} builds (${args(i).trim()}): building belongs in the SDK stage`);
  }
  const copyFrom = final.instructions.filter((i) => i.getKeyword().toUpperCase() === 'COPY' && flag(i, 'from'));
  if (!copyFrom.some((i) => names.has(flag(i, 'from')) || /^\d+$/.test(flag(i, 'from')))) add('stages', `the ${where} copies nothing from a build stage (COPY --from=<stage>)`);
  const users = final.instructions.filter((i) => i.getKeyword().toUpperCase() === 'USER');
  const user = users.length > 0 ? args(users[users.length - 1]).trim() : null;
  if (!user) add('non-root', `the ${where} has no USER: the container would run as root`);
  else if (/^(root|0)(:.*)?$/.test(user)) add('non-root', `the ${where} runs as USER ${user}`);
  const entrypoint = final.instructions.filter((i) => i.getKeyword().toUpperCase() === 'ENTRYPOINT').pop();
  const words = entrypoint ? jsonWords(entrypoint) : [];
  if (!entrypoint) add('entrypoint', `the ${where} has no ENTRYPOINT`);
  else if (words.length === 0) add('entrypoint', 'ENTRYPOINT is in shell form: SIGTERM would reach /bin/sh, not dotnet, and the graceful shutdown would not run');
  else if (words[0] !== 'dotnet' || words[1] !== `${expect.project}.dll`) add('entrypoint', `ENTRYPOINT ${JSON.stringify(words)} is not ["dotnet", "${expect.project}.dll"]`);
  return findings;
}

// ---------------------------------------------------------------------------------------------
// .dockerignore: Docker's rules (moby/patternmatcher): patterns are relative to the context root,
// `**` spans directories, a pattern that matches a directory excludes everything under it, `!` re-includes,
// the last matching pattern wins. Unlike .gitignore, `bin/` only matches a bin directly under the root.

function patternToRegExp(pattern) {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') { i++; re += '(?:.*/)?'; } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function dockerignoreMatcher(text) {
  const rules = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((line) => {
    const negate = line.startsWith('!');
    const pattern = (negate ? line.slice(1) : line).trim().replace(/^\/+/, '').replace(/\/+$/, '').replace(/^\.\//, '');
    return { negate, regex: patternToRegExp(pattern) };
  });
  return (path) => {
    const parts = path.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) {
      if (candidates.some((c) => rule.regex.test(c))) excluded = !rule.negate;
    }
    return excluded;
  };
}

/** What must stay out of (and in) the Docker build context. */
export function dockerignoreFindings(text) {
  const findings = [];
  if (text === null) return [{ where: '.dockerignore', rule: 'dockerignore', message: 'there is no .dockerignore at the repository root' }];
  const excluded = dockerignoreMatcher(text);
  const mustExclude = [
    'src/AgentDesk.Silo/bin/Release/net10.0/AgentDesk.Silo.dll',
    'src/AgentDesk.Gateway/obj/project.assets.json',
    'src/AgentDesk.Venues/Evm/Solidity/node_modules/pkg/index.js',
    'tests/interop/node_modules/ethers/package.json',
    'TestResults/AgentDesk.Cluster.Tests/run.trx',
    'data/agentdesk.db',
    'src/AgentDesk.Gateway/data/admin.key',
  ];
  const mustInclude = [
    'Directory.Build.props',
    'Directory.Packages.props',
    'src/AgentDesk.Silo/AgentDesk.Silo.csproj',
    'src/AgentDesk.Silo/Program.cs',
    'src/AgentDesk.Venues/Evm/Artifacts/Vault.json',
    'deploy/sql/postgres/001_orleans_storage.sql',
  ];
  for (const path of mustExclude) if (!excluded(path)) findings.push({ where: '.dockerignore', rule: 'dockerignore', message: `does not keep ${path} out of the build context` });
  for (const path of mustInclude) if (excluded(path)) findings.push({ where: '.dockerignore', rule: 'dockerignore', message: `keeps ${path} out of the build context, but the build needs it` });
  return findings;
}
