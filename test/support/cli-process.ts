/**
 * A command-line program run the way the CLI tests run one: in its own process group (killed whole when it ends,
 * whatever it left behind, or when it times out), stdin on /dev/null (an open stdin makes a CLI wait), stdout and
 * stderr collected.
 */
import { spawn } from 'node:child_process';

export interface CliProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

export function runCliProcess(
  command: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<CliProcessRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env,
      detached: true, // its own process group, killed whole below
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* the group is gone */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, opts.timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(); // whatever it left behind
      resolve({ code, signal, timedOut, stdout, stderr });
    });
  });
}
