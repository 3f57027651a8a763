// Lint, and the layer rules of docs/architecture.md enforced as errors:
//   app/       imports nothing environment-specific (no node:, no Node builtins, no electron, no DOM-side code)
//   main/      never imports electron (only main/electron/ does) or the renderer; inside it, each
//              room imports only the rooms on the floors below its own (the table in main/rooms.js)
//   renderer/  never imports main/, electron or Node
// Tests run in Node under vitest, so they may use Node builtins, but they still may not reach
// across layers. test/layering.test.ts checks that each rule fires.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';
import { ROOMS, roomsBelow, roomsNotBelow } from './main/rooms.js';

const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_')).flatMap((name) => [name, `${name}/*`]);
const nodeImports = ['node:*', ...nodeBuiltins];
const electronImports = ['electron', 'electron/*'];
const reactImports = ['react', 'react/*', 'react-dom', 'react-dom/*'];

/** One `no-restricted-imports` rule: the import patterns a layer may not use, and why. */
const layer = (message, patterns) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }],
});

const MAIN_BASICS = 'Only main/electron/ may import electron; main/ never imports the renderer (DESIGN.md, Layers).';

/**
 * The rule for one room of main/: the layer rules of main/, and no relative import that goes
 * into a room on its own floor or above. (Dynamic import() is not seen by this rule;
 * test/layering.test.ts checks those in the real code.)
 */
function room(name) {
  const forbidden = roomsNotBelow(name);
  const allowed = roomsBelow(name);
  const patterns = [{ group: ['**/renderer/**'], message: MAIN_BASICS }];
  if (name !== 'electron') patterns.push({ group: electronImports, message: MAIN_BASICS });
  if (forbidden.length > 0) {
    patterns.push({
      regex: `^\\.\\.?/(?:.*/)?(?:${forbidden.join('|')})/`,
      message: `main/${name}/ may import app/${allowed.map((below) => `, ${below}/`).join('')} and nothing else of main/: ${forbidden.map((other) => `${other}/`).join(', ')} are on its floor or above (main/rooms.js, docs/architecture.md).`,
    });
  }
  return {
    files: [`main/${name}/**/*.{ts,tsx,cts,mts}`],
    ignores: ['main/**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  };
}

// The globals Node gives every module, for the plain JavaScript files (bin/, scripts/, configs).
// Listed by hand because the `globals` package is not a dependency.
const nodeGlobals = Object.fromEntries(
  [
    'AbortController', 'AbortSignal', 'Blob', 'Buffer', 'BroadcastChannel', 'clearImmediate', 'clearInterval', 'clearTimeout',
    'console', 'crypto', 'Event', 'EventTarget', 'fetch', 'FormData', 'global', 'globalThis', 'Headers', 'MessageChannel',
    'performance', 'process', 'queueMicrotask', 'ReadableStream', 'Request', 'Response', 'setImmediate', 'setInterval',
    'setTimeout', 'structuredClone', 'TextDecoder', 'TextEncoder', 'URL', 'URLSearchParams', 'WritableStream',
  ].map((name) => [name, 'readonly']),
);

export default defineConfig(
  { ignores: ['dist/**', 'node_modules/**', 'release/**', '.services/**', 'test-artifacts/**'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx,cts,mts}'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { globals: nodeGlobals },
  },
  {
    // `import x = require()` is how a .cts file imports CommonJS; the sandboxed preload must be CommonJS.
    files: ['main/electron/**/*.cts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['app/**/*.{ts,tsx,cts,mts}'],
    ignores: ['app/**/*.test.ts'],
    rules: layer('app/ is environment-free: no Node, Electron, React/DOM-side or main/renderer imports (DESIGN.md, Layers).', [
      ...nodeImports,
      ...electronImports,
      ...reactImports,
      '**/main/**',
      '**/renderer/**',
    ]),
  },
  {
    files: ['app/**/*.test.ts'],
    rules: layer('Tests of app/ run in plain Node and test app/ alone (DESIGN.md, Layers).', [...electronImports, '**/main/**', '**/renderer/**']),
  },
  {
    // Files of main/ outside any room, and tests (which may drive the CLI end to end).
    files: ['main/**/*.{ts,tsx,cts,mts}'],
    rules: layer(MAIN_BASICS, [...electronImports, '**/renderer/**']),
  },
  ...ROOMS.map(room),
  {
    files: ['main/electron/**/*.test.ts'],
    rules: layer('The desktop shell talks to the renderer over IPC, never by import, and runs the engine without the CLI (DESIGN.md, Layers).', ['**/renderer/**', '**/cli/**']),
  },
  {
    files: ['renderer/**/*.{ts,tsx,cts,mts}'],
    ignores: ['renderer/vite.config.ts', 'renderer/**/*.test.{ts,tsx}'],
    rules: layer('The renderer runs in a browser and talks to the engine only through the contract in app/ (DESIGN.md, Layers).', [
      ...nodeImports,
      ...electronImports,
      '**/main/**',
    ]),
  },
  {
    files: ['renderer/**/*.test.{ts,tsx}'],
    rules: layer('Tests of the renderer run in Node but may not reach the engine or Electron (DESIGN.md, Layers).', [...electronImports, '**/main/**']),
  },
);
