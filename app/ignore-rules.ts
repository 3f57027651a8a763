/**
 * Ignore rules in gitignore syntax: cosync's built-ins (temp, lock and OS files, our own partial
 * downloads and trash) followed by the folder's root `.cosyncignore`.
 *
 * The semantics are git's, for a single ignore file at the root: the last matching rule wins, `!`
 * re-includes, a trailing `/` matches folders only, a `/` at the start or in the middle anchors a
 * pattern to the root (otherwise it matches the name at any depth), and nothing inside an ignored
 * folder can be re-included — git never descends into it, and neither does the scanner.
 *
 * Where it differs from git, on purpose: `?` and a bracket expression match one character (a
 * Unicode code point) where git's wildmatch matches one byte, so `?` matches a name `é` and `[é]`
 * matches é, which git does not; and patterns are NFC-normalized, like every path the scanner
 * produces. Everything else is checked against `git check-ignore` by ignore-rules.git.test.ts.
 *
 * Pure: the caller reads the file. User text never makes parsing throw; a pattern git would reject
 * is skipped (or, for an unclosed `[`, matched literally) and reported in `problems`.
 */

/** Always applied, before the user's rules (so a user's `!Thumbs.db` can bring one back). */
export const BUILT_IN_IGNORES: ReadonlyArray<string> = [
  '~$*', // Microsoft Office owner files
  '.~lock.*', // LibreOffice locks (".~lock.name.odt#")
  '*.swp', // vim swap files
  '*.swo',
  '.DS_Store', // macOS Finder
  'Thumbs.db', // Windows Explorer
  'desktop.ini',
  '*.cosync-partial', // our downloads in progress: ".name.<hex>.cosync-partial" beside the destination
  '.cosync-partial-*', // the same, in the older prefix form, so a leftover is never uploaded
  // The trash is the folder-relative prefix `.cosync-trash/` in the bucket (TRASH_PREFIX), so only
  // the root one is ours; a user's `photos/.cosync-trash/` is ordinary data and is synced.
  '/.cosync-trash/',
];

export interface IgnoreRules {
  /**
   * `relativePath`: '/'-separated, relative to the sync folder root, no leading '/'.
   * `isDirectory`: whether the path is a folder (patterns ending in '/' match folders only).
   */
  isIgnored(relativePath: string, isDirectory: boolean): boolean;
}

/** Parsed rules plus what was wrong with the user's text, for a warning in the log or UI. */
export interface ParsedIgnoreRules extends IgnoreRules {
  /** One sentence per pattern that was skipped or read literally, naming the file and line. */
  readonly problems: ReadonlyArray<string>;
}

interface Rule {
  readonly regex: RegExp;
  readonly negated: boolean;
  readonly directoryOnly: boolean;
  /** A pattern without '/' matches the last path segment at any depth, so only that is tested. */
  readonly matchesName: boolean;
}

/** Why a pattern is not used as written; becomes a problem sentence. */
class PatternProblem extends Error {
  constructor(
    readonly reason: string,
    readonly skipped: boolean,
  ) {
    super(reason);
  }
}

/** ASCII, as git's wildmatch in the C locale. */
const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  blank: ' \\t',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: ' \\t\\n\\v\\f\\r',
  upper: 'A-Z',
  xdigit: '0-9A-Fa-f',
};

/** A literal code point as a regex atom; `\u{…}` is valid both inside and outside a class under the `u` flag. */
function literal(char: string): string {
  return /^[\p{L}\p{N}_ ]$/u.test(char) ? char : `\\u{${(char.codePointAt(0) ?? 0).toString(16)}}`;
}

/**
 * The bracket expression starting at `chars[open]` ('['), as a regex atom and the index after its ']',
 * or undefined when it never closes. Follows wildmatch: `!` or `^` negates, a leading `]` is literal,
 * `\` escapes, `a-z` is a range (an inverted one matches only its first character), `[:name:]` is a POSIX class, and
 * no class ever matches '/'.
 */
