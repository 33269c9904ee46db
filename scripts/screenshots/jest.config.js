// Jest config for `npm run screenshots` only (not part of `npm test`): renders the pages with
// miniprogram-simulate under jsdom, as the app's page tests do, and writes HTML for Chromium.
const path = require('node:path');

/** @type {import('jest').Config} */
module.exports = {
  rootDir: path.resolve(__dirname, '../..'),
  displayName: 'screenshots',
  testEnvironment: 'jsdom',
  // `ws` (which the test wx adapter imports) resolves to its Node build, as in the app's tests.
  testEnvironmentOptions: { customExportConditions: ['node', 'node-addons'] },
  roots: ['<rootDir>/test/screenshots'],
  testMatch: ['**/*.shots.ts'],
  setupFiles: ['<rootDir>/test/support/setup-simulate.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.(ts|js)$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
  },
  testTimeout: 30000,
};
