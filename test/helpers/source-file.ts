import { dirname } from 'node:path';
import { afterEach } from 'vitest';
import { SourceFile } from '../../src/sources/source-file.js';

const opened: SourceFile[] = [];

// A file source holds its descriptor until closed, as withSource closes it after each activity's work.
afterEach(async () => {
  await Promise.all(opened.splice(0).map((file) => file.close()));
});

/** A file opened as a worker opens a source, its own directory the only root; closed after the test. */
export async function openTestFile(path: string): Promise<SourceFile> {
  const file = await SourceFile.open(path, { configPath: 'leadsync.yaml', fileRoots: [dirname(path)], tables: {} });
  opened.push(file);
  return file;
}
