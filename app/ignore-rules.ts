/**
 * Ignore rules in gitignore syntax: cosync's built-ins (temp, lock and OS files, our own partial
 * downloads and trash) followed by the folder's `.cosyncignore`. As in git, the last matching
 * rule wins, `!` re-includes, a trailing `/` matches folders only, a `/` at the start or in the
 * middle anchors a pattern to the folder's root, and nothing inside an ignored folder can be
 * re-included. Pure: the caller reads the file.
 */

/** Always applied, before the user's rules (so a user's `!Thumbs.db` can bring one back). */
export const BUILT_IN_IGNORES: ReadonlyArray<string> = [
  '~$*', // Microsoft Office owner files
  '.~lock.*', // LibreOffice locks
  '*.swp',
  '*.swo', // vim swap files
  '.DS_Store',
  'Thumbs.db',
  'desktop.ini',
  '*.cosync-partial', // our own downloads in progress
  '/.cosync-trash/', // the bucket's trash is never uploaded from disk
];

export interface IgnoreRules {
  /** `relativePath`: '/'-separated, relative to the folder root, no leading '/'. */
  isIgnored(relativePath: string, isDirectory: boolean): boolean;
}

interface Rule {
  readonly regex: RegExp;
  readonly negated: boolean;
  readonly directoryOnly: boolean;
}

/** Translates one glob (without its `!`, leading `/` or trailing `/`) into a regular expression body. */
function globToRegex(glob: string): string {
  let out = '';
  let i = 0;
  while (i < glob.length) {
    const char = glob[i] as string;
    if (char === '*') {
      if (glob[i + 1] === '*') {
        const atStart = i === 0;
        const slashAfter = glob[i + 2] === '/';
        const slashBefore = i > 0 && glob[i - 1] === '/';
        if (atStart && slashAfter) {
          out += '(?:.*/)?'; // "**/x": x at any depth
          i += 3;
          continue;
        }
        if (slashBefore && slashAfter) {
          out = `${out.slice(0, -1)}(?:/.*)?/`; // "a/**/b": zero or more folders between
          i += 3;
          continue;
        }
        if (slashBefore && i + 2 === glob.length) {
          out += '.*'; // "a/**": everything inside a
          i += 2;
          continue;
        }
        out += '[^/]*'; // "**" elsewhere is an ordinary "*"
        i += 2;
        continue;
      }
      out += '[^/]*';
    } else if (char === '?') {
      out += '[^/]';
    } else if (char === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close === -1) {
        out += '\\['; // unclosed: a literal bracket
      } else {
        const body = glob.slice(i + 1, close);
        const negated = body.startsWith('!') || body.startsWith('^');
        out += `[${negated ? '^' : ''}${(negated ? body.slice(1) : body).replace(/[\\\][^]/g, '\\$&')}]`;
        i = close + 1;
        continue;
      }
    } else if (char === '\\' && i + 1 < glob.length) {
      out += (glob[i + 1] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i += 2;
      continue;
    } else {
      out += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
    i++;
  }
  return out;
}

function parseLine(line: string): Rule | undefined {
  // Trailing spaces are dropped unless escaped ("a\ " keeps one space).
  let text = line.replace(/(?<!\\)\s+$/, '');
  if (text.endsWith('\\ ')) text = `${text.slice(0, -2)} `;
  if (text === '' || text.startsWith('#')) return undefined;
  let negated = false;
  if (text.startsWith('!')) {
    negated = true;
    text = text.slice(1);
  } else if (text.startsWith('\\!') || text.startsWith('\\#')) {
    text = text.slice(1);
  }
  let directoryOnly = false;
  if (text.endsWith('/') && !text.endsWith('\\/')) {
    directoryOnly = true;
    text = text.replace(/\/+$/, '');
  }
  if (text === '') return undefined;
  const anchored = text.includes('/');
  if (text.startsWith('/')) text = text.slice(1);
  if (text === '') return undefined;
  try {
    const body = globToRegex(text);
    return { regex: new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`, 'u'), negated, directoryOnly };
  } catch {
    return undefined; // A pattern that cannot be compiled is skipped, never fatal.
  }
}

class CompiledRules implements IgnoreRules {
  readonly #rules: ReadonlyArray<Rule>;
  /** Folder results (a folder's answer decides everything inside it); bounded. */
  readonly #folders = new Map<string, boolean>();

  constructor(rules: ReadonlyArray<Rule>) {
    this.#rules = rules;
  }

  /** The last rule that matches decides. */
  #matches(path: string, isDirectory: boolean): boolean {
    for (let index = this.#rules.length - 1; index >= 0; index--) {
      const rule = this.#rules[index] as Rule;
      if (rule.directoryOnly && !isDirectory) continue;
      if (rule.regex.test(path)) return !rule.negated;
    }
    return false;
  }

  #folderIgnored(folder: string): boolean {
    const cached = this.#folders.get(folder);
    if (cached !== undefined) return cached;
    const slash = folder.lastIndexOf('/');
    const result = (slash > 0 && this.#folderIgnored(folder.slice(0, slash))) || this.#matches(folder, true);
    if (this.#folders.size > 100_000) this.#folders.clear();
    this.#folders.set(folder, result);
    return result;
  }

  isIgnored(relativePath: string, isDirectory: boolean): boolean {
    const path = relativePath.replace(/^\/+|\/+$/g, '');
    if (path === '') return false;
    const slash = path.lastIndexOf('/');
    if (slash > 0 && this.#folderIgnored(path.slice(0, slash))) return true;
    return isDirectory ? this.#folderIgnored(path) : this.#matches(path, false);
  }
}

/** Parses `.cosyncignore` text on top of the built-ins. Never throws on user text. */
export function parseIgnoreRules(text: string, _source?: string): IgnoreRules {
  const lines = [...BUILT_IN_IGNORES, ...text.split(/\r?\n/)];
  return new CompiledRules(lines.map(parseLine).filter((rule): rule is Rule => rule !== undefined));
}

/** Only the built-ins. */
export const DEFAULT_IGNORE_RULES: IgnoreRules = parseIgnoreRules('');
