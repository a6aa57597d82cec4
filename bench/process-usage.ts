import { readFile } from 'node:fs/promises';

export interface ProcessUsage {
  rssMb: number;
  threads: number;
  cpuSeconds: number;
}

/** A process's resident memory (MB), threads and CPU seconds so far, from /proc (Linux). */
export async function processUsage(pid: number): Promise<ProcessUsage> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  // utime and stime, fields 14 and 15 of stat, after the command's closing parenthesis.
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return {
    rssMb: field('VmRSS') / 1024,
    threads: field('Threads'),
    cpuSeconds: (Number(stat[11]) + Number(stat[12])) / 100,
  };
}
