/**
 * `cosync completion bash|zsh|fish`: shell completion scripts made from the command table, so
 * they complete exactly the commands and options the parser takes: command words, subcommands,
 * options (global ones anywhere), file or folder names for path options and positionals, and the
 * few words some options accept (--sse, --policy, --keystore).
 *
 * bash and zsh share the lookup functions (`case` reads the same in both); each shell has its own
 * driver: bash's reads COMP_WORDS/COMP_CWORD (bash(1), "Programmable Completion"), zsh's reads
 * $words/$CURRENT and describes candidates (zshcompsys(1)), fish declares `complete` rules with a
 * condition on the command path (fish's `complete` documentation).
 */
import { CosyncError } from '../../app/result.js';
import type { Session } from '../engine/session.js';
import { GLOBAL_OPTIONS } from './cli-options.js';
import { commandWord, type CommandEntry, type Completion, type OptionTable, type ParsedArguments } from './command-spec.js';
import { COMPLETION_SHELLS, TOP_LEVEL, TOP_LEVEL_OPTIONS } from './commands.js';

type Shell = (typeof COMPLETION_SHELLS)[number];

/** `cosync completion SHELL`. */
export async function completionCommand({ positionals }: ParsedArguments<OptionTable>, session: Session): Promise<number> {
  const shell = positionals[0];
  if (positionals.length !== 1 || !COMPLETION_SHELLS.includes(shell as Shell)) {
    throw new CosyncError('usage', `expected: cosync completion ${COMPLETION_SHELLS.join('|')}${shell === undefined ? '' : ` (got ${JSON.stringify(positionals.join(' '))})`}; run \`cosync help completion\``);
  }
  session.io.stdout.write(completionScript(shell as Shell));
  return 0;
}

/** The completion script for a shell. */
export function completionScript(shell: Shell): string {
  const places = completionPlaces();
  switch (shell) {
    case 'bash':
      return bashScript(places);
    case 'zsh':
      return zshScript(places);
    case 'fish':
      return fishScript(places);
  }
}

/** Where the cursor can be in a command line: at the top, in a group, or in a command. */
interface Place {
  /** The command path: '' at the top, `key`, `key import`. */
  readonly path: string;
  /** The words that may follow (commands of the top level or of a group). */
  readonly words: ReadonlyArray<{ readonly word: string; readonly summary: string }>;
  readonly options: OptionTable;
  /** How positionals complete: a completion, or `commands` (help's arguments). */
  readonly positionals: Completion | 'commands' | undefined;
}

function completionPlaces(): Place[] {
  const describe = (entries: ReadonlyArray<CommandEntry>): Place['words'] => entries.map((entry) => ({ word: commandWord(entry), summary: entry.summary }));
  const places: Place[] = [{ path: '', words: describe(TOP_LEVEL), options: { ...GLOBAL_OPTIONS, ...TOP_LEVEL_OPTIONS }, positionals: undefined }];
  const visit = (entry: CommandEntry): void => {
    if (entry.kind === 'group') {
      places.push({ path: entry.name, words: describe(entry.commands), options: GLOBAL_OPTIONS, positionals: undefined });
      entry.commands.forEach(visit);
    } else {
      places.push({ path: entry.name, words: [], options: { ...entry.options, ...GLOBAL_OPTIONS }, positionals: entry.name === 'help' ? 'commands' : entry.positionals });
    }
  };
  TOP_LEVEL.forEach(visit);
  return places;
}

/** How a value or positional completes, as the shell functions spell it. */
function completionKind(completion: Completion | 'commands' | undefined): string {
  if (completion === undefined) return 'none';
  if (typeof completion === 'string') return completion;
  return `words:${completion.join(' ')}`;
}

function optionWords(options: OptionTable): string[] {
  return Object.entries(options).flatMap(([name, spec]) => (spec.short === undefined ? [`--${name}`] : [`--${name}`, `-${spec.short}`]));
}

