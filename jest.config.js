// Three projects: the server in plain Node, the app (client core, stores, pages) in jsdom with
// miniprogram-simulate, and ship (the build, preview and upload scripts, run as processes) in plain Node.
// The app project resolves `ws` to its Node build (not the browser stub), so the app's tests talk to the
// real server over real sockets.
const transform = {
  '^.+\\.(ts|js)$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
};
// jose, file-type and music-metadata (with the packages they import) ship only ES modules; jest's
// CommonJS runtime needs them compiled like our own code.
const esmOnly = [
  'jose',
  'file-type',
  'music-metadata',
  'media-typer',
  'win-guid',
  'strtok3',
  'token-types',
  '@tokenizer/inflate',
  'uint8array-extras',
  '@borewit/text-codec',
];
const transformIgnorePatterns = [`/node_modules/(?!(${esmOnly.join('|')})/)`];
// music-metadata's exports offer only `import` and `module-sync` (which Node's require() takes, jest's
// resolver does not): point jest at the same file. The app's tests run the server as a process.
const moduleNameMapper = {
  '^music-metadata$': '<rootDir>/node_modules/music-metadata/lib/index.js',
  '^file-type$': '<rootDir>/node_modules/file-type/index.js',
};
// The ship's tests load the server in-process too (the attack tool's), beside jimp in the ship's
// scripts, whose own older file-type must stay its own (no mapping): there jest resolves the ES-only
// packages through the `module-sync` export condition, as Node's require() does.
const shipExportConditions = ['node', 'node-addons', 'module-sync'];

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 30000,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  projects: [
    {
      displayName: 'server',
      testEnvironment: 'node',
      roots: ['<rootDir>/server/test'],
      testMatch: ['**/*.test.ts'],
      transform,
      transformIgnorePatterns,
      moduleNameMapper,
    },
    {
      displayName: 'app',
      testEnvironment: 'jsdom',
      testEnvironmentOptions: { customExportConditions: ['node', 'node-addons'] },
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/ship/'],
      setupFiles: ['<rootDir>/test/support/setup-simulate.ts'],
      moduleFileExtensions: ['ts', 'js', 'json'],
      transform,
      transformIgnorePatterns,
    },
    {
      displayName: 'ship',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/ship'],
      testMatch: ['**/*.test.ts'],
      transform,
      transformIgnorePatterns,
      testEnvironmentOptions: { customExportConditions: shipExportConditions },
    },
  ],
};
