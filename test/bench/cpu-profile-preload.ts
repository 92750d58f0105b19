/**
 * A V8 CPU profile of the process that imports this first (`--import`), written when it exits into
 * `$SHOAL_CPU_PROF_DIR/<name>-<pid>.cpuprofile`, `<name>` being the service folder of the main script (or the
 * script's name). What `node --cpu-prof` does, for processes this benchmark does not start itself: Node
 * refuses `--cpu-prof` in NODE_OPTIONS but accepts `--import`, and `shoal dev` hands its environment down to
 * every service. The inspector session runs on the process's own thread, so `Profiler.stop` answers
 * synchronously and the profile can be written from the 'exit' event (a process killed by SIGKILL writes none).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { basename, join } from 'node:path';

const dir = process.env.SHOAL_CPU_PROF_DIR;
if (dir !== undefined && dir !== '') {
  const script = process.argv[1] ?? 'node';
  const service = /services\/([^/]+)\/src\/main\.ts$/.exec(script)?.[1];
  const name = service ?? basename(script).replace(/\.[cm]?[jt]s$/, '');
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (error === null) writeFileSync(join(dir, `${name}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