/** Shell functions both bash and zsh read: `_cosync_words PATH`, `_cosync_value PATH OPTION`, `_cosync_positional PATH`. */
function sharedFunctions(places: ReadonlyArray<Place>): string {
  const wordCases = places.filter((place) => place.words.length > 0).map((place) => `    ${quote(place.path)}) echo ${quote(place.words.map((entry) => entry.word).join(' '))} ;;`);
  const optionCases = places.map((place) => `    ${quote(place.path)}) echo ${quote(optionWords(place.options).join(' '))} ;;`);
  // Global options are the same everywhere: one pattern each, after the commands' own.
  const globalNames = new Set(Object.keys(GLOBAL_OPTIONS));
  const valueCases: string[] = [];
  for (const place of places) {
    for (const [name, spec] of Object.entries(place.options)) {
      if (spec.type !== 'string' || globalNames.has(name)) continue;
      valueCases.push(`    ${quote(`${place.path}|--${name}`)}) echo ${quote(spec.complete === undefined ? 'any' : completionKind(spec.complete))} ;;`);
    }
  }
  for (const [name, spec] of Object.entries(GLOBAL_OPTIONS)) {
    if (spec.type === 'string') valueCases.push(`    *${quote(`|--${name}`)}) echo ${quote(completionKind(spec.complete))} ;;`);
  }
  const positionalCases = places.filter((place) => place.positionals !== undefined).map((place) => `    ${quote(place.path)}) echo ${quote(completionKind(place.positionals))} ;;`);
  return [
    '# The words that may follow a command path (empty after a command: its arguments follow).',
    '_cosync_words() {',
    '  case "$1" in',
    ...wordCases,
    '  esac',
    '}',
    '# The options of a command path.',
    '_cosync_options() {',
    '  case "$1" in',
    ...optionCases,
    '  esac',
    '}',
    '# How the value of option $2 of path $1 completes (file, directory, words:…, any); nothing for a flag.',
    '_cosync_value() {',
    '  case "$1|$2" in',
    ...valueCases,
    '  esac',
    '}',
    "# How a command's positionals complete.",
    '_cosync_positional() {',
    '  case "$1" in',
    ...positionalCases,
    '  esac',
    '}',
  ].join('\n');
}

function bashScript(places: ReadonlyArray<Place>): string {
  return `# bash completion for cosync, generated by \`cosync completion bash\` from its command table.
# Install: add \`source <(cosync completion bash)\` to ~/.bashrc.
${sharedFunctions(places)}
# Fills COMPREPLY with candidates of kind $1 (file, directory, words:…, commands) for the word $2.
_cosync_reply() {
  case "$1" in
    file) local IFS=$'\\n'; COMPREPLY=($(compgen -f -- "$2")); compopt -o filenames 2>/dev/null || true ;;
    directory) local IFS=$'\\n'; COMPREPLY=($(compgen -d -- "$2")); compopt -o filenames 2>/dev/null || true ;;
    words:*) COMPREPLY=($(compgen -W "\${1#words:}" -- "$2")) ;;
    *) COMPREPLY=() ;;
  esac
}
_cosync() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="" word kind i
  local -a args=()
  # The command path so far: known words, skipping options and their values.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$word" in
      =) ((i++)) ;;
      -*)
        kind="$(_cosync_value "$cmd" "$word")"
        if [[ -n "$kind" && "\${COMP_WORDS[i + 1]}" != "=" ]]; then ((i++)); fi
        ;;
      *)
        if [[ " $(_cosync_words "$cmd") " == *" $word "* ]]; then cmd="\${cmd:+$cmd }$word"; else args+=("$word"); fi
        ;;
    esac
  done
  # The value of an option (\`--to DIR\` or \`--to=DIR\`; bash splits words at =).
  local option="\${COMP_WORDS[COMP_CWORD - 1]}"
  [[ "$cur" == "=" ]] && { option="\${COMP_WORDS[COMP_CWORD - 1]}"; cur=""; }
  [[ "$option" == "=" && COMP_CWORD -gt 1 ]] && option="\${COMP_WORDS[COMP_CWORD - 2]}"
  if ((COMP_CWORD > 1)) && [[ "$option" == -* ]]; then
    kind="$(_cosync_value "$cmd" "$option")"
    if [[ -n "$kind" ]]; then
      _cosync_reply "$kind" "$cur"
      return 0
    fi
  fi
  if [[ "$cur" == -* ]]; then
    _cosync_reply "words:$(_cosync_options "$cmd")" "$cur"
    return 0
  fi
  local words
  words="$(_cosync_words "$cmd")"
  if [[ -n "$words" ]]; then
    _cosync_reply "words:$words" "$cur"
    return 0
  fi
  kind="$(_cosync_positional "$cmd")"
  if [[ "$kind" == commands ]]; then
    _cosync_reply "words:$(_cosync_words "\${args[*]}")" "$cur"
  else
    _cosync_reply "$kind" "$cur"
  fi
}
complete -F _cosync cosync
`;
}