function bracketExpression(chars: ReadonlyArray<string>, open: number): { atom: string; next: number } | undefined {
  let index = open + 1;
  const negated = chars[index] === '!' || chars[index] === '^';
  if (negated) index++;
  const items: string[] = [];
  let first = true;
  for (;;) {
    let char = chars[index];
    if (char === undefined) return undefined;
    if (char === ']' && !first) break;
    first = false;
    if (char === '[' && chars[index + 1] === ':') {
      const close = chars.indexOf(':', index + 2);
      if (close !== -1 && chars[close + 1] === ']') {
        const name = chars.slice(index + 2, close).join('');
        const range = POSIX_CLASSES[name];
        if (range === undefined) throw new PatternProblem(`unknown character class [:${name}:]`, true);
        items.push(range);
        index = close + 2;
        continue;
      }
    }
    if (char === '\\') {
      char = chars[++index];
      if (char === undefined) return undefined;
    }
    let end = char;
    if (chars[index + 1] === '-' && chars[index + 2] !== undefined && chars[index + 2] !== ']') {
      index += 2;
      end = chars[index] as string;
      if (end === '\\') {
        const escaped = chars[++index];
        if (escaped === undefined) return undefined;
        end = escaped;
      }
    }
    const from = char.codePointAt(0) ?? 0;
    const to = end.codePointAt(0) ?? 0;
    // An inverted range ("c-a") still matches its first character: wildmatch compares each
    // character with the name's before it sees that a '-' follows (git's wildmatch.c, dowild).
    if (from < to) items.push(`${literal(char)}-${literal(end)}`);
    else items.push(literal(char));
    index++;
  }
  const body = items.join('');
  if (negated) return { atom: `[^/${body}]`, next: index + 1 };
  return { atom: body === '' ? '(?!)' : `(?!/)[${body}]`, next: index + 1 };
}

/**
 * The regex body of one glob (already stripped of `!`, the anchoring '/' and the trailing '/').
 * `*` and `?` never cross '/'; `**` spans folders only as a whole segment (leading, between two
 * slashes, or trailing); elsewhere it is an ordinary `*`, as in git.
 */
function globToRegex(glob: string, onProblem: (problem: PatternProblem) => void): string {
  const chars = Array.from(glob); // code points, so `?` and classes see one character per emoji
  let out = '';
  let index = 0;
  while (index < chars.length) {
    const char = chars[index] as string;
    if (char === '*') {
      let end = index;
      while (chars[end] === '*') end++;
      const atSegmentStart = index === 0 || chars[index - 1] === '/';
      const atSegmentEnd = end === chars.length || chars[end] === '/';
      if (end - index >= 2 && atSegmentStart && atSegmentEnd) {
        if (end === chars.length) {
          out += index === 0 ? '.*' : '.+'; // "**" alone: everything; "x/**": everything inside x
          index = end;
        } else {
          out += '(?:.*/)?'; // "**/": zero or more folders
          index = end + 1;
        }
        continue;
      }
      out += '[^/]*';
      index = end;
    } else if (char === '?') {
      out += '[^/]';
      index++;
    } else if (char === '[') {
      const bracket = bracketExpression(chars, index);
      if (bracket === undefined) {
        onProblem(new PatternProblem("unclosed '[' is matched literally", false));
        out += literal('[');
        index++;
      } else {
        out += bracket.atom;
        index = bracket.next;
      }
    } else if (char === '\\') {
      const escaped = chars[index + 1];
      // git's wildmatch never matches a pattern that ends in a lone backslash.
      if (escaped === undefined) throw new PatternProblem('a trailing backslash escapes nothing', true);
      out += literal(escaped);
      index += 2;
    } else {
      out += literal(char);
      index++;
    }
  }
  return out;
}

/** Drops trailing spaces (not tabs) unless backslash-escaped, as git's trim_trailing_spaces does. */
function trimTrailingSpaces(line: string): string {
  let keep = line.length;
  let spacesStart = -1;
  for (let index = 0; index < line.length; index++) {
    const char = line[index];
    if (char === ' ') {
      if (spacesStart === -1) spacesStart = index;
      continue;
    }
    spacesStart = -1;
    if (char === '\\') index++; // the escaped character, a space included, is kept
  }
  if (spacesStart !== -1) keep = spacesStart;
  return line.slice(0, keep);
}

