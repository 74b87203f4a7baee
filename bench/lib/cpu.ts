import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

/**
 * CPU accounting from /proc (Linux): per-process utime+stime and the machine's busy time, so the report can
 * say which process was the bottleneck and how much CPU other work on the machine took meanwhile.
 */
const TICK_MS = 10; // USER_HZ is 100 on Linux

function procTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
  } catch {
    return Number.NaN;
  }
}

function machineBusyTicks(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, _idle, _iowait, irq, softirq, steal] = line;
    return user + nice + system + irq + softirq + (steal ?? 0);
  } catch {
    return Number.NaN;
  }
}

/** Direct children of `parent` whose command name is `comm` (e.g. the DynamoDB Local `java`). */
export function childPids(parent: number, comm: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && name === comm) out.push(Number(d));
    } catch {
      // the process went away
    }
  }
  return out;
}

export interface CpuSample {
  at: number;
  procs: Record<string, number>;
  busy: number;
}

export function sampleCpu(pids: Record<string, number | undefined>): CpuSample {
  const procs: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) if (pid) procs[name] = procTicks(pid);
  return { at: performance.now(), procs, busy: machineBusyTicks() };
}

/** CPU use between two samples, in % of one core; `others` = machine busy time not spent in our processes. */
export function cpuUse(a: CpuSample, b: CpuSample): Record<string, number> {
  const wall = b.at - a.at;
  const out: Record<string, number> = {};
  let ours = 0;
  for (const name of Object.keys(b.procs)) {
    const d = (b.procs[name] - (a.procs[name] ?? Number.NaN)) * TICK_MS;
    out[name] = (100 * d) / wall;
    if (Number.isFinite(d)) ours += d;
  }
  out.others = Math.max(0, (100 * ((b.busy - a.busy) * TICK_MS - ours)) / wall);
  out.capacity = 100 * cpus().length;
  return out;
}

export function formatCpu(u: Record<string, number>): string {
  const parts = Object.entries(u)
    .filter(([k]) => k !== 'capacity')
    .map(([k, v]) => `${k} ${Number.isFinite(v) ? v.toFixed(0) : '?'}%`);
  return `${parts.join(', ')} (of ${u.capacity}%)`;
}

export const load1 = (): string => loadavg()[0].toFixed(2);

/** Time the process's main thread spent runnable but waiting for a CPU (/proc/<pid>/schedstat), in ms. */
export function runQueueWaitMs(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/)[1]) / 1e6;
  } catch {
    return Number.NaN;
  }
}
