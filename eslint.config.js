// Lint, and the layer rules of ../shared/DESIGN.md enforced as errors:
//   app/       imports nothing environment-specific (no node:, no Node builtins, no electron, no DOM-side code)
//   main/      never imports electron (only main/electron/ does) or the renderer
//   renderer/  never imports main/, electron or Node
// Tests run in Node under vitest, so they may use Node builtins, but they still may not reach
// across layers. test/layering.test.ts checks that each rule fires.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_')).flatMap((name) => [name, `${name}/*`]);
const nodeImports = ['node:*', ...nodeBuiltins];
const electronImports = ['electron', 'electron/*'];
const reactImports = ['react', 'react/*', 'react-dom', 'react-dom/*'];

/** One `no-restricted-imports` rule: the import patterns a layer may not use, and why. */
const layer = (message, patterns) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }],
});

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
    files: ['main/**/*.{ts,tsx,cts,mts}'],
    ignores: ['main/electron/**', 'main/cli/**', 'main/**/*.test.ts'],
    rules: layer(
      'Only main/electron/ may import electron; main/ never imports the renderer; the engine does not depend on the CLI, which is one of its front ends (DESIGN.md, Layers).',
      [...electronImports, '**/renderer/**', '**/cli/**'],
    ),
  },
  {
    // The CLI, and tests (which may drive the CLI end to end).
    files: ['main/cli/**/*.{ts,tsx,cts,mts}', 'main/**/*.test.ts'],
    ignores: ['main/electron/**'],
    rules: layer('Only main/electron/ may import electron; main/ never imports the renderer (DESIGN.md, Layers).', [...electronImports, '**/renderer/**']),
  },
  {
    files: ['main/electron/**/*.{ts,tsx,cts,mts}'],
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
