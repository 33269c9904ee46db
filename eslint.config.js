// ESLint flat config. TypeScript is linted with type information (typescript-eslint's recommendedTypeChecked),
// each file against the tsconfig that compiles it; our few JavaScript files (build scripts, configs) get the
// plain recommended rules. Formatting is prettier's job (`prettier --check .` runs after eslint in `npm run lint`).
const { defineConfig } = require('eslint/config');
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

// The Node globals our CommonJS scripts use (listed here rather than pulling in the `globals` package).
const nodeGlobals = Object.fromEntries(
  [
    'require',
    'module',
    'exports',
    '__dirname',
    '__filename',
    'process',
    'console',
    'Buffer',
    'URL',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
  ].map((name) => [name, 'readonly']),
);

// Which tsconfig type-checks which files (typescript-eslint needs the program a file belongs to).
const tsProjects = [
  // The contract is compiled into both; it is linted as the mini-program's, the stricter target.
  { files: ['miniprogram/**/*.ts', 'contract/**/*.ts', 'typings/**/*.d.ts'], project: './tsconfig.json' },
  { files: ['server/src/**/*.ts'], project: './server/tsconfig.json' },
  // The moderation console, a browser page (DOM types, bundled by esbuild).
  { files: ['server/admin/**/*.ts'], project: './server/admin/tsconfig.json' },
  { files: ['server/test/**/*.ts', 'test/**/*.ts'], project: './test/tsconfig.json' },
  // `npm run attack`, run from source like the benchmark.
  { files: ['scripts/attack/**/*.ts'], project: './scripts/attack/tsconfig.json' },
];

module.exports = defineConfig(
  {
    ignores: [
      '**/node_modules/',
      'dist/',
      'server/dist/',
      'miniprogram/miniprogram_npm/',
      'coverage/',
      'data/',
      'docs/screenshots/',
    ],
  },
  js.configs.recommended,

  // TypeScript, type-aware.
  ...tseslint.configs.recommendedTypeChecked.map((config) => ({
    ...config,
    files: tsProjects.flatMap((p) => p.files),
  })),
  ...tsProjects.map(({ files, project }) => ({
    files,
    languageOptions: { parserOptions: { project, tsconfigRootDir: __dirname } },
  })),
  {
    files: tsProjects.flatMap((p) => p.files),
    rules: {
      // An async method that needs no await is normal when it implements an async interface (the SQLite
      // store implements the same Store as PostgreSQL): the rule only flags those.
      '@typescript-eslint/require-await': 'off',
      // An `any` must be argued for, in an eslint-disable comment that says why.
      '@typescript-eslint/no-explicit-any': 'error',
      // `_name` marks a parameter or binding that is unused on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
    },
  },
  {
    // Jest idioms the type-aware rules misread: expect(obj.method) passes a method unbound on purpose, and the
    // asymmetric matchers (expect.any(String), expect.objectContaining(...)) are typed `any` by @types/jest.
    files: ['server/test/**/*.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },

  // JavaScript: build scripts and tool configs, CommonJS on Node.
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', ecmaVersion: 2023, globals: nodeGlobals },
    rules: {
      'no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
);
