import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** One import of a module of this repository by another, as the compiler reads it. */
export interface ModuleImport {
  from: string;
  to: string;
  /** Erased at compile time (`import type`, or every name a type): it runs nothing, but still couples the two. */
  typeOnly: boolean;
}

/**
 * Every import, among TypeScript files under `folders` but not in a `test/` folder, of one by another (paths
 * relative to `root`, forward slashes). Imports of other files (package.json, a file beside the code) are not modules
 * of the architecture.
 */
export function importGraph(root: string, folders: readonly string[]): ModuleImport[] {
  const files = folders.flatMap((folder) => typeScriptFiles(path.join(root, folder)));
  const modules = new Set(files.map((file) => relative(root, file)));
  return files.flatMap((file) => importsOf(root, file)).filter(({ to }) => modules.has(to));
}

function typeScriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    // A vendor's tests (src/vendors/<vendor>/test/) are no module of the code they test.
    if (entry.isDirectory()) return entry.name === 'test' ? [] : typeScriptFiles(full);
    return /\.(ts|cts)$/.test(entry.name) && !entry.name.endsWith('.d.cts') ? [full] : [];
  });
}

function importsOf(root: string, file: string): ModuleImport[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const found: ModuleImport[] = [];
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue;
    const specifier = statement.moduleSpecifier;
    if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) continue;
    const target = resolve(path.dirname(file), specifier.text);
    if (!target) continue;
    found.push({ from: relative(root, file), to: relative(root, target), typeOnly: isTypeOnly(statement) });
  }
  return found;
}

function isTypeOnly(statement: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(statement)) return statement.isTypeOnly;
  const clause = statement.importClause;
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  const bindings = clause.namedBindings;
  return (
    clause.name === undefined &&
    bindings !== undefined &&
    ts.isNamedImports(bindings) &&
    bindings.elements.length > 0 &&
    bindings.elements.every((element) => element.isTypeOnly)
  );
}

function resolve(dir: string, specifier: string): string | undefined {
  const base = path.resolve(dir, specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, path.join(base, 'index.ts')];
  return candidates.find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
}

function relative(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/** The cycles among modules: each strongly connected set of more than one module, or a module importing itself. */
export function cycles(imports: readonly ModuleImport[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of imports) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (module: string): void => {
    index.set(module, index.size);
    low.set(module, index.get(module)!);
    stack.push(module);
    onStack.add(module);
    for (const target of next.get(module) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(module, Math.min(low.get(module)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(module, Math.min(low.get(module)!, index.get(target)!));
      }
    }
    if (low.get(module) !== index.get(module)) return;
    const members: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      members.push(member);
    } while (member !== module);
    if (members.length > 1 || (next.get(module) ?? []).includes(module)) found.push(members.sort());
  };
  for (const module of next.keys()) if (!index.has(module)) visit(module);
  return found;
}

/** Every module a module runs when loaded: its value imports, followed to the end. */
export function valueClosure(imports: readonly ModuleImport[], start: string): Set<string> {
  const reached = new Set([start]);
  const queue = [start];
  while (queue.length > 0) {
    const module = queue.pop()!;
    for (const { from, to, typeOnly } of imports) {
      if (from !== module || typeOnly || reached.has(to)) continue;
      reached.add(to);
      queue.push(to);
    }
  }
  return reached;
}
