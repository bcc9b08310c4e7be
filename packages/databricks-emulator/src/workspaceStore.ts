import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { DatabricksErrorResponse } from './api/errors';

/**
 * The workspace file tree of the local Databricks workspace: directories, files and notebooks by workspace path,
 * with object ids, kept on disk under <dir>/objects (contents) and <dir>/index.json (metadata), so a deployed bundle
 * survives restarts like the rest of the emulator's state. Paths are canonical without the /Workspace prefix,
 * which the API accepts on input (the CLI sends /Workspace/Users/...), as Databricks does.
 */

export type ObjectType = 'DIRECTORY' | 'FILE' | 'NOTEBOOK';
export type NotebookLanguage = 'PYTHON' | 'SQL' | 'SCALA' | 'R';

const EntrySchema = z.object({
  object_id: z.number().int(),
  object_type: z.enum(['DIRECTORY', 'FILE', 'NOTEBOOK']),
  created_at: z.number(),
  modified_at: z.number(),
  language: z.enum(['PYTHON', 'SQL', 'SCALA', 'R']).optional(),
  /** Notebooks: the source file's extension (.py) the contents are stored with. */
  extension: z.string().optional(),
  size: z.number().optional(),
});
export type WorkspaceEntry = z.infer<typeof EntrySchema>;

const IndexSchema = z.object({ version: z.literal(1), nextId: z.number().int(), entries: z.record(z.string(), EntrySchema) });

export interface WorkspaceObjectInfo {
  path: string;
  object_type: ObjectType;
  object_id: number;
  resource_id: string;
  created_at: number;
  modified_at: number;
  language?: NotebookLanguage;
  size?: number;
}

const NOTEBOOK_HEADERS: { ext: string; header: string; language: NotebookLanguage }[] = [
  { ext: '.py', header: '# Databricks notebook source', language: 'PYTHON' },
  { ext: '.sql', header: '-- Databricks notebook source', language: 'SQL' },
  { ext: '.scala', header: '// Databricks notebook source', language: 'SCALA' },
  { ext: '.r', header: '# Databricks notebook source', language: 'R' },
];

const notFound = (path: string): DatabricksErrorResponse =>
  new DatabricksErrorResponse(404, 'RESOURCE_DOES_NOT_EXIST', `Path (${path}) doesn't exist.`);

/** "/Workspace/Users/a" and "/Users/a" name the same object; trailing slashes and "." segments are dropped. */
export function canonicalPath(input: unknown, field = 'path'): string {
  if (typeof input !== 'string' || input === '')
    throw new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', `Missing required field: ${field}`);
  if (!input.startsWith('/')) throw new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', `Path (${input}) must be absolute.`);
  const parts: string[] = [];
  for (const seg of input.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') throw new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', `Path (${input}) must not contain '..'.`);
    parts.push(seg);
  }
  if (parts[0] === 'Workspace') parts.shift();
  return `/${parts.join('/')}`;
}

const parentOf = (path: string): string => (path === '/' ? '/' : dirname(path));

/** A notebook source file (by extension and header line), as Databricks detects one on import-file. */
function detectNotebook(path: string, content: Buffer): { language: NotebookLanguage; extension: string } | undefined {
  const lower = path.toLowerCase();
  const firstLine = content.subarray(0, 200).toString('utf8').split(/\r?\n/, 1)[0]?.trim();
  for (const h of NOTEBOOK_HEADERS) if (lower.endsWith(h.ext) && firstLine === h.header) return { language: h.language, extension: h.ext };
  return undefined;
}

export class WorkspaceStore {
  private readonly entries = new Map<string, WorkspaceEntry>();
  private nextId = 1_000_000_000_001;
  private readonly indexPath: string;
  private readonly objectsDir: string;

  constructor(
    dir: string,
    private readonly now: () => number = Date.now,
  ) {
    this.indexPath = join(dir, 'index.json');
    this.objectsDir = join(dir, 'objects');
    mkdirSync(this.objectsDir, { recursive: true });
    this.load();
    if (!this.entries.has('/')) this.entries.set('/', this.newEntry('DIRECTORY'));
  }

  /** Throws 404 like get-status for a missing path. */
  getStatus(pathInput: unknown): WorkspaceObjectInfo {
    const path = canonicalPath(pathInput);
    const entry = this.entries.get(path);
    if (!entry) throw notFound(path);
    return this.info(path, entry);
  }

  find(pathInput: string): WorkspaceObjectInfo | undefined {
    const path = canonicalPath(pathInput);
    const entry = this.entries.get(path);
    return entry ? this.info(path, entry) : undefined;
  }

  findById(id: number): WorkspaceObjectInfo | undefined {
    for (const [path, entry] of this.entries) if (entry.object_id === id) return this.info(path, entry);
    return undefined;
  }

