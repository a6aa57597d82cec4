// One flat config: type-aware rules everywhere, and no Node built-ins where workflow code runs.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const NODE_BUILTINS = builtinModules.map((name) => ({
  name,
  message: 'Workflow code must not import Node built-ins.',
}));
const OUTSIDE_THE_SANDBOX = [
  { group: ['node:*'], message: 'Workflow code must not import Node built-ins.' },
  { group: ['pg', 'pg/*', 'pg-*'], message: 'Workflow code must not reach a database.' },
  {
    group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing'],
    message: 'Workflow code imports @temporalio/workflow and @temporalio/common only.',
  },
];
/** Where workflow-safe code may not reach: anything but src/core/ (activities as types only, for proxyActivities). */
const LEAVING = (folder) =>
  folder === 'core'
    ? [{ group: ['../*', '!../core/*'], message: 'src/core/ imports nothing outside itself.' }]
    : folder === 'core/*'
      ? [{ group: ['../../*', '!../../core/*'], message: 'src/core/ imports nothing outside itself.' }]
      : [
          { group: ['../activities/*'], message: 'Import activities as types only.', allowTypeImports: true },
          { group: ['../src/*', '!../src/core'], message: 'Workflows import only from src/core/.' },
        ];

export default tseslint.config(
  { ignores: ['node_modules', 'dist', '.leadsync', 'test-output', 'bench-output', 'bin'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'src/temporal/*.cjs', 'test/helpers/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // CommonJS the SDK require()s by path (a converter): it must load without a TypeScript loader.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', exports: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Workflow code is bundled into Temporal's deterministic sandbox: workflows/ and everything it imports, which is
    // src/core/ and nothing else. No I/O, no Node built-ins, no database, no package that only runs outside a workflow.
    files: ['workflows/**/*.ts', 'src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: NODE_BUILTINS, patterns: [...OUTSIDE_THE_SANDBOX, ...LEAVING('workflows')] },
      ],
    },
  },
  {
    files: ['src/core/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: NODE_BUILTINS, patterns: [...OUTSIDE_THE_SANDBOX, ...LEAVING('core')] },
      ],
    },
  },
  {
    // A folder of src/core (the governor's) reaches the rest of src/core one level up, and nothing beyond.
    files: ['src/core/*/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: NODE_BUILTINS, patterns: [...OUTSIDE_THE_SANDBOX, ...LEAVING('core/*')] },
      ],
    },
  },
);