/** One line of an ignore file as a rule; undefined for blanks, comments and unusable patterns. */
function parseLine(line: string, onProblem: (problem: PatternProblem) => void): Rule | undefined {
  if (line.startsWith('#')) return undefined;
  let pattern = trimTrailingSpaces(line);
  let negated = false;
  if (pattern.startsWith('!')) {
    negated = true;
    pattern = pattern.slice(1);
  }
  // "\#" and "\!" need no special case: the glob reads any "\x" as a literal x.
  let directoryOnly = false;
  while (pattern.endsWith('/')) {
    directoryOnly = true;
    pattern = pattern.slice(0, -1);
  }
  const anchored = pattern.includes('/');
  if (pattern.startsWith('/')) pattern = pattern.slice(1);
  if (pattern === '') return undefined;
  try {
    const body = globToRegex(pattern, onProblem);
    // 's': a '.' from "**" must also span names containing a newline, which Linux allows.
    return { regex: new RegExp(`^${body}$`, 'su'), negated, directoryOnly, matchesName: !anchored };
  } catch (error) {
    if (error instanceof PatternProblem) onProblem(error);
    else onProblem(new PatternProblem('not a valid pattern', true)); // defensive: a regex the engine refuses
    return undefined;
  }
}

/** The rules of a text, in file order; `source` (when given) labels the problems. */
function parseLines(text: string, source: string | undefined, problems: string[]): Rule[] {
  const label = source ?? 'ignore rules';
  const rules: Rule[] = [];
  // NFC, like every path the scanner produces, so a pattern saved from an NFD (macOS) source still matches.
  const lines = text.replace(/^\uFEFF/, '').normalize('NFC').split(/\r?\n/);
  lines.forEach((line, index) => {
    const onProblem = (problem: PatternProblem): void => {
      problems.push(`${label} line ${index + 1}: ${JSON.stringify(line)}: ${problem.reason}${problem.skipped ? '; the line is skipped' : ''}`);
    };
    const rule = parseLine(line, onProblem);
    if (rule !== undefined) rules.push(rule);
  });
  return rules;
}

/** Folder answers kept at most; a scan asks about each folder once per entry inside it. */
const FOLDER_CACHE_LIMIT = 50_000;

class CompiledRules implements ParsedIgnoreRules {
  /** Reversed, so the first match found is the last rule in file order — the one that decides. */
  readonly #rulesLastFirst: ReadonlyArray<Rule>;
  readonly #folders = new Map<string, boolean>();

  constructor(
    rules: ReadonlyArray<Rule>,
    readonly problems: ReadonlyArray<string>,
  ) {
    this.#rulesLastFirst = [...rules].reverse();
  }

  isIgnored(relativePath: string, isDirectory: boolean): boolean {
    let path = relativePath;
    if (path.startsWith('/') || path.endsWith('/')) path = path.replace(/^\/+|\/+$/g, '');
    if (path === '') return false; // the folder root itself
    const slash = path.lastIndexOf('/');
    if (slash !== -1 && this.#folderIgnored(path.slice(0, slash))) return true;
    return isDirectory ? this.#folderIgnored(path) : this.#decide(path, slash, false);
  }

  /** A folder is ignored if it or any folder above it is: git never looks inside an ignored folder. */
  #folderIgnored(folder: string): boolean {
    const cached = this.#folders.get(folder);
    if (cached !== undefined) return cached;
    const slash = folder.lastIndexOf('/');
    const ignored = (slash !== -1 && this.#folderIgnored(folder.slice(0, slash))) || this.#decide(folder, slash, true);
    if (this.#folders.size >= FOLDER_CACHE_LIMIT) this.#folders.clear();
    this.#folders.set(folder, ignored);
    return ignored;
  }

  /** The last rule matching `path` itself decides; no match means kept. */
  #decide(path: string, lastSlash: number, isDirectory: boolean): boolean {
    const name = lastSlash === -1 ? path : path.slice(lastSlash + 1);
    for (const rule of this.#rulesLastFirst) {
      if (rule.directoryOnly && !isDirectory) continue;
      if (rule.regex.test(rule.matchesName ? name : path)) return !rule.negated;
    }
    return false;
  }
}

/**
 * Parses `.cosyncignore` text (gitignore syntax) on top of the built-ins. `source` names the file in
 * `problems`. Never throws on user text.
 */
export function parseIgnoreRules(text: string, source?: string): ParsedIgnoreRules {
  const problems: string[] = [];
  const builtIns = parseLines(BUILT_IN_IGNORES.join('\n'), 'built-in ignores', problems);
  const userRules = parseLines(text, source, problems);
  return new CompiledRules([...builtIns, ...userRules], problems);
}

/** Only the built-ins. */
export const DEFAULT_IGNORE_RULES: IgnoreRules = parseIgnoreRules('');