  list(pathInput: unknown): WorkspaceObjectInfo[] {
    const path = canonicalPath(pathInput);
    const entry = this.entries.get(path);
    if (!entry) throw notFound(path);
    if (entry.object_type !== 'DIRECTORY') return [this.info(path, entry)];
    return this.children(path).map((p) => this.info(p, this.entries.get(p)!));
  }

  mkdirs(pathInput: unknown): void {
    const path = canonicalPath(pathInput);
    const missing: string[] = [];
    for (let p = path; ; p = parentOf(p)) {
      const entry = this.entries.get(p);
      if (entry) {
        if (entry.object_type !== 'DIRECTORY')
          throw new DatabricksErrorResponse(
            400,
            'RESOURCE_ALREADY_EXISTS',
            `Cannot create directory ${path}: ${p} already exists and is not a directory.`,
          );
        break;
      }
      missing.unshift(p);
      if (p === '/') break;
    }
    for (const p of missing) this.entries.set(p, this.newEntry('DIRECTORY'));
    if (missing.length > 0) this.save();
  }

  delete(pathInput: unknown, recursive: boolean): void {
    const path = canonicalPath(pathInput);
    if (path === '/') throw new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', 'The workspace root cannot be deleted.');
    const entry = this.entries.get(path);
    if (!entry) throw notFound(path);
    const below = [...this.entries.keys()].filter((p) => p.startsWith(`${path}/`));
    if (entry.object_type === 'DIRECTORY' && below.length > 0 && !recursive)
      throw new DatabricksErrorResponse(400, 'DIRECTORY_NOT_EMPTY', `Folder (${path}) is not empty. Use recursive delete or remove contents first.`);
    for (const p of [path, ...below]) {
      const e = this.entries.get(p)!;
      if (e.object_type !== 'DIRECTORY') rmSync(this.contentPath(p, e), { force: true });
      this.entries.delete(p);
    }
    if (entry.object_type === 'DIRECTORY') rmSync(join(this.objectsDir, path), { recursive: true, force: true });
    this.save();
  }

  /**
   * workspace-files/import-file: a file, or a notebook when the name and first line say so (stored at the path
   * without its extension, as Databricks does). The parent directory must exist (404 otherwise).
   */
  importFile(pathInput: unknown, content: Buffer, overwrite: boolean): WorkspaceObjectInfo {
    const given = canonicalPath(pathInput);
    const notebook = detectNotebook(given, content);
    const path = notebook ? given.slice(0, -notebook.extension.length) : given;
    return this.write(path, content, overwrite, notebook);
  }

  /** workspace/import: format AUTO/SOURCE (notebook when language is given or detected) or RAW (a file). */
  importObject(pathInput: unknown, content: Buffer, opts: { format?: string; language?: string; overwrite: boolean }): WorkspaceObjectInfo {
    const path = canonicalPath(pathInput);
    const format = (opts.format ?? 'SOURCE').toUpperCase();
    if (!['SOURCE', 'AUTO', 'RAW'].includes(format))
      throw new DatabricksErrorResponse(
        400,
        'INVALID_PARAMETER_VALUE',
        `Import format ${format} is not supported by the local workspace (SOURCE, AUTO, RAW).`,
      );
    if (format === 'RAW') return this.write(path, content, opts.overwrite, undefined);
    const detected = detectNotebook(path, content);
    if (detected) return this.write(path.slice(0, -detected.extension.length), content, opts.overwrite, detected);
    const language = opts.language?.toUpperCase();
    if (format === 'SOURCE' || language) {
      const h = NOTEBOOK_HEADERS.find((x) => x.language === language);
      if (!h)
        throw new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', `The language of notebook ${path} is required (PYTHON, SQL, SCALA, R).`);
      return this.write(path, content, opts.overwrite, { language: h.language, extension: h.ext });
    }
    return this.write(path, content, opts.overwrite, undefined);
  }

  /** The stored bytes of a file or notebook (notebooks in SOURCE format). */
  read(pathInput: unknown): Buffer {
    const path = canonicalPath(pathInput);
    const entry = this.entries.get(path);
    if (!entry) throw notFound(path);
    if (entry.object_type === 'DIRECTORY')
      throw new DatabricksErrorResponse(
        400,
        'INVALID_PARAMETER_VALUE',
        `Path (${path}) is a directory; the local workspace does not export DBC archives.`,
      );
    return readFileSync(this.contentPath(path, entry));
  }

  /** Where a file or notebook's contents are on disk (notebooks keep their source extension, e.g. bronze.py). */
  localPath(pathInput: string): string | undefined {
    const path = canonicalPath(pathInput);
    const entry = this.entries.get(path);
    return entry && entry.object_type !== 'DIRECTORY' ? this.contentPath(path, entry) : undefined;
  }

