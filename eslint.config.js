// Lint, and the layer rules of ../shared/DESIGN.md enforced as errors:
//   app/       imports nothing environment-specific (no node:, no Node builtins, no electron, no DOM-side code)
//   main/      never imports electron (only main/electron/ does) or the renderer
//   renderer/  never imports main/, electron or Node
import js from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_')).flatMap((name) => [name, `${name}/*`]);

const layer = (message, patterns) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'release/**', '.services/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx,cts,mts}'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Plain JavaScript entry points and configs run in Node.
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', URL: 'readonly', console: 'readonly' } },
  },
  {
    files: ['main/electron/**/*.cts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['app/**/*.{ts,tsx}'],
    ignores: ['app/**/*.test.ts'],
    rules: layer('app/ is environment-free: no Node, Electron, DOM-side or main/renderer imports (DESIGN.md, Layers).', [
      'node:*',
      ...nodeBuiltins,
      'electron',
      'electron/*',
      '**/main/**',
      '**/renderer/**',
      'react',
      'react-dom',
      'react-dom/*',
    ]),
  },
  {
    files: ['main/**/*.{ts,tsx}'],
    ignores: ['main/electron/**'],
    rules: layer('Only main/electron/ may import electron; main/ never imports the renderer (DESIGN.md, Layers).', ['electron', 'electron/*', '**/renderer/**']),
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    ignores: ['renderer/vite.config.ts', 'renderer/**/*.test.{ts,tsx}'],
    rules: layer('The renderer talks to the engine only through the contract in app/ (DESIGN.md, Layers).', [
      '**/main/**',
      'electron',
      'electron/*',
      'node:*',
      ...nodeBuiltins,
    ]),
  },
);
