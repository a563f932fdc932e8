import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { arch, platform, release } from 'node:os';
import { join, relative } from 'node:path';
import { loadConfig } from '../config.js';

export interface InstallationEvidence {
  sealog_version: string;
  node: string;
  os: { platform: string; release: string; arch: string };
  dependencies: Record<string, string>;
  files: { path: string; bytes: number; sha256: string }[];
  /** SHA-256 over the sorted "sha256  path" lines: one value that names this installation. */
  files_sha256: string;
  config: { file: string; valid: true } | { file: string; valid: false; error: string };
}

// What an installation consists of: the program, its compiled code, native addon, default config.
const INSTALLED = ['bin', 'dist/src', 'config', 'build/Release', 'package.json', 'package-lock.json'];

function walk(root: string, path: string, out: string[]): void {
  let st;
  try {
    st = statSync(join(root, path));
  } catch {
    return;
  }
  if (st.isDirectory()) {
    for (const name of readdirSync(join(root, path)).sort()) walk(root, join(path, name), out);
  } else if (st.isFile() && !path.endsWith('.map') && !path.endsWith('.d.ts') && !(path.startsWith('build/') && !path.endsWith('.node'))) out.push(path);
}

/** Installation qualification evidence: versions, the SHA-256 of every installed file, the config validated. */
export function installationEvidence(root: string, configFile: string): InstallationEvidence {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; dependencies?: Record<string, string> };
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages?: Record<string, { version?: string }> };
  const dependencies = Object.fromEntries(
    Object.keys(pkg.dependencies ?? {}).map((d) => [d, lock.packages?.[`node_modules/${d}`]?.version ?? 'not installed']),
  );
  const paths: string[] = [];
  for (const p of INSTALLED) walk(root, p, paths);
  const files = paths.map((p) => {
    const data = readFileSync(join(root, p));
    return { path: p, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
  });
  let config: InstallationEvidence['config'];
  try {
    loadConfig(configFile);
    config = { file: relative(root, configFile) || configFile, valid: true };
  } catch (err) {
    config = { file: configFile, valid: false, error: (err as Error).message };
  }
  return {
    sealog_version: pkg.version,
    node: process.version,
    os: { platform: platform(), release: release(), arch: arch() },
    dependencies,
    files,
    files_sha256: createHash('sha256')
      .update(files.map((f) => `${f.sha256}  ${f.path}\n`).join(''))
      .digest('hex'),
    config,
  };
}
