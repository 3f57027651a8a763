/**
 * The help texts, made from the command table: `cosync --help` (every command under its
 * heading), a group's (`cosync key --help`) and a command's own (`cosync help backup`): usage,
 * options with their descriptions, and examples.
 */
import { commandWord, entryFor, optionLabel, type CommandEntry, type CommandSpec, type GroupSpec, type OptionTable, type ParsedArguments } from './command-spec.js';
import { COMMAND_SECTIONS, TOP_LEVEL, TOP_LEVEL_OPTIONS } from './commands.js';
import { GLOBAL_OPTIONS } from './cli-options.js';
import { EXIT_CODES } from './exit-codes.js';
import type { Session } from '../engine/session.js';

/** Lines are wrapped to fit an 100-column terminal. */
const WIDTH = 100;
/** Where descriptions start in two-column lists. */
const COLUMN = 37;

/** `cosync help [COMMAND [SUBCOMMAND]]`. */
export async function helpCommand({ positionals }: ParsedArguments<OptionTable>, session: Session): Promise<number> {
  session.io.stdout.write(positionals.length === 0 ? topLevelHelp() : entryHelp(entryFor(positionals, TOP_LEVEL)));
  return 0;
}

/** `cosync --help`: every command with its synopsis and summary, the global options, the exit codes. */
export function topLevelHelp(): string {
  const out: string[] = ['cosync — encrypted backup to Tencent COS and S3-compatible storage', '', 'Usage: cosync [global options] <command> [options]', ''];
  for (const section of COMMAND_SECTIONS) {
    out.push(`${section.title}:`);
    for (const entry of section.entries) {
      for (const command of entry.kind === 'group' ? entry.commands : [entry]) out.push(...row(`${command.name} ${command.synopsis}`.trim(), command.summary));
    }
    for (const note of section.notes ?? []) out.push(...wrap(note, '  '));
    out.push('');
  }
  out.push('Global options (before or after the command, as in `cosync --config-dir DIR key list`):');
  out.push(...optionRows({ ...GLOBAL_OPTIONS, ...TOP_LEVEL_OPTIONS }), '');
  out.push('Exit codes:');
  for (const { code, meaning } of Object.values(EXIT_CODES)) out.push(...wrap(meaning, `  ${code}  `, '     '));
  out.push('', 'Run `cosync help COMMAND` (or `cosync COMMAND --help`) for its options and examples.', '');
  return out.join('\n');
}

/** A group's or a command's own help. */
export function entryHelp(entry: CommandEntry): string {
  return entry.kind === 'group' ? groupHelp(entry) : commandHelp(entry);
}

function commandHelp(command: CommandSpec): string {
  const out: string[] = [`Usage: cosync ${`${command.name} ${command.synopsis}`.trim()}${Object.keys(command.options).length > 0 ? ' [options]' : ''}`, ''];
  out.push(...wrap(sentence(command.summary), ''));
  for (const paragraph of command.details ?? []) out.push('', ...wrap(paragraph, ''));
  if (Object.keys(command.options).length > 0) out.push('', 'Options:', ...optionRows(command.options));
  out.push('', 'Global options:', ...optionRows(GLOBAL_OPTIONS));
  out.push('', 'Examples:', ...command.examples.map((example) => `  ${example}`), '');
  return out.join('\n');
}

function groupHelp(group: GroupSpec): string {
  const out: string[] = [`Usage: cosync ${group.name} <command> [options]`, ''];
  out.push(...wrap(sentence(group.summary), ''));
  for (const paragraph of group.details ?? []) out.push('', ...wrap(paragraph, ''));
  out.push('', 'Commands:');
  for (const command of group.commands) out.push(...row(`${commandWord(command)} ${command.synopsis}`.trim(), command.summary));
  out.push('', 'Global options:', ...optionRows(GLOBAL_OPTIONS));
  out.push('', 'Examples:', ...group.commands.flatMap((command) => command.examples.slice(0, 1)).map((example) => `  ${example}`));
  out.push('', `Run \`cosync help ${group.name} COMMAND\` (or \`cosync ${group.name} COMMAND --help\`) for its options and examples.`, '');
  return out.join('\n');
}

function optionRows(table: OptionTable): string[] {
  return Object.entries(table).flatMap(([name, spec]) => row(spec.short === undefined ? `    ${optionLabel(name, spec)}` : optionLabel(name, spec), spec.description));
}

/** A label and its text in two columns; a label too wide for its column puts the text below it. */
function row(label: string, text: string): string[] {
  const indented = `  ${label}`;
  const hanging = ' '.repeat(COLUMN);
  if (indented.length < COLUMN - 1) return wrap(text, indented.padEnd(COLUMN), hanging);
  return [indented, ...wrap(text, hanging)];
}

/** Words filled into lines of at most WIDTH columns, the first after `first`, the rest after `rest`. */
function wrap(text: string, first: string, rest = first): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter((part) => part !== '')) {
    if (!empty && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = rest;
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines;
}

function sentence(text: string): string {
  const capitalized = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?)]$/.test(capitalized) ? capitalized : `${capitalized}.`;
}
