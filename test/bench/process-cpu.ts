/**
 * CPU time of other processes, read from `/proc` (Linux), for benchmarks that split a run's CPU by process.
 * Elsewhere every reading is 0 and no process is found.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks a second of `/proc/<pid>/stat` (USER_HZ): 100 on Linux. */
const TICKS_PER_SECOND = 100;

/** CPU seconds a process has used (user + system), or 0 when it is gone or there is no `/proc`. */
export function processCpuSeconds(pid: number): number {
  try {
    // The fields after the command name, which may hold spaces, in parentheses.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Pids of the running processes named `name` whose command line's arguments pass `matches`, if given. */
export function pidsOf(name: string, matches?: (args: readonly string[]) => boolean): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== name) return [];
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      return matches === undefined || matches(args) ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}