function zshScript(places: ReadonlyArray<Place>): string {
  const describedWords = places
    .filter((place) => place.words.length > 0)
    .map((place) => `    ${quote(place.path)}) candidates=(${place.words.map((entry) => quote(`${entry.word}:${entry.summary}`)).join(' ')}) ;;`);
  const describedOptions = places.map(
    (place) =>
      `    ${quote(place.path)}) candidates=(${Object.entries(place.options)
        .flatMap(([name, spec]) => [`--${name}`, ...(spec.short === undefined ? [] : [`-${spec.short}`])].map((option) => quote(`${option}:${spec.description}`)))
        .join(' ')}) ;;`,
  );
  return `#compdef cosync
# zsh completion for cosync, generated by \`cosync completion zsh\` from its command table.
# Install: add \`source <(cosync completion zsh)\` to ~/.zshrc (after compinit), or save it as _cosync in a folder of $fpath.
${sharedFunctions(places)}
# Sets candidates to "word:summary" for the words after path $1.
_cosync_described_words() {
  case "$1" in
${describedWords.join('\n')}
  esac
}
# Sets candidates to "option:description" for path $1.
_cosync_described_options() {
  case "$1" in
${describedOptions.join('\n')}
  esac
}
# Offers candidates of kind $1 (file, directory, words:…).
_cosync_offer() {
  case "$1" in
    file) _files ;;
    directory) _files -/ ;;
    words:*) compadd -- \${=1#words:} ;;
  esac
}
_cosync() {
  local cmd="" word kind i
  local -a args candidates
  for ((i = 2; i < CURRENT; i++)); do
    word="\${words[i]}"
    case "$word" in
      -*=*) ;;
      -*) kind="$(_cosync_value "$cmd" "$word")"; [[ -n "$kind" ]] && ((i++)) ;;
      *)
        if [[ " $(_cosync_words "$cmd") " == *" $word "* ]]; then cmd="\${cmd:+$cmd }$word"; else args+=("$word"); fi
        ;;
    esac
  done
  local cur="\${words[CURRENT]}" option="\${words[CURRENT - 1]}"
  if [[ "$cur" == --*=* ]]; then
    option="\${cur%%=*}"
    compset -P '*='
  fi
  if ((CURRENT > 2)) && [[ "$option" == -* ]]; then
    kind="$(_cosync_value "$cmd" "$option")"
    if [[ -n "$kind" ]]; then
      _cosync_offer "$kind"
      return
    fi
  fi
  if [[ "$cur" == -* ]]; then
    _cosync_described_options "$cmd"
    _describe -t options option candidates
    return
  fi
  if [[ -n "$(_cosync_words "$cmd")" ]]; then
    _cosync_described_words "$cmd"
    _describe -t commands command candidates
    return
  fi
  kind="$(_cosync_positional "$cmd")"
  if [[ "$kind" == commands ]]; then
    _cosync_described_words "\${args[*]}"
    _describe -t commands command candidates
  else
    _cosync_offer "$kind"
  fi
}
if [[ "$funcstack[1]" == _cosync ]]; then
  _cosync "$@"
else
  compdef _cosync cosync
fi
`;
}

