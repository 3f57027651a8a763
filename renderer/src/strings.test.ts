/**
 * Every word the window shows goes through i18next: this walks the renderer's sources with the
 * TypeScript compiler and fails on a user-visible string written in the code — JSX text, the
 * attributes people read (aria-label, title, placeholder, alt, label), and texts the window
 * composes (feedback `text`, error `message`, confirm()). Words inside <code> (commands) and
 * elements marked translate="no" (the product's name; HTML's own attribute for it) are exempt.
 * It also checks that both languages have the same keys and the same placeholders, and that
 * every key the code names exists.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { LANGUAGES, RESOURCES } from '../../app/locales/index.js';

const SOURCE_DIR = fileURLToPath(new URL('.', import.meta.url));
const READ_ATTRIBUTES = new Set(['aria-label', 'aria-description', 'aria-placeholder', 'aria-roledescription', 'aria-valuetext', 'title', 'placeholder', 'alt', 'label']);
const COMPOSED_PROPERTIES = new Set(['text', 'message']);
const PROMPTS = new Set(['confirm', 'alert', 'prompt']);
/** A string shows words when it has a letter; "·", "→", "✕", " / " and ", …" are not words. */
const hasWords = (text: string): boolean => /\p{L}/u.test(text);

/** One hard-coded string: where it is and what it says. */
export interface Finding {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

/** The hard-coded user-visible strings in one source file. */
export function findHardCodedStrings(file: string, source: string): Finding[] {
  const sourceFile = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const findings: Finding[] = [];
  const report = (node: ts.Node, text: string): void => {
    if (hasWords(text)) findings.push({ file, line: sourceFile.getLineAndCharacterOfPosition(node.getStart()).line + 1, text: text.trim() });
  };

  // The strings an expression can evaluate to (not those it compares against or passes to a call such as t()).
  const visitValue = (expression: ts.Expression | undefined): void => {
    if (expression === undefined) return;
    if (ts.isStringLiteral(expression) || ts.isNoSubstitutionTemplateLiteral(expression)) report(expression, expression.text);
    else if (ts.isTemplateExpression(expression)) {
      report(expression.head, expression.head.text);
      for (const span of expression.templateSpans) {
        visitValue(span.expression);
        report(span.literal, span.literal.text);
      }
    } else if (ts.isParenthesizedExpression(expression) || ts.isAsExpression(expression) || ts.isNonNullExpression(expression)) visitValue(expression.expression);
    else if (ts.isConditionalExpression(expression)) {
      visitValue(expression.whenTrue);
      visitValue(expression.whenFalse);
    } else if (ts.isBinaryExpression(expression)) {
      const operator = expression.operatorToken.kind;
      if (operator === ts.SyntaxKind.PlusToken || operator === ts.SyntaxKind.QuestionQuestionToken || operator === ts.SyntaxKind.BarBarToken) visitValue(expression.left);
      if (operator === ts.SyntaxKind.PlusToken || operator === ts.SyntaxKind.QuestionQuestionToken || operator === ts.SyntaxKind.BarBarToken || operator === ts.SyntaxKind.AmpersandAmpersandToken) visitValue(expression.right);
    }
  };

  const exempt = (element: ts.JsxOpeningLikeElement): boolean =>
    element.tagName.getText(sourceFile) === 'code' ||
    element.attributes.properties.some((attribute) => ts.isJsxAttribute(attribute) && attribute.name.getText(sourceFile) === 'translate' && attribute.initializer !== undefined && ts.isStringLiteral(attribute.initializer) && attribute.initializer.text === 'no');

  const visit = (node: ts.Node): void => {
    if (ts.isJsxElement(node) && exempt(node.openingElement)) return;
    if (ts.isJsxText(node)) report(node, node.text);
    else if (ts.isJsxExpression(node) && !ts.isJsxAttribute(node.parent)) visitValue(node.expression);
    else if (ts.isJsxAttribute(node) && READ_ATTRIBUTES.has(node.name.getText(sourceFile)) && node.initializer !== undefined) {
      if (ts.isStringLiteral(node.initializer)) report(node.initializer, node.initializer.text);
      else if (ts.isJsxExpression(node.initializer)) visitValue(node.initializer.expression);
    } else if (ts.isPropertyAssignment(node) && COMPOSED_PROPERTIES.has(node.name.getText(sourceFile))) visitValue(node.initializer);
    else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : '';
      if (PROMPTS.has(name)) for (const argument of node.arguments) visitValue(argument);
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return findings;
}

/** The keys named literally in t('…') and i18n.t('…') calls. */
function literalKeys(source: string): string[] {
  return [...source.matchAll(/\bt\(\s*'([^']+)'/g)].map((match) => match[1] as string);
}

const sources = readdirSync(SOURCE_DIR)
  .filter((name) => /\.tsx?$/.test(name) && !/\.test(-helper)?\.m?tsx?$/.test(name))
  .map((name) => ({ name, text: readFileSync(join(SOURCE_DIR, name), 'utf8') }));

/** A key without its plural suffix (CLDR categories, as i18next appends them). */
const baseKey = (key: string): string => key.replace(/_(zero|one|two|few|many|other)$/, '');
const placeholders = (text: string): string[] => [...text.matchAll(/\{\{\s*(\w+)/g)].map((match) => match[1] as string).sort();

describe('the window’s strings', () => {
  it('finds a hard-coded string when there is one (the check itself works)', () => {
    const sample = [
      `export const A = () => <p title="Hover text">Hello <code>cosync --help</code> · {ok ? t('x') : 'Nope'}</p>;`,
      `const B = () => <h1 translate="no">cosync</h1>;`,
      `set({ kind: 'ok', text: \`Added \${path}\` }); if (window.confirm('Sure?')) go(state === 'running');`,
    ].join('\n');
    expect(findHardCodedStrings('sample.tsx', sample).map((finding) => finding.text)).toEqual(['Hover text', 'Hello', 'Nope', 'Added', 'Sure?']);
  });

  it('has no hard-coded user-visible string in the renderer', () => {
    expect(sources.length).toBeGreaterThan(5);
    const findings = sources.flatMap(({ name, text }) => findHardCodedStrings(name, text));
    expect(findings.map((finding) => `${finding.file}:${finding.line} ${JSON.stringify(finding.text)}`)).toEqual([]);
  });

  it('names only keys that exist in English', () => {
    const known = new Set(Object.keys(RESOURCES.en.window).map(baseKey));
    const missing = sources.flatMap(({ name, text }) => literalKeys(text).filter((key) => !known.has(key)).map((key) => `${name}: ${key}`));
    expect(missing).toEqual([]);
  });

  it.each(['window', 'shell'] as const)('has the same %s keys and placeholders in every language', (part) => {
    const reference = RESOURCES.en[part];
    const shape = (table: Readonly<Record<string, string>>) =>
      Object.fromEntries(Object.entries(table).map(([key, text]) => [baseKey(key), placeholders(text).filter((name) => name !== 'count')]));
    for (const language of LANGUAGES) {
      expect(Object.keys(shape(RESOURCES[language][part])).sort(), `${language} ${part} keys`).toEqual(Object.keys(shape(reference)).sort());
      expect(shape(RESOURCES[language][part]), `${language} ${part} placeholders`).toEqual(shape(reference));
    }
  });
});
