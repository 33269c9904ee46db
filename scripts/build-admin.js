// The moderation console's bundle (server/admin → server/dist/admin): esbuild bundles the TypeScript
// (Preact with htm) into one script, beside the page and its style sheet. Run by `npm run build:server`;
// the server reads the folder at start (server/src/http/admin-page.ts). Not committed.
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const source = path.join(root, 'server/admin');
const out = path.join(root, 'server/dist/admin');

fs.mkdirSync(out, { recursive: true });
esbuild.buildSync({
  entryPoints: [path.join(source, 'src/main.ts')],
  outfile: path.join(out, 'admin.js'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome100', 'firefox100', 'safari15'],
  legalComments: 'none',
  logLevel: 'warning',
});
for (const file of ['index.html', 'admin.css']) fs.copyFileSync(path.join(source, file), path.join(out, file));
