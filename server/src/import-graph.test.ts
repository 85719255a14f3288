import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * Pins the shape of the import graph: data flows one way (DESIGN.md), so no module imports
 * itself back through others, and the pipeline knows providers only through the adapter seam.
 * Production modules only: a test may import whatever it exercises.
 */
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** Static and dynamic imports and re-exports with a relative specifier, `import type` included. */
const RELATIVE_IMPORT = /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;

function productionModules(directory: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) found.push(...productionModules(path));
    else if (/\.ts$/.test(entry.name) && !/\.(test|contract)\.ts$/.test(entry.name)) found.push(path);
  }
  return found;
}

/** Module -> the modules of the same tree it imports (`.js` specifiers resolve to `.ts` sources). */
function importGraph(tree: string): Map<string, string[]> {
  const modules = new Set(productionModules(join(repoRoot, tree)));
  const graph = new Map<string, string[]>();
  for (const module of modules) {
    const imports = new Set<string>();
    for (const match of readFileSync(module, 'utf8').matchAll(RELATIVE_IMPORT)) {
      const target = resolve(dirname(module), (match[1] ?? match[2])!).replace(/\.js$/, '.ts');
      if (modules.has(target)) imports.add(target);
    }
    graph.set(module, [...imports]);
  }
  return graph;
}

/** The strongly connected components of more than one module (Tarjan), each sorted. */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (module: string): void => {
    index.set(module, next);
    low.set(module, next++);
    stack.push(module);
    onStack.add(module);
    for (const target of graph.get(module)!) {
      if (!index.has(target)) {
        visit(target);
        low.set(module, Math.min(low.get(module)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(module, Math.min(low.get(module)!, index.get(target)!));
      }
    }
    if (low.get(module) !== index.get(module)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== module);
    if (component.length > 1) found.push(component.sort());
  };
  for (const module of graph.keys()) if (!index.has(module)) visit(module);
  return found;
}

function describeCycles(found: string[][]): string {
  return found.map((component) => `a cycle of ${component.length} modules:\n  ${component.map((module) => relative(repoRoot, module)).join('\n  ')}`).join('\n');
}

describe('import graph', () => {
  for (const tree of ['server/src', 'element/src']) {
    it(`has no import cycle in ${tree}`, () => {
      const graph = importGraph(tree);
      assert.ok(graph.size > 10, `found the modules of ${tree}`);
      const found = cycles(graph);
      assert.equal(found.length, 0, describeCycles(found));
    });
  }

  it('finds a cycle when there is one (the check can fail)', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    assert.deepEqual(cycles(graph), [['a', 'b', 'c']]);
  });

  it('keeps the pipeline and the providers apart: both import only the adapter seam', () => {
    const graph = importGraph('server/src');
    const folder = (module: string) => relative(join(repoRoot, 'server/src'), module).split('/')[0];
    const crossings: string[] = [];
    for (const [module, imports] of graph) {
      const from = folder(module);
      for (const target of imports) {
        const to = folder(target);
        if ((from === 'pipeline' && to === 'providers') || (from === 'providers' && to === 'pipeline')) {
          crossings.push(`${relative(repoRoot, module)} -> ${relative(repoRoot, target)}`);
        }
      }
    }
    assert.deepEqual(crossings, []);
  });
});