function fishScript(places: ReadonlyArray<Place>): string {
  const wordCases = places.filter((place) => place.words.length > 0).map((place) => `        case ${fishQuote(place.path)}\n            echo ${place.words.map((entry) => entry.word).join(' ')}`);
  const valueOptions = places.flatMap((place) => Object.entries(place.options).filter(([, spec]) => spec.type === 'string').map(([name]) => fishQuote(`${place.path}|--${name}`)));
  const rules: string[] = [];
  for (const place of places) {
    const when = `-n ${fishQuote(`test (__cosync_path) = ${fishQuote(place.path)}`)}`;
    for (const entry of place.words) rules.push(`complete -c cosync ${when} -a ${entry.word} -d ${fishQuote(firstClause(entry.summary))}`);
    for (const [name, spec] of Object.entries(place.options)) {
      const short = spec.short === undefined ? '' : ` -s ${spec.short}`;
      const value = spec.type === 'boolean' ? '' : ` -r${fishValue(spec.complete)}`;
      rules.push(`complete -c cosync ${when} -l ${name}${short}${value} -d ${fishQuote(firstClause(spec.description))}`);
    }
    if (place.positionals === 'commands') rules.push(`complete -c cosync ${when} -a '(string split " " -- (__cosync_words (__cosync_arguments)))'`);
    else if (place.positionals !== undefined) rules.push(`complete -c cosync ${when}${fishValue(place.positionals)}`);
  }
  return `# fish completion for cosync, generated by \`cosync completion fish\` from its command table.
# Install: cosync completion fish > ~/.config/fish/completions/cosync.fish
function __cosync_words
    switch "$argv[1]"
${wordCases.join('\n')}
    end
end
# Options that take a value, as "PATH|--OPTION".
set -g __cosync_value_options ${valueOptions.join(' ')}
# Prints the command path of the line being edited, then (with -a) the arguments after it.
function __cosync_walk
    set -l cmd ''
    set -l arguments
    set -l skip 0
    set -l words (commandline -opc)
    set -e words[1]
    for word in $words
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $word
            case '-*=*'
            case '-*'
                if contains -- "$cmd|$word" $__cosync_value_options; or contains -- "|$word" $__cosync_value_options
                    set skip 1
                end
            case '*'
                if contains -- $word (string split ' ' -- (__cosync_words "$cmd"))
                    set cmd (string trim -- "$cmd $word")
                else
                    set -a arguments $word
                end
        end
    end
    if test "$argv[1]" = -a
        string join ' ' -- $arguments
    else
        echo $cmd
    end
end
function __cosync_path
    __cosync_walk
end
function __cosync_arguments
    __cosync_walk -a
end
complete -c cosync -f
${rules.join('\n')}
`;
}

function fishValue(completion: Completion | 'commands' | undefined): string {
  if (completion === undefined || completion === 'commands') return '';
  if (completion === 'file') return ' -F';
  if (completion === 'directory') return " -a '(__fish_complete_directories)'";
  return ` -f -a ${fishQuote(completion.join(' '))}`;
}

/** A description short enough for a completion menu: up to the first `;` or `:`. */
function firstClause(text: string): string {
  return text.split(/[;:] /)[0] ?? text;
}

/** A word in single quotes for bash and zsh. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A word in single quotes for fish (which escapes \\ and ' inside them). */
function fishQuote(text: string): string {
  return `'${text.replace(/[\\']/g, (character) => `\\${character}`)}'`;
}
