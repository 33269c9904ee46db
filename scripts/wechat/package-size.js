// The package budget: how big the built mini-program is, counted the way WeChat counts it (every file of
// the mini-program folder except ignored ones; a subpackage's files count toward that subpackage, everything
// else toward the main package), and whether it fits: 2 MB for the main package and for each subpackage,
// 20 MB in all. Images are not optimised by the build: they must be optimised before they are committed, and
// any image over 100 KB fails the check (serve big pictures from the server instead).
//
// The count is an upper bound of what WeChat reports: it compiles and minifies on upload, and drops files no
// page uses (project.config.json's ignoreUploadUnusedFiles).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { UserError } = require('./errors');

const KB = 1024;
const MB = 1024 * KB;
const LIMITS = { package: 2 * MB, total: 20 * MB, image: 100 * KB };
const IMAGE = /\.(png|jpe?g|gif|webp|svg|bmp)$/i;
/** What WeChat never uploads (miniprogram-ci's default ignores). */
const DEFAULT_IGNORE = [/(^|\/)node_modules\//, /(^|\/)\.git\//, /(^|\/)\.svn\//, /(^|\/)\.DS_Store$/];

/**
 * @typedef {{ type: string, value: string }} IgnoreRule project.config.json's packOptions.ignore entries
 * @typedef {{ path: string, size: number }} FileSize
 * @typedef {{ name: string, root: string, size: number, files: FileSize[] }} PackageSize the main package has root ''
 */

/**
 * @param {string} glob
 * @returns {RegExp}
 */
function globToRegExp(glob) {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      out += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/**
 * @param {string} file a path relative to the mini-program folder, with forward slashes
 * @param {IgnoreRule[]} rules
 * @returns {boolean}
 */
function isIgnored(file, rules) {
  if (DEFAULT_IGNORE.some((re) => re.test(file))) return true;
  return rules.some(({ type, value }) => {
    const v = String(value || '').replace(/^\.?\/+/, '');
    switch (type) {
      case 'file':
        return file === v;
      case 'folder':
        return v !== '' && (file === v || file.startsWith(`${v.replace(/\/+$/, '')}/`));
      case 'suffix':
        return file.endsWith(v);
      case 'prefix':
        return path.posix.basename(file).startsWith(v);
      case 'regexp':
        try {
          return new RegExp(value).test(file);
        } catch {
          return false;
        }
      case 'glob':
        return globToRegExp(v).test(file);
      default:
        return false;
    }
  });
}

/**
 * @param {string} dir
 * @param {string} [base]
 * @returns {FileSize[]}
 */
function listFiles(dir, base = dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return listFiles(full, base);
    if (!entry.isFile()) return [];
    return [{ path: path.relative(base, full).split(path.sep).join('/'), size: fs.statSync(full).size }];
  });
}

/**
 * Sizes of the mini-program in `dir` (the folder with app.json), per package.
 * @param {string} dir
 * @param {{ ignore?: IgnoreRule[] }} [options] project.config.json's packOptions
 * @returns {{ packages: PackageSize[], total: number, files: FileSize[] }}
 */
function measurePackage(dir, { ignore = [] } = {}) {
  const files = listFiles(dir).filter((f) => !isIgnored(f.path, ignore));
  /** @type {{ subpackages?: {root: string, name?: string}[], subPackages?: {root: string, name?: string}[] }} */
  let appJson = {};
  try {
    appJson = JSON.parse(fs.readFileSync(path.join(dir, 'app.json'), 'utf8'));
  } catch {
    // No or broken app.json: everything is the main package (the compile check reports the app.json).
  }
  const subs = [...(appJson.subpackages || []), ...(appJson.subPackages || [])].map((s) => ({
    name: s.name || s.root,
    root: `${String(s.root).replace(/^\/+|\/+$/g, '')}/`,
  }));
  /** @type {PackageSize[]} */
  const packages = [
    { name: 'main package', root: '', size: 0, files: [] },
    ...subs.map((s) => ({ ...s, size: 0, files: [] })),
  ];
  for (const file of files) {
    const pkg = packages.find((p, i) => i > 0 && file.path.startsWith(p.root)) || packages[0];
    pkg.size += file.size;
    pkg.files.push(file);
  }
  return { packages, total: files.reduce((sum, f) => sum + f.size, 0), files };
}

/**
 * @param {number} bytes
 * @returns {string}
 */
function formatSize(bytes) {
  return bytes >= MB ? `${(bytes / MB).toFixed(2)} MB` : `${(bytes / KB).toFixed(1)} KB`;
}

/**
 * @param {FileSize[]} files
 * @param {number} count
 * @returns {string}
 */
function largest(files, count) {
  return [...files]
    .sort((a, b) => b.size - a.size)
    .slice(0, count)
    .map((f) => `${f.path} (${formatSize(f.size)})`)
    .join(', ');
}

/**
 * Measures `dir` and checks the budget. Returns the report line; throws a UserError, one sentence, when over.
 * @param {string} dir
 * @param {{ ignore?: IgnoreRule[], shown?: string }} [options] shown: how to name the folder in messages
 * @returns {string}
 */
function checkPackageSize(dir, { ignore = [], shown = dir } = {}) {
  const { packages, total, files } = measurePackage(dir, { ignore });
  const [main, ...subs] = packages;
  for (const pkg of packages) {
    if (pkg.size > LIMITS.package) {
      const which = pkg === main ? 'The main package' : `Subpackage "${pkg.name}"`;
      throw new UserError(
        `${which} of ${shown}/ is ${formatSize(pkg.size)}, over WeChat's 2 MB limit: move pages into subpackages (app.json "subPackages"), serve images from the server, or drop unused code; its largest files are ${largest(pkg.files, 3)}.`,
      );
    }
  }
  if (total > LIMITS.total) {
    throw new UserError(
      `${shown}/ is ${formatSize(total)} in all, over WeChat's 20 MB limit for all packages together.`,
    );
  }
  const bigImages = files.filter((f) => IMAGE.test(f.path) && f.size > LIMITS.image);
  if (bigImages.length > 0) {
    throw new UserError(
      `${bigImages.length === 1 ? 'An image is' : 'Images are'} over the 100 KB budget in ${shown}/: ${largest(bigImages, 5)}; optimise images before committing them (e.g. squoosh.app, pngquant, or svgo for SVG) or serve large pictures from the server.`,
    );
  }
  const percent = Math.round((main.size / LIMITS.package) * 100);
  const parts = [`main package ${formatSize(main.size)} of 2 MB (${percent}%), ${main.files.length} files`];
  for (const sub of subs) parts.push(`subpackage ${sub.name} ${formatSize(sub.size)}`);
  if (main.files.length > 0) parts.push(`largest: ${largest(main.files, 1)}`);
  return `package size: ${parts.join('; ')}`;
}

module.exports = { LIMITS, measurePackage, checkPackageSize, formatSize, isIgnored };
