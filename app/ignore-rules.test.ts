import { describe, expect, it } from 'vitest';
import { BUILT_IN_IGNORES, DEFAULT_IGNORE_RULES, parseIgnoreRules } from './ignore-rules.js';

const FILE = false;
const FOLDER = true;

describe('ignore rules (gitignore syntax)', () => {
  // [.cosyncignore text, path, isDirectory, ignored]
  it.each<[string, string, boolean, boolean]>([
    // Built-ins: temp, lock and OS files at any depth, our partial downloads and the root trash.
    ['', '~$report.docx', FILE, true],
    ['', 'dir/~$report.docx', FILE, true],
    ['', '.~lock.a.odt#', FILE, true],
    ['', 'docs/.~lock.Budget 2024.ods#', FILE, true],
    ['', 'x.swp', FILE, true],
    ['', 'notes/x.swo', FILE, true],
    ['', 'dir/.DS_Store', FILE, true],
    ['', 'Thumbs.db', FILE, true],
    ['', 'a/b/c/Thumbs.db', FILE, true],
    ['', 'music/desktop.ini', FILE, true],
    ['', '.photo.jpg.0123456789ab.cosync-partial', FILE, true],
    ['', 'sub/.video.mp4.deadbeef.cosync-partial', FILE, true],
    ['', '.cosync-partial-0123', FILE, true],
    ['', '.cosync-trash', FOLDER, true],
    ['', '.cosync-trash/2024-01-01/a.txt', FILE, true],
    ['', 'photos/.cosync-trash', FOLDER, false],
    ['', '.cosyncignore', FILE, false],
    ['', 'report.docx', FILE, false],
    ['', 'scratch.tmp', FILE, false],
    ['', 'a.txt~', FILE, false],
    ['', 'thumbs.db', FILE, false], // case-sensitive
    ['', 'dir/a.cosync-conflict-20240101T000000.txt', FILE, false], // conflict copies are user data
    // Comments, blank lines, escapes, trailing spaces.
    ['# a comment\n\n   \n*.log', 'a.log', FILE, true],
    ['#comment', '#comment', FILE, false],
    ['\\#hash', '#hash', FILE, true],
    ['\\!bang', '!bang', FILE, true],
    ['trailing   ', 'trailing', FILE, true],
    ['trailing   ', 'trailing   ', FILE, false],
    ['space\\ ', 'space ', FILE, true],
    ['space\\ ', 'space', FILE, false],
    ['tab\t', 'tab\t', FILE, true], // only spaces are trimmed, not tabs
    ['esc\\  ', 'esc ', FILE, true], // an escaped space survives; the unescaped one after it goes
    ['*.log\r\n*.bak\r\n', 'x.bak', FILE, true],
    ['\uFEFF*.log', 'a.log', FILE, true],
    // Basename patterns match at any depth.
    ['*.log', 'a.log', FILE, true],
    ['*.log', 'deep/b/a.log', FILE, true],
    ['*.log', 'a.log.txt', FILE, false],
    ['*.log', 'logs.d/a.txt', FILE, false],
    ['build', 'src/build', FOLDER, true],
    ['build', 'src/build', FILE, true],
    // Negation: the last matching rule wins.
    ['*.log\n!keep.log', 'keep.log', FILE, false],
    ['*.log\n!keep.log', 'x/keep.log', FILE, false],
    ['*.log\n!keep.log', 'other.log', FILE, true],
    ['!keep.log\n*.log', 'keep.log', FILE, true],
    ['!Thumbs.db', 'Thumbs.db', FILE, false],
    ['!/.cosync-trash/', '.cosync-trash/x', FILE, false],
    // A file inside an excluded folder cannot be re-included.
    ['secret/\n!secret/keep.txt', 'secret/keep.txt', FILE, true],
    ['secret\n!keep.txt', 'secret/a/keep.txt', FILE, true],
    ['a/*\n!a/b', 'a/b', FOLDER, false],
    ['a/*\n!a/b', 'a/b/c.txt', FILE, false],
    ['a/*\n!a/b', 'a/c/d.txt', FILE, true],
    ['', 'x/.DS_Store/inner.txt', FILE, true], // a pattern without a trailing '/' also matches a folder
    // Directory-only patterns.
    ['build/', 'build', FOLDER, true],
    ['build/', 'build', FILE, false],
    ['build/', 'build/out.o', FILE, true],
    ['build/', 'src/build/out.o', FILE, true],
    ['build//', 'build', FOLDER, true],
    // Anchored patterns (a '/' at the start or in the middle).
    ['/build', 'build', FOLDER, true],
    ['/build', 'src/build', FOLDER, false],
    ['/*.txt', 'a.txt', FILE, true],
    ['/*.txt', 'sub/a.txt', FILE, false],
    ['doc/frotz', 'doc/frotz', FILE, true],
    ['doc/frotz', 'a/doc/frotz', FILE, false],
    ['doc/frotz/', 'doc/frotz', FOLDER, true],
    ['doc/*.pdf', 'doc/a.pdf', FILE, true],
    ['doc/*.pdf', 'doc/sub/a.pdf', FILE, false],
    // "**" forms.
    ['**/foo', 'foo', FILE, true],
    ['**/foo', 'a/b/foo', FILE, true],
    ['**/foo/bar', 'foo/bar', FILE, true],
    ['**/foo/bar', 'x/y/foo/bar', FILE, true],
    ['**/foo/bar', 'x/foo/baz', FILE, false],
    ['abc/**', 'abc/x/y', FILE, true],
    ['abc/**', 'abc', FOLDER, false],
    ['abc/**', 'xabc/y', FILE, false],
    ['a/**/b', 'a/b', FILE, true],
    ['a/**/b', 'a/x/y/b', FILE, true],
    ['a/**/b', 'a/xb', FILE, false],
    ['a**b', 'axxb', FILE, true], // "**" not between slashes is a plain "*"
    ['a**b', 'a/b', FILE, false],
    ['**', 'anything/at/all', FILE, true],
    ['*', 'anything/at/all', FILE, true],
    // Wildcards and character classes.
    ['file?.txt', 'file1.txt', FILE, true],
    ['file?.txt', 'file10.txt', FILE, false],
    ['a?b', 'a/b', FILE, false],
    ['a*b', 'dir/a/b', FILE, false],
    ['file[0-9].txt', 'file7.txt', FILE, true],
    ['file[0-9].txt', 'filex.txt', FILE, false],
    ['file[!0-9].txt', 'file7.txt', FILE, false],
    ['file[!0-9].txt', 'filex.txt', FILE, true],
    ['file[^0-9].txt', 'filex.txt', FILE, true],
    ['[ab].txt', 'b.txt', FILE, true],
    ['[]x].txt', '].txt', FILE, true],
    ['[a-].txt', '-.txt', FILE, true],
    ['x[[:digit:]]', 'x5', FILE, true],
    ['x[[:digit:]]', 'xa', FILE, false],
    ['x[[:upper:][:digit:]]', 'xQ', FILE, true],
    ['a[!x]b', 'dir/a/b', FILE, false], // a negated class never matches '/'
    ['a[/]b', 'a/b', FILE, false],
    ['[z-a]x', 'bx', FILE, false], // an inverted range matches only its first character, as in git
    ['[z-a]x', 'zx', FILE, true],
    ['a[bc', 'a[bc', FILE, true], // an unclosed '[' is literal
    ['a.b', 'axb', FILE, false], // regex syntax is literal
    ['(a)+', '(a)+', FILE, true],
    ['$x^', '$x^', FILE, true],
    // Case and Unicode.
    ['*.LOG', 'a.log', FILE, false],
    ['Café/', 'Café/x', FILE, true],
    ['*.tmp', 'Café/été.tmp', FILE, true],
    ['Cafe\u0301', 'Caf\u00e9', FILE, true], // an NFD pattern matches the NFC path the scanner produces
    ['??.txt', '日本.txt', FILE, true],
    ['?.txt', '😀.txt', FILE, true], // one character is one code point
    ['[😀😁].txt', '😁.txt', FILE, true],
    ['[α-ω]*', 'λόγος', FILE, true],
  ])('%j: %j (folder %s) → %s', (text, path, isDirectory, ignored) => {
    expect(parseIgnoreRules(text).isIgnored(path, isDirectory)).toBe(ignored);
  });

  it('built-ins alone', () => {
    expect(DEFAULT_IGNORE_RULES.isIgnored('Thumbs.db', FILE)).toBe(true);
    expect(DEFAULT_IGNORE_RULES.isIgnored('photo.jpg', FILE)).toBe(false);
    expect(DEFAULT_IGNORE_RULES.isIgnored('', FOLDER)).toBe(false);
    expect(BUILT_IN_IGNORES).toEqual(expect.arrayContaining(['~$*', '.~lock.*', '*.swp', '*.swo', '.DS_Store', 'Thumbs.db', 'desktop.ini', '*.cosync-partial', '.cosync-partial-*']));
    expect(BUILT_IN_IGNORES).not.toContain('*.tmp');
    expect(parseIgnoreRules('').problems).toEqual([]);
  });

  it('tolerates a leading or trailing slash on the path', () => {
    const rules = parseIgnoreRules('/build/');
    expect(rules.isIgnored('/build', FOLDER)).toBe(true);
    expect(rules.isIgnored('build/', FOLDER)).toBe(true);
  });

  it('answers the same for a folder and its contents whatever the order of questions (folder cache)', () => {
    const rules = parseIgnoreRules('cache/\n!cache/keep');
    expect(rules.isIgnored('a/cache/x', FILE)).toBe(true);
    expect(rules.isIgnored('a/cache', FOLDER)).toBe(true);
    expect(rules.isIgnored('a/cachex/y', FILE)).toBe(false);
    expect(rules.isIgnored('a', FOLDER)).toBe(false);
    expect(rules.isIgnored('a/cache/keep', FILE)).toBe(true);
  });

  it('never throws on odd user text; the sane rules around it still work and the bad ones are reported', () => {
    const rules = parseIgnoreRules('[\n\\\n!\n/\n[z-a]\n[[:nope:]]x\nnode_modules/\n*.o\n', '/home/u/Sync/.cosyncignore');
    expect(rules.isIgnored('src/node_modules/x/y.js', FILE)).toBe(true);
    expect(rules.isIgnored('main.o', FILE)).toBe(true);
    expect(rules.isIgnored('main.c', FILE)).toBe(false);
    expect(rules.isIgnored('[', FILE)).toBe(true);
    expect(rules.problems).toEqual([
      `/home/u/Sync/.cosyncignore line 1: "[": unclosed '[' is matched literally`,
      `/home/u/Sync/.cosyncignore line 2: "\\\\": a trailing backslash escapes nothing; the line is skipped`,
      `/home/u/Sync/.cosyncignore line 6: "[[:nope:]]x": unknown character class [:nope:]; the line is skipped`,
    ]);
  });

  // Speed is measured by `npm run bench:scan` (no-change rescan of 100,000 files), not timed here.
  it('answers for a scan-sized tree', () => {
    const rules = parseIgnoreRules('*.log\nbuild/\n/private/**\n!important.log\ndocs/**/draft-*\n[Tt]emp[0-9]/\n');
    let ignored = 0;
    for (let folder = 0; folder < 1_000; folder++) {
      for (let file = 0; file < 100; file++) {
        if (rules.isIgnored(`projects/p${folder % 37}/src/module${folder}/file${file}.${file % 10 === 0 ? 'log' : 'ts'}`, FILE)) ignored++;
      }
    }
    expect(ignored).toBe(10_000);
  });
});
