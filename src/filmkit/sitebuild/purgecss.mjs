// filmkit.sitebuild.trim's call into PurgeCSS (npm purgecss, installed in web/ by `make setup`).
// Usage: node purgecss.mjs WEB_DIR < job.json > result.json, where job.json is
//   {"css": [paths], "content": [paths], "dynamicAttributes": [names],
//    "safelist": [regular expressions, as source text, of classes to keep]}
// and result.json is {"css": [purged text, in the order of "css"]}. The files are read here and
// passed raw, so no path is ever taken for a glob pattern.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { extname, join } from "node:path";

// purgecss from WEB_DIR/node_modules, wherever this script is installed
const require = createRequire(join(process.argv[2], "node_modules", "index.js"));
const { PurgeCSS } = require("purgecss");

const job = JSON.parse(readFileSync(0, "utf8"));
const results = await new PurgeCSS().purge({
  css: job.css.map((path) => ({ raw: readFileSync(path, "utf8"), name: path })),
  content: job.content.map((path) => ({
    raw: readFileSync(path, "utf8"),
    extension: extname(path).slice(1),
  })),
  dynamicAttributes: job.dynamicAttributes,
  safelist: { standard: job.safelist.map((source) => new RegExp(source)) },
  // @keyframes no kept rule animates with go too. Every @font-face stays: Font Awesome's family
  // is named through a custom property (font-family: var(--_fa-family)), which purgecss would
  // not see; a browser downloads a face only for text that uses it anyway.
  keyframes: true,
});
// purge() returns the stylesheets in the order given
process.stdout.write(JSON.stringify({ css: results.map((result) => result.css) }));
