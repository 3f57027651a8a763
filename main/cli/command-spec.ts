/**
 * A command is defined once — its name, summary, positionals, option table (with a description
 * per option) and examples — and everything else is derived from that definition: the parser's
 * config and its errors (here), the help texts (help-text.ts) and the shell completion scripts
 * (completion.ts). They cannot drift apart, because there is nothing to keep in step.
 *
 * This module stays light (no engine, no SDK): `cosync --help` and completion load only it and
 * the command table.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CosyncError } from '../../app/result.js';
import type { Session } from '../engine/session.js';

/** How a shell completes a value: file names, folder names, or one of a few words. */
export type Completion = 'file' | 'directory' | ReadonlyArray<string>;

/** One option of a command. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** The value's placeholder in usage lines (`--bucket B`); string options only. */
  readonly value?: string;
  /** One line for the help text. */
  readonly description: string;
  readonly complete?: Completion;
}

/** A command's options by long name (without the leading dashes). */
export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** What the parser gives a command for its table: strings for string options, booleans for flags. */
export type OptionValues<O extends OptionTable> = { readonly [K in keyof O]?: (O[K]['type'] extends 'boolean' ? boolean : string) | undefined };

/** A command's parsed arguments. */
export interface ParsedArguments<O extends OptionTable> {
  readonly values: OptionValues<O>;
  readonly positionals: ReadonlyArray<string>;
}

/** A command that runs (`cosync backup`, `cosync key import`). */
export interface CommandSpec<O extends OptionTable = OptionTable> {
  readonly kind: 'command';
  /** The words after `cosync`, e.g. `key import`. */
  readonly name: string;
  /** Positionals and the options it cannot run without, for usage lines: `NAME --out FILE`. */
  readonly synopsis: string;
  /** One line: what it does. */
  readonly summary: string;
  /** More paragraphs for its own help. */
  readonly details?: ReadonlyArray<string>;
  readonly options: O;
  /** How a shell completes its positionals (none when absent). */
  readonly positionals?: Completion;
  readonly examples: ReadonlyArray<string>;
  /**
   * Set when an argument may be a secret typed by mistake (a passphrase): then errors about
   * arguments never quote them, and say this instead.
   */
  readonly misuse?: string;
  /** Loads the command's module (on demand: a backup never loads key administration) and runs it. */
  run(parsed: ParsedArguments<O>, session: Session): Promise<number>;
}

/** A word that only groups commands (`cosync key …`). */
export interface GroupSpec {
  readonly kind: 'group';
  readonly name: string;
  readonly summary: string;
  readonly details?: ReadonlyArray<string>;
  readonly commands: ReadonlyArray<CommandSpec>;
  /** As for commands: the word after the group may be a secret, and is never quoted. */
  readonly misuse?: string;
}

export type CommandEntry = CommandSpec | GroupSpec;

/** A heading of `cosync --help`, with the commands listed under it. */
export interface CommandSection {
  readonly title: string;
  readonly notes?: ReadonlyArray<string>;
  readonly entries: ReadonlyArray<CommandEntry>;
}

/** Checks a command definition and erases its option types, so definitions can share one list. */
export function defineCommand<const O extends OptionTable>(spec: Omit<CommandSpec<O>, 'kind'>): CommandSpec {
  return { kind: 'command', ...spec } as unknown as CommandSpec;
}

/** The last word of a command's name (`import` of `key import`). */
export function commandWord(entry: CommandEntry): string {
  return entry.name.slice(entry.name.lastIndexOf(' ') + 1);
}

/** `--bucket B`, `-h, --help`: an option as usage lines and help show it. */
export function optionLabel(name: string, spec: OptionSpec): string {
  const long = `--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
  return spec.short === undefined ? long : `-${spec.short}, ${long}`;
}

/** parseArgs's config for a table (the descriptions and completions are ours, not its). */
export function parserOptions(table: OptionTable): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(Object.entries(table).map(([name, spec]) => [name, spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short }]));
}

/** The run of `cosync help …` that explains a command: named in every usage error. */
export function helpHint(name: string): string {
  return `run \`cosync help${name === '' ? '' : ` ${name}`}\``;
}

/**
 * Parses a command's arguments with its table and the global options. An unknown option gets one
 * line naming the closest known one and the help to read; `--help` anywhere wins over errors.
 */
