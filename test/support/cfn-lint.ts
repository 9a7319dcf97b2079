import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface LintMatch {
  readonly Level: string;
  readonly Rule: { readonly Id: string };
  readonly Message: string;
}

/**
 * CDK makes a function depend on its role explicitly (DependsOn) as well as through GetAtt,
 * which cfn-lint reports as redundant: harmless, and not ours to change.
 */
export const KNOWN_WARNINGS = ['W3005'];

/**
 * cfn-lint's findings on a template (a file, or its JSON text), each as `Level Rule: message`,
 * without the known warnings; undefined when cfn-lint is not installed.
 */
export async function cfnLintProblems(
  template: { readonly file: string } | { readonly json: string },
): Promise<string[] | undefined> {
  try {
    await run('cfn-lint', ['--version']);
  } catch {
    return undefined;
  }
  const file =
    'file' in template
      ? template.file
      : join(mkdtempSync(join(tmpdir(), 'ses-stats-lint-')), 'template.json');
  if ('json' in template) writeFileSync(file, template.json);
  let findings: LintMatch[];
  try {
    await run('cfn-lint', ['--format', 'json', file], { maxBuffer: 16 * 1024 * 1024 });
    findings = [];
  } catch (error) {
    findings = JSON.parse((error as { stdout?: string }).stdout ?? '[]');
  }
  return findings
    .filter((f) => f.Level === 'Error' || !KNOWN_WARNINGS.includes(f.Rule.Id))
    .map((f) => `${f.Level} ${f.Rule.Id}: ${f.Message}`);
}
