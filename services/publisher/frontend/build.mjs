// Builds the dashboard's vendored assets into ../static/build (not committed; `make install` runs this):
// charts.js (Observable Plot and the dashboard's chart functions, one ES module), nhsuk.css (the NHS design
// system's compiled styles) and the icons it refers to. Nothing is loaded from another site at run time:
// the design system's web-font rules (which point at a font host) are dropped, so the system font stack applies.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'static', 'build');
const nhsuk = join(here, 'node_modules', 'nhsuk-frontend', 'dist', 'nhsuk');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(here, 'src', 'charts.js')], bundle: true, format: 'esm', minify: true,
  target: 'es2020', outfile: join(out, 'charts.js'), legalComments: 'eof', logLevel: 'warning',
});

const css = readFileSync(join(nhsuk, 'nhsuk-frontend.min.css'), 'utf8')
  .replace(/@font-face\{[^}]*\}/g, (rule) => (/url\(\s*["']?(https?:)?\/\//.test(rule) ? '' : rule))
  .replaceAll('url(/assets/', 'url(/static/build/assets/');
if (/url\(\s*["']?(https?:)?\/\//.test(css)) throw new Error('nhsuk.css still refers to another site');
writeFileSync(join(out, 'nhsuk.css'), css);
cpSync(join(nhsuk, 'assets', 'images'), join(out, 'assets', 'images'), { recursive: true });
console.log(`dashboard assets built in ${out}`);
