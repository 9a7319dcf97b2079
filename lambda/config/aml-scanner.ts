/**
 * The markup scanner of `import-aml`: just enough XML to find `<AMAWSSES …>` tags exactly, with
 * their line numbers. Comments, CDATA and processing instructions hide the steps inside them.
 */

/** One `<AMAWSSES …>` tag: attribute names upper-cased, values entity-decoded. */
export interface Step {
  readonly line: number;
  readonly attributes: ReadonlyMap<string, string>;
}

/** A note or problem about one line of the markup (line 0: the whole file). */
export interface LineMessage {
  readonly line: number;
  readonly text: string;
}

interface Log {
  problem(line: number, text: string): void;
}

const TAG_NAME = /<\/?([A-Za-z_][\w:.-]*)/y;
// `<` ends an unclosed tag so one broken tag cannot swallow the steps after it.
const TAG_REST = /(?:[^<>"']|"[^"]*"|'[^']*')*>/y;
const ATTRIBUTE = /\s+([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/y;
const TAG_CLOSE = /^\s*\/?$/;
const SKIPPED = [
  ['<!--', '-->'],
  ['<![CDATA[', ']]>'],
  ['<?', '?>'],
  ['<!', '>'],
] as const;
const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#(\d+)|#x([0-9A-Fa-f]+));/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The AMAWSSES steps of a markup file, and what could not be read. */
export function scanSteps(markup: string): { steps: Step[]; problems: LineMessage[] } {
  const problems: LineMessage[] = [];
  const log: Log = { problem: (line, text) => problems.push({ line, text }) };
  return { steps: stepsOf(markup, log), problems };
}

function stepsOf(markup: string, log: Log): Step[] {
  const steps: Step[] = [];
  const lineAt = lineCounter(markup);
  let at = markup.indexOf('<');
  while (at !== -1) {
    const next =
      skipDeclaration(markup, at, lineAt, log) ?? readTag(markup, at, lineAt, steps, log);
    at = markup.indexOf('<', next);
  }
  return steps;
}

/** Comments, CDATA, processing instructions: steps inside them are not steps. */
function skipDeclaration(
  markup: string,
  at: number,
  lineAt: (index: number) => number,
  log: Log,
): number | undefined {
  const kind = SKIPPED.find(([open]) => markup.startsWith(open, at));
  if (kind === undefined) return undefined;
  const [open, close] = kind;
  const end = markup.indexOf(close, at + open.length);
  if (end !== -1) return end + close.length;
  log.problem(lineAt(at), `${open} is never closed with ${close}`);
  return markup.length;
}

function readTag(
  markup: string,
  at: number,
  lineAt: (index: number) => number,
  steps: Step[],
  log: Log,
): number {
  TAG_NAME.lastIndex = at;
  const name = TAG_NAME.exec(markup);
  if (name === null) return at + 1;
  TAG_REST.lastIndex = TAG_NAME.lastIndex;
  const rest = TAG_REST.exec(markup);
  const isStep = name[1]?.toUpperCase() === 'AMAWSSES' && !name[0].startsWith('</');
  if (!isStep) return rest === null ? at + 1 : TAG_REST.lastIndex;
  const line = lineAt(at);
  if (rest === null) {
    log.problem(line, 'the AMAWSSES tag is not closed with ">"');
    return at + 1;
  }
  const attributes = readAttributes(rest[0].slice(0, -1), line, log);
  if (attributes !== undefined) steps.push({ line, attributes });
  return TAG_REST.lastIndex;
}

function readAttributes(body: string, line: number, log: Log): Map<string, string> | undefined {
  const attributes = new Map<string, string>();
  let end = 0;
  ATTRIBUTE.lastIndex = 0;
  for (let match = ATTRIBUTE.exec(body); match !== null; match = ATTRIBUTE.exec(body)) {
    const name = (match[1] ?? '').toUpperCase();
    if (attributes.has(name))
      log.problem(line, `${name} is given twice; an attribute may appear once`);
    attributes.set(name, decode(match[2] ?? match[3] ?? ''));
    end = ATTRIBUTE.lastIndex;
  }
  if (TAG_CLOSE.test(body.slice(end))) return attributes;
  const after = [...attributes.keys()].at(-1);
  // The unreadable text is not quoted back: it may be part of an encrypted value.
  log.problem(
    line,
    `the AMAWSSES tag has text that is not NAME="value" or NAME='value' after ${after ?? 'the tag name'}`,
  );
  return undefined;
}

function decode(text: string): string {
  return text.replace(ENTITY, (entity, name?: string, decimal?: string, hex?: string) => {
    if (name !== undefined) return NAMED[name] ?? entity;
    const code = decimal !== undefined ? Number(decimal) : Number.parseInt(hex ?? '', 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : entity;
  });
}

/** Line numbers for increasing offsets, counted once over the text. */
function lineCounter(text: string): (index: number) => number {
  let line = 1;
  let counted = 0;
  return (index) => {
    for (; counted < index; counted++) if (text.charCodeAt(counted) === 10) line++;
    return line;
  };
}