export function parseCommandArguments(
  command: CommandSpec,
  args: ReadonlyArray<string>,
  globals: OptionTable,
): { parsed: ParsedArguments<OptionTable>; help: boolean } {
  const table: OptionTable = { ...globals, ...command.options };
  const options = parserOptions(table);
  const misuse = (message: string): CosyncError => new CosyncError('usage', command.misuse ?? `${message}; ${helpHint(command.name)}`);
  // A lenient pass first: it never throws, so --help and unknown options are found wherever they are.
  const { tokens } = parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });
  let help = false;
  let unknown: string | undefined;
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (token.name === 'help' && token.value === undefined) help = true;
    else if (!(token.name in table)) unknown ??= token.rawName;
  }
  if (help) return { parsed: { values: {}, positionals: [] }, help };
  if (unknown !== undefined) {
    const known = Object.entries(table).map(([name]) => `--${name}`);
    const closest = closestWord(unknown, known);
    throw misuse(`unknown option ${unknown} for \`cosync ${command.name}\`${closest === undefined ? '' : ` (did you mean ${closest}?)`}`);
  }
  for (const token of tokens) {
    const spec = token.kind === 'option' ? table[token.name] : undefined;
    if (token.kind !== 'option' || spec === undefined) continue;
    if (spec.type === 'string' && token.value === undefined) throw misuse(`${token.rawName} needs a value (${optionLabel(token.name, spec)})`);
    if (spec.type === 'boolean' && token.inlineValue === true) throw misuse(`${token.rawName} takes no value`);
  }
  try {
    const { values, positionals } = parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
    return { parsed: { values: values as OptionValues<OptionTable>, positionals }, help };
  } catch (error) {
    // The rest of parseArgs's errors (a value missing, a value given to a flag) say what is wrong.
    // Some of them span lines ("argument is ambiguous"); an error is one line on stderr.
    if (isParseArgsError(error)) throw misuse(oneLine((error as Error).message).replace(/\.$/, ''));
    throw error;
  }
}

/** parseArgs throws TypeErrors with codes like ERR_PARSE_ARGS_UNKNOWN_OPTION. */
export function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/**
 * The candidate a typo most likely meant, like git's "did you mean": one the word begins, else
 * the nearest within a third of its length in edits (a swap of two letters is one edit).
 */
export function closestWord(word: string, candidates: ReadonlyArray<string>): string | undefined {
  const stem = word.replace(/=.*$/, '');
  if (stem.replace(/^-+/, '').length >= 2) {
    const extended = candidates.find((candidate) => candidate.startsWith(stem));
    if (extended !== undefined) return extended;
  }
  const allowed = Math.max(1, Math.floor(stem.replace(/^-+/, '').length / 3));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(stem, candidate);
    if (distance <= allowed && (best === undefined || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = rows[i] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(at(i, j), at(i - 2, j - 2) + 1);
    }
  }
  return at(a.length, b.length);
}

/** The commands a group or the top level offers. */
function childrenOf(parent: GroupSpec | undefined, top: ReadonlyArray<CommandEntry>): ReadonlyArray<CommandEntry> {
  return parent === undefined ? top : parent.commands;
}

/**
 * The entry one more word names, under a group (or at the top level). An unknown word is a usage
 * error that lists the choices and names the closest one; under a group whose words may be
 * secrets, it is not quoted.
 */
export function childEntry(parent: GroupSpec | undefined, word: string, top: ReadonlyArray<CommandEntry>): CommandEntry {
  const children = childrenOf(parent, top);
  const found = children.find((entry) => commandWord(entry) === word);
  if (found !== undefined) return found;
  if (parent?.misuse !== undefined) throw new CosyncError('usage', `${parent.misuse}; ${helpHint(parent.name)}`);
  const words = children.map(commandWord);
  const closest = closestWord(word, words);
  const suggestion = closest === undefined ? '' : ` (did you mean \`cosync ${parent === undefined ? '' : `${parent.name} `}${closest}\`?)`;
  if (parent === undefined) return usageError(`unknown command ${JSON.stringify(word)}${suggestion}; ${helpHint('')} for the list`);
  return usageError(`unknown ${parent.name} command ${JSON.stringify(word)}: use ${listWords(words)}${suggestion}; ${helpHint(parent.name)}`);
}

/** The error for a group named without one of its commands. */
export function missingSubcommand(group: GroupSpec): CosyncError {
  if (group.misuse !== undefined) return new CosyncError('usage', `${group.misuse}; ${helpHint(group.name)}`);
  return new CosyncError('usage', `cosync ${group.name} needs a command: ${listWords(group.commands.map(commandWord))}; ${helpHint(group.name)}`);
}

/** The entry a list of words names (`key import`); usage errors as childEntry's. */
export function entryFor(words: ReadonlyArray<string>, top: ReadonlyArray<CommandEntry>): CommandEntry {
  let entry: CommandEntry | undefined;
  for (const word of words) {
    if (entry?.kind === 'command') throw new CosyncError('usage', `cosync ${entry.name} has no subcommands (got ${JSON.stringify(word)}); ${helpHint(entry.name)}`);
    entry = childEntry(entry, word, top);
  }
  if (entry === undefined) throw new CosyncError('usage', `name a command; ${helpHint('')} for the list`);
  return entry;
}

/** `a, b or c`. */
export function listWords(words: ReadonlyArray<string>): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words.at(-1) as string}`;
}

function usageError(message: string): never {
  throw new CosyncError('usage', message);
}

/** A message that spans lines, as one line (a sentence end kept, else a full stop between them). */
export function oneLine(message: string): string {
  return message.replace(/([.?!])?\s*\n\s*/g, (_line, end: string | undefined) => `${end ?? '.'} `);
}