  private write(
    path: string,
    content: Buffer,
    overwrite: boolean,
    notebook: { language: NotebookLanguage; extension: string } | undefined,
  ): WorkspaceObjectInfo {
    const parent = this.entries.get(parentOf(path));
    if (!parent) throw new DatabricksErrorResponse(404, 'RESOURCE_DOES_NOT_EXIST', `The parent folder (${parentOf(path)}) does not exist.`);
    if (parent.object_type !== 'DIRECTORY')
      throw new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', `The parent (${parentOf(path)}) is not a folder.`);
    const existing = this.entries.get(path);
    if (existing) {
      if (existing.object_type === 'DIRECTORY') throw new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', `Path (${path}) is a folder.`);
      // Databricks answers 409 for an existing file and 400 "... already exists." for an existing notebook.
      if (!overwrite) {
        throw existing.object_type === 'NOTEBOOK'
          ? new DatabricksErrorResponse(400, 'RESOURCE_ALREADY_EXISTS', `Path (${path}) already exists.`)
          : new DatabricksErrorResponse(409, 'RESOURCE_ALREADY_EXISTS', `Path (${path}) already exists.`);
      }
      rmSync(this.contentPath(path, existing), { force: true });
    }
    const clash = notebook ? this.entries.get(`${path}${notebook.extension}`) : this.notebookStoredAt(path);
    if (clash) throw new DatabricksErrorResponse(400, 'RESOURCE_ALREADY_EXISTS', `Path (${path}) already exists as the source of another object.`);
    const entry: WorkspaceEntry = {
      ...(existing ?? this.newEntry(notebook ? 'NOTEBOOK' : 'FILE')),
      object_type: notebook ? 'NOTEBOOK' : 'FILE',
      modified_at: this.now(),
      size: content.length,
    };
    delete entry.language;
    delete entry.extension;
    if (notebook) Object.assign(entry, { language: notebook.language, extension: notebook.extension });
    const file = this.contentPath(path, entry);
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, content);
    renameSync(tmp, file);
    this.entries.set(path, entry);
    this.save();
    return this.info(path, entry);
  }

  /** The notebook whose source file would be `path` (a file "x.py" next to a notebook "x"). */
  private notebookStoredAt(path: string): WorkspaceEntry | undefined {
    for (const h of NOTEBOOK_HEADERS) {
      if (!path.toLowerCase().endsWith(h.ext)) continue;
      const e = this.entries.get(path.slice(0, -h.ext.length));
      if (e?.object_type === 'NOTEBOOK' && e.extension === h.ext) return e;
    }
    return undefined;
  }

  private children(path: string): string[] {
    const prefix = path === '/' ? '/' : `${path}/`;
    return [...this.entries.keys()].filter((p) => p !== path && p.startsWith(prefix) && !p.slice(prefix.length).includes('/')).sort();
  }

  private info(path: string, e: WorkspaceEntry): WorkspaceObjectInfo {
    return {
      path,
      object_type: e.object_type,
      object_id: e.object_id,
      resource_id: String(e.object_id),
      created_at: e.created_at,
      modified_at: e.modified_at,
      ...(e.language ? { language: e.language } : {}),
      ...(e.object_type === 'FILE' && e.size !== undefined ? { size: e.size } : {}),
    };
  }

  private newEntry(type: ObjectType): WorkspaceEntry {
    const t = this.now();
    return { object_id: this.nextId++, object_type: type, created_at: t, modified_at: t };
  }

  /**
   * Contents mirror the workspace tree (notebooks with their source extension), so a notebook's folder on disk holds
   * its deployed siblings, as the notebook's directory does on Databricks (relative %run and imports work).
   */
  private contentPath(path: string, e: WorkspaceEntry): string {
    return join(this.objectsDir, `${path}${e.extension ?? ''}`);
  }

  private save(): void {
    const index = { version: 1 as const, nextId: this.nextId, entries: Object.fromEntries(this.entries) };
    const tmp = `${this.indexPath}.tmp`;
    writeFileSync(tmp, JSON.stringify(index));
    renameSync(tmp, this.indexPath);
  }

  private load(): void {
    if (!existsSync(this.indexPath)) return;
    const parsed = IndexSchema.safeParse(JSON.parse(readFileSync(this.indexPath, 'utf8')));
    if (!parsed.success) throw new Error(`${this.indexPath} is not a workspace index: ${parsed.error.message}`);
    this.nextId = parsed.data.nextId;
    for (const [p, e] of Object.entries(parsed.data.entries)) this.entries.set(p, e);
  }
}
